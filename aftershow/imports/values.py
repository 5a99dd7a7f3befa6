"""Cell values of TikTok's files: ids, money, times, states; and the problems they can have.

A :class:`ValueProblem` is about one cell: the row's order (or record) is skipped and the report
names the row and the column. A :class:`FatalImportError` stops the whole file: nothing is
imported. Excel damage and a second region in the file are fatal by nature, so their value
problems are raised as fatal subclasses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

# "TikTok records its timestamps in California time, always" (§1e): US files are Pacific.
REGION_TIME_ZONES = {"US": ZoneInfo("America/Los_Angeles")}


class FatalImportError(Exception):
    """The file as a whole cannot be imported; nothing is written."""

    def __init__(self, message: str, *, row: int | None = None, column: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.row = row
        self.column = column


class ValueProblem(ValueError):
    """One cell is wrong: its row's order or record is skipped and reported."""

    def __init__(self, message: str, column: str = "") -> None:
        super().__init__(message)
        self.column = column


class DamagedIdError(FatalImportError):
    """Ids that Excel turned into numbers: the real digits are gone, refuse the file (§0)."""


class MixedRegionError(FatalImportError):
    """A row of another region (country, currency or date format) in a one-region file."""


# -- ids -----------------------------------------------------------------------------------

_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+$")
# Excel keeps 15 significant digits: an 18-19 digit id that went through it ends in zeros.
EXCEL_SIGNIFICANT_DIGITS = 15


def is_scientific(text: str) -> bool:
    return bool(_SCIENTIFIC.match(text))


def has_excel_zero_tail(identifier: str) -> bool:
    """True when every digit past the 15th is 0, as Excel leaves a long id it stored as a number.

    One real id in a thousand also ends like that by chance, so the caller judges the file by
    the share of its ids that do (see ``IdDamageCounter``), never by one id.
    """
    tail = identifier[EXCEL_SIGNIFICANT_DIGITS:]
    return bool(tail) and tail.count("0") == len(tail)


@dataclass
class IdDamageCounter:
    """Counts long numeric ids and those with an Excel zero tail, over the whole file."""

    long_ids: int = 0
    zero_tailed: int = 0
    first_example: str = ""
    first_row: int | None = None
    first_column: str = ""

    def observe(self, identifier: str, row: int, column: str) -> None:
        if len(identifier) <= EXCEL_SIGNIFICANT_DIGITS:
            return
        self.long_ids += 1
        if has_excel_zero_tail(identifier):
            self.zero_tailed += 1
            if not self.first_example:
                self.first_example, self.first_row, self.first_column = identifier, row, column

    @property
    def is_damaged(self) -> bool:
        # By chance about 0.1 % of 18-digit ids end in 000; Excel damage hits every one.
        return self.zero_tailed > 0 and self.zero_tailed * 2 > self.long_ids


def numeric_id(text: str, column: str, *, row: int, required: bool = True) -> str:
    """A TikTok id (digits only, as text). Scientific notation means Excel damage: fatal."""
    if not text:
        if required:
            raise ValueProblem(_("%(column)s is empty") % {"column": column}, column)
        return ""
    if text.isdecimal():  # what r"\d+" matches in full, without the regex call
        return text
    if is_scientific(text):
        raise DamagedIdError(
            _(
                "%(column)s %(text)r is in scientific notation: the file was opened and saved in "
                "Excel, which destroys the last digits of TikTok's ids. Export it again from "
                "Seller Center and import it without opening it in Excel."
            )
            % {"column": column, "text": text},
            row=row,
            column=column,
        )
    raise ValueProblem(
        _("%(column)s %(text)r is not a TikTok id (digits only)")
        % {"column": column, "text": text},
        column,
    )


def tracking_id(text: str, *, row: int, column: str) -> str:
    if is_scientific(text):
        raise DamagedIdError(
            _("%(column)s %(text)r is in scientific notation: the file was re-saved by Excel.")
            % {"column": column, "text": text},
            row=row,
            column=column,
        )
    return text


# -- money ---------------------------------------------------------------------------------

# Symbols and codes that mean "US dollars" in a US file; anything else is another region's.
_US_CURRENCY_MARKS = ("US$", "USD", "$")
_CURRENCY_PREFIX = re.compile(r"^([A-Za-z]{1,3}\$?|[^\d\s().,+-]+)\s*(?=[\d.-])")
_AMOUNT = re.compile(r"^\d{1,3}(?:,\d{3})*(?:\.\d+)?$|^\d+(?:\.\d+)?$|^\.\d+$")
# What almost every cell of a US export holds ("11.99"): taken as it is, already in cents.
_PLAIN_CENTS = re.compile(r"\d+\.\d\d")


def money(text: str, column: str, *, row: int, region: str = "US") -> Decimal:
    """``11.99``, ``$25.00``, ``1,022.25``, ``-$3.10``, ``($3.10)``; blank, ``/`` and ``-`` → 0.

    Rounded half up to the cent. A currency other than the region's is a mixed-region file.
    """
    if _PLAIN_CENTS.fullmatch(text):
        return Decimal(text)
    value = text.strip()
    if value in ("", "/", "-", "--"):
        return ZERO
    negative = False
    if value.startswith("(") and value.endswith(")"):
        negative, value = True, value[1:-1].strip()
    if value.startswith("-"):
        negative, value = True, value[1:].strip()
    mark = _CURRENCY_PREFIX.match(value)
    if mark:
        symbol = mark.group(1)
        if region == "US" and symbol.upper() not in _US_CURRENCY_MARKS:
            raise MixedRegionError(
                _(
                    "%(column)s %(text)r is in another currency than the shop's (USD): the file "
                    "mixes regions."
                )
                % {"column": column, "text": text},
                row=row,
                column=column,
            )
        value = value[mark.end() :]
    if value.startswith("-"):
        negative, value = True, value[1:].strip()
    if not _AMOUNT.match(value):
        raise ValueProblem(
            _("%(column)s %(text)r is not an amount") % {"column": column, "text": text}, column
        )
    try:
        amount = Decimal(value.replace(",", ""))
    except InvalidOperation as error:  # pragma: no cover - the pattern above rules it out
        raise ValueProblem(
            _("%(column)s %(text)r is not an amount") % {"column": column, "text": text}, column
        ) from error
    amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    return -amount if negative else amount


def percent(text: str, column: str) -> Decimal | None:
    """``10%`` → 10.00; blank → None."""
    value = text.strip().removesuffix("%").strip()
    if value in ("", "/", "-"):
        return None
    try:
        return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation as error:
        raise ValueProblem(
            _("%(column)s %(text)r is not a percentage") % {"column": column, "text": text}, column
        ) from error


def count(text: str, column: str, *, minimum: int = 0) -> int:
    value = text.strip()
    if value == "":
        if minimum > 0:
            raise ValueProblem(_("%(column)s is empty") % {"column": column}, column)
        return 0
    if not value.isdecimal() or int(value) < minimum:
        raise ValueProblem(
            _("%(column)s %(text)r is not a whole number of at least %(minimum)s")
            % {"column": column, "text": text, "minimum": minimum},
            column,
        )
    return int(value)


def split_cents(total: Decimal, parts: int) -> list[Decimal]:
    """``total`` in ``parts`` cent amounts that add up exactly; the first ones take the rest."""
    if not total:
        return [ZERO] * parts
    cents = int((total / CENT).to_integral_value(rounding=ROUND_HALF_UP))
    base, remainder = divmod(abs(cents), parts)
    sign = -1 if cents < 0 else 1
    return [sign * (base + (1 if index < remainder else 0)) * CENT for index in range(parts)]


# -- times ---------------------------------------------------------------------------------


class DateOrder(StrEnum):
    MONTH_FIRST = "month_first"  # US order export: 09/15/2025 7:44:26 AM
    DAY_FIRST = "day_first"  # other regions, Affiliate Center: 15/09/2025 07:44:26


_TIME = re.compile(
    r"^(\d{1,4})[/.-](\d{1,2})[/.-](\d{1,4})"
    r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?\s*([AaPp][Mm])?)?$"
)
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


@dataclass
class DateOrderSniffer:
    """Evidence for day-first or month-first, gathered over a whole file (§1e: "a first field
    >12 ⇒ day-first")."""

    day_first_row: int | None = None
    month_first_row: int | None = None

    def observe(self, text: str, row: int) -> None:
        match = _TIME.match(text)
        if not match or len(match.group(1)) == 4:
            return
        first, second = int(match.group(1)), int(match.group(2))
        if first > 12 and self.day_first_row is None:
            self.day_first_row = row
        elif second > 12 and self.month_first_row is None:
            self.month_first_row = row

    def decide(self, default: DateOrder) -> DateOrder:
        if self.day_first_row is not None and self.month_first_row is not None:
            raise MixedRegionError(
                _(
                    "The file mixes day-first dates (row "
                    "%(day_first_row)s) and month-first dates (row %(month_first_row)s): "
                    "it combines exports of different regions."
                )
                % {"day_first_row": self.day_first_row, "month_first_row": self.month_first_row},
                row=self.day_first_row,
            )
        if self.day_first_row is not None:
            return DateOrder.DAY_FIRST
        if self.month_first_row is not None:
            return DateOrder.MONTH_FIRST
        return default


class TimeParser:
    """Wall-clock text of one file → aware UTC datetimes.

    ``strict_us`` is the US order export: month-first, and a value that can only be day-first
    is a row of another region, which makes the whole file a mixed-region file.
    """

    def __init__(self, *, order: DateOrder, zone: tzinfo, strict_us: bool = False) -> None:
        self.order = order
        self.zone = zone
        self.strict_us = strict_us

    def parse(self, text: str, column: str, *, row: int) -> datetime | None:
        value = text.strip()
        if not value or value in ("/", "-", "--"):
            return None
        match = _TIME.match(value)
        if not match:
            compact = _COMPACT_DATE.match(value)
            if compact:
                return self._build(
                    int(compact.group(1)), int(compact.group(2)), int(compact.group(3)), 0, 0,
                    0, column, text,
                )  # fmt: skip
            raise ValueProblem(
                _("%(column)s %(text)r is not a date and time") % {"column": column, "text": text},
                column,
            )
        first, second, third, hour_text, minute_text, seconds_text, meridiem = match.groups()
        hour = int(hour_text) if hour_text else 0
        minute = int(minute_text) if minute_text else 0
        seconds = int(seconds_text) if seconds_text else 0
        if meridiem:
            if not 1 <= hour <= 12:
                raise ValueProblem(
                    _("%(column)s %(text)r has an impossible hour")
                    % {"column": column, "text": text},
                    column,
                )
            hour = hour % 12 + (12 if meridiem.upper() == "PM" else 0)
        if len(first) == 4:
            year, month, day = int(first), int(second), int(third)
        elif len(third) == 4:
            year = int(third)
            if self.order is DateOrder.MONTH_FIRST:
                month, day = int(first), int(second)
                if self.strict_us and month > 12 and day <= 12:
                    raise MixedRegionError(
                        _(
                            "%(column)s %(text)r is day-first, as outside the US: the file mixes "
                            "regions."
                        )
                        % {"column": column, "text": text},
                        row=row,
                        column=column,
                    )
            else:
                day, month = int(first), int(second)
        else:
            raise ValueProblem(
                _("%(column)s %(text)r has no four-digit year") % {"column": column, "text": text},
                column,
            )
        return self._build(year, month, day, hour, minute, seconds, column, text)

    def _build(
        self, year: int, month: int, day: int, hour: int, minute: int, second: int,
        column: str, text: str,
    ) -> datetime:  # fmt: skip
        try:
            local = datetime(year, month, day, hour, minute, second, tzinfo=self.zone)
        except ValueError as error:
            raise ValueProblem(
                _("%(column)s %(text)r is not a valid date") % {"column": column, "text": text},
                column,
            ) from error
        # An hour that happens twice when clocks go back is read as its first occurrence
        # (fold=0); a time skipped when clocks go forward is shifted by zoneinfo.
        return local.astimezone(UTC)


# -- places --------------------------------------------------------------------------------

US_STATE_CODES: dict[str, str] = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA",
    "colorado": "CO", "connecticut": "CT", "delaware": "DE", "district of columbia": "DC",
    "florida": "FL", "georgia": "GA", "hawaii": "HI", "idaho": "ID", "illinois": "IL",
    "indiana": "IN", "iowa": "IA", "kansas": "KS", "kentucky": "KY", "louisiana": "LA",
    "maine": "ME", "maryland": "MD", "massachusetts": "MA", "michigan": "MI", "minnesota": "MN",
    "mississippi": "MS", "missouri": "MO", "montana": "MT", "nebraska": "NE", "nevada": "NV",
    "new hampshire": "NH", "new jersey": "NJ", "new mexico": "NM", "new york": "NY",
    "north carolina": "NC", "north dakota": "ND", "ohio": "OH", "oklahoma": "OK", "oregon": "OR",
    "pennsylvania": "PA", "rhode island": "RI", "south carolina": "SC", "south dakota": "SD",
    "tennessee": "TN", "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA",
    "washington": "WA", "west virginia": "WV", "wisconsin": "WI", "wyoming": "WY",
    "puerto rico": "PR", "guam": "GU", "u.s. virgin islands": "VI", "virgin islands": "VI",
    "american samoa": "AS", "northern mariana islands": "MP",
    "armed forces americas": "AA", "armed forces europe": "AE", "armed forces pacific": "AP",
}  # fmt: skip
_STATE_CODES = frozenset(US_STATE_CODES.values())

COUNTRY_CODES = {"united states": "US", "united states of america": "US", "usa": "US", "us": "US"}


def us_state_code(text: str) -> str:
    """The two-letter code of a US state written out ("New York") or as a code; "" if unknown."""
    value = text.strip()
    if value.upper() in _STATE_CODES:
        return value.upper()
    return US_STATE_CODES.get(" ".join(value.split()).casefold(), "")


def country_code(text: str) -> str:
    """ISO code of a country name ("United States" is "US"); other names come back upper-cased."""
    value = " ".join(text.split())
    return COUNTRY_CODES.get(value.casefold(), value.upper())


class RowError(Exception):
    """A value problem located in the file: the row (as a spreadsheet numbers it) and column."""

    def __init__(self, row: int, column: str, message: str) -> None:
        super().__init__(f"row {row}, {column}: {message}")
        self.row = row
        self.column = column
        self.message = message
