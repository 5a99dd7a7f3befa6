"""Stock plans for live sessions (R-I1) and replenishment suggestions (R-I5).

- :func:`stock_plan_for`: the plan of a session. Units = followers x expected view rate x
  expected conversion x safety factor, rounded up (the seed's example: 500,000 x 10 % x 8 % x 1.2
  = 4,800), a staged first batch (by default half: 2,400 of 4,800, inside the seed's "first batch
  2,000-3,000"), the seed's rule of thumb for the creator's size, and per SKU the units, what is
  available and the shortfall.
- :func:`replenishment_suggestions`: per SKU, reorder point = daily demand x lead time + safety
  stock; when available + incoming is at or below it, order enough to get back to the reorder
  point plus ``cover_days`` of demand.

Demand is counted from ``StockAllocation`` rows (what order lines asked for, backorders
included, cancelled ones left out), not from allocation movements: when stock runs out, sales
become backorders and must still count as demand.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, Decimal

from django.db import transaction
from django.db.models import F, Sum
from django.utils.translation import gettext

from aftershow.catalog.models import Sku
from aftershow.core.timeutils import utcnow
from aftershow.creators.models import LiveSession
from aftershow.inventory.models import (
    AllocationStatus,
    LiveStockPlan,
    LiveStockPlanLine,
    ReorderPolicy,
    StockAllocation,
    StockLevel,
)

DEFAULT_VIEW_RATE = Decimal("0.10")
DEFAULT_CONVERSION_RATE = Decimal("0.08")
DEFAULT_SAFETY_FACTOR = Decimal("1.20")
DEFAULT_FIRST_BATCH_SHARE = Decimal("0.50")
DEFAULT_LEAD_TIME_DAYS = 7
DEFAULT_SAFETY_STOCK = 0
DEFAULT_COVER_DAYS = 14
VELOCITY_DAYS = 14


@dataclass(frozen=True)
class RuleOfThumb:
    """The seed's FAQ: top creators (1M+ followers) 1,000-2,000 units; mid-tier (100k-500k)
    300-500 units. Other sizes have no rule in the seed."""

    tier: str
    low: int
    high: int

    @property
    def label(self) -> str:
        if self.tier == "top":
            return gettext("Top creator (1M+ followers)")
        return gettext("Mid-tier creator (100k-500k followers)")


TOP_TIER = RuleOfThumb(tier="top", low=1_000, high=2_000)
MID_TIER = RuleOfThumb(tier="mid", low=300, high=500)


def rule_of_thumb(followers: int) -> RuleOfThumb | None:
    if followers >= 1_000_000:
        return TOP_TIER
    if 100_000 <= followers <= 500_000:
        return MID_TIER
    return None


def plan_units(
    *, followers: int, view_rate: Decimal, conversion_rate: Decimal, safety_factor: Decimal
) -> int:
    """Followers x view rate x conversion x safety factor, rounded up to a whole unit."""
    exact = Decimal(followers) * view_rate * conversion_rate * safety_factor
    return int(exact.to_integral_value(rounding=ROUND_CEILING))


def first_batch_units(*, total: int, share: Decimal) -> int:
    return int((Decimal(total) * share).to_integral_value(rounding=ROUND_CEILING))


def split_by_share(total: int, shares: Sequence[int]) -> list[int]:
    """Split ``total`` units by integer weights, largest remainder first: the parts add up to
    exactly ``total`` (plain rounding can lose or add a unit)."""
    weight = sum(shares)
    if weight <= 0:
        return [0 for _ in shares]
    floors = [total * share // weight for share in shares]
    left = total - sum(floors)
    order = sorted(range(len(shares)), key=lambda i: (-(total * shares[i] % weight), i))
    for index in order[:left]:
        floors[index] += 1
    return floors


@dataclass(frozen=True)
class PlanLine:
    sku: Sku
    share: int
    units: int
    first_batch: int
    available: int
    incoming: int

    @property
    def shortfall(self) -> int:
        """Units missing for the whole plan (0 when available covers it)."""
        return max(0, self.units - self.available)

    @property
    def first_batch_shortfall(self) -> int:
        return max(0, self.first_batch - self.available)


@dataclass(frozen=True)
class StockPlan:
    session: LiveSession
    saved: bool
    followers: int
    view_rate: Decimal
    conversion_rate: Decimal
    safety_factor: Decimal
    first_batch_share: Decimal
    total_units: int
    first_batch: int
    rule_of_thumb: RuleOfThumb | None
    lines: list[PlanLine]

    @property
    def expected_viewers(self) -> int:
        return int(Decimal(self.followers) * self.view_rate)

    @property
    def shortfall(self) -> int:
        return sum(line.shortfall for line in self.lines)


def stock_by_sku(sku_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """(available, incoming) per SKU, over every warehouse."""
    rows = (
        StockLevel.objects.filter(sku_id__in=list(sku_ids))
        .values("sku_id")
        .annotate(free=Sum(F("on_hand") - F("allocated")), expected=Sum("incoming"))
        .order_by()
    )
    return {row["sku_id"]: (int(row["free"]), int(row["expected"])) for row in rows}


def stock_plan_for(session: LiveSession) -> StockPlan:
    """The session's plan: its saved inputs, or the defaults with the creator's followers."""
    stored = LiveStockPlan.objects.filter(session=session).first()
    if stored is None:
        followers = session.creator.followers
        view_rate, conversion = DEFAULT_VIEW_RATE, DEFAULT_CONVERSION_RATE
        safety, first_share = DEFAULT_SAFETY_FACTOR, DEFAULT_FIRST_BATCH_SHARE
        stored_lines: list[LiveStockPlanLine] = []
    else:
        followers = stored.followers
        view_rate, conversion = stored.view_rate, stored.conversion_rate
        safety, first_share = stored.safety_factor, stored.first_batch_share
        stored_lines = list(stored.lines.select_related("sku").order_by("sku__code"))
    total = plan_units(
        followers=followers, view_rate=view_rate, conversion_rate=conversion, safety_factor=safety
    )
    first = first_batch_units(total=total, share=first_share)
    shares = [line.share for line in stored_lines]
    units = split_by_share(total, shares)
    firsts = split_by_share(first, shares)
    stock = stock_by_sku(line.sku_id for line in stored_lines)
    return StockPlan(
        session=session,
        saved=stored is not None,
        followers=followers,
        view_rate=view_rate,
        conversion_rate=conversion,
        safety_factor=safety,
        first_batch_share=first_share,
        total_units=total,
        first_batch=first,
        rule_of_thumb=rule_of_thumb(followers),
        lines=[
            PlanLine(
                sku=line.sku,
                share=line.share,
                units=line_units,
                first_batch=line_first,
                available=stock.get(line.sku_id, (0, 0))[0],
                incoming=stock.get(line.sku_id, (0, 0))[1],
            )
            for line, line_units, line_first in zip(stored_lines, units, firsts, strict=True)
        ],
    )


def stock_plan_save(
    *,
    session: LiveSession,
    followers: int,
    view_rate: Decimal,
    conversion_rate: Decimal,
    safety_factor: Decimal,
    first_batch_share: Decimal,
    lines: Sequence[tuple[Sku, int]],
) -> LiveStockPlan:
    """Store the plan's inputs and SKU shares (replacing the previous ones) in one transaction.

    The check constraints refuse rates outside (0, 1] and a safety factor below 1; forms check
    the same first so the user gets a message instead of an error.
    """
    with transaction.atomic():
        plan, _created = LiveStockPlan.objects.update_or_create(
            session=session,
            defaults={
                "followers": followers,
                "view_rate": view_rate,
                "conversion_rate": conversion_rate,
                "safety_factor": safety_factor,
                "first_batch_share": first_batch_share,
            },
        )
        plan.lines.all().delete()
        LiveStockPlanLine.objects.bulk_create(
            [LiveStockPlanLine(plan=plan, sku=sku, share=share) for sku, share in lines]
        )
    return plan


def planned_sessions_between(start: datetime, end: datetime) -> list[LiveSession]:
    """Planned sessions starting in [start, end] that have a saved plan with SKUs."""
    return list(
        LiveSession.objects.filter(
            status="planned",
            starts_at__gte=start,
            starts_at__lte=end,
            stock_plan__lines__isnull=False,
        )
        .distinct()
        .select_related("creator")
        .order_by("starts_at", "pk")
    )


def demand_by_sku(*, since: datetime, sku_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Units order lines asked for since ``since``, per SKU (backorders in, cancellations out)."""
    rows = StockAllocation.objects.filter(created_at__gte=since).exclude(
        status=AllocationStatus.RELEASED
    )
    if sku_ids is not None:
        rows = rows.filter(sku_id__in=list(sku_ids))
    totals = rows.values("sku_id").annotate(units=Sum("quantity")).order_by()
    return {row["sku_id"]: int(row["units"]) for row in totals}


@dataclass(frozen=True)
class Replenishment:
    sku: Sku
    available: int
    incoming: int
    daily_demand: Decimal
    lead_time_days: int
    safety_stock: int
    cover_days: int
    reorder_point: int
    suggested_quantity: int

    @property
    def position(self) -> int:
        return self.available + self.incoming

    @property
    def needs_reorder(self) -> bool:
        return self.reorder_point > 0 and self.position <= self.reorder_point


def reorder_point(*, daily_demand: Decimal, lead_time_days: int, safety_stock: int) -> int:
    """Demand during the lead time plus safety stock, rounded up."""
    during_lead = (daily_demand * lead_time_days).to_integral_value(rounding=ROUND_CEILING)
    return int(during_lead) + safety_stock


def replenishment_for(
    *,
    sku: Sku,
    available: int,
    incoming: int,
    demand_units: int,
    velocity_days: int,
    policy: ReorderPolicy | None,
) -> Replenishment:
    daily = (Decimal(demand_units) / Decimal(velocity_days)).quantize(Decimal("0.01"))
    lead = policy.lead_time_days if policy else DEFAULT_LEAD_TIME_DAYS
    safety = policy.safety_stock if policy else DEFAULT_SAFETY_STOCK
    cover = policy.cover_days if policy else DEFAULT_COVER_DAYS
    point = reorder_point(daily_demand=daily, lead_time_days=lead, safety_stock=safety)
    position = available + incoming
    suggested = 0
    if point > 0 and position <= point:
        target = Decimal(point) + daily * cover
        suggested = max(0, math.ceil(target) - position)
    return Replenishment(
        sku=sku,
        available=available,
        incoming=incoming,
        daily_demand=daily,
        lead_time_days=lead,
        safety_stock=safety,
        cover_days=cover,
        reorder_point=point,
        suggested_quantity=suggested,
    )


def replenishment_suggestions(
    *,
    now: datetime | None = None,
    sku_ids: Iterable[int] | None = None,
    velocity_days: int = VELOCITY_DAYS,
    only_needed: bool = False,
) -> list[Replenishment]:
    """Per stocked SKU (bundles have no stock of their own), its reorder point and, when at or
    below it, how many units to order. Most urgent (lowest position vs. point) first."""
    now = now or utcnow()
    skus = Sku.objects.filter(is_bundle=False, stock_levels__isnull=False).distinct()
    if sku_ids is not None:
        skus = skus.filter(pk__in=list(sku_ids))
    sku_list = list(skus.order_by("code"))
    ids = [sku.pk for sku in sku_list]
    stock = stock_by_sku(ids)
    demand = demand_by_sku(since=now - timedelta(days=velocity_days), sku_ids=ids)
    policies = {policy.sku_id: policy for policy in ReorderPolicy.objects.filter(sku_id__in=ids)}
    rows = [
        replenishment_for(
            sku=sku,
            available=stock.get(sku.pk, (0, 0))[0],
            incoming=stock.get(sku.pk, (0, 0))[1],
            demand_units=demand.get(sku.pk, 0),
            velocity_days=velocity_days,
            policy=policies.get(sku.pk),
        )
        for sku in sku_list
    ]
    if only_needed:
        rows = [row for row in rows if row.needs_reorder]
    rows.sort(key=lambda row: (not row.needs_reorder, row.position - row.reorder_point))
    return rows
