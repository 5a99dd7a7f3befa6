"""Stock files (CSV, XLSX) and the two stock commands."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from aftershow.inventory.importing import ImportRejected, RowError, stock_import
from aftershow.inventory.models import AdjustmentReason, MovementKind, StockMovement, Warehouse
from aftershow.inventory.services import stock_receive
from aftershow.inventory.tests.helpers import level_of, make_sku, snapshot


@pytest.fixture
def cap(db):
    return make_sku("CAP-RED")


def xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_csv_count_sets_on_hand_and_records_the_difference(warehouse, tee, cap):
    stock_receive(sku=tee, warehouse=warehouse, quantity=10)
    content = b"\xef\xbb\xbfSKU,Warehouse,Quantity,Note\nTEE-BLK-M,MAIN,8,shelf B3\nCAP-RED,,5,\n"

    result = stock_import(filename="count.csv", content=content)

    assert (result.applied, result.already_applied) == (2, 0)
    assert level_of(tee, warehouse) == (8, 0, 0)
    assert level_of(cap, warehouse) == (5, 0, 0)
    rows = StockMovement.objects.filter(kind=MovementKind.COUNT).order_by("pk")
    assert [(m.sku.code, m.on_hand_delta, m.reference, m.note, m.actor_label) for m in rows] == [
        ("TEE-BLK-M", -2, "count.csv row 2", "shelf B3", "import"),
        ("CAP-RED", 5, "count.csv row 3", "", "import"),
    ]


def test_an_xlsx_file_mixes_kinds_and_a_reimport_changes_nothing(warehouse, tee, cap):
    content = xlsx(
        [
            ["sku", "quantity", "kind", "reason", "reference"],
            ["TEE-BLK-M", 10, "receipt", None, "PO-9"],
            ["TEE-BLK-M", -1.0, "adjustment", "damaged", None],
            [None, None, None, None, None],
            ["CAP-RED", 4, "count", None, None],
        ]
    )

    first = stock_import(filename="stock.xlsx", content=content)
    before = snapshot()
    second = stock_import(filename="stock.xlsx", content=content)

    assert (first.applied, first.already_applied) == (3, 0)
    assert (second.applied, second.already_applied) == (0, 3)
    assert snapshot() == before
    assert level_of(tee, warehouse) == (9, 0, 0)
    assert level_of(cap, warehouse) == (4, 0, 0)
    adjustment = StockMovement.objects.get(kind=MovementKind.ADJUSTMENT)
    assert (adjustment.reason, adjustment.reference) == (
        AdjustmentReason.DAMAGED,
        "stock.xlsx row 3",
    )


def test_every_bad_row_is_reported_and_nothing_is_imported(warehouse, tee, cap):
    make_sku("KIT", bundle_of={tee: 1, cap: 1})
    stock_receive(sku=tee, warehouse=warehouse, quantity=10)
    before = snapshot()
    content = (
        b"sku,warehouse,quantity,kind,reason\n"
        b"TEE-BLK-M,MAIN,7,count,\n"
        b"NOPE,MAIN,1,count,\n"
        b"CAP-RED,WEST,1.5,count,\n"
        b"CAP-RED,MAIN,1,transfer,\n"
        b"CAP-RED,MAIN,-2,adjustment,stolen\n"
        b"TEE-BLK-M,MAIN,6,count,\n"
        b"KIT,MAIN,0,receipt,\n"
    )

    with pytest.raises(ImportRejected) as rejected:
        stock_import(filename="bad.csv", content=content)

    assert rejected.value.errors == [
        RowError(3, "sku", "Unknown SKU “NOPE”."),
        RowError(4, "warehouse", "Unknown warehouse “WEST”."),
        RowError(4, "quantity", "Must be a whole number."),
        RowError(5, "kind", "Kind must be count, adjustment or receipt."),
        RowError(
            6, "reason", "Reason must be one of: correction, damaged, lost, found, sample, other."
        ),
        RowError(7, "sku", "Counted twice in this file (first on row 2)."),
        RowError(8, "sku", "A bundle has no stock of its own; count its parts."),
        RowError(8, "quantity", "A receipt must be positive."),
    ]
    assert snapshot() == before


def test_a_row_the_ledger_refuses_rolls_back_the_rows_before_it(warehouse, tee, cap):
    stock_receive(sku=tee, warehouse=warehouse, quantity=2)
    before = snapshot()
    content = b"sku,quantity,kind\nCAP-RED,5,receipt\nTEE-BLK-M,-3,adjustment\n"

    with pytest.raises(ImportRejected) as rejected:
        stock_import(filename="adj.csv", content=content)

    assert rejected.value.errors == [RowError(3, "quantity", "Cannot remove 3: only 2 on hand.")]
    assert snapshot() == before
    assert level_of(cap, warehouse) == (0, 0, 0)


@pytest.mark.parametrize(
    ("filename", "content", "error"),
    [
        (
            "stock.txt",
            b"sku,quantity\n",
            RowError(0, "", "Only .csv and .xlsx files can be imported."),
        ),
        ("stock.xlsx", b"not a zip", RowError(0, "", "The file is not a valid XLSX workbook.")),
        ("stock.csv", b"\xff\xfe\x00", RowError(0, "", "The CSV file is not UTF-8.")),
        (
            "stock.csv",
            b"sku,count\nTEE-BLK-M,3\n",
            RowError(1, "quantity", "This column is required."),
        ),
        ("stock.csv", b"sku,quantity\n\n", RowError(0, "", "The file has no rows to import.")),
    ],
)
def test_unreadable_files_are_refused(warehouse, tee, filename, content, error):
    with pytest.raises(ImportRejected) as rejected:
        stock_import(filename=filename, content=content)
    assert rejected.value.errors == [error]
    assert StockMovement.objects.count() == 0


def test_the_import_command_reports_rows_and_refuses_bad_files(warehouse, tee, tmp_path, capsys):
    good = tmp_path / "count.csv"
    good.write_bytes(b"sku,quantity\nTEE-BLK-M,4\n")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"sku,quantity\nTEE-BLK-M,four\n")

    call_command("stock_import", str(good))
    call_command("stock_import", str(good))
    with pytest.raises(CommandError, match=r"1 problem\(s\) in bad.csv; nothing was imported"):
        call_command("stock_import", str(bad))

    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "count.csv: 1 row(s) applied, 0 already applied before",
        "count.csv: 0 row(s) applied, 1 already applied before",
    ]
    assert err.splitlines() == ["row 2, quantity: Must be a whole number."]
    assert level_of(tee, warehouse) == (4, 0, 0)


def test_the_adjust_command_adjusts_with_a_reason(warehouse, tee, capsys):
    Warehouse.objects.create(code="EAST", name="East")
    call_command("stock_adjust", sku="TEE-BLK-M", quantity=5, reason="found", key="k1")
    call_command("stock_adjust", "--sku", "TEE-BLK-M", "--quantity", "5", "--key", "k1")
    call_command("stock_adjust", "--sku", "TEE-BLK-M", "--warehouse", "MAIN", "--quantity", "-2")

    out = capsys.readouterr().out.splitlines()
    assert out == [
        "TEE-BLK-M @ MAIN: adjusted; on hand 5, allocated 0, available 5",
        "TEE-BLK-M @ MAIN: already applied, nothing changed; on hand 5, allocated 0, available 5",
        "TEE-BLK-M @ MAIN: adjusted; on hand 3, allocated 0, available 3",
    ]
    movement = StockMovement.objects.order_by("pk").first()
    assert movement is not None
    assert (movement.reason, movement.actor_label) == (AdjustmentReason.FOUND, "cli")


def test_the_adjust_command_refuses_what_the_ledger_refuses(warehouse, tee):
    before = snapshot()
    with pytest.raises(CommandError, match="Cannot remove 1: only 0 on hand"):
        call_command("stock_adjust", "--sku", "TEE-BLK-M", "--quantity", "-1")
    with pytest.raises(CommandError, match="unknown SKU 'NOPE'"):
        call_command("stock_adjust", "--sku", "NOPE", "--quantity", "1")
    with pytest.raises(CommandError, match="unknown warehouse 'WEST'"):
        call_command("stock_adjust", "--sku", "TEE-BLK-M", "--warehouse", "WEST", "--quantity", "1")
    assert snapshot() == before
