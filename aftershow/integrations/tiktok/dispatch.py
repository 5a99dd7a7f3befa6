"""Dispatch deadlines on TikTok orders: ship-by alerts and the late dispatch rate.

TikTok measures dispatch at the carrier's first scan, not at the tracking upload
(market-anchors.md §0 item 4; the Seller University "Guide to Late Dispatch Rate"): an order is
dispatched late when the carrier has not scanned it (status ``IN_TRANSIT``, its
``collection_time``, our ``Order.collected_at``) by the dispatch SLA. The SLA is read per order
from TikTok's own timestamps instead of a hard-coded "2 business days", so TikTok's business
days, holidays and regional rules come with it: ``tts_sla_time`` (``Order.collect_by``, the
latest collection time), else ``rts_sla_time`` (``Order.ship_by``).

- :func:`late_dispatch_rate`: of the dispatched orders (seller shipped or carrier scanned)
  whose SLA falls in a window, the share not scanned in time. An order dispatched but not yet
  scanned counts once its SLA has passed (late) or once scanned (late or not); before that it
  is not measured yet. Orders never dispatched are not in the rate (TikTok counts them as
  cancellations or late later), but are reported as ``overdue_not_dispatched``.
- :func:`ship_by_alerts_raise`: one alert (a :class:`ShipByAlert` row and an ``AuditEvent``)
  per order whose ``ship_by`` is less than ``SHIP_BY_ALERT_LEAD_HOURS`` (default 6) away, or
  past, without a carrier scan. :func:`ship_by_alert_list` lists them for the UI.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Coalesce

from aftershow.alerts.shipby import ship_by_alerts_forward
from aftershow.audit.models import AuditAction, AuditEvent
from aftershow.core.timeutils import utcnow
from aftershow.integrations.models import ShipByAlert
from aftershow.orders.models import Order, PlatformStatus
from aftershow.shops.models import Channel, Shop

SHIP_BY_ALERT_ACTION = AuditAction.SHIP_BY_DEADLINE_NEAR
# Statuses in which the seller still owes TikTok a carrier scan.
UNSCANNED_STATUSES = (
    PlatformStatus.AWAITING_SHIPMENT,
    PlatformStatus.PARTIALLY_SHIPPING,
    PlatformStatus.AWAITING_COLLECTION,
)
DISPATCHED_STATUSES = (
    PlatformStatus.AWAITING_COLLECTION,
    PlatformStatus.IN_TRANSIT,
    PlatformStatus.DELIVERED,
    PlatformStatus.COMPLETED,
)
RATE_PLACES = Decimal("0.0001")


def alert_lead() -> timedelta:
    return timedelta(hours=float(settings.SHIP_BY_ALERT_LEAD_HOURS))


def ship_by_alerts_raise(*, now: datetime | None = None, lead: timedelta | None = None) -> int:
    """Alert, once each, the orders nearing their ship-by deadline without a carrier scan.

    Idempotent and safe to run concurrently: the alert row is unique per order, and only the
    rows this run inserted (stamped with its ``now``) get an audit event.
    """
    now = now or utcnow()
    horizon = now + (lead if lead is not None else alert_lead())
    due = list(
        Order.objects.filter(
            shop__channel=Channel.TIKTOK,
            platform_status__in=UNSCANNED_STATUSES,
            collected_at__isnull=True,
            ship_by__isnull=False,
            ship_by__lte=horizon,
            ship_by_alert__isnull=True,
        )
        .order_by("ship_by", "id")
        .values_list("id", "ship_by")
    )
    if not due:
        return 0
    ShipByAlert.objects.bulk_create(
        [
            ShipByAlert(order_id=order_id, ship_by=ship_by, raised_at=now)
            for order_id, ship_by in due
            if ship_by is not None
        ],
        ignore_conflicts=True,
    )
    ours = (
        ShipByAlert.objects.filter(order_id__in=[order_id for order_id, _ in due], raised_at=now)
        .select_related("order")
        .order_by("ship_by", "order_id")
    )
    events = []
    for alert in ours:
        order = alert.order
        left = alert.ship_by - now
        events.append(
            AuditEvent(
                action=SHIP_BY_ALERT_ACTION,
                object_type="order",
                object_id=str(order.pk),
                message=(
                    f"Order {order.remote_order_id} has no carrier scan and must ship by "
                    f"{alert.ship_by:%Y-%m-%d %H:%M} UTC ({_hours(left)})"
                ),
                data={
                    "remote_order_id": order.remote_order_id,
                    "shop_id": order.shop_id,
                    "ship_by": alert.ship_by.isoformat(),
                    "platform_status": order.platform_status,
                    "seconds_left": int(left.total_seconds()),
                },
            )
        )
    AuditEvent.objects.bulk_create(events)
    # Out to the seller's alert destinations (Apprise) now, not at the alerts app's next
    # evaluation; forwarding is once per order, so the periodic pass adds nothing.
    ship_by_alerts_forward(now=now)
    return len(events)


def _hours(left: timedelta) -> str:
    minutes = int(left.total_seconds() // 60)
    if minutes < 0:
        return f"overdue by {-minutes // 60} h {-minutes % 60:02d} min"
    return f"{minutes // 60} h {minutes % 60:02d} min left"


def ship_by_alert_list(
    *, shop: Shop | None = None, open_only: bool = True
) -> QuerySet[ShipByAlert]:
    """Alerts, most urgent first; ``open_only`` keeps those whose order is still unscanned."""
    alerts = ShipByAlert.objects.select_related("order", "order__shop")
    if shop is not None:
        alerts = alerts.filter(order__shop=shop)
    if open_only:
        alerts = alerts.filter(
            order__collected_at__isnull=True, order__platform_status__in=UNSCANNED_STATUSES
        )
    return alerts.order_by("ship_by", "order_id")


@dataclass(frozen=True)
class LateDispatchRate:
    measured: int  # dispatched orders whose SLA has passed or that the carrier scanned
    late: int  # of those, not scanned by the SLA
    awaiting_scan: int  # dispatched, not scanned yet, SLA still ahead: not measured yet
    overdue_not_dispatched: int  # SLA passed and not dispatched at all

    @property
    def rate(self) -> Decimal | None:
        """``late / measured`` to four places (0.0400 = 4 %), None when nothing is measured."""
        if not self.measured:
            return None
        return (Decimal(self.late) / Decimal(self.measured)).quantize(
            RATE_PLACES, rounding=ROUND_HALF_UP
        )


def late_dispatch_rate(
    *, since: datetime, until: datetime, shop: Shop | None = None, now: datetime | None = None
) -> LateDispatchRate:
    """TikTok's late dispatch rate for the orders whose dispatch SLA falls in [since, until)."""
    now = now or utcnow()
    orders = Order.objects.filter(shop__channel=Channel.TIKTOK)
    if shop is not None:
        orders = orders.filter(shop=shop)
    orders = orders.annotate(sla=Coalesce("collect_by", "ship_by")).filter(
        sla__gte=since, sla__lt=until
    )
    scanned = Q(collected_at__isnull=False)
    dispatched = Q(platform_status__in=DISPATCHED_STATUSES) | scanned
    measured = dispatched & (scanned | Q(sla__lte=now))
    late = measured & (Q(collected_at__isnull=True) | Q(collected_at__gt=F("sla")))
    counts = orders.aggregate(
        measured=Count("id", filter=measured),
        late=Count("id", filter=late),
        awaiting_scan=Count("id", filter=dispatched & ~scanned & Q(sla__gt=now)),
        overdue=Count(
            "id",
            filter=Q(platform_status__in=UNSCANNED_STATUSES[:2]) & ~scanned & Q(sla__lte=now),
        ),
    )
    return LateDispatchRate(
        measured=counts["measured"],
        late=counts["late"],
        awaiting_scan=counts["awaiting_scan"],
        overdue_not_dispatched=counts["overdue"],
    )
