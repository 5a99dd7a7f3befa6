"""Release rules: cancellation window, platform holds, live-stream holds, combining, idempotence."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine

from aftershow.creators.models import LiveSession, LiveSessionStatus
from aftershow.orders.models import (
    ChangeSource,
    Order,
    OrderState,
    OrderStatusChange,
    PlatformStatus,
)
from aftershow.orders.release import orders_release_due
from aftershow.orders.tests.factories import (
    BuyerFactory,
    CreatorFactory,
    OrderFactory,
    ShopFactory,
)
from aftershow.risk.models import HoldKind, OrderRelease, ReleasePolicy, RiskFlag
from aftershow.risk.tests.conftest import address, ensure_default_rules
from aftershow.shops.models import Shop

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _default_rules(db: None) -> None:
    ensure_default_rules()


WINDOW_REASON = "The buyer may still cancel: 60-minute cancellation window"


@pytest.fixture
def now():  # type: ignore[no-untyped-def]
    from aftershow.orders.tests.conftest import NOW as frozen

    with time_machine.travel(frozen, tick=False):
        yield frozen


@pytest.fixture
def shop(db: None) -> Shop:
    return ShopFactory(name="Glow Lab US")


def paid(shop: Shop, minutes_ago: int, now: datetime, **fields) -> Order:  # type: ignore[no-untyped-def]
    fields.setdefault("platform_status", PlatformStatus.AWAITING_SHIPMENT)
    fields.setdefault("shipping_address", address())
    at = now - timedelta(minutes=minutes_ago)
    fields.setdefault("paid_at", at)
    return OrderFactory(shop=shop, state=OrderState.NEW, placed_at=at, **fields)


def snapshot(order: Order) -> tuple[str, str, datetime | None, str]:
    order.refresh_from_db()
    release = OrderRelease.objects.filter(order=order).first()
    return (order.state, order.hold_reason, order.hold_until, release.hold_kind if release else "-")


def history(order: Order) -> list[tuple[str, str, str, str]]:
    return list(
        OrderStatusChange.objects.filter(order=order)
        .order_by("id")
        .values_list("source", "from_state", "to_state", "reason")
    )


def test_an_order_in_its_cancellation_window_is_held_with_why_and_until_when(now, shop) -> None:
    order = paid(shop, 10, now, platform_status=PlatformStatus.ON_HOLD, is_on_hold_order=True)
    report = orders_release_due(now=now)
    assert (report.held, report.released, dict(report.held_by_kind)) == (
        1,
        0,
        {"cancel_window": 1},
    )
    assert snapshot(order) == (
        OrderState.HELD,
        WINDOW_REASON,
        now + timedelta(minutes=50),
        HoldKind.CANCEL_WINDOW,
    )
    assert history(order) == [(ChangeSource.SYSTEM, "new", "held", WINDOW_REASON)]


def test_running_again_changes_nothing(now, shop) -> None:
    order = paid(shop, 10, now, platform_status=PlatformStatus.ON_HOLD)
    orders_release_due(now=now)
    order.refresh_from_db()
    updated_at = order.updated_at
    for minutes in (1, 2, 30):
        orders_release_due(now=now + timedelta(minutes=minutes))
    order.refresh_from_db()
    assert order.updated_at == updated_at
    assert len(history(order)) == 1


def test_the_order_is_released_and_screened_when_the_window_ends(now, shop) -> None:
    order = paid(shop, 10, now, platform_status=PlatformStatus.ON_HOLD)
    orders_release_due(now=now)
    # TikTok moves it on at the end of the window; the poll brings the new status.
    Order.objects.filter(pk=order.pk).update(platform_status=PlatformStatus.AWAITING_SHIPMENT)
    later = now + timedelta(minutes=50)
    report = orders_release_due(now=later)
    assert (report.held, report.released, report.screening.screened) == (0, 1, 1)
    assert snapshot(order) == (OrderState.READY, "", None, HoldKind.NONE)
    release = OrderRelease.objects.get(order=order)
    assert (release.released_at, release.screened_at) == (later, later)
    assert history(order)[-1] == (
        ChangeSource.SYSTEM,
        "held",
        "ready",
        "Released: ready to process",
    )


def test_a_flagged_order_is_released_into_review(now, shop) -> None:
    order = paid(
        shop, 90, now, shipping_address=address(city="Anchorage", state="AK", postal_code="99501")
    )
    report = orders_release_due(now=now)
    assert (report.released, report.screening.to_review) == (1, 1)
    assert snapshot(order)[0] == OrderState.IN_REVIEW
    assert list(RiskFlag.objects.values_list("reason", flat=True)) == ["Remote destination: AK"]
    assert [row[1:3] for row in history(order)] == [("new", "ready"), ("ready", "in_review")]


def test_the_window_is_the_shops_setting(now, shop) -> None:
    shop.cancel_window_minutes = 180
    shop.save()
    order = paid(shop, 90, now)
    orders_release_due(now=now)
    assert snapshot(order) == (
        OrderState.HELD,
        "The buyer may still cancel: 180-minute cancellation window",
        now + timedelta(minutes=90),
        HoldKind.CANCEL_WINDOW,
    )


def test_on_hold_after_the_window_waits_for_the_platform(now, shop) -> None:
    order = paid(shop, 75, now, platform_status=PlatformStatus.ON_HOLD, is_on_hold_order=True)
    orders_release_due(now=now)
    assert snapshot(order) == (
        OrderState.HELD,
        "The platform still has the order on hold",
        None,
        HoldKind.PLATFORM,
    )


def test_is_on_hold_order_alone_does_not_hold(now, shop) -> None:
    """TikTok: "whether the order has experienced or will experience ON_HOLD status"."""
    order = paid(shop, 75, now, is_on_hold_order=True)
    orders_release_due(now=now)
    assert snapshot(order)[0] == OrderState.READY


def test_unpaid_and_cancel_requested_orders_wait(now, shop) -> None:
    unpaid = paid(shop, 5, now, platform_status=PlatformStatus.UNPAID, paid_at=None)
    asked = paid(shop, 120, now, is_buyer_request_cancel=True)
    orders_release_due(now=now)
    assert snapshot(unpaid) == (OrderState.HELD, "Not paid yet", None, HoldKind.PLATFORM)
    assert snapshot(asked) == (
        OrderState.HELD,
        "The buyer asked to cancel: waiting for the platform to settle it",
        None,
        HoldKind.CANCEL_REQUEST,
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"platform_status": PlatformStatus.CANCELLED, "state": OrderState.CANCELLED},
        {"platform_status": PlatformStatus.DELIVERED, "state": OrderState.DONE},
        {"platform_status": PlatformStatus.AWAITING_SHIPMENT, "state": OrderState.CONFIRMED},
        {"platform_status": PlatformStatus.AWAITING_SHIPMENT, "state": OrderState.IN_REVIEW},
        {"platform_status": PlatformStatus.AWAITING_COLLECTION, "state": OrderState.NEW},
    ],
)
def test_orders_past_release_are_left_alone(now, shop, fields) -> None:  # type: ignore[no-untyped-def]
    order = OrderFactory(shop=shop, placed_at=now - timedelta(hours=3), **fields)
    report = orders_release_due(now=now)
    assert (report.held, report.released) == (0, 0)
    assert snapshot(order) == (fields["state"], "", None, "-")
    assert history(order) == []


@pytest.fixture
def session(shop: Shop, now: datetime) -> LiveSession:
    return LiveSession.objects.create(
        creator=CreatorFactory(handle="mia.makeup"),
        shop=shop,
        status=LiveSessionStatus.LIVE,
        starts_at=now - timedelta(hours=3),
    )


def test_live_orders_wait_for_the_stream_end_plus_the_combine_window(now, shop, session) -> None:
    ReleasePolicy.objects.create(shop=shop, hold_live_orders_until_stream_end=True)
    order = paid(shop, 120, now, live_session=session)
    orders_release_due(now=now)
    assert snapshot(order) == (
        OrderState.HELD,
        "Live stream still running: held until it ends, then 180 minutes to combine",
        None,
        HoldKind.LIVE_STREAM,
    )
    session.ends_at, session.status = now, LiveSessionStatus.ENDED
    session.save()
    orders_release_due(now=now + timedelta(minutes=1))
    assert snapshot(order) == (
        OrderState.HELD,
        "Live stream ended: held 180 more minutes to combine orders",
        now + timedelta(minutes=180),
        HoldKind.LIVE_STREAM,
    )
    orders_release_due(now=now + timedelta(minutes=180))
    assert snapshot(order)[0] == OrderState.READY
    assert [row[1:3] for row in history(order)] == [("new", "held"), ("held", "ready")]


def test_live_orders_are_not_held_when_the_shop_does_not_ask(now, shop, session) -> None:
    order = paid(shop, 120, now, live_session=session)
    orders_release_due(now=now)
    assert snapshot(order)[0] == OrderState.READY


def test_a_buyers_orders_to_one_address_are_released_together(now, shop) -> None:
    buyer = BuyerFactory(nickname="livefan12")
    first = paid(shop, 70, now, buyer=buyer, shipping_address=address())
    second = paid(
        shop,
        20,
        now,
        buyer=buyer,
        shipping_address=address(),
        platform_status=PlatformStatus.ON_HOLD,
    )
    orders_release_due(now=now)
    assert snapshot(first) == (
        OrderState.HELD,
        f"Ships with order {second.remote_order_id} of the same buyer and address",
        now + timedelta(minutes=40),
        HoldKind.COMBINE,
    )
    assert snapshot(second)[3] == HoldKind.CANCEL_WINDOW
    Order.objects.filter(pk=second.pk).update(platform_status=PlatformStatus.AWAITING_SHIPMENT)
    orders_release_due(now=now + timedelta(minutes=40))
    assert (snapshot(first)[0], snapshot(second)[0]) == (OrderState.READY, OrderState.READY)
    keys = set(OrderRelease.objects.values_list("combine_key", flat=True))
    assert keys == {f"{shop.pk}:buyer:{buyer.pk}::{second.shipping_address.match_key[:32]}"}


def test_tiktoks_combine_group_wins(now, shop) -> None:
    first = paid(shop, 70, now, auto_combine_group_id="580000000000000001")
    second = paid(shop, 30, now, auto_combine_group_id="580000000000000001")
    orders_release_due(now=now)
    assert snapshot(first)[3] == HoldKind.COMBINE
    assert (
        OrderRelease.objects.get(order=second).combine_key == f"{shop.pk}:tiktok:580000000000000001"
    )


def test_different_buyers_or_addresses_do_not_wait_for_each_other(now, shop) -> None:
    buyer = BuyerFactory()
    first = paid(shop, 70, now, buyer=buyer, shipping_address=address())
    paid(shop, 20, now, buyer=buyer, shipping_address=address(line1="9 Elm St"))
    paid(shop, 20, now, shipping_address=address())
    orders_release_due(now=now)
    assert snapshot(first)[0] == OrderState.READY


def test_a_partner_beyond_the_combine_window_is_not_waited_for(now, shop) -> None:
    ReleasePolicy.objects.create(shop=shop, combine_window_minutes=30)
    buyer = BuyerFactory()
    first = paid(shop, 100, now, buyer=buyer)
    paid(shop, 20, now, buyer=buyer)
    orders_release_due(now=now)
    assert snapshot(first)[0] == OrderState.READY


def test_a_reviewers_hold_that_ends_sends_the_order_back_to_review(now, shop) -> None:
    due = OrderFactory(shop=shop, state=OrderState.HELD, hold_reason="Held by ola: ask buyer")
    due.hold_until = now - timedelta(minutes=1)
    due.save()
    later = OrderFactory(shop=shop, state=OrderState.HELD, hold_until=now + timedelta(hours=1))
    for order in (due, later):
        OrderRelease.objects.create(order=order, hold_kind=HoldKind.REVIEWER)
    report = orders_release_due(now=now)
    assert (report.back_to_review, report.released, report.held) == (1, 0, 0)
    assert snapshot(due) == (OrderState.IN_REVIEW, "", None, HoldKind.NONE)
    assert history(due) == [
        (ChangeSource.SYSTEM, "held", "in_review", "Reviewer hold ended: back to review")
    ]
    assert snapshot(later) == (OrderState.HELD, "", now + timedelta(hours=1), HoldKind.REVIEWER)


def test_one_shop_at_a_time(now, shop) -> None:
    other = ShopFactory()
    mine = paid(shop, 90, now)
    theirs = paid(other, 90, now)
    orders_release_due(now=now, shop=shop)
    assert (snapshot(mine)[0], snapshot(theirs)[0]) == (OrderState.READY, OrderState.NEW)


def test_every_minute_for_two_hours_writes_two_history_rows_per_order(shop) -> None:
    from aftershow.orders.tests.conftest import NOW as start

    orders = [
        paid(shop, -minute, start, shipping_address=address(line1=f"{100 + minute} Main St"))
        for minute in range(0, 60, 6)
    ]
    for minute in range(0, 121):
        moment = start + timedelta(minutes=minute)
        with time_machine.travel(moment, tick=False):
            orders_release_due(now=moment)
    for order in orders:
        assert [row[1:3] for row in history(order)] == [("new", "held"), ("held", "ready")]
        assert snapshot(order)[0] == OrderState.READY
