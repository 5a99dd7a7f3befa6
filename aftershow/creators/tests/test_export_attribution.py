"""Shops connected by file: the Affiliate orders export attributes orders like the API does."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from aftershow.creators.attribution import affiliate_export_rows_attribute
from aftershow.creators.models import AffiliateOrderSku, Creator, LiveSession
from aftershow.imports.models import AffiliateOrderRow as ExportRow
from aftershow.orders.tests.factories import OrderFactory, OrderLineFactory, ShopFactory

pytestmark = pytest.mark.django_db

PLACED = datetime(2026, 11, 20, 18, 30, tzinfo=UTC)


def test_export_rows_attribute_orders_and_are_idempotent() -> None:
    shop = ShopFactory()
    mia = Creator.objects.create(handle="glowwithmia")
    session = LiveSession.objects.create(
        creator=mia, shop=shop, starts_at=PLACED, remote_content_id="7438"
    )
    order = OrderFactory(shop=shop, remote_order_id="5760001", placed_at=PLACED)
    line = OrderLineFactory(order=order, remote_product_id="1729", remote_sku_id="1730")
    other_line = OrderLineFactory(order=order, remote_product_id="9999")
    ExportRow.objects.create(
        shop=shop,
        row_key="5760001|1730|glowwithmia|LIVE|7438",
        remote_order_id="5760001",
        remote_sku_id="1730",
        remote_product_id="1729",
        creator_username="glowwithmia",
        content_type="LIVE",
        content_id="7438",
        quantity=1,
        price=Decimal("19.99"),
        standard_commission_rate=Decimal("18.00"),
        est_commission_base=Decimal("19.99"),
        est_standard_commission=Decimal("3.60"),
        created_time=PLACED,
    )
    ExportRow.objects.create(
        shop=shop, row_key="no-creator", remote_order_id="5760002", created_time=PLACED
    )

    result = affiliate_export_rows_attribute(shop=shop)

    assert (result.rows_created, result.orders_attributed, result.lines_attributed) == (1, 1, 1)
    order.refresh_from_db()
    line.refresh_from_db()
    other_line.refresh_from_db()
    assert (order.creator_id, order.live_session_id) == (mia.pk, session.pk)
    assert (line.creator_id, line.live_session_id, line.commission_rate) == (
        mia.pk,
        session.pk,
        Decimal("18.00"),
    )
    assert other_line.creator_id is None
    again = affiliate_export_rows_attribute(shop=shop)
    assert (again.rows_created, again.rows_updated, again.orders_attributed) == (0, 0, 0)
    assert AffiliateOrderSku.objects.count() == 1
