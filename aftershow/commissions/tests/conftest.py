"""A creator with a collaboration (15 % paid by TikTok, 5 % extra paid by the seller) and a
helper that places attributed orders in a given month."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from aftershow.creators.models import Collaboration, CollaborationKind, CollaborationRate, Creator
from aftershow.orders.models import Order, OrderLine, PlatformStatus
from aftershow.orders.tests.factories import CreatorFactory, OrderFactory, OrderLineFactory
from aftershow.shops.models import Shop

OrderMaker = Callable[..., Order]


def collaborate(creator: Creator) -> Creator:
    """15 % paid by TikTok, 5 % extra paid by the seller, for every SKU, from 2026-01-01."""
    collaboration = Collaboration.objects.create(
        creator=creator,
        kind=CollaborationKind.OFF_PLATFORM,
        starts_on=date(2026, 1, 1),
    )
    CollaborationRate.objects.create(
        collaboration=collaboration,
        platform_rate=Decimal("15.00"),
        seller_rate=Decimal("5.00"),
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
    )
    return creator


@pytest.fixture
def creator(db: None) -> Creator:
    return collaborate(CreatorFactory(handle="mia.live"))


@pytest.fixture
def make_order(db: None) -> OrderMaker:
    shops: dict[str, Shop] = {}

    def make(
        *,
        creator: Creator,
        placed_at: datetime,
        status: str = PlatformStatus.COMPLETED,
        price: Decimal = Decimal("40.00"),
        currency: str = "USD",
    ) -> Order:
        kwargs = {"shop": shops["shop"]} if "shop" in shops else {}
        order = OrderFactory(
            creator=creator,
            placed_at=placed_at,
            platform_status=status,
            currency=currency,
            delivered_at=placed_at if status == PlatformStatus.COMPLETED else None,
            **kwargs,
        )
        shops.setdefault("shop", order.shop)
        OrderLineFactory(
            order=order, creator=creator, sale_price=price, currency=currency, remote_sku_id="sku1"
        )
        return order

    return make


def lines_of(order: Order) -> list[OrderLine]:
    return list(order.lines.select_related("order"))
