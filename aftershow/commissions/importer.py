"""Import seller-paid amounts (flat fees, bonuses, agency shares, adjustments) from a CSV file.

Columns (header row required, any order): ``creator`` (the @handle), ``kind``, ``amount``,
``currency``, ``date`` (YYYY-MM-DD, UTC), ``reference`` (your id for the row: importing the
same reference again books nothing new), ``note`` (optional).

All or nothing: every row is checked first; one bad row refuses the file with an error per row,
and nothing is booked.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from aftershow.accounts.models import User
from aftershow.commissions.ledger import MANUAL_KINDS, commission_line_book
from aftershow.commissions.statements import DEFAULT_CURRENCY
from aftershow.creators.models import Creator

REQUIRED = ("creator", "kind", "amount", "currency", "date", "reference")
MAX_ROWS = 10_000


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str


@dataclass
class ImportReport:
    created: int = 0
    already_booked: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        return bool(self.errors)


@dataclass(frozen=True)
class _Row:
    creator_id: int
    kind: str
    amount: Decimal
    currency: str
    occurred_at: datetime
    reference: str
    note: str


def _check(number: int, raw: dict[str, str], handles: dict[str, int], currency: str,
           report: ImportReport) -> _Row | None:  # fmt: skip
    def fail(column: str, message: str) -> None:
        report.errors.append(RowError(number, column, message))

    before = len(report.errors)
    handle = (raw.get("creator") or "").strip().lstrip("@").lower()
    creator_id = handles.get(handle)
    if creator_id is None:
        fail("creator", _("No creator with the handle @%(handle)s") % {"handle": handle})
    kind = (raw.get("kind") or "").strip().lower()
    if kind not in MANUAL_KINDS:
        fail(
            "kind", _("Kind must be one of: %(kinds)s") % {"kinds": ", ".join(sorted(MANUAL_KINDS))}
        )
    amount = Decimal(0)
    try:
        amount = Decimal((raw.get("amount") or "").strip())
        if amount != amount.quantize(Decimal("0.01")):
            fail("amount", _("At most two decimals"))
        elif kind != "adjustment" and amount <= 0:
            fail("amount", _("Must be above zero (only an adjustment may be negative)"))
    except InvalidOperation:
        fail("amount", _("Not an amount: %(value)s") % {"value": raw.get("amount")})
    code = (raw.get("currency") or "").strip().upper()
    if code != currency:
        fail("currency", _("Currency mismatch: %(code)s, statements are in %(currency)s")
             % {"code": code or "-", "currency": currency})  # fmt: skip
    occurred = None
    try:
        occurred = date.fromisoformat((raw.get("date") or "").strip())
    except ValueError:
        fail("date", _("A date is written YYYY-MM-DD"))
    reference = (raw.get("reference") or "").strip()
    if not reference or len(reference) > 80:
        fail("reference", _("A reference of 1 to 80 characters is required"))
    if len(report.errors) > before or creator_id is None or occurred is None:
        return None
    return _Row(
        creator_id=creator_id,
        kind=kind,
        amount=amount,
        currency=code,
        occurred_at=datetime(occurred.year, occurred.month, occurred.day, tzinfo=UTC),
        reference=reference,
        note=(raw.get("note") or "").strip(),
    )


def commission_lines_import(
    *, text: str, by: User | None = None, currency: str = DEFAULT_CURRENCY
) -> ImportReport:
    report = ImportReport()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        report.errors.append(
            RowError(1, ", ".join(missing), _("Missing columns; the header row must name them"))
        )
        return report
    reader.fieldnames = header
    raw_rows = list(reader)
    if len(raw_rows) > MAX_ROWS:
        report.errors.append(RowError(1, "", _("At most 10,000 rows per file")))
        return report
    handles = {
        handle.lower(): pk for handle, pk in Creator.objects.values_list("handle", "pk").iterator()
    }
    checked: list[_Row] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(raw_rows, start=2):
        row = _check(number, raw, handles, currency, report)
        if row is None:
            continue
        if row.reference in seen:
            report.errors.append(
                RowError(number, "reference",
                         _("Same reference as row %(row)s") % {"row": seen[row.reference]})
            )  # fmt: skip
            continue
        seen[row.reference] = number
        checked.append(row)
    if report.errors:
        return report
    with transaction.atomic():
        for row in checked:
            _line, created = commission_line_book(
                creator_id=row.creator_id,
                kind=row.kind,
                amount=row.amount,
                currency=row.currency,
                occurred_at=row.occurred_at,
                idempotency_key=f"import:{row.reference}",
                note=row.note,
                by=by,
            )
            if created:
                report.created += 1
            else:
                report.already_booked += 1
    return report
