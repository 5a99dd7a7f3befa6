"""Two affiliate pulls of the same rows at the same moment: real concurrent transactions on
PostgreSQL (the shop row lock decides), SQLite's write lock otherwise. One row each, no error."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection

from aftershow.creators.attribution import AffiliateOrderRow, affiliate_orders_record
from aftershow.creators.models import AffiliateOrderSku, Creator
from aftershow.orders.models import Order
from aftershow.orders.tests.factories import OrderFactory, OrderLineFactory, ShopFactory

pytestmark = pytest.mark.django_db(transaction=True)

PLACED = datetime(2026, 11, 20, 18, 30, tzinfo=UTC)


def race(*actions: Callable[[], object]) -> list[BaseException]:
    start = threading.Barrier(len(actions))
    errors: list[BaseException] = []

    def run(action: Callable[[], object]) -> None:
        try:
            start.wait()
            action()
        except BaseException as error:  # reported to the test thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def _row(order_id: str, creator: str) -> AffiliateOrderRow:
    return AffiliateOrderRow(
        remote_order_id=order_id,
        remote_product_id="1729",
        order_status="AWAITING_SHIPMENT",
        created_at=PLACED,
        delivered_at=None,
        creator_username=creator,
        content_type="LIVE",
        content_id="",
        open_collaboration_id="oc1",
        target_collaboration_id="",
        quantity=1,
        currency="USD",
        price=Decimal("19.99"),
        commission_rate=Decimal("15.00"),
        estimated_commission_base=Decimal("19.99"),
        estimated_paid_commission=Decimal("3.00"),
        actual_commission_base=None,
        actual_paid_commission=None,
        refunded_quantity=0,
        returned_quantity=0,
    )


def test_two_pulls_at_once_store_each_row_once() -> None:
    shop = ShopFactory()
    for number in range(30):
        order = OrderFactory(shop=shop, remote_order_id=f"576{number:05d}", placed_at=PLACED)
        OrderLineFactory(order=order, remote_product_id="1729")
    rows = [_row(f"576{n:05d}", "newcreator" if n % 2 else "other.creator") for n in range(30)]

    errors = race(
        lambda: affiliate_orders_record(shop=shop, rows=rows),
        lambda: affiliate_orders_record(shop=shop, rows=list(reversed(rows))),
    )

    assert errors == []
    assert AffiliateOrderSku.objects.count() == 30
    assert Creator.objects.count() == 2
    assert Order.objects.filter(creator__handle="newcreator").count() == 15
