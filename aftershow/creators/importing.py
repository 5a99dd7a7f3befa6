"""Creators and collaborations from a CSV or XLSX file: all rows or none.

Creators (one row per creator, matched by handle): ``handle`` is required; ``display_name``,
``followers``, ``niche``, ``country``, ``email``, ``phone``, ``whatsapp``, ``wechat``, ``notes``
and ``is_active`` are optional. Importing a row for a known handle updates the columns given.

Collaborations (one row per rate): ``handle``, ``kind`` (open, targeted, off_platform) and
``starts_on`` are required; ``name``, ``ends_on``, ``flat_fee``, ``currency``, ``note``,
``sku`` (blank: every SKU), ``platform_rate``, ``seller_rate`` (percent, 0-100),
``valid_from`` (default: ``starts_on``) and ``valid_to`` are optional. Rows with the same
handle, kind, start and name make one collaboration; a rate is matched by its SKU and start,
so importing the same file again changes nothing.

Every row is checked before anything is written; every problem is reported with its row number
(the header is row 1) and column, and then nothing is imported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from aftershow.catalog.models import Sku
from aftershow.core.money import parse_amount
from aftershow.core.tables import ImportRejected as ImportRejected
from aftershow.core.tables import RowError as RowError
from aftershow.core.tables import read_table
from aftershow.creators.models import (
    RATE_MAX,
    RATE_MIN,
    Collaboration,
    CollaborationKind,
    CollaborationRate,
    Creator,
)

HANDLE_PATTERN = re.compile(r"^[A-Za-z0-9._]{2,80}$")
CREATOR_COLUMNS = (
    "handle",
    "display_name",
    "followers",
    "niche",
    "country",
    "email",
    "phone",
    "whatsapp",
    "wechat",
    "notes",
    "is_active",
)
COLLABORATION_COLUMNS = (
    "handle",
    "kind",
    "name",
    "starts_on",
    "ends_on",
    "flat_fee",
    "currency",
    "note",
    "sku",
    "platform_rate",
    "seller_rate",
    "valid_from",
    "valid_to",
)
TRUE_WORDS = frozenset({"1", "true", "yes", "y"})
FALSE_WORDS = frozenset({"0", "false", "no", "n"})


@dataclass(frozen=True)
class CreatorImportResult:
    created: int
    updated: int
    unchanged: int


@dataclass(frozen=True)
class CollaborationImportResult:
    collaborations_created: int
    rates_created: int
    rates_updated: int
    unchanged: int


def _handle(text: str) -> str:
    return text.strip().lstrip("@")


def _percent(text: str) -> Decimal | None:
    """A percent, "15", "15.5" or "15%"; None when not a number."""
    try:
        value = Decimal(text.strip().rstrip("%").strip() or "0")
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        return None


# -- creators ------------------------------------------------------------------------------


def creators_import(*, filename: str, content: bytes) -> CreatorImportResult:
    """Check every row, then create or update the creators in one transaction."""
    rows = read_table(filename, content, required=("handle",), known=CREATOR_COLUMNS)
    errors: list[RowError] = []
    parsed: list[tuple[int, str, dict[str, object]]] = []
    seen: dict[str, int] = {}
    for number, values in rows:
        row_errors: list[RowError] = []
        handle = _handle(values.get("handle", ""))
        if not handle:
            row_errors.append(RowError(number, "handle", _("The handle is missing.")))
        elif not HANDLE_PATTERN.match(handle):
            row_errors.append(
                RowError(number, "handle", _("A TikTok handle has only letters, digits, . and _."))
            )
        elif handle.lower() in seen:
            row_errors.append(
                RowError(
                    number,
                    "handle",
                    _("@%(handle)s is already on row %(row)s.")
                    % {"handle": handle, "row": seen[handle.lower()]},
                )
            )
        else:
            seen[handle.lower()] = number
        fields: dict[str, object] = {}
        for column in ("display_name", "niche", "phone", "whatsapp", "wechat", "notes"):
            if values.get(column):
                fields[column] = values[column]
        if values.get("followers"):
            text = values["followers"].replace(",", "")
            if not text.isdigit():
                row_errors.append(
                    RowError(number, "followers", _("Must be a whole number, 0 or more."))
                )
            else:
                fields["followers"] = int(text)
        if values.get("country"):
            country = values["country"].upper()
            if not re.fullmatch(r"[A-Z]{2}", country):
                row_errors.append(
                    RowError(number, "country", _("Use a two-letter country code, e.g. US."))
                )
            fields["country"] = country
        if values.get("email"):
            try:
                validate_email(values["email"])
            except ValidationError:
                row_errors.append(RowError(number, "email", _("Not a valid e-mail address.")))
            fields["email"] = values["email"]
        if values.get("is_active"):
            word = values["is_active"].lower()
            if word not in TRUE_WORDS | FALSE_WORDS:
                row_errors.append(RowError(number, "is_active", _("Use yes or no.")))
            fields["is_active"] = word in TRUE_WORDS
        errors.extend(row_errors)
        if not row_errors:
            parsed.append((number, handle, fields))
    if errors:
        raise ImportRejected(errors)
    created = updated = unchanged = 0
    with transaction.atomic():
        existing = {
            creator.handle.lower(): creator
            for creator in Creator.objects.select_for_update().filter(
                handle__in=[handle for _n, handle, _f in parsed]
            )
        }
        for _number, handle, fields in parsed:
            creator = existing.get(handle.lower())
            if creator is None:
                Creator.objects.create(handle=handle, **fields)  # type: ignore[arg-type]
                created += 1
            elif any(getattr(creator, name) != value for name, value in fields.items()):
                for name, value in fields.items():
                    setattr(creator, name, value)
                creator.save()
                updated += 1
            else:
                unchanged += 1
    return CreatorImportResult(created=created, updated=updated, unchanged=unchanged)


# -- collaborations ------------------------------------------------------------------------


@dataclass(frozen=True)
class _RateRow:
    number: int
    creator: Creator
    kind: CollaborationKind
    name: str
    starts_on: date
    ends_on: date | None
    flat_fee: Decimal
    currency: str
    note: str
    sku: Sku | None
    platform_rate: Decimal
    seller_rate: Decimal
    valid_from: datetime
    valid_to: datetime | None


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def collaborations_import(*, filename: str, content: bytes) -> CollaborationImportResult:
    """Check every row, then create collaborations and rates in one transaction."""
    rows = read_table(
        filename,
        content,
        required=("handle", "kind", "starts_on"),
        known=COLLABORATION_COLUMNS,
    )
    creators = {
        c.handle.lower(): c
        for c in Creator.objects.filter(
            handle__in=[_handle(values.get("handle", "")) for _n, values in rows]
        )
    }
    skus = {
        sku.code: sku
        for sku in Sku.objects.filter(code__in=[values.get("sku", "") for _n, values in rows])
    }
    errors: list[RowError] = []
    parsed: list[_RateRow] = []
    seen_rates: dict[tuple[object, ...], int] = {}
    for number, values in rows:
        row_errors: list[RowError] = []

        def error(
            column: str, message: str, *, row: int = number, found: list[RowError] = row_errors
        ) -> None:
            found.append(RowError(row, column, message))

        handle = _handle(values.get("handle", ""))
        creator = creators.get(handle.lower())
        if creator is None:
            error(
                "handle",
                _("Unknown creator @%(handle)s: import or add the creator first.")
                % {"handle": handle}
                if handle
                else _("The handle is missing."),
            )
        kind_text = values.get("kind", "").lower().replace("-", "_").replace(" ", "_")
        if kind_text not in CollaborationKind.values:
            error("kind", _("Kind must be open, targeted or off_platform."))
        starts_on = _day(values.get("starts_on", ""))
        if starts_on is None:
            error("starts_on", _("Use a date like 2026-01-31."))
        ends_on = _day(values["ends_on"]) if values.get("ends_on") else None
        if values.get("ends_on") and ends_on is None:
            error("ends_on", _("Use a date like 2026-01-31."))
        if starts_on and ends_on and ends_on < starts_on:
            error("ends_on", _("The end is before the start."))
        try:
            flat_fee = parse_amount(values.get("flat_fee", ""))
        except ValueError:
            error("flat_fee", _("Not an amount."))
            flat_fee = Decimal("0")
        if flat_fee < 0:
            error("flat_fee", _("A fee cannot be negative."))
        currency = (values.get("currency") or "USD").upper()
        if not re.fullmatch(r"[A-Z]{3}", currency):
            error("currency", _("Use a three-letter currency code, e.g. USD."))
        sku = None
        if values.get("sku"):
            sku = skus.get(values["sku"])
            if sku is None:
                error("sku", _("Unknown SKU “%(code)s”.") % {"code": values["sku"]})
        rates: dict[str, Decimal] = {}
        for column in ("platform_rate", "seller_rate"):
            rate = _percent(values.get(column, ""))
            if rate is None or not RATE_MIN <= rate <= RATE_MAX:
                error(column, _("A commission rate must be between 0 and 100 percent."))
            else:
                rates[column] = rate.quantize(Decimal("0.01"))
        valid_from_day = _day(values["valid_from"]) if values.get("valid_from") else starts_on
        if values.get("valid_from") and valid_from_day is None:
            error("valid_from", _("Use a date like 2026-01-31."))
        valid_to_day = _day(values["valid_to"]) if values.get("valid_to") else None
        if values.get("valid_to") and valid_to_day is None:
            error("valid_to", _("Use a date like 2026-01-31."))
        if valid_from_day and valid_to_day and valid_to_day <= valid_from_day:
            error("valid_to", _("A rate must end after it starts."))
        if not row_errors:
            assert creator is not None and starts_on is not None and valid_from_day is not None
            key = (creator.pk, kind_text, starts_on, values.get("name", ""), sku, valid_from_day)
            if key in seen_rates:
                error(
                    "valid_from",
                    _("The same rate is already on row %(row)s.") % {"row": seen_rates[key]},
                )
            seen_rates[key] = number
        errors.extend(row_errors)
        if not row_errors:
            assert creator is not None and starts_on is not None and valid_from_day is not None
            parsed.append(
                _RateRow(
                    number=number,
                    creator=creator,
                    kind=CollaborationKind(kind_text),
                    name=values.get("name", ""),
                    starts_on=starts_on,
                    ends_on=ends_on,
                    flat_fee=flat_fee,
                    currency=currency,
                    note=values.get("note", ""),
                    sku=sku,
                    platform_rate=rates["platform_rate"],
                    seller_rate=rates["seller_rate"],
                    valid_from=_midnight(valid_from_day),
                    valid_to=_midnight(valid_to_day) if valid_to_day else None,
                )
            )
    if errors:
        raise ImportRejected(errors)
    return _apply_collaborations(parsed)


def _apply_collaborations(rows: list[_RateRow]) -> CollaborationImportResult:
    created = rates_created = rates_updated = unchanged = 0
    with transaction.atomic():
        for row in rows:
            collaboration, was_created = Collaboration.objects.get_or_create(
                creator=row.creator,
                kind=row.kind,
                starts_on=row.starts_on,
                name=row.name,
                remote_collaboration_id="",
                defaults={
                    "ends_on": row.ends_on,
                    "flat_fee": row.flat_fee,
                    "currency": row.currency,
                    "note": row.note,
                },
            )
            created += was_created
            rate = CollaborationRate.objects.filter(
                collaboration=collaboration, sku=row.sku, valid_from=row.valid_from
            ).first()
            values = {
                "platform_rate": row.platform_rate,
                "seller_rate": row.seller_rate,
                "valid_to": row.valid_to,
            }
            if rate is None:
                CollaborationRate.objects.create(
                    collaboration=collaboration, sku=row.sku, valid_from=row.valid_from, **values
                )
                rates_created += 1
            elif any(getattr(rate, name) != value for name, value in values.items()):
                for name, value in values.items():
                    setattr(rate, name, value)
                rate.save()
                rates_updated += 1
            else:
                unchanged += 1
    return CollaborationImportResult(
        collaborations_created=created,
        rates_created=rates_created,
        rates_updated=rates_updated,
        unchanged=unchanged,
    )
