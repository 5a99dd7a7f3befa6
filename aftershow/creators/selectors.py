"""Reads for the creator pages and the live session page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from aftershow.catalog.models import Sku
from aftershow.creators.models import (
    Collaboration,
    Creator,
    LiveSession,
    LiveSessionStatus,
)
from aftershow.orders.models import OrderLine, PlatformStatus

# Velocity is measured over the last minutes of the stream, where the burst is now.
VELOCITY_WINDOW = timedelta(minutes=10)
ZERO = Decimal("0.00")


def creator_list_queryset(*, search: str = "", active_only: bool = False) -> QuerySet[Creator]:
    creators = Creator.objects.annotate(
        session_count=Count("sessions", distinct=True),
        collaboration_count=Count("collaborations", distinct=True),
    ).order_by("-followers", "handle")
    if search:
        creators = creators.filter(
            Q(handle__icontains=search.lstrip("@"))
            | Q(display_name__icontains=search)
            | Q(niche__icontains=search)
        )
    if active_only:
        creators = creators.filter(is_active=True)
    return creators


def creator_collaborations(creator: Creator) -> list[Collaboration]:
    return list(
        creator.collaborations.select_related("shop")
        .prefetch_related("rates__sku")
        .order_by("-starts_on", "-id")
    )


@dataclass(frozen=True)
class SkuProgress:
    sku: Sku
    units: int
    planned_units: int
    available: int | None  # free stock now, None when the stock plan does not know the SKU
    platform_rate: Decimal | None
    seller_rate: Decimal | None

    @property
    def percent_of_plan(self) -> int | None:
        if not self.planned_units:
            return None
        return round(self.units * 100 / self.planned_units)

    @property
    def is_short(self) -> bool:
        return self.available is not None and self.available <= 0


@dataclass(frozen=True)
class LiveStats:
    """What the live page shows; every figure is computed from attributed order lines."""

    session: LiveSession
    at: datetime
    gmv: Decimal
    orders: int
    units: int
    viewers: int
    minutes_live: Decimal
    units_last_window: int
    skus: list[SkuProgress] = field(default_factory=list)
    plan_total_units: int | None = None
    plan_source: str = ""

    @property
    def conversion(self) -> Decimal | None:
        """Units sold ÷ viewers so far (the seed's formula), as a percent."""
        if not self.viewers:
            return None
        return (Decimal(self.units) * 100 / self.viewers).quantize(Decimal("0.01"))

    @property
    def units_per_minute(self) -> Decimal | None:
        if self.minutes_live <= 0:
            return None
        return (Decimal(self.units) / self.minutes_live).quantize(Decimal("0.1"))

    @property
    def recent_units_per_minute(self) -> Decimal:
        window = Decimal(int(VELOCITY_WINDOW.total_seconds() // 60))
        minutes = min(window, self.minutes_live) if self.minutes_live > 0 else window
        return (Decimal(self.units_last_window) / minutes).quantize(Decimal("0.1"))

    @property
    def gmv_per_minute(self) -> Decimal | None:
        if self.minutes_live <= 0:
            return None
        return (self.gmv / self.minutes_live).quantize(Decimal("0.01"))


def _stock_plan(session: LiveSession) -> tuple[int | None, dict[int, tuple[int, int]], str]:
    """(total planned units, {sku id: (planned units, available)}, source) from the stock plan
    of the inventory app, when it is installed."""
    try:
        from aftershow.inventory.planning import stock_plan_for
    except ImportError:  # the inventory app's planning is optional for this page
        return None, {}, ""
    plan = stock_plan_for(session)
    lines = {line.sku.pk: (line.units, line.available) for line in plan.lines}
    return plan.total_units, lines, "stock_plan"


def live_session_stats(*, session: LiveSession, now: datetime) -> LiveStats:
    """GMV, orders, units per SKU against the plan and stock, velocity and conversion so far."""
    end = session.ends_at if session.status == LiveSessionStatus.ENDED and session.ends_at else now
    # Lines attributed to the session, and, while the window rule has not run yet, the shop's
    # unattributed lines placed during the stream (featured SKUs only, when there are some).
    featured = {f.sku_id: f for f in session.skus.select_related("sku")}
    pending = Q(
        order__shop_id=session.shop_id,
        order__creator__isnull=True,
        live_session__isnull=True,
        order__placed_at__gte=session.starts_at,
        order__placed_at__lte=end,
    )
    if featured:
        pending &= Q(sku_id__in=list(featured))
    lines = OrderLine.objects.filter(Q(live_session=session) | pending).exclude(
        order__platform_status=PlatformStatus.CANCELLED
    )
    amount = ExpressionWrapper(
        F("sale_price") * F("quantity"), output_field=DecimalField(max_digits=14, decimal_places=2)
    )
    totals = lines.aggregate(
        gmv=Coalesce(Sum(amount), ZERO, output_field=DecimalField(max_digits=14, decimal_places=2)),
        units=Coalesce(Sum("quantity"), 0),
        orders=Count("order", distinct=True),
    )
    minutes = Decimal(max((end - session.starts_at).total_seconds(), 0)) / 60
    recent = lines.filter(order__placed_at__gte=end - VELOCITY_WINDOW, order__placed_at__lte=end)
    recent_units = recent.aggregate(units=Coalesce(Sum("quantity"), 0))["units"]
    units_by_sku = dict(
        lines.filter(sku__isnull=False)
        .values_list("sku_id")
        .annotate(units=Sum("quantity"))
        .order_by()
    )
    plan_total, plan_lines, plan_source = _stock_plan(session)
    sku_ids = set(featured) | set(units_by_sku) | set(plan_lines)
    skus = {sku.pk: sku for sku in Sku.objects.filter(pk__in=sku_ids)}
    progress = []
    for sku_id in sorted(sku_ids, key=lambda pk: (-units_by_sku.get(pk, 0), skus[pk].code)):
        featured_sku = featured.get(sku_id)
        planned, available = plan_lines.get(sku_id, (0, None))
        if featured_sku is not None and featured_sku.planned_units:
            planned = planned or featured_sku.planned_units
        progress.append(
            SkuProgress(
                sku=skus[sku_id],
                units=units_by_sku.get(sku_id, 0),
                planned_units=planned,
                available=available,
                platform_rate=featured_sku.platform_rate if featured_sku else None,
                seller_rate=featured_sku.seller_rate if featured_sku else None,
            )
        )
    return LiveStats(
        session=session,
        at=now,
        gmv=Decimal(totals["gmv"]).quantize(ZERO),
        orders=totals["orders"],
        units=totals["units"],
        viewers=session.viewers,
        minutes_live=minutes.quantize(Decimal("0.1")),
        units_last_window=recent_units,
        skus=progress,
        plan_total_units=plan_total,
        plan_source=plan_source,
    )
