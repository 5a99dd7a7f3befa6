"""Writes on the commission ledger: accrue, earn, void, claw back, book manual amounts.

Every write is idempotent: a row's ``idempotency_key`` is derived from what caused it (the order
line and payer, the row a clawback reverses), and the database's unique constraint, not a
check-then-insert, keeps two workers from writing it twice. Status moves are conditional
``UPDATE … WHERE status = …`` statements, so a second worker's move is a no-op.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _

from aftershow.accounts.models import User
from aftershow.commissions.models import (
    CommissionLine,
    LineKind,
    LineStatus,
    Payer,
    StatementStatus,
)
from aftershow.core.money import CENT
from aftershow.core.timeutils import utcnow
from aftershow.orders.models import Order, OrderLine, PlatformStatus

# TikTok Shop US buyers may return within 30 days of delivery; a delivered order that TikTok has
# not marked COMPLETED earns its commission once that window has passed without a return.
RETURN_WINDOW = timedelta(days=30)
RATE_MIN = Decimal("0")
RATE_MAX = Decimal("100")
MANUAL_KINDS = frozenset(
    {LineKind.FLAT_FEE, LineKind.BONUS, LineKind.AGENCY_SHARE, LineKind.ADJUSTMENT}
)


class LedgerError(ValidationError):
    """A ledger write refused for bad input (rate, currency, kind); nothing was written."""


def commission_amount(*, base: Decimal, rate: Decimal) -> Decimal:
    """``base * rate / 100``, half-up to the cent (as TikTok rounds affiliate commission)."""
    return (base * rate / Decimal(100)).quantize(CENT, rounding=ROUND_HALF_UP)


def validate_rate(rate: Decimal) -> Decimal:
    if not (RATE_MIN <= rate <= RATE_MAX):
        raise LedgerError(
            _("A commission rate must be between 0 and 100 percent (got %(rate)s).")
            % {"rate": rate}
        )
    return rate


def line_base(order_line: OrderLine) -> Decimal:
    """What the buyer actually paid for the line: TikTok's ``sale_price`` is already net of
    seller and platform discounts, and commission is computed on it (reference §0 item 1)."""
    return Decimal(order_line.sale_price * order_line.quantity).quantize(CENT)


def _terms(
    order_line: OrderLine, creator_id: int, at: datetime
) -> tuple[Decimal, Decimal, int | None]:
    """(platform rate, seller rate, collaboration id) in force when the order was placed."""
    from aftershow.creators.services import commission_terms_at

    terms = commission_terms_at(
        creator_id=creator_id, sku_id=order_line.sku_id, at=at, shop_id=order_line.order.shop_id
    )
    platform_rate = order_line.commission_rate
    if platform_rate is None:
        platform_rate = terms.platform_rate if terms else Decimal("0")
    seller_rate = terms.seller_rate if terms else Decimal("0")
    return platform_rate, seller_rate, terms.collaboration_id if terms else None


def accrual_key(order_line_id: int, payer: str) -> str:
    return f"line:{order_line_id}:{payer}"


def commission_lines_accrue(*, order_lines: Iterable[OrderLine]) -> int:
    """Write the pending commission rows of attributed order lines (both payers); returns how
    many rows were new. Lines without a creator are skipped; a rate outside 0-100 % refuses the
    whole call."""
    rows: list[CommissionLine] = []
    for order_line in order_lines:
        order = order_line.order
        creator_id = order_line.creator_id or order.creator_id
        if creator_id is None:
            continue
        platform_rate, seller_rate, collaboration_id = _terms(
            order_line, creator_id, order.placed_at
        )
        base = line_base(order_line)
        for payer, rate in ((Payer.PLATFORM, platform_rate), (Payer.SELLER, seller_rate)):
            validate_rate(rate)
            if rate == 0:
                continue
            rows.append(
                CommissionLine(
                    order=order,
                    order_line=order_line,
                    creator_id=creator_id,
                    live_session_id=order_line.live_session_id or order.live_session_id,
                    payer=payer,
                    kind=LineKind.COMMISSION,
                    rate=rate,
                    base=base,
                    amount=commission_amount(base=base, rate=rate),
                    currency=order_line.currency,
                    occurred_at=order.placed_at,
                    collaboration_id=collaboration_id,
                    idempotency_key=accrual_key(order_line.pk, payer),
                )
            )
    if not rows:
        return 0
    keys = [row.idempotency_key for row in rows]
    before = CommissionLine.objects.filter(idempotency_key__in=keys).count()
    CommissionLine.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    return CommissionLine.objects.filter(idempotency_key__in=keys).count() - before


def unaccrued_order_lines() -> Iterable[OrderLine]:
    """Attributed order lines that have no commission row yet (either payer)."""
    has_rows = CommissionLine.objects.filter(order_line=OuterRef("pk"))
    return (
        OrderLine.objects.filter(Q(creator__isnull=False) | Q(order__creator__isnull=False))
        .exclude(order__platform_status=PlatformStatus.UNPAID)
        .filter(~Exists(has_rows))
        .select_related("order")
        .order_by("pk")
    )


@dataclass(frozen=True)
class SettleResult:
    earned: int
    voided: int
    clawbacks: int


def sku_refunded(sku_path: str) -> Exists:
    """Whether TikTok's returns export shows the SKU at ``sku_path`` (a lookup from a row with
    an ``order``) refunded on that order: the file-mode sign that a line was returned."""
    from aftershow.imports.models import ReturnRecord

    return Exists(
        ReturnRecord.objects.filter(
            shop_id=OuterRef("order__shop_id"),
            remote_order_id=OuterRef("order__remote_order_id"),
            remote_sku_id=OuterRef(sku_path),
            refunded_at__isnull=False,
        )
    )


def commission_lines_settle(*, now: datetime | None = None) -> SettleResult:
    """Move order-driven rows on: pending → earned when the order is delivered and confirmed
    (COMPLETED, or DELIVERED and the return window is over); pending/earned → void when the
    order is cancelled or returned; an earned seller row already on an approved or paid
    statement gets a clawback instead (it was, or will be, paid)."""
    now = now or utcnow()
    live = CommissionLine.objects.filter(
        kind=LineKind.COMMISSION, status__in=[LineStatus.PENDING, LineStatus.EARNED]
    )
    from aftershow.risk.models import OrderReturn

    order_returned = Exists(OrderReturn.objects.filter(order_id=OuterRef("order_id")))
    reversed_filter = (
        Q(order__platform_status=PlatformStatus.CANCELLED)
        | Q(order_returned)
        | (Q(sku_refunded("order_line__remote_sku_id")) & ~Q(order_line__remote_sku_id=""))
    )
    earned = voided = clawbacks = 0
    # Rows to take back: not yet paid → void; on a locked statement → clawback.
    not_reversed = ~Exists(CommissionLine.objects.filter(reverses=OuterRef("pk")))
    taken_back = live.filter(reversed_filter).filter(not_reversed)
    for row in taken_back.select_related("statement").order_by("pk"):
        locked = row.statement is not None and row.statement.status != StatementStatus.DRAFT
        if row.payer == Payer.SELLER and row.status == LineStatus.EARNED and locked:
            clawbacks += int(commission_line_claw_back(line=row, at=now))
            continue
        voided += CommissionLine.objects.filter(
            pk=row.pk, status=row.status, statement=row.statement
        ).update(status=LineStatus.VOID, statement=None, updated_at=now)
    confirmed = Q(order__platform_status=PlatformStatus.COMPLETED) | Q(
        order__platform_status=PlatformStatus.DELIVERED,
        order__delivered_at__lte=now - RETURN_WINDOW,
    )
    due = (
        live.filter(status=LineStatus.PENDING)
        .filter(confirmed)
        .exclude(reversed_filter)
        .values_list("order_id", "order__platform_status", "order__remote_updated_at",
                     "order__delivered_at")
        .distinct()
    )  # fmt: skip
    for order_id, status, updated_at, delivered_at in due:
        # Earned when the order was confirmed, not when this job noticed: a month's statement
        # made on the 1st then holds what was confirmed in that month.
        confirmed_at: datetime = updated_at
        if status != PlatformStatus.COMPLETED and delivered_at is not None:
            confirmed_at = delivered_at + RETURN_WINDOW
        earned += CommissionLine.objects.filter(
            order_id=order_id, kind=LineKind.COMMISSION, status=LineStatus.PENDING
        ).update(status=LineStatus.EARNED, earned_at=min(confirmed_at, now), updated_at=now)
    return SettleResult(earned=earned, voided=voided, clawbacks=clawbacks)


def commission_line_claw_back(*, line: CommissionLine, at: datetime) -> bool:
    """Book the reversal of a paid (or approved) row for the next statement; True if new."""
    try:
        with transaction.atomic():
            CommissionLine.objects.create(
                order_id=line.order_id,
                order_line_id=line.order_line_id,
                creator_id=line.creator_id,
                live_session_id=line.live_session_id,
                payer=line.payer,
                kind=LineKind.CLAWBACK,
                rate=line.rate,
                base=line.base,
                amount=-line.amount,
                currency=line.currency,
                status=LineStatus.EARNED,
                earned_at=at,
                occurred_at=at,
                reverses=line,
                note=_("Order returned or cancelled after statement %(period)s")
                % {"period": line.statement.period.strftime("%Y-%m") if line.statement else "-"},
                idempotency_key=f"clawback:{line.pk}",
            )
    except IntegrityError:
        return False
    return True


def commission_line_book(
    *,
    creator_id: int,
    kind: str,
    amount: Decimal,
    currency: str,
    occurred_at: datetime,
    idempotency_key: str,
    note: str = "",
    by: User | None = None,
    order: Order | None = None,
) -> tuple[CommissionLine, bool]:
    """Book a seller-paid flat fee, bonus, agency share or adjustment, earned at once.

    Returns the row and whether it is new (the same key twice books once).
    """
    if kind not in MANUAL_KINDS:
        raise LedgerError(
            _("Only flat fees, bonuses, agency shares and adjustments can be booked.")
        )
    if kind != LineKind.ADJUSTMENT and amount <= 0:
        raise LedgerError(_("Only an adjustment may be zero or negative."))
    if len(currency) != 3 or not currency.isalpha():
        raise LedgerError(_("Not a currency code: %(code)s") % {"code": currency})
    defaults = {
        "creator_id": creator_id,
        "payer": Payer.SELLER,
        "kind": kind,
        "amount": amount.quantize(CENT, rounding=ROUND_HALF_UP),
        "base": Decimal("0.00"),
        "currency": currency.upper(),
        "status": LineStatus.EARNED,
        "earned_at": occurred_at,
        "occurred_at": occurred_at,
        "note": note[:255],
        "order": order,
        "created_by": by,
    }
    try:
        with transaction.atomic():
            return CommissionLine.objects.get_or_create(
                idempotency_key=idempotency_key, defaults=defaults
            )
    except IntegrityError:
        return CommissionLine.objects.get(idempotency_key=idempotency_key), False
