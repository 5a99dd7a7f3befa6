"""Small builders for the metrics tests: orders with lines of a costed SKU, returns, commission
rows, samples and flat fees, each with the few fields the figures read."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal

from aftershow.catalog.models import Product, Sku
from aftershow.commissions.models import CommissionLine, LineKind, LineStatus, Payer
from aftershow.creators.models import (
    Collaboration,
    CollaborationKind,
    Creator,
    LiveSession,
    LiveSessionStatus,
    SampleShipment,
)
from aftershow.orders.models import Order, OrderLine, PlatformStatus
from aftershow.orders.tests.factories import OrderFactory, OrderLineFactory
from aftershow.risk.models import OrderReturn
from aftershow.shops.models import Shop

_counter = itertools.count(1)


def sku(cost: str = "8.00") -> Sku:
    number = next(_counter)
    product = Product.objects.create(name=f"Product {number}")
    return Sku.objects.create(product=product, code=f"SKU-{number}", cost=Decimal(cost))


def session(creator: Creator, shop: Shop, *, starts_at: datetime, viewers: int) -> LiveSession:
    return LiveSession.objects.create(
        creator=creator,
        shop=shop,
        status=LiveSessionStatus.ENDED,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        viewers=viewers,
    )


def order(
    *,
    creator: Creator | None,
    shop: Shop,
    placed_at: datetime,
    subtotal: str,
    units: int = 1,
    of: Sku | None = None,
    live_session: LiveSession | None = None,
    status: str = PlatformStatus.DELIVERED,
    currency: str = "USD",
) -> Order:
    made = OrderFactory(
        shop=shop,
        creator=creator,
        live_session=live_session,
        placed_at=placed_at,
        paid_at=None if status == PlatformStatus.UNPAID else placed_at,
        platform_status=status,
        subtotal=Decimal(subtotal),
        total_amount=Decimal(subtotal),
        currency=currency,
    )
    for _ in range(units):
        OrderLineFactory(
            order=made,
            sku=of,
            creator=creator,
            live_session=live_session,
            currency=currency,
            sale_price=Decimal(subtotal) / units,
        )
    return made


def returned(of: Order, *, at: datetime) -> OrderReturn:
    return OrderReturn.objects.create(order=of, remote_return_id=f"R{of.pk}", returned_at=at)


def commission(
    of: Order,
    amount: str,
    *,
    payer: str = Payer.PLATFORM,
    status: str = LineStatus.PENDING,
    kind: str = LineKind.COMMISSION,
) -> CommissionLine:
    assert of.creator is not None
    return CommissionLine.objects.create(
        order=of,
        order_line=OrderLine.objects.filter(order=of).first(),
        creator=of.creator,
        live_session=of.live_session,
        payer=payer,
        kind=kind,
        rate=Decimal("15.00"),
        base=of.subtotal,
        amount=Decimal(amount),
        status=status,
        occurred_at=of.placed_at,
        idempotency_key=f"test:{next(_counter)}",
    )


def fee_line(creator: Creator, amount: str, *, at: datetime) -> CommissionLine:
    return CommissionLine.objects.create(
        creator=creator,
        payer=Payer.SELLER,
        kind=LineKind.FLAT_FEE,
        base=Decimal("0"),
        amount=Decimal(amount),
        occurred_at=at,
        idempotency_key=f"fee:{next(_counter)}",
    )


def sample(
    creator: Creator,
    *,
    of: Sku,
    quantity: int,
    unit_cost: str,
    shipping: str,
    at: datetime,
    live_session: LiveSession | None = None,
) -> SampleShipment:
    return SampleShipment.objects.create(
        creator=creator,
        sku=of,
        quantity=quantity,
        unit_cost=Decimal(unit_cost),
        shipping_cost=Decimal(shipping),
        shipped_at=at,
        live_session=live_session,
    )


def flat_fee(creator: Creator, amount: str, *, starts_on: date) -> Collaboration:
    return Collaboration.objects.create(
        creator=creator,
        kind=CollaborationKind.OFF_PLATFORM,
        starts_on=starts_on,
        flat_fee=Decimal(amount),
    )
