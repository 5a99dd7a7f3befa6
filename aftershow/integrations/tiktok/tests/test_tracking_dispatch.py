"""Ship-by alerts and the late dispatch rate, with exact values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from aftershow.audit.models import AuditEvent
from aftershow.integrations.models import ShipByAlert
from aftershow.integrations.tiktok.dispatch import (
    SHIP_BY_ALERT_ACTION,
    LateDispatchRate,
    late_dispatch_rate,
    ship_by_alert_list,
    ship_by_alerts_raise,
)
from aftershow.orders.models import Order
from aftershow.orders.tests.factories import OrderFactory, ShopFactory
from aftershow.shops.models import Channel

NOW = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)
H = timedelta(hours=1)


def order(shop, status: str, ship_by: datetime | None, **fields) -> Order:
    return OrderFactory(shop=shop, platform_status=status, ship_by=ship_by, **fields)


# -- alerts ------------------------------------------------------------------------------------


def test_orders_nearing_ship_by_without_a_scan_are_alerted_once(db):
    shop = ShopFactory()
    soon = order(shop, "AWAITING_SHIPMENT", NOW + 5 * H, remote_order_id="576000000000000001")
    edge = order(shop, "AWAITING_COLLECTION", NOW + 6 * H, remote_order_id="576000000000000002")
    late = order(shop, "AWAITING_SHIPMENT", NOW - 2 * H, remote_order_id="576000000000000003")
    later = order(shop, "AWAITING_SHIPMENT", NOW + 6 * H + timedelta(seconds=1))  # not yet
    order(shop, "IN_TRANSIT", NOW + H, collected_at=NOW - H)  # scanned
    order(shop, "CANCELLED", NOW + H)
    order(shop, "AWAITING_SHIPMENT", None)
    order(ShopFactory(channel=Channel.SHOPIFY), "AWAITING_SHIPMENT", NOW + H)

    raised = ship_by_alerts_raise(now=NOW)
    again = ship_by_alerts_raise(now=NOW + timedelta(minutes=10))

    # Ten minutes on, only the order that came within six hours is alerted; none twice.
    assert (raised, again) == (3, 1)
    events = AuditEvent.objects.filter(action=SHIP_BY_ALERT_ACTION).order_by("id")
    assert events.count() == 4
    assert events[3].object_id == str(later.pk)
    assert [(e.object_type, e.object_id, e.message) for e in events[:3]] == [
        (
            "order",
            str(late.pk),
            "Order 576000000000000003 has no carrier scan and must ship by "
            "2026-11-20 18:00 UTC (overdue by 2 h 00 min)",
        ),
        (
            "order",
            str(soon.pk),
            "Order 576000000000000001 has no carrier scan and must ship by "
            "2026-11-21 01:00 UTC (5 h 00 min left)",
        ),
        (
            "order",
            str(edge.pk),
            "Order 576000000000000002 has no carrier scan and must ship by "
            "2026-11-21 02:00 UTC (6 h 00 min left)",
        ),
    ]
    assert events[1].data == {
        "remote_order_id": "576000000000000001",
        "shop_id": shop.pk,
        "ship_by": "2026-11-21T01:00:00+00:00",
        "platform_status": "AWAITING_SHIPMENT",
        "seconds_left": 5 * 3600,
    }
    assert [a.order_id for a in ship_by_alert_list()] == [late.pk, soon.pk, edge.pk, later.pk]


def test_the_alert_list_drops_orders_the_carrier_scanned(db):
    shop, other_shop = ShopFactory(), ShopFactory()
    scanned = order(shop, "AWAITING_SHIPMENT", NOW + H)
    waiting = order(shop, "AWAITING_SHIPMENT", NOW + 2 * H)
    elsewhere = order(other_shop, "AWAITING_SHIPMENT", NOW + 3 * H)
    ship_by_alerts_raise(now=NOW)
    Order.objects.filter(pk=scanned.pk).update(platform_status="IN_TRANSIT", collected_at=NOW)

    assert [a.order_id for a in ship_by_alert_list()] == [waiting.pk, elsewhere.pk]
    assert [a.order_id for a in ship_by_alert_list(shop=shop)] == [waiting.pk]
    assert [a.order_id for a in ship_by_alert_list(open_only=False)] == [
        scanned.pk,
        waiting.pk,
        elsewhere.pk,
    ]


def test_the_alert_lead_is_a_setting(db, settings):
    settings.SHIP_BY_ALERT_LEAD_HOURS = 1
    shop = ShopFactory()
    near = order(shop, "AWAITING_SHIPMENT", NOW + timedelta(minutes=30))
    order(shop, "AWAITING_SHIPMENT", NOW + 2 * H)

    assert ship_by_alerts_raise(now=NOW) == 1
    assert list(ShipByAlert.objects.values_list("order_id", "ship_by", "raised_at")) == [
        (near.pk, NOW + timedelta(minutes=30), NOW)
    ]


# -- late dispatch rate ------------------------------------------------------------------------

T0 = datetime(2026, 11, 1, tzinfo=UTC)
WEEK = (T0, T0 + timedelta(days=7))


def test_late_dispatch_rate_is_measured_at_the_carrier_scan(db):
    shop = ShopFactory()
    now = T0 + timedelta(days=5)

    def sla(days: float, status: str, collected: float | None = None, **fields) -> None:
        deadline = T0 + timedelta(days=days)
        order(
            shop,
            status,
            deadline - timedelta(days=1),
            collect_by=fields.pop("collect_by", deadline),
            collected_at=None if collected is None else T0 + timedelta(days=collected),
            **fields,
        )

    sla(1, "IN_TRANSIT", collected=0.5)  # on time
    sla(1, "DELIVERED", collected=1.5)  # late
    sla(2, "AWAITING_COLLECTION")  # shipped, never scanned, SLA passed: late
    sla(3, "IN_TRANSIT", collected=3)  # scanned at the very deadline: on time
    sla(3, "DELIVERED", collected=2)  # on time
    sla(6, "IN_TRANSIT", collected=4)  # scanned ahead of a future SLA: on time
    sla(6, "AWAITING_COLLECTION")  # SLA ahead, not scanned yet: not measured
    sla(1, "AWAITING_SHIPMENT")  # never dispatched: not in the rate
    sla(2, "CANCELLED")  # not dispatched
    sla(8, "IN_TRANSIT", collected=9)  # SLA outside the window
    # No collect_by from TikTok: the ship-by time is the SLA (scanned 12 h after it: late).
    order(
        shop,
        "IN_TRANSIT",
        T0 + timedelta(days=4),
        collect_by=None,
        collected_at=T0 + timedelta(days=4.5),
    )
    order(ShopFactory(channel=Channel.SHOPIFY), "AWAITING_COLLECTION", T0 + timedelta(days=1))

    result = late_dispatch_rate(since=WEEK[0], until=WEEK[1], now=now)

    assert result == LateDispatchRate(measured=7, late=3, awaiting_scan=1, overdue_not_dispatched=1)
    assert result.rate == Decimal("0.4286")  # 3/7, half up to four places


def test_late_dispatch_rate_per_shop_and_with_nothing_measured(db):
    shop, other = ShopFactory(), ShopFactory()
    order(
        shop,
        "IN_TRANSIT",
        T0 + timedelta(days=1),
        collect_by=T0 + timedelta(days=2),
        collected_at=T0 + timedelta(days=3),
    )
    order(
        other,
        "IN_TRANSIT",
        T0 + timedelta(days=1),
        collect_by=T0 + timedelta(days=2),
        collected_at=T0 + timedelta(days=1),
    )

    mine = late_dispatch_rate(since=WEEK[0], until=WEEK[1], shop=shop, now=T0 + timedelta(days=7))
    empty = late_dispatch_rate(since=T0 - timedelta(days=7), until=T0, now=T0)

    assert (mine.measured, mine.late, mine.rate) == (1, 1, Decimal("1.0000"))
    assert (empty, empty.rate) == (LateDispatchRate(0, 0, 0, 0), None)


def test_a_ship_by_alert_goes_out_through_the_alerts_app_once(db):
    from aftershow.alerts.models import Alert, AlertKind
    from aftershow.audit.models import AuditAction

    shop = ShopFactory()
    soon = order(shop, "AWAITING_SHIPMENT", NOW + 2 * H, remote_order_id="576000000000000009")

    ship_by_alerts_raise(now=NOW)
    ship_by_alerts_raise(now=NOW + timedelta(minutes=10))

    alert = Alert.objects.get()
    assert (alert.kind, alert.subject_key, alert.title) == (
        AlertKind.SHIP_BY,
        f"order:{soon.pk}",
        "Order 576000000000000009 must ship by 2026-11-20 22:00 UTC",
    )
    event = AuditEvent.objects.get(action=AuditAction.SHIP_BY_DEADLINE_NEAR)
    assert event.get_action_display() == "Ship-by deadline near without a carrier scan"
