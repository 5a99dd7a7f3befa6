"""Confirm all clean orders in one action: which orders, what is recorded, who may, how cheap."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aftershow.audit.models import AuditEvent
from aftershow.orders.models import (
    ChangeSource,
    Order,
    OrderState,
    OrderStatusChange,
    PlatformStatus,
)
from aftershow.orders.tests.factories import ShopFactory
from aftershow.risk.models import OrderRelease, RiskFlag, RiskRule
from aftershow.risk.services import orders_confirm_clean
from aftershow.risk.tests.conftest import address, ready_order
from aftershow.shops.models import Shop

pytestmark = pytest.mark.django_db


def screened(**fields) -> Order:  # type: ignore[no-untyped-def]
    order = ready_order(**fields)
    OrderRelease.objects.filter(order=order).update(screened_at=order.placed_at)
    return order


def states() -> dict[str, str]:
    return dict(Order.objects.values_list("remote_order_id", "state"))


@pytest.fixture
def mix(frozen_now) -> dict[str, Order]:  # type: ignore[no-untyped-def]
    shop = ShopFactory(name="Glow Lab US")
    other = ShopFactory(name="Glow Lab Outlet")
    flagged = screened(shop=shop, remote_order_id="5", state=OrderState.IN_REVIEW)
    RiskFlag.objects.create(
        order=flagged, rule=RiskRule.objects.get(kind="address"), kind="address", reason="x"
    )
    return {
        "clean_1": screened(shop=shop, remote_order_id="1"),
        "clean_2": screened(shop=shop, remote_order_id="2"),
        "other_shop": screened(shop=other, remote_order_id="3"),
        "unscreened": ready_order(shop=shop, remote_order_id="4"),
        "in_review": flagged,
        "cancel_asked": screened(shop=shop, remote_order_id="6", is_buyer_request_cancel=True),
        "cancelled_on_tiktok": screened(
            shop=shop, remote_order_id="7", platform_status=PlatformStatus.CANCELLED
        ),
        "held": screened(shop=shop, remote_order_id="8", state=OrderState.HELD),
    }


def test_confirms_every_screened_unflagged_ready_order(mix, operator, frozen_now) -> None:  # type: ignore[no-untyped-def]
    assert orders_confirm_clean(by=operator) == 3
    assert states() == {
        "1": "confirmed",
        "2": "confirmed",
        "3": "confirmed",
        "4": "ready",
        "5": "in_review",
        "6": "ready",
        "7": "ready",
        "8": "held",
    }
    changes = set(
        OrderStatusChange.objects.values_list(
            "order__remote_order_id", "source", "actor", "from_state", "to_state", "reason"
        )
    )
    assert changes == {
        (
            remote_id,
            ChangeSource.USER,
            operator.pk,
            "ready",
            "confirmed",
            "Confirmed with all clean orders",
        )
        for remote_id in ("1", "2", "3")
    }
    # One audit event for the batch; each order's own trail is its history row.
    event = AuditEvent.objects.get()
    assert (event.actor, event.action, event.object_type, event.message, event.data) == (
        operator,
        "order_state_changed",
        "order_batch",
        "Confirmed 3 clean orders",
        {
            "action": "confirm_clean",
            "shop_id": None,
            "orders": sorted(mix[name].pk for name in ("clean_1", "clean_2", "other_shop")),
        },
    )


def test_one_shop_only(mix, operator) -> None:  # type: ignore[no-untyped-def]
    shop = mix["clean_1"].shop
    assert orders_confirm_clean(by=operator, shop=shop) == 2
    assert states()["3"] == "ready"
    assert AuditEvent.objects.get().data["shop_id"] == shop.pk


def test_nothing_to_confirm_twice(mix, owner) -> None:  # type: ignore[no-untyped-def]
    assert orders_confirm_clean(by=owner) == 3
    rows = (OrderStatusChange.objects.count(), AuditEvent.objects.count())
    assert orders_confirm_clean(by=owner) == 0
    assert (OrderStatusChange.objects.count(), AuditEvent.objects.count()) == rows


def test_the_system_confirms_without_a_user(mix) -> None:  # type: ignore[no-untyped-def]
    assert orders_confirm_clean(by=None) == 3
    assert set(OrderStatusChange.objects.values_list("source", "actor")) == {
        (ChangeSource.SYSTEM, None)
    }
    assert set(AuditEvent.objects.values_list("actor_label", flat=True)) == {"system"}


@pytest.mark.parametrize("persona", ["packer", "outsider"])
def test_packers_and_former_members_may_not(mix, persona, request) -> None:  # type: ignore[no-untyped-def]
    before = states()
    with pytest.raises(PermissionDenied):
        orders_confirm_clean(by=request.getfixturevalue(persona))
    assert states() == before
    assert OrderStatusChange.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def bulk_clean_orders(shop: Shop, count: int, now: datetime) -> None:
    """``count`` screened, clean READY orders, written in bulk (factories would take seconds)."""
    shipping_address = address()
    orders = Order.objects.bulk_create(
        Order(
            shop=shop,
            remote_order_id=f"5769{index:014d}",
            shipping_address=shipping_address,
            platform_status=PlatformStatus.AWAITING_SHIPMENT,
            state=OrderState.READY,
            placed_at=now - timedelta(hours=2),
            paid_at=now - timedelta(hours=2),
            remote_updated_at=now - timedelta(hours=1),
            ship_by=now + timedelta(days=2),
            total_amount=Decimal("19.99"),
        )
        for index in range(count)
    )
    OrderRelease.objects.bulk_create(
        OrderRelease(order=order, released_at=now, screened_at=now) for order in orders
    )


def test_a_thousand_orders_take_a_handful_of_queries(operator, frozen_now) -> None:
    bulk_clean_orders(ShopFactory(), 1000, frozen_now)
    with CaptureQueriesContext(connection) as captured:
        assert orders_confirm_clean(by=operator) == 1000
    # Select the ids, 2 updates of 500, the history in bulk inserts (SQLite: ~120 rows a query
    # at 999 parameters; PostgreSQL: 2), one audit event, and the savepoint statements.
    assert len(captured) <= 20
    assert Order.objects.filter(state=OrderState.CONFIRMED).count() == 1000
    assert OrderStatusChange.objects.filter(to_state="confirmed").count() == 1000
    assert AuditEvent.objects.count() == 1
