"""Profit per order and per session against a hand-computed example."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from aftershow.commissions.models import LineStatus, Payer
from aftershow.fulfillment.carriers.codes import ProviderCode
from aftershow.fulfillment.models import LabelPurchase, Package, PurchaseState
from aftershow.imports.models import ReturnRecord, ReturnSource, StatementTransaction
from aftershow.metrics.profit import orders_profit, total_profit
from aftershow.metrics.tests import builders
from aftershow.orders.models import OrderLine
from aftershow.orders.tests.factories import CreatorFactory, ShopFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)


def test_order_and_session_profit_by_hand() -> None:
    """Order A: $100.00 of two $20.00 units, settled (fee 6.00 + 2.50 + 0.48 = 8.98), commission
    $15.00 TikTok-paid + $5.00 seller-paid (a void $7.00 ignored), 2/3 of a $9.00 label = 6.00:
    profit 100 - 8.98 - 20 - 6 - 40 = 25.02.
    Order B: $50.00 of one unit, not settled (6 % estimated = 3.00), returned with a $50.00
    refund (no cost of goods: the goods came back), 1/3 of the label = 3.00: profit -6.00.
    """
    shop = ShopFactory()
    creator = CreatorFactory(handle="profit")
    tee = builders.sku("20.00")
    stream = builders.session(creator, shop, starts_at=NOW, viewers=10)
    first = builders.order(
        creator=creator,
        shop=shop,
        placed_at=NOW,
        subtotal="100.00",
        units=2,
        of=tee,
        live_session=stream,
    )
    second = builders.order(
        creator=creator,
        shop=shop,
        placed_at=NOW,
        subtotal="50.00",
        units=1,
        of=tee,
        live_session=stream,
    )
    StatementTransaction.objects.create(
        shop=shop,
        row_key="s1",
        transaction_type="Order",
        order_or_adjustment_id=first.remote_order_id,
        referral_fee=Decimal("-6.00"),
        transaction_fee=Decimal("-2.50"),
        other_amounts={"Sales tax on referral fees": "-0.48"},
    )
    builders.commission(first, "15.00", payer=Payer.PLATFORM)
    builders.commission(first, "5.00", payer=Payer.SELLER)
    builders.commission(first, "7.00", payer=Payer.SELLER, status=LineStatus.VOID)
    parcel = Package.objects.create(
        shop=shop, build_key="combine:test", quoted_amount=Decimal("11.00")
    )
    OrderLine.objects.filter(order__in=[first, second]).update(package=parcel)
    LabelPurchase.objects.create(
        package=parcel,
        provider=ProviderCode.SANDBOX,
        idempotency_key="label-1",
        state=PurchaseState.BOUGHT,
        amount=Decimal("9.00"),
    )
    builders.returned(second, at=NOW)
    ReturnRecord.objects.create(
        shop=shop,
        return_key="r-b",
        source=ReturnSource.RETURNS_EXPORT,
        remote_order_id=second.remote_order_id,
        quantity=1,
        refund_amount=Decimal("50.00"),
    )

    rows = orders_profit(orders=[first, second], fee_percent=Decimal("6.00"))
    a, b = rows
    assert (a.sales, a.platform_fee, a.platform_fee_estimated) == (
        Decimal("100.00"),
        Decimal("8.98"),
        False,
    )
    assert (a.commission_platform, a.commission_seller) == (Decimal("15.00"), Decimal("5.00"))
    assert (a.shipping, a.has_label, a.cost_of_goods) == (Decimal("6.00"), True, Decimal("40.00"))
    assert a.profit == Decimal("25.02")
    assert (b.refunds, b.platform_fee, b.platform_fee_estimated) == (
        Decimal("50.00"),
        Decimal("3.00"),
        True,
    )
    assert (b.shipping, b.cost_of_goods, b.is_returned) == (Decimal("3.00"), Decimal("0.00"), True)
    assert b.profit == Decimal("-6.00")

    total = total_profit(rows)
    assert (total.orders, total.sales, total.profit) == (2, Decimal("150.00"), Decimal("19.02"))
    assert (total.estimated_fees, total.without_label) == (1, 0)
    assert total.commission == Decimal("20.00")


def test_quoted_label_is_an_estimate_and_missing_costs_are_counted() -> None:
    shop = ShopFactory()
    creator = CreatorFactory(handle="quoted")
    made = builders.order(
        creator=creator, shop=shop, placed_at=NOW, subtotal="10.00", units=1, of=None
    )
    parcel = Package.objects.create(shop=shop, build_key="order:q", quoted_amount=Decimal("5.55"))
    OrderLine.objects.filter(order=made).update(package=parcel)
    (row,) = orders_profit(orders=[made], fee_percent=Decimal("2.00"))
    assert (row.shipping, row.shipping_estimated, row.has_label) == (Decimal("5.55"), True, False)
    assert (row.cost_of_goods, row.lines_without_cost) == (Decimal("0.00"), 1)
    assert row.platform_fee == Decimal("0.20")
    assert row.profit == Decimal("4.25")
    assert orders_profit(orders=[], fee_percent=Decimal("2.00")) == []
