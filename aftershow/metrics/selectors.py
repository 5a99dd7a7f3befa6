"""Reads: the inputs of the seed's formulas, added up in the database (one grouped query per
source, never a Python loop over orders), and the rows behind each figure for the drill-down.

What counts (docs/decisions-metrics.md has the reasons):

- orders: attributed to a creator, paid, not cancelled, not a sample order, in the report
  currency, placed in the period;
- returned: an order with a return on record (``risk.OrderReturn``, or an imported
  ``ReturnRecord`` with a quantity that was not withdrawn);
- sales = the orders' merchandise subtotal; ROI uses kept sales (returned orders excluded) and
  the cost of goods of the kept orders;
- commission = every ledger row that is not void, both payers, flat fees excepted (those are
  invested cost);
- invested = samples (units x unit cost + shipping), collaboration flat fees, and flat-fee rows of
  the ledger that belong to no collaboration;
- conversion = units of live-session orders ÷ viewers, over sessions with a viewer count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from typing import Any

from django.db.models import (
    BooleanField,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from aftershow.commissions.models import CommissionLine, LineKind, LineStatus, Payer
from aftershow.core.fields import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
from aftershow.creators.models import Collaboration, Creator, LiveSession, SampleShipment
from aftershow.imports.models import ReturnRecord
from aftershow.metrics.formulas import ZERO_FIGURES, Figures
from aftershow.metrics.models import CreatorStanding, Tier, TierChange, TierPolicy
from aftershow.orders.models import Order, OrderLine, PlatformStatus
from aftershow.risk.models import OrderReturn

# Figures add up amounts of one currency only; rows in another are left out (and counted).
REPORT_CURRENCY = "USD"

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=MONEY_MAX_DIGITS + 6, decimal_places=MONEY_DECIMAL_PLACES)
NOT_SOLD = (PlatformStatus.UNPAID, PlatformStatus.CANCELLED)
# TikTok's returns export marks a withdrawn request this way (reference §5).
WITHDRAWN_RETURN = "Request cancelled"


@dataclass(frozen=True)
class Period:
    """``[start, end)``; no start means all history up to ``end``."""

    end: datetime
    start: datetime | None = None

    def q(self, field: str) -> Q:
        condition = Q(**{f"{field}__lt": self.end})
        if self.start is not None:
            condition &= Q(**{f"{field}__gte": self.start})
        return condition

    def q_date(self, field: str) -> Q:
        """The same period for a DateField: a day is in it when it starts in it."""
        end_day = self.end.date()
        if self.end == datetime.combine(end_day, time(0), tzinfo=self.end.tzinfo):
            condition = Q(**{f"{field}__lt": end_day})
        else:
            condition = Q(**{f"{field}__lte": end_day})
        if self.start is not None:
            start_day = self.start.date()
            if self.start != datetime.combine(start_day, time(0), tzinfo=self.start.tzinfo):
                condition &= Q(**{f"{field}__gt": start_day})
            else:
                condition &= Q(**{f"{field}__gte": start_day})
        return condition


@dataclass(frozen=True)
class Scope:
    """Which rows of each source a figure is computed from.

    ``creator`` narrows to one creator; ``session`` to one live session (its orders, its
    viewers, the samples sent for it) instead of a period.
    """

    period: Period | None = None
    creator_id: int | None = None
    session_id: int | None = None

    def orders_q(self, prefix: str = "") -> Q:
        condition = Q(
            **{
                f"{prefix}currency": REPORT_CURRENCY,
                f"{prefix}paid_at__isnull": False,
                f"{prefix}is_sample_order": False,
                f"{prefix}creator__isnull": False,
            }
        ) & ~Q(**{f"{prefix}platform_status__in": NOT_SOLD})
        if self.period is not None:
            condition &= self.period.q(f"{prefix}placed_at")
        if self.creator_id is not None:
            condition &= Q(**{f"{prefix}creator_id": self.creator_id})
        if self.session_id is not None:
            condition &= Q(**{f"{prefix}live_session_id": self.session_id})
        return condition

    def sessions_q(self) -> Q:
        condition = Q(viewers__gt=0)
        if self.period is not None:
            condition &= self.period.q("starts_at")
        if self.creator_id is not None:
            condition &= Q(creator_id=self.creator_id)
        if self.session_id is not None:
            condition &= Q(pk=self.session_id)
        return condition

    def commission_q(self) -> Q:
        condition = Q(currency=REPORT_CURRENCY) & ~Q(status=LineStatus.VOID)
        condition &= ~Q(kind=LineKind.FLAT_FEE)
        if self.session_id is not None:
            condition &= Q(order__live_session_id=self.session_id) | Q(
                order__isnull=True, live_session_id=self.session_id
            )
        elif self.period is not None:
            condition &= (Q(order__isnull=False) & self.period.q("order__placed_at")) | (
                Q(order__isnull=True) & self.period.q("occurred_at")
            )
        if self.creator_id is not None:
            condition &= Q(creator_id=self.creator_id)
        return condition

    def samples_q(self) -> Q:
        condition = Q(currency=REPORT_CURRENCY)
        if self.session_id is not None:
            condition &= Q(live_session_id=self.session_id)
        elif self.period is not None:
            condition &= self.period.q("shipped_at")
        if self.creator_id is not None:
            condition &= Q(creator_id=self.creator_id)
        return condition

    def flat_fees_q(self) -> Q | None:
        """Collaboration flat fees (booked on the collaboration's first day); none per session."""
        if self.session_id is not None:
            return None
        condition = Q(currency=REPORT_CURRENCY, flat_fee__gt=0)
        if self.period is not None:
            condition &= self.period.q_date("starts_on")
        if self.creator_id is not None:
            condition &= Q(creator_id=self.creator_id)
        return condition

    def fee_lines_q(self) -> Q | None:
        """Flat-fee rows of the ledger that no collaboration accounts for."""
        if self.session_id is not None:
            return None
        condition = Q(
            currency=REPORT_CURRENCY, kind=LineKind.FLAT_FEE, collaboration_id__isnull=True
        ) & ~Q(status=LineStatus.VOID)
        if self.period is not None:
            condition &= self.period.q("occurred_at")
        if self.creator_id is not None:
            condition &= Q(creator_id=self.creator_id)
        return condition


def returned_order_ids() -> tuple[QuerySet[Any], QuerySet[Any]]:
    """Ids of orders with a return on record: ``risk.OrderReturn`` rows, and imported
    ``ReturnRecord`` rows (quantity > 0, not withdrawn, not a cancellation) matched to their order
    by shop and TikTok order id.

    Both are uncorrelated subqueries, so the database computes each once (PostgreSQL hashes it,
    SQLite materialises it) instead of probing twice for every one of 100,000 orders; the
    imported side is driven by the (few) return rows, each finding its order by the unique
    (shop, order id) index.
    """
    recorded = OrderReturn.objects.values("order_id")
    imported = (
        ReturnRecord.objects.filter(quantity__gt=0)
        .exclude(return_sub_status__iexact=WITHDRAWN_RETURN)
        .exclude(return_type__iexact="Cancel")
        .annotate(
            order_pk=Subquery(
                Order.objects.filter(
                    shop_id=OuterRef("shop_id"), remote_order_id=OuterRef("remote_order_id")
                ).values("pk")[:1]
            )
        )
        # No NULL in the list: ``x IN (…, NULL)`` is NULL, not false, for the others.
        .filter(order_pk__isnull=False)
        .values("order_pk")
    )
    return recorded, imported


def returned_q(order_ref: str = "pk") -> Q:
    """True for an order that has a return on record (either source)."""
    recorded, imported = returned_order_ids()
    return Q(**{f"{order_ref}__in": recorded}) | Q(**{f"{order_ref}__in": imported})


def _is_returned(order_ref: str) -> ExpressionWrapper[Any]:
    return ExpressionWrapper(returned_q(order_ref), output_field=BooleanField())


def _money_sum(expression: Any, condition: Q | None = None) -> Coalesce:
    return Coalesce(
        Sum(expression, filter=condition, output_field=MONEY), Value(ZERO), output_field=MONEY
    )


def _count(condition: Q | None = None) -> Coalesce:
    return Coalesce(Count("id", filter=condition), Value(0))


def _int_sum(expression: Any, condition: Q | None = None) -> Coalesce:
    return Coalesce(Sum(expression, filter=condition), Value(0))


@dataclass
class _Totals:
    orders: int = 0
    returned_orders: int = 0
    units: int = 0
    live_units: int = 0
    viewers: int = 0
    sales: Decimal = ZERO
    kept_sales: Decimal = ZERO
    cost_of_goods: Decimal = ZERO
    commission: Decimal = ZERO
    invested: Decimal = ZERO

    def figures(self) -> Figures:
        return Figures(
            orders=self.orders,
            returned_orders=self.returned_orders,
            units=self.units,
            live_units=self.live_units,
            viewers=self.viewers,
            sales=self.sales,
            kept_sales=self.kept_sales,
            cost_of_goods=self.cost_of_goods,
            commission=self.commission,
            invested=self.invested,
        )


def _grouped(
    queryset: QuerySet[Any], group: str | None, aggregates: dict[str, Any]
) -> Iterable[tuple[int | None, dict[str, Any]]]:
    if group is None:
        yield None, queryset.aggregate(**aggregates)
        return
    for row in queryset.values(group).order_by().annotate(**aggregates):
        yield row[group], row


def _collect(scope: Scope, *, by_creator: bool) -> dict[int | None, _Totals]:
    """Every input of every formula for the scope: seven grouped queries in all."""
    totals: dict[int | None, _Totals] = {}

    def bucket(key: int | None) -> _Totals:
        return totals.setdefault(key, _Totals())

    orders = Order.objects.filter(scope.orders_q()).annotate(is_returned=_is_returned("pk"))
    for key, row in _grouped(
        orders,
        "creator_id" if by_creator else None,
        {
            "n_orders": _count(),
            "n_returned": _count(Q(is_returned=True)),
            "sales_sum": _money_sum("subtotal"),
            "kept_sum": _money_sum("subtotal", Q(is_returned=False)),
        },
    ):
        target = bucket(key)
        target.orders = row["n_orders"]
        target.returned_orders = row["n_returned"]
        target.sales = row["sales_sum"]
        target.kept_sales = row["kept_sum"]

    lines = OrderLine.objects.filter(scope.orders_q("order__")).annotate(
        is_returned=_is_returned("order_id")
    )
    live = Q(order__live_session__viewers__gt=0)
    if scope.period is not None:
        live &= scope.period.q("order__live_session__starts_at")
    for key, row in _grouped(
        lines,
        "order__creator_id" if by_creator else None,
        {
            "n_units": _int_sum("quantity"),
            "n_live_units": _int_sum("quantity", live),
            "cogs": _money_sum(F("quantity") * F("sku__cost"), Q(is_returned=False)),
        },
    ):
        target = bucket(key)
        target.units = row["n_units"]
        target.live_units = row["n_live_units"]
        target.cost_of_goods = row["cogs"]

    sessions = LiveSession.objects.filter(scope.sessions_q())
    for key, row in _grouped(
        sessions, "creator_id" if by_creator else None, {"n_viewers": _int_sum("viewers")}
    ):
        bucket(key).viewers = row["n_viewers"]

    commission = CommissionLine.objects.filter(scope.commission_q())
    for key, row in _grouped(
        commission, "creator_id" if by_creator else None, {"amount_sum": _money_sum("amount")}
    ):
        bucket(key).commission = row["amount_sum"]

    samples = SampleShipment.objects.filter(scope.samples_q())
    for key, row in _grouped(
        samples,
        "creator_id" if by_creator else None,
        {"cost": _money_sum(F("quantity") * F("unit_cost") + F("shipping_cost"))},
    ):
        bucket(key).invested += row["cost"]

    flat_fees_q = scope.flat_fees_q()
    if flat_fees_q is not None:
        for key, row in _grouped(
            Collaboration.objects.filter(flat_fees_q),
            "creator_id" if by_creator else None,
            {"fees": _money_sum("flat_fee")},
        ):
            bucket(key).invested += row["fees"]
    fee_lines_q = scope.fee_lines_q()
    if fee_lines_q is not None:
        for key, row in _grouped(
            CommissionLine.objects.filter(fee_lines_q),
            "creator_id" if by_creator else None,
            {"fees": _money_sum("amount")},
        ):
            bucket(key).invested += row["fees"]
    return totals


def figures_by_creator(*, period: Period) -> dict[int, Figures]:
    """Every creator with any input in the period, by creator id."""
    return {
        key: value.figures()
        for key, value in _collect(Scope(period=period), by_creator=True).items()
        if key is not None
    }


def figures_for(scope: Scope) -> Figures:
    """One creator, one session, or every creator together (the period's total)."""
    totals = _collect(scope, by_creator=False).get(None)
    return totals.figures() if totals is not None else ZERO_FIGURES


# ---------------------------------------------------------------------------------------------
# Drill-down: the rows each figure is computed from.


def inputs_orders(scope: Scope) -> QuerySet[Order]:
    """The orders counted, with what each contributes (units, cost of goods, returned)."""
    return (
        Order.objects.filter(scope.orders_q())
        .annotate(
            is_returned=_is_returned("pk"),
            units=_int_sum("lines__quantity"),
            cost_of_goods=_money_sum(F("lines__quantity") * F("lines__sku__cost")),
            lines_without_cost=Count("lines", filter=Q(lines__sku__isnull=True)),
        )
        .select_related("live_session", "creator")
        .order_by("placed_at", "pk")
    )


def inputs_sessions(scope: Scope) -> QuerySet[LiveSession]:
    return LiveSession.objects.filter(scope.sessions_q()).order_by("starts_at", "pk")


def inputs_commission(scope: Scope) -> QuerySet[CommissionLine]:
    return (
        CommissionLine.objects.filter(scope.commission_q())
        .select_related("order")
        .order_by("occurred_at", "pk")
    )


def inputs_samples(scope: Scope) -> QuerySet[SampleShipment]:
    return (
        SampleShipment.objects.filter(scope.samples_q())
        .select_related("sku")
        .order_by("shipped_at", "pk")
    )


def inputs_flat_fees(scope: Scope) -> QuerySet[Collaboration]:
    condition = scope.flat_fees_q()
    if condition is None:
        return Collaboration.objects.none()
    return Collaboration.objects.filter(condition).order_by("starts_on", "pk")


def inputs_fee_lines(scope: Scope) -> QuerySet[CommissionLine]:
    condition = scope.fee_lines_q()
    if condition is None:
        return CommissionLine.objects.none()
    return CommissionLine.objects.filter(condition).order_by("occurred_at", "pk")


def commission_split(scope: Scope) -> dict[str, Decimal]:
    """The commission figure by payer (TikTok-paid vs seller-paid)."""
    row = CommissionLine.objects.filter(scope.commission_q()).aggregate(
        platform=_money_sum("amount", Q(payer=Payer.PLATFORM)),
        seller=_money_sum("amount", Q(payer=Payer.SELLER)),
    )
    return {"platform": row["platform"], "seller": row["seller"]}


# ---------------------------------------------------------------------------------------------
# Standings, tiers, leaderboard.


def policy_in_force(*, at: datetime) -> TierPolicy | None:
    return (
        TierPolicy.objects.filter(effective_from__lte=at)
        .order_by("-effective_from", "-version")
        .first()
    )


def policies() -> QuerySet[TierPolicy]:
    return TierPolicy.objects.select_related("created_by").order_by("-version")


def standings() -> QuerySet[CreatorStanding]:
    """The leaderboard: best ROI first, creators that cannot be rated last."""
    return CreatorStanding.objects.select_related("creator", "policy").order_by(
        F("roi").desc(nulls_last=True), "-kept_sales", "creator__handle"
    )


def phase_out_list() -> QuerySet[CreatorStanding]:
    return standings().filter(phase_out=True).order_by(F("roi").asc(nulls_last=True))


def return_warnings() -> QuerySet[CreatorStanding]:
    return standings().filter(return_warning=True).order_by("-return_rate")


@dataclass(frozen=True)
class TierShare:
    tier: str
    label: str
    creators: int
    sales: Decimal
    creators_share: Decimal | None
    sales_share: Decimal | None


def tier_shares() -> list[TierShare]:
    """Creators and sales per tier, as shares of the whole (the seed: S ≈ 20 % of creators,
    60-70 % of sales)."""
    rows = {
        row["tier"]: row
        for row in CreatorStanding.objects.values("tier")
        .order_by()
        .annotate(n=Count("id"), sales=_money_sum("sales"))
    }
    total_creators = sum(row["n"] for row in rows.values())
    total_sales = sum((row["sales"] for row in rows.values()), ZERO)
    shares = []
    for tier in (Tier.S, Tier.A, Tier.B, Tier.NONE):
        row = rows.get(tier.value)
        creators: int = row["n"] if row else 0
        sales: Decimal = row["sales"] if row else ZERO
        shares.append(
            TierShare(
                tier=tier.value,
                label=str(tier.label),
                creators=creators,
                sales=sales,
                creators_share=(Decimal(creators) / total_creators) if total_creators else None,
                sales_share=(sales / total_sales) if total_sales else None,
            )
        )
    return shares


def tier_history(*, creator: Creator) -> QuerySet[TierChange]:
    return (
        TierChange.objects.filter(creator=creator).select_related("policy").order_by("-at", "-pk")
    )


def recent_tier_changes(limit: int = 20) -> QuerySet[TierChange]:
    return TierChange.objects.select_related("creator", "policy").order_by("-at", "-pk")[:limit]
