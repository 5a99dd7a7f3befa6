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
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from aftershow.accounts.models import User
from aftershow.commissions.ledger import returned_line_ids
from aftershow.commissions.models import (
    ZERO,
    CommissionLine,
    LineStatus,
    Payer,
    Statement,
    StatementStatus,
)
from aftershow.core.money import CENT
from aftershow.core.timeutils import utcnow
from aftershow.creators.models import Creator
from aftershow.orders.models import OrderLine, PlatformStatus

# Small balances are carried to the next month instead of being paid (a payout costs a fee).
DEFAULT_MINIMUM_PAYOUT = Decimal(os.environ.get("AFTERSHOW_COMMISSION_MINIMUM_PAYOUT", "25.00"))
DEFAULT_CURRENCY = os.environ.get("AFTERSHOW_COMMISSION_CURRENCY", "USD")


# Row ids per UPDATE: well under SQLite's bound-parameter limit.
SWEEP_CHUNK = 900


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


@dataclass
class _OrderFigures:
    orders: set[int] = field(default_factory=set)
    valid_orders: set[int] = field(default_factory=set)
    sales: Decimal = ZERO
    valid_sales: Decimal = ZERO


def _order_figures(start: datetime, end: datetime) -> dict[int, _OrderFigures]:
    """Per creator: attributed orders placed in the month, in one pass over the lines."""
    in_month = OrderLine.objects.filter(
        order__placed_at__gte=start, order__placed_at__lt=end
    ).filter(Q(creator__isnull=False) | Q(order__creator__isnull=False))
    rows = list(
        in_month.values_list(
            "pk", "creator_id", "order__creator_id", "order_id", "sale_price", "quantity",
            "order__platform_status",
        )
    )  # fmt: skip
    returned = returned_line_ids(in_month) if rows else set()
    figures: dict[int, _OrderFigures] = defaultdict(_OrderFigures)
    invalid_orders: dict[int, set[int]] = defaultdict(set)
    for line_id, creator_id, order_creator_id, order_id, price, quantity, status in rows:
        creator = creator_id or order_creator_id
        entry = figures[creator]
        amount = price * quantity
        entry.orders.add(order_id)
        entry.sales += amount
        if status == PlatformStatus.CANCELLED or line_id in returned:
            invalid_orders[creator].add(order_id)
        else:
            entry.valid_sales += amount
            entry.valid_orders.add(order_id)
    for creator, orders in invalid_orders.items():
        figures[creator].valid_orders -= orders
    return figures


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
    # Drafts are remade from scratch: release their rows first, then sweep again.
    drafts = CommissionLine.objects.filter(
        statement__period=period, statement__status=StatementStatus.DRAFT
    )
    if creator_ids is not None:
        drafts = drafts.filter(creator_id__in=creator_ids)
    drafts.update(statement=None)
    due = CommissionLine.objects.filter(
        payer=Payer.SELLER,
        status=LineStatus.EARNED,
        statement__isnull=True,
        occurred_at__lt=end,
        earned_at__lte=now,
    )
    if creator_ids is not None:
        due = due.filter(creator_id__in=creator_ids)
    sweep: dict[int, list[int]] = defaultdict(list)
    mismatched: set[tuple[int, str]] = set()
    for pk, creator_id, code in due.values_list("pk", "creator_id", "currency").iterator(
        chunk_size=5000
    ):
        sweep[creator_id].append(pk)
        if code != currency:
            mismatched.add((creator_id, code))
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
    figures = _order_figures(start, end)
    platform = dict(
        CommissionLine.objects.filter(
            payer=Payer.PLATFORM, occurred_at__gte=start, occurred_at__lt=end
        )
        .exclude(status=LineStatus.VOID)
        .values("creator_id")
        .annotate(total=Sum("amount"))
        .values_list("creator_id", "total")
    )
    carried = {
        statement.creator_id: statement
        for statement in Statement.objects.filter(period__lt=period).order_by(
            "creator_id", "period"
        )
    }
    creators = set(figures) | set(sweep)
    creators |= {cid for cid, previous in carried.items() if previous.carried_forward != 0}
    if creator_ids is not None:
        creators &= set(creator_ids)
    made: list[Statement] = []
    locked: list[Statement] = []
    for creator_id in sorted(creators):
        statement = _statement_build(
            creator_id=creator_id,
            period=period,
            row_ids=sweep.get(creator_id, []),
            now=now,
            currency=currency,
            minimum_payout=minimum_payout,
            figures=figures.get(creator_id, _OrderFigures()),
            platform_commission=platform.get(creator_id) or ZERO,
            previous=carried.get(creator_id),
        )
        (locked if statement.is_locked else made).append(statement)
    return GenerateResult(statements=made, locked=locked)


def _statement_build(
    *,
    creator_id: int,
    period: date,
    row_ids: list[int],
    now: datetime,
    currency: str,
    minimum_payout: Decimal,
    figures: _OrderFigures,
    platform_commission: Decimal,
    previous: Statement | None,
) -> Statement:
    statement, _created = Statement.objects.select_for_update().get_or_create(
        creator_id=creator_id,
        period=period,
        defaults={"currency": currency, "generated_at": now, "minimum_payout": minimum_payout},
    )
    if statement.is_locked:
        return statement
    # By primary key, still only where no statement holds the row yet (a row is never on two).
    for first in range(0, len(row_ids), SWEEP_CHUNK):
        CommissionLine.objects.filter(
            pk__in=row_ids[first : first + SWEEP_CHUNK], statement__isnull=True
        ).update(statement=statement)
    payable = CommissionLine.objects.filter(statement=statement).aggregate(total=Sum("amount"))
    statement.currency = currency
    statement.generated_at = now
    statement.minimum_payout = minimum_payout
    statement.orders_count = len(figures.orders)
    statement.valid_orders_count = len(figures.valid_orders)
    statement.sales = figures.sales.quantize(CENT)
    statement.valid_sales = figures.valid_sales.quantize(CENT)
    # SQLite sums decimals as floats: back to cents.
    statement.commission_payable = (payable["total"] or ZERO).quantize(CENT)
    statement.platform_commission = platform_commission.quantize(CENT)
    carry = previous.carried_forward if previous is not None else ZERO
    statement.deductions_carried_in = min(carry, ZERO)
    statement.minimum_carried_in = max(carry, ZERO)
    _settle_amounts(statement)
    statement.save()
    return statement


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
