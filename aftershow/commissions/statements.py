"""Monthly creator statements: generate (and regenerate drafts), hold, approve.

A statement for month M sweeps the creator's seller-paid rows that occurred before M ends (an
order-driven row occurs when its order is placed), are earned by the time the statement is made,
and sit on no statement yet: M's confirmed commission, rows of earlier months confirmed since
(an approved statement is locked, so late rows land in the next one), clawbacks, fees and
adjustments. A row of M still inside its return window waits for a later statement. Each row is
attached with ``UPDATE … WHERE statement IS NULL``, so no row is ever on two statements.

The order figures (orders, sales, valid orders) describe the creator's attributed orders placed
in M; valid orders exclude cancelled and returned ones.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from aftershow.accounts.models import User
from aftershow.commissions.ledger import sku_refunded
from aftershow.commissions.models import (
    ZERO,
    CommissionLine,
    LineStatus,
    Payer,
    Statement,
    StatementStatus,
)
from aftershow.core.fields import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
from aftershow.core.money import CENT
from aftershow.core.timeutils import utcnow
from aftershow.creators.models import Creator
from aftershow.orders.models import OrderLine, PlatformStatus

# Small balances are carried to the next month instead of being paid (a payout costs a fee).
DEFAULT_MINIMUM_PAYOUT = Decimal(os.environ.get("AFTERSHOW_COMMISSION_MINIMUM_PAYOUT", "25.00"))
DEFAULT_CURRENCY = os.environ.get("AFTERSHOW_COMMISSION_CURRENCY", "USD")

_MONEY = DecimalField(max_digits=MONEY_MAX_DIGITS + 6, decimal_places=MONEY_DECIMAL_PLACES)


class StatementError(ValidationError):
    """A statement request refused (future month, currency mismatch, locked); nothing written."""


def month_start(value: date) -> date:
    return value.replace(day=1)


def next_month(period: date) -> date:
    return date(period.year + (period.month == 12), period.month % 12 + 1, 1)


def period_bounds(period: date) -> tuple[datetime, datetime]:
    start = datetime(period.year, period.month, 1, tzinfo=UTC)
    end_day = next_month(period)
    return start, datetime(end_day.year, end_day.month, 1, tzinfo=UTC)


def previous_month(now: datetime) -> date:
    first = now.astimezone(UTC).date().replace(day=1)
    return date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)


def parse_period(text: str) -> date:
    try:
        year, month = (int(part) for part in text.split("-"))
        return date(year, month, 1)
    except ValueError as error:
        raise StatementError(_("A month is written YYYY-MM, e.g. 2026-10.")) from error


@dataclass(frozen=True)
class _OrderFigures:
    orders: int = 0
    valid_orders: int = 0
    sales: Decimal = ZERO
    valid_sales: Decimal = ZERO


def _order_figures(
    start: datetime, end: datetime, creator_ids: list[int] | None
) -> dict[int, _OrderFigures]:
    """Per creator: attributed orders placed in the month, one grouped query.

    An order is invalid (not counted as valid) when it is cancelled or any of its lines was
    returned; valid sales add up the lines that are neither."""
    from aftershow.risk.models import OrderReturn

    in_month = OrderLine.objects.filter(
        order__placed_at__gte=start, order__placed_at__lt=end
    ).filter(Q(creator__isnull=False) | Q(order__creator__isnull=False))
    invalid = (
        Q(order__platform_status=PlatformStatus.CANCELLED)
        | Q(order_id__in=OrderReturn.objects.values("order_id"))
        | (~Q(remote_sku_id="") & Q(sku_refunded("remote_sku_id")))
    )
    grouped = (
        in_month.annotate(
            attributed_to=Coalesce("creator_id", "order__creator_id"),
            is_invalid=ExpressionWrapper(invalid, output_field=BooleanField()),
            line_sales=ExpressionWrapper(F("sale_price") * F("quantity"), output_field=_MONEY),
        )
        .values("attributed_to")
        .order_by()
        .annotate(
            orders=Count("order_id", distinct=True),
            invalid_orders=Count(Case(When(is_invalid=True, then=F("order_id"))), distinct=True),
            sales=Sum("line_sales"),
            valid_sales=Sum("line_sales", filter=Q(is_invalid=False)),
        )
    )
    if creator_ids is not None:
        grouped = grouped.filter(attributed_to__in=creator_ids)
    return {
        row["attributed_to"]: _OrderFigures(
            orders=row["orders"],
            valid_orders=row["orders"] - row["invalid_orders"],
            # SQLite sums decimals as floats: back to cents.
            sales=(row["sales"] or ZERO).quantize(CENT),
            valid_sales=(row["valid_sales"] or ZERO).quantize(CENT),
        )
        for row in grouped
    }


@dataclass(frozen=True)
class GenerateResult:
    statements: list[Statement]
    locked: list[Statement]


def statements_generate(
    *,
    period: date,
    now: datetime | None = None,
    currency: str = DEFAULT_CURRENCY,
    minimum_payout: Decimal = DEFAULT_MINIMUM_PAYOUT,
    creator_ids: list[int] | None = None,
) -> GenerateResult:
    """Make (or remake, while draft) one statement per creator for ``period``'s month."""
    now = now or utcnow()
    period = month_start(period)
    start, end = period_bounds(period)
    if end > now:
        raise StatementError(
            _("%(month)s is not over yet: statements are made for past months only.")
            % {"month": period.strftime("%Y-%m")}
        )
    # One transaction for the month: a failure leaves no statement half made.
    with transaction.atomic():
        return _statements_make(
            period=period,
            start=start,
            end=end,
            now=now,
            currency=currency,
            minimum_payout=minimum_payout,
            creator_ids=creator_ids,
        )


# Fields a remake writes (never status, approval or payment: those belong to other steps).
_FIGURE_FIELDS = [
    "currency", "generated_at", "minimum_payout", "orders_count", "valid_orders_count", "sales",
    "valid_sales", "commission_payable", "platform_commission", "deductions_carried_in",
    "minimum_carried_in", "balance", "payable", "carried_forward",
]  # fmt: skip


def _statements_make(
    *,
    period: date,
    start: datetime,
    end: datetime,
    now: datetime,
    currency: str,
    minimum_payout: Decimal,
    creator_ids: list[int] | None,
) -> GenerateResult:
    """Set-based: a handful of grouped queries and UPDATEs for the whole month, whatever the
    number of creators and rows (the statement count does not grow with either)."""
    month = Statement.objects.filter(period=period)
    if creator_ids is not None:
        month = month.filter(creator_id__in=creator_ids)
    # Remakes of the same month take turns: lock its statements (PostgreSQL; SQLite's
    # IMMEDIATE transaction already serialises writers), in primary-key order.
    list(month.select_for_update().order_by("pk").values_list("pk", flat=True))
    drafts = month.filter(status=StatementStatus.DRAFT)
    due_now = Q(
        payer=Payer.SELLER,
        status=LineStatus.EARNED,
        occurred_at__lt=end,
        earned_at__lte=now,
        currency=currency,
    )
    # A draft is remade: rows that are no longer due (voided, confirmed after ``now``, in
    # another currency) leave it; the others stay where a fresh sweep would put them again,
    # which spares rewriting every row of the month on each remake.
    CommissionLine.objects.filter(statement__in=drafts.values("pk")).exclude(due_now).update(
        statement=None
    )
    due = CommissionLine.objects.filter(
        payer=Payer.SELLER,
        status=LineStatus.EARNED,
        statement__isnull=True,
        occurred_at__lt=end,
        earned_at__lte=now,
    )
    if creator_ids is not None:
        due = due.filter(creator_id__in=creator_ids)
    # Who has due rows, and in which currencies: one grouped read.
    due_currencies = set(due.order_by().values_list("creator_id", "currency").distinct())
    mismatched = {(cid, code) for cid, code in due_currencies if code != currency}
    if mismatched:
        handles = dict(
            Creator.objects.filter(pk__in={cid for cid, _code in mismatched}).values_list(
                "pk", "handle"
            )
        )
        listed = ", ".join(sorted(f"@{handles[cid]} ({code})" for cid, code in mismatched))
        raise StatementError(
            _("Currency mismatch: statements are in %(currency)s but these rows are not: %(rows)s")
            % {"currency": currency, "rows": listed}
        )
    swept = {cid for cid, _code in due_currencies}
    figures = _order_figures(start, end, creator_ids)
    platform = dict(
        CommissionLine.objects.filter(
            payer=Payer.PLATFORM, occurred_at__gte=start, occurred_at__lt=end
        )
        .exclude(status=LineStatus.VOID)
        .values("creator_id")
        .order_by()
        .annotate(total=Sum("amount"))
        .values_list("creator_id", "total")
    )
    # Each creator's latest earlier statement (the last one per creator in this order).
    carried = dict(
        Statement.objects.filter(period__lt=period)
        .order_by("creator_id", "period")
        .values_list("creator_id", "carried_forward")
    )
    creators = set(figures) | swept | set(drafts.values_list("creator_id", flat=True))
    creators |= {cid for cid, carry in carried.items() if carry != 0}
    if creator_ids is not None:
        creators &= set(creator_ids)
    existing = set(month.values_list("creator_id", flat=True))
    Statement.objects.bulk_create(
        [
            Statement(
                creator_id=creator_id,
                period=period,
                currency=currency,
                generated_at=now,
                minimum_payout=minimum_payout,
            )
            for creator_id in sorted(creators - existing)
        ],
        ignore_conflicts=True,
        batch_size=500,
    )
    statements = [
        statement
        for statement in month.select_for_update(of=("self",))
        .select_related("creator")
        .order_by("pk")
        if statement.creator_id in creators
    ]
    # Every due row onto its creator's draft, in one UPDATE; still only where no statement
    # holds the row yet (a row is never on two).
    due.filter(creator_id__in=drafts.values("creator_id")).update(
        statement=Subquery(drafts.filter(creator_id=OuterRef("creator_id")).values("pk")[:1])
    )
    payable = dict(
        CommissionLine.objects.filter(statement__in=drafts.values("pk"))
        .values("statement_id")
        .order_by()
        .annotate(total=Sum("amount"))
        .values_list("statement_id", "total")
    )
    made: list[Statement] = []
    locked: list[Statement] = []
    for statement in sorted(statements, key=lambda item: item.creator_id):
        if statement.is_locked:
            locked.append(statement)
            continue
        entry = figures.get(statement.creator_id, _OrderFigures())
        statement.currency = currency
        statement.generated_at = now
        statement.minimum_payout = minimum_payout
        statement.orders_count = entry.orders
        statement.valid_orders_count = entry.valid_orders
        statement.sales = entry.sales
        statement.valid_sales = entry.valid_sales
        # SQLite sums decimals as floats: back to cents.
        statement.commission_payable = (payable.get(statement.pk) or ZERO).quantize(CENT)
        statement.platform_commission = (platform.get(statement.creator_id) or ZERO).quantize(CENT)
        carry = carried.get(statement.creator_id, ZERO)
        statement.deductions_carried_in = min(carry, ZERO)
        statement.minimum_carried_in = max(carry, ZERO)
        _settle_amounts(statement)
        made.append(statement)
    for statement in made:
        # One small UPDATE each: bulk_update's CASE per field and row costs more to compile.
        Statement.objects.filter(pk=statement.pk).update(
            **{name: getattr(statement, name) for name in _FIGURE_FIELDS}
        )
    return GenerateResult(statements=made, locked=locked)


def _settle_amounts(statement: Statement) -> None:
    statement.balance = (
        statement.commission_payable
        + statement.deductions_carried_in
        + statement.minimum_carried_in
    )
    pays = (
        not statement.is_held
        and statement.balance > 0
        and statement.balance >= statement.minimum_payout
    )
    statement.payable = statement.balance if pays else ZERO
    statement.carried_forward = statement.balance - statement.payable


def statement_hold(*, statement: Statement, reason: str) -> Statement:
    """Hold (reason given) or release (empty reason) a draft; a held balance carries forward."""
    with transaction.atomic():
        statement = Statement.objects.select_for_update().get(pk=statement.pk)
        if statement.is_locked:
            raise StatementError(_("An approved statement is locked; hold its payout instead."))
        statement.is_held = bool(reason.strip())
        statement.hold_reason = reason.strip()[:255]
        _settle_amounts(statement)
        statement.save()
    return statement


def statement_approve(*, statement: Statement, by: User | None = None) -> Statement:
    """draft → approved; from then on the statement and its rows are locked."""
    updated = Statement.objects.filter(pk=statement.pk, status=StatementStatus.DRAFT).update(
        status=StatementStatus.APPROVED, approved_at=utcnow(), approved_by=by
    )
    if not updated:
        raise StatementError(_("Only a draft statement can be approved."))
    statement.refresh_from_db()
    return statement


def statements_generate_previous_month(*, now: datetime | None = None) -> GenerateResult:
    """The job the scheduler runs on the 1st: last month's statements."""
    now = now or utcnow()
    return statements_generate(period=previous_month(now), now=now)
