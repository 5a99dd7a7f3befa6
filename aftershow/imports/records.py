"""Affiliate orders (§3a), finance statements (§4) and returns (§5) → this app's typed rows.

Each format is a table of :class:`FieldSpec`: which model field, which TikTok header (aliases in
order of preference, exact spellings), and what kind of value. A row becomes one model row under
a unique key, so re-importing the same or an overlapping file updates, never duplicates. Two
rows of one file with the same key (e.g. two adjustments of one order in one statement) get
``#2``, ``#3`` suffixes in file order, which a re-import reproduces.

Dates: the Affiliate Center writes day-first, the finance files year-first, returns either
(§3a, §4, §5); each file's order is sniffed over the whole file before any row is read for
good. Columns whose header says ``(UTC)`` are UTC; others are the shop region's time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from aftershow.imports.headers import ColumnIndex, normalise
from aftershow.imports.models import (
    AffiliateOrderRow,
    FileFormat,
    ImportRun,
    IssueSeverity,
    ReturnRecord,
    ReturnSource,
    StatementTransaction,
)
from aftershow.imports.reader import Row, Table
from aftershow.imports.report import ImportReport
from aftershow.imports.values import (
    REGION_TIME_ZONES,
    DateOrder,
    DateOrderSniffer,
    FatalImportError,
    IdDamageCounter,
    RowError,
    TimeParser,
    ValueProblem,
    count,
    is_scientific,
    money,
    numeric_id,
    percent,
    tracking_id,
)

BATCH_SIZE = 500


class Kind(StrEnum):
    TEXT = "text"
    ID = "id"  # digits only
    REFERENCE = "reference"  # free text that may be a long number (adjustment ids)
    TRACKING = "tracking"
    MONEY = "money"
    COUNT = "count"
    SIGNED_COUNT = "signed_count"
    PERCENT = "percent"
    TIME = "time"
    YES_NO = "yes_no"


@dataclass(frozen=True)
class FieldSpec:
    field: str
    headers: tuple[str, ...]
    kind: Kind = Kind.TEXT
    required: bool = False


@dataclass(frozen=True)
class RecordFormat:
    model: type[models.Model]
    key_field: str
    key_parts: tuple[str, ...]
    fields: tuple[FieldSpec, ...]
    default_date_order: DateOrder
    fixed: tuple[tuple[str, Any], ...] = ()
    # Keep the numeric columns without a field of their own in this JSON field.
    other_amounts_field: str = ""


def _f(field: str, *headers: str, kind: Kind = Kind.TEXT, required: bool = False) -> FieldSpec:
    return FieldSpec(field, headers, kind, required)


AFFILIATE_ORDERS = RecordFormat(
    model=AffiliateOrderRow,
    key_field="row_key",
    key_parts=(
        "remote_order_id",
        "remote_sku_id",
        "creator_username",
        "content_type",
        "content_id",
    ),
    default_date_order=DateOrder.DAY_FIRST,
    fields=(
        _f("remote_order_id", "Order ID", kind=Kind.ID, required=True),
        _f("remote_product_id", "Product ID", kind=Kind.ID),
        _f("product_name", "Product Name"),
        _f("remote_sku_id", "SKU ID", kind=Kind.ID),
        _f("price", "Price", kind=Kind.MONEY),
        _f("payment_amount", "Payment Amount", kind=Kind.MONEY),
        _f("quantity", "Quantity", kind=Kind.COUNT),
        _f("currency", "Currency"),
        _f("order_status", "Order Status"),
        _f("is_fully_returned", "Fully returned or refunded", kind=Kind.YES_NO),
        _f("creator_username", "Creator Username", required=True),
        _f("content_type", "Content Type"),
        _f("content_id", "Content ID", kind=Kind.REFERENCE),
        _f("commission_model", "commission model"),
        _f("standard_commission_rate", "Standard commission rate", kind=Kind.PERCENT),
        _f("shop_ads_commission_rate", "Shop Ads commission rate", kind=Kind.PERCENT),
        _f("est_commission_base", "Est. Commission Base", kind=Kind.MONEY),
        _f("est_standard_commission", "Est. standard commission payment", kind=Kind.MONEY),
        _f("est_shop_ads_commission", "Est. Shop Ads commission payment", kind=Kind.MONEY),
        _f("est_cofunded_bonus", "Est. co-funded creator bonus", kind=Kind.MONEY),
        _f("actual_commission_base", "Actual Commission Base", kind=Kind.MONEY),
        _f("actual_commission", "Actual Commission Payment", kind=Kind.MONEY),
        _f("actual_shop_ads_commission", "Actual Shop Ads commission payment", kind=Kind.MONEY),
        _f("actual_cofunded_bonus", "Actual co-funded creator bonus", kind=Kind.MONEY),
        _f("created_time", "Time Created", kind=Kind.TIME),
        _f("paid_time", "Payment time", kind=Kind.TIME),
        _f("delivered_time", "Order Delivery Time", kind=Kind.TIME),
        _f("commission_paid_time", "Time Commission Paid", kind=Kind.TIME),
        _f("platform", "Platform"),
    ),
)

FINANCE_TRANSACTIONS = RecordFormat(
    model=StatementTransaction,
    key_field="row_key",
    key_parts=(
        "statement_id",
        "settled_time",
        "order_or_adjustment_id",
        "transaction_type",
        "remote_sku_id",
    ),
    default_date_order=DateOrder.MONTH_FIRST,
    other_amounts_field="other_amounts",
    fields=(
        _f("statement_id", "Statement ID", kind=Kind.REFERENCE),
        _f("payment_id", "Payment ID", kind=Kind.REFERENCE),
        _f("statement_status", "Status"),
        _f("currency", "Currency"),
        _f("transaction_type", "Type", "Transaction type"),
        _f("order_or_adjustment_id", "Order/adjustment ID", kind=Kind.REFERENCE, required=True),
        _f("related_order_id", "Related order ID", kind=Kind.REFERENCE),
        _f("remote_sku_id", "SKU ID", kind=Kind.ID),
        _f("quantity", "Quantity", "Sold Quantity", kind=Kind.SIGNED_COUNT),
        _f("product_name", "Product name"),
        _f("statement_time", "Statement date (UTC)", "Statement date", kind=Kind.TIME),
        _f(
            "order_created_time",
            "Order created date",
            "Order created time(UTC)",
            "creation date",
            kind=Kind.TIME,
        ),
        _f("order_delivered_time", "Order delivery date", kind=Kind.TIME),
        _f("settled_time", "Order settled time(UTC)", "Order settled date", kind=Kind.TIME),
        _f(
            "total_settlement_amount",
            "Total settlement amount",
            "Total estimated settlement amount",
            kind=Kind.MONEY,
            required=True,
        ),
        _f("net_sales", "Net sales", kind=Kind.MONEY),
        _f("gross_sales", "Gross sales", kind=Kind.MONEY),
        _f("fees", "Fees", "Total fees", kind=Kind.MONEY),
        _f("referral_fee", "Referral fee", "TikTok Shop commission fee", kind=Kind.MONEY),
        _f("transaction_fee", "Transaction fee", kind=Kind.MONEY),
        _f("affiliate_commission", "Affiliate commission", kind=Kind.MONEY),
        _f("shipping", "Shipping", kind=Kind.MONEY),
        _f("customer_payment", "Customer payment", kind=Kind.MONEY),
        _f("sales_tax_payment", "Sales tax payment", kind=Kind.MONEY),
        _f("adjustment_amount", "Adjustment amount", "Ajustment amount", kind=Kind.MONEY),
        _f("adjustment_reason", "Adjustment reason"),
    ),
)

RETURNS = RecordFormat(
    model=ReturnRecord,
    key_field="return_key",
    key_parts=("return_order_id", "remote_sku_id"),
    default_date_order=DateOrder.DAY_FIRST,
    fixed=(("source", ReturnSource.RETURNS_EXPORT),),
    fields=(
        _f("return_order_id", "Return Order ID", kind=Kind.ID, required=True),
        _f("remote_order_id", "Order ID", kind=Kind.ID, required=True),
        _f("remote_sku_id", "SKU ID", kind=Kind.ID),
        _f("seller_sku", "Seller SKU"),
        _f("product_name", "Product Name"),
        _f("return_type", "Return Type"),
        _f("return_reason", "Return Reason"),
        _f("return_status", "Return Status"),
        _f("return_sub_status", "Return Sub Status"),
        _f("quantity", "Return Quantity", kind=Kind.COUNT),
        _f("unit_price", "Return unit price", kind=Kind.MONEY),
        _f("refund_amount", "Refund Amount", kind=Kind.MONEY),
        _f("requested_at", "Time Requested", kind=Kind.TIME),
        _f("refunded_at", "Refund Time", kind=Kind.TIME),
        _f("return_tracking_id", "Return Logistics Tracking ID", kind=Kind.TRACKING),
    ),
)

FORMATS = {
    FileFormat.AFFILIATE_ORDERS: AFFILIATE_ORDERS,
    FileFormat.FINANCE_TRANSACTIONS: FINANCE_TRANSACTIONS,
    FileFormat.RETURNS: RETURNS,
}
_TIME_KINDS = (Kind.TIME,)
_ID_KINDS = (Kind.ID, Kind.REFERENCE, Kind.TRACKING)


class RecordFile:
    """One affiliate, finance or returns file: a sniffing pass, then a writing pass."""

    def __init__(self, table: Table, record_format: RecordFormat, *, shop_region: str) -> None:
        self.format = record_format
        self.region = shop_region
        self.columns = ColumnIndex(table.header)
        self.positions = {
            spec.field: self.columns.get(*spec.headers) for spec in record_format.fields
        }
        missing = [
            spec.headers[0]
            for spec in record_format.fields
            if spec.required and self.positions[spec.field] is None
        ]
        if missing:
            raise FatalImportError(
                _(
                    "The file lacks the columns %(columns)s: TikTok renamed them or the file "
                    "was edited. Export it again."
                )
                % {"columns": ", ".join(missing)}
            )
        self.zones = {
            spec.field: UTC
            if "(utc)" in normalise(self.columns.header[self.positions[spec.field] or 0])
            else REGION_TIME_ZONES.get(shop_region, UTC)
            for spec in record_format.fields
            if spec.kind in _TIME_KINDS and self.positions[spec.field] is not None
        }
        mapped = {position for position in self.positions.values() if position is not None}
        self.other_positions = [
            (header.strip(), position)
            for position, header in enumerate(self.columns.header)
            if record_format.other_amounts_field and position not in mapped and header.strip()
        ]
        self.sniffer = DateOrderSniffer()
        self.ids = IdDamageCounter()
        self.parsers: dict[str, TimeParser] = {}

    def sniff(self, rows: Iterator[Row], report: ImportReport) -> None:
        """Pass 1: date order, Excel damage and other regions, over the whole file."""
        for number, cells in rows:
            report.rows_read += 1
            for spec in self.format.fields:
                position = self.positions[spec.field]
                if position is None:
                    continue
                value = cells[position]
                if spec.kind in _TIME_KINDS:
                    self.sniffer.observe(value, number)
                elif spec.kind in _ID_KINDS:
                    if is_scientific(value):
                        tracking_id(value, row=number, column=spec.headers[0])
                    if value.isdigit():
                        self.ids.observe(value, number, spec.headers[0])
                elif spec.kind is Kind.MONEY:
                    # A bad amount is a row error, reported by the writing pass; another
                    # region's currency is fatal and stops this pass.
                    with suppress(ValueProblem):
                        money(value, spec.headers[0], row=number, region=self.region)
        if self.ids.is_damaged:
            raise FatalImportError(
                _(
                    "%(zero_tailed)s of the file's %(long_ids)s long ids end in zeros "
                    "past their 15th digit: the file was opened and saved in Excel. Export it "
                    "again and import it without opening it in Excel."
                )
                % {"zero_tailed": self.ids.zero_tailed, "long_ids": self.ids.long_ids},
                row=self.ids.first_row,
                column=self.ids.first_column,
            )
        order = self.sniffer.decide(self.format.default_date_order)
        self.parsers = {
            field: TimeParser(order=order, zone=zone) for field, zone in self.zones.items()
        }

    def parse(self, number: int, cells: Sequence[str]) -> dict[str, Any]:
        values: dict[str, Any] = dict(self.format.fixed)
        for spec in self.format.fields:
            position = self.positions[spec.field]
            text = cells[position] if position is not None else ""
            column = spec.headers[0]
            try:
                values[spec.field] = self._value(spec, text, column, number)
            except ValueProblem as problem:
                raise RowError(number, column, str(problem)) from problem
        if self.format.other_amounts_field:
            other: dict[str, str] = {}
            for header, position in self.other_positions:
                try:
                    amount = money(cells[position], header, row=number, region=self.region)
                except ValueProblem:
                    continue  # a text column (reasons, methods): not an amount
                if amount:
                    other[header] = str(amount)
            values[self.format.other_amounts_field] = other
        if not values.get("currency"):
            values["currency"] = "USD"
        if self.format is RETURNS:
            moments = [values["requested_at"], values["refunded_at"]]
            values["remote_updated_at"] = max((m for m in moments if m), default=None)
        return values

    def _value(self, spec: FieldSpec, text: str, column: str, row: int) -> Any:
        kind = spec.kind
        if spec.required and not text:
            raise ValueProblem(_("%(column)s is empty") % {"column": column}, column)
        if kind is Kind.TEXT:
            return text
        if kind is Kind.ID:
            return numeric_id(text, column, row=row, required=spec.required)
        if kind in (Kind.REFERENCE, Kind.TRACKING):
            return tracking_id(text, row=row, column=column)
        if kind is Kind.MONEY:
            return money(text, column, row=row, region=self.region)
        if kind is Kind.COUNT:
            return count(text, column)
        if kind is Kind.SIGNED_COUNT:
            negative = text.startswith("-")
            value = count(text.lstrip("-"), column)
            return -value if negative else value
        if kind is Kind.PERCENT:
            return percent(text, column)
        if kind is Kind.YES_NO:
            return text.casefold() in ("yes", "y", "true", "1")
        if not text:
            return None
        return self.parsers[spec.field].parse(text, column, row=row)

    def write(
        self, rows: Iterator[Row], report: ImportReport, *, shop_id: int, run: ImportRun
    ) -> None:
        """Pass 2: parse for good and upsert, a batch at a time."""
        occurrences: Counter[str] = Counter()
        batch: list[dict[str, Any]] = []
        for number, cells in rows:
            try:
                values = self.parse(number, cells)
            except RowError as error:
                report.rows_skipped += 1
                report.add(
                    IssueSeverity.ERROR,
                    _("row skipped: %(reason)s") % {"reason": error.message},
                    row=error.row,
                    column=error.column,
                )
                continue
            key = "|".join(_key_text(values.get(part)) for part in self.format.key_parts)
            occurrences[key] += 1
            if occurrences[key] > 1:
                key = f"{key}#{occurrences[key]}"
            values[self.format.key_field] = key[:255]
            batch.append(values)
            if len(batch) >= BATCH_SIZE:
                _count(report, records_upsert(self.format, shop_id, batch, run))
                batch = []
        if batch:
            _count(report, records_upsert(self.format, shop_id, batch, run))


def _key_text(value: object) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y%m%dT%H%M%S")
    return "" if value is None else str(value)


def _count(report: ImportReport, counts: tuple[int, int, int]) -> None:
    report.records_created += counts[0]
    report.records_updated += counts[1]
    report.records_unchanged += counts[2]


def records_upsert(
    record_format: RecordFormat, shop_id: int, rows: list[dict[str, Any]], run: ImportRun
) -> tuple[int, int, int]:
    """Create or update rows by their unique key; returns (created, updated, unchanged).

    Rows with a ``remote_updated_at`` older than the stored one are left as they are.
    """
    model, key_field = record_format.model, record_format.key_field
    existing = {
        getattr(obj, key_field): obj
        for obj in model._default_manager.filter(
            shop_id=shop_id, **{f"{key_field}__in": [row[key_field] for row in rows]}
        )
    }
    created: list[models.Model] = []
    updated = unchanged = 0
    now = timezone.now()
    for values in rows:
        stored = existing.get(values[key_field])
        if stored is None:
            created.append(model(shop_id=shop_id, import_run=run, **values))
            continue
        newer = values.get("remote_updated_at")
        current = getattr(stored, "remote_updated_at", None)
        if newer is not None and current is not None and newer < current:
            unchanged += 1
            continue
        changed = {name: value for name, value in values.items() if getattr(stored, name) != value}
        if changed:
            model._default_manager.filter(pk=stored.pk).update(
                **changed, import_run=run, updated_at=now
            )
            updated += 1
        else:
            unchanged += 1
    model._default_manager.bulk_create(created)
    return len(created), updated, unchanged
