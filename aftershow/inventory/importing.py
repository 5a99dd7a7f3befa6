"""Stock counts, adjustments and receipts from a CSV or XLSX file: all rows or none.

Columns (header names, any case and order): ``sku`` and ``quantity`` are required;
``warehouse`` (code; blank means the default warehouse), ``kind`` (count, adjustment or
receipt; default from the caller), ``reason`` (for adjustments), ``reference`` and ``note``
are optional. For a count, ``quantity`` is what was counted; for an adjustment, the signed
change; for a receipt, the units received.

Every row is checked before anything is written, and every problem is reported with its row
number (as the spreadsheet shows it: the header is row 1) and column. The rows are then applied
in one transaction, each under a key made of the file's hash and the row number, so importing
the same file again changes nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from aftershow.accounts.models import User
from aftershow.catalog.models import Sku
from aftershow.core.tables import ImportRejected as ImportRejected
from aftershow.core.tables import RowError as RowError
from aftershow.core.tables import read_table
from aftershow.inventory.ledger import StockError
from aftershow.inventory.models import AdjustmentReason, MovementKind, StockMovement, Warehouse
from aftershow.inventory.services import stock_adjust, stock_count, stock_receive

IMPORT_KINDS = (MovementKind.COUNT, MovementKind.ADJUSTMENT, MovementKind.RECEIPT)
_REQUIRED = ("sku", "quantity")
_KNOWN = ("sku", "warehouse", "quantity", "kind", "reason", "reference", "note")


@dataclass(frozen=True)
class ImportResult:
    applied: int
    already_applied: int


@dataclass(frozen=True)
class _Row:
    number: int
    sku: Sku
    warehouse: Warehouse
    kind: MovementKind
    quantity: int
    reason: AdjustmentReason
    reference: str
    note: str


def stock_import(
    *,
    filename: str,
    content: bytes,
    default_kind: MovementKind = MovementKind.COUNT,
    by: User | None = None,
    actor_label: str = "import",
) -> ImportResult:
    """Check every row, then apply them all in one transaction, or raise ``ImportRejected``."""
    raw_rows = read_table(filename, content, required=_REQUIRED, known=_KNOWN)
    rows = _validate(raw_rows, default_kind=default_kind)
    digest = hashlib.sha256(content).hexdigest()[:20]
    applied = already = 0
    errors: list[RowError] = []
    with transaction.atomic():
        for row in rows:
            try:
                movement = _apply(
                    row,
                    key=f"import:{digest}:row:{row.number}",
                    by=by,
                    label=actor_label,
                    filename=filename,
                )
            except StockError as error:
                errors.append(RowError(row.number, "quantity", str(error)))
                continue
            if movement is None:
                already += 1
            else:
                applied += 1
        if errors:
            # Raising inside the block rolls back the rows already applied: all or nothing.
            raise ImportRejected(errors)
    return ImportResult(applied=applied, already_applied=already)


def _apply(
    row: _Row, *, key: str, by: User | None, label: str, filename: str
) -> StockMovement | None:
    reference = row.reference or f"{filename} row {row.number}"
    if row.kind == MovementKind.COUNT:
        return stock_count(
            sku=row.sku,
            warehouse=row.warehouse,
            counted=row.quantity,
            key=key,
            reference=reference,
            note=row.note,
            by=by,
            actor_label=label,
        )
    if row.kind == MovementKind.RECEIPT:
        return stock_receive(
            sku=row.sku,
            warehouse=row.warehouse,
            quantity=row.quantity,
            key=key,
            reference=reference,
            note=row.note,
            by=by,
            actor_label=label,
        )
    return stock_adjust(
        sku=row.sku,
        warehouse=row.warehouse,
        quantity=row.quantity,
        reason=row.reason,
        key=key,
        reference=reference,
        note=row.note,
        by=by,
        actor_label=label,
    )


def _validate(
    raw_rows: list[tuple[int, dict[str, str]]], *, default_kind: MovementKind
) -> list[_Row]:
    codes = {values.get("sku", "") for _, values in raw_rows}
    skus = {sku.code: sku for sku in Sku.objects.filter(code__in=codes)}
    warehouses = {warehouse.code: warehouse for warehouse in Warehouse.objects.all()}
    default = next((w for w in warehouses.values() if w.is_default), None)
    errors: list[RowError] = []
    rows: list[_Row] = []
    counted_at: dict[tuple[int, int], int] = {}
    for number, values in raw_rows:
        row_errors: list[RowError] = []
        sku = skus.get(values.get("sku", ""))
        if not values.get("sku"):
            row_errors.append(RowError(number, "sku", _("The SKU is missing.")))
        elif sku is None:
            row_errors.append(
                RowError(number, "sku", _("Unknown SKU “%(code)s”.") % {"code": values["sku"]})
            )
        elif sku.is_bundle and sku.components.exists():
            row_errors.append(
                RowError(number, "sku", _("A bundle has no stock of its own; count its parts."))
            )
        warehouse_code = values.get("warehouse", "")
        warehouse = warehouses.get(warehouse_code) if warehouse_code else default
        if warehouse is None:
            message = (
                _("Unknown warehouse “%(code)s”.") % {"code": warehouse_code}
                if warehouse_code
                else _("No warehouse given and no default warehouse is set.")
            )
            row_errors.append(RowError(number, "warehouse", message))
        kind_text = values.get("kind", "").lower() or default_kind
        kind = MovementKind(kind_text) if kind_text in IMPORT_KINDS else None
        if kind is None:
            row_errors.append(
                RowError(number, "kind", _("Kind must be count, adjustment or receipt."))
            )
        reason_text = values.get("reason", "").lower() or AdjustmentReason.CORRECTION
        reason = AdjustmentReason(reason_text) if reason_text in AdjustmentReason.values else None
        if reason is None:
            row_errors.append(
                RowError(
                    number,
                    "reason",
                    _("Reason must be one of: %(choices)s.")
                    % {"choices": ", ".join(AdjustmentReason.values)},
                )
            )
        quantity = _whole_number(values.get("quantity", ""))
        if quantity is None:
            row_errors.append(RowError(number, "quantity", _("Must be a whole number.")))
        elif kind == MovementKind.COUNT and quantity < 0:
            row_errors.append(RowError(number, "quantity", _("A count cannot be negative.")))
        elif kind == MovementKind.RECEIPT and quantity <= 0:
            row_errors.append(RowError(number, "quantity", _("A receipt must be positive.")))
        elif kind == MovementKind.ADJUSTMENT and quantity == 0:
            row_errors.append(RowError(number, "quantity", _("An adjustment cannot be zero.")))
        if kind == MovementKind.COUNT and sku is not None and warehouse is not None:
            first = counted_at.setdefault((sku.pk, warehouse.pk), number)
            if first != number:
                row_errors.append(
                    RowError(
                        number,
                        "sku",
                        _("Counted twice in this file (first on row %(row)s).") % {"row": first},
                    )
                )
        if row_errors:
            errors.extend(row_errors)
            continue
        assert sku is not None and warehouse is not None and kind is not None
        assert quantity is not None and reason is not None
        rows.append(
            _Row(
                number=number,
                sku=sku,
                warehouse=warehouse,
                kind=kind,
                quantity=quantity,
                reason=reason,
                reference=values.get("reference", ""),
                note=values.get("note", ""),
            )
        )
    if errors:
        raise ImportRejected(errors)
    return rows


def _whole_number(text: str) -> int | None:
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None
    if not value.is_finite() or value != value.to_integral_value():
        return None
    return int(value)
