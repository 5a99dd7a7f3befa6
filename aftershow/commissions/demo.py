"""Demo helpers: move time forward for attributed orders, and give demo creators terms.

Not for production data: ``demo_time_advance`` rewrites order timestamps. It moves the orders
back in time instead of moving the clock forward, which is the same thing for every rule that
compares an order's dates with now (the return window, the month a statement covers).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Q

from aftershow.commissions.ledger import RETURN_WINDOW
from aftershow.commissions.models import PayoutDetails, PayoutMethod
from aftershow.core.timeutils import utcnow
from aftershow.creators.models import Collaboration, CollaborationKind, CollaborationRate, Creator
from aftershow.orders.models import ChangeSource, Order, OrderStatusChange, PlatformStatus
from aftershow.risk.services import order_return_record

SHIPPED = (
    PlatformStatus.AWAITING_SHIPMENT,
    PlatformStatus.AWAITING_COLLECTION,
    PlatformStatus.PARTIALLY_SHIPPING,
    PlatformStatus.IN_TRANSIT,
)


@dataclass(frozen=True)
class AdvanceResult:
    delivered: int
    returned: int
    completed: int


def demo_time_advance(
    *, days: int, return_rate: float = 0.1, seed: int = 7, now: datetime | None = None
) -> AdvanceResult:
    """``days`` pass for every attributed order: open ones are delivered, a seeded share of
    them is returned, and delivered ones past the return window are completed."""
    now = now or utcnow()
    shift = timedelta(days=days)
    rng = random.Random(seed)
    attributed = Order.objects.filter(Q(creator__isnull=False) | Q(lines__creator__isnull=False))
    ids = list(attributed.values_list("pk", flat=True).distinct())
    delivered = returned = completed = 0
    with transaction.atomic():
        orders = Order.objects.filter(pk__in=ids)
        orders.update(
            placed_at=F("placed_at") - shift,
            remote_updated_at=F("remote_updated_at") - shift,
        )
        for field in ("paid_at", "delivered_at", "collected_at", "cancelled_at", "ship_by"):
            orders.filter(**{f"{field}__isnull": False}).update(**{field: F(field) - shift})
        for order in orders.filter(platform_status__in=SHIPPED).order_by("pk"):
            _status(order, PlatformStatus.DELIVERED, now)
            order.delivered_at = order.placed_at + timedelta(days=min(4, days))
            order.save(update_fields=["delivered_at"])
            delivered += 1
            if rng.random() < return_rate:
                order_return_record(
                    order=order,
                    remote_return_id=f"demo-{order.pk}",
                    returned_at=order.delivered_at + timedelta(days=2),
                    reason="demo: buyer returned the item",
                )
                returned += 1
        due = orders.filter(
            platform_status=PlatformStatus.DELIVERED, delivered_at__lte=now - RETURN_WINDOW
        ).exclude(returns__isnull=False)
        for order in due.order_by("pk"):
            _status(order, PlatformStatus.COMPLETED, now)
            order.remote_updated_at = (order.delivered_at or now) + RETURN_WINDOW
            order.save(update_fields=["remote_updated_at"])
            completed += 1
    return AdvanceResult(delivered=delivered, returned=returned, completed=completed)


def _status(order: Order, status: str, now: datetime) -> None:
    OrderStatusChange.objects.create(
        order=order,
        source=ChangeSource.SYSTEM,
        from_status=order.platform_status,
        to_status=status,
        reason="demo: time moved forward",
    )
    order.platform_status = status
    order.save(update_fields=["platform_status", "updated_at"])


def demo_terms_ensure() -> int:
    """Creators without any collaboration get a demo one (15 % paid by TikTok, 5 % extra by the
    seller) and PayPal details; returns how many were set up."""
    count = 0
    for creator in Creator.objects.filter(collaborations__isnull=True).order_by("pk"):
        collaboration = Collaboration.objects.create(
            creator=creator,
            kind=CollaborationKind.OFF_PLATFORM,
            name="Demo: 5 % on top of TikTok's 15 %",
            starts_on=date(2020, 1, 1),
        )
        CollaborationRate.objects.create(
            collaboration=collaboration,
            platform_rate=Decimal("15.00"),
            seller_rate=Decimal("5.00"),
            valid_from=datetime(2020, 1, 1, tzinfo=UTC),
        )
        PayoutDetails.objects.get_or_create(
            creator=creator,
            defaults={
                "method": PayoutMethod.PAYPAL,
                "paypal_email": f"{creator.handle}@example.com",
            },
        )
        count += 1
    return count
