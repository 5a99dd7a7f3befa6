"""Files that must import nothing: each ends in a clear message and an unchanged database.

Every test first imports a good export, so "unchanged" means something, and writes orders one
at a time (``ORDER_BATCH = 1``) so the bad part of a file is met after good orders were already
written: the whole import still rolls back.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from aftershow.imports import services
from aftershow.imports.models import ImportRun, ImportStatus
from aftershow.imports.tests.conftest import ImportFile, fingerprint
from aftershow.imports.tests.files import (
    ORDER_ID,
    order_row,
    replace_in_file,
    write_export,
    write_table,
)
from aftershow.orders.tests.factories import ShopFactory
from aftershow.shops.models import Channel

pytestmark = pytest.mark.django_db

IDS = [f"5763251553229{number:05d}" for number in range(11, 16)]


@pytest.fixture(autouse=True)
def _one_order_per_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "ORDER_BATCH", 1)


@pytest.fixture
def before(import_path: ImportFile, tmp_path: Path) -> dict[str, object]:
    run = import_path(write_export(tmp_path / "first.csv", [order_row()]))
    assert run.status == ImportStatus.SUCCEEDED
    return fingerprint()


def five_orders(**values: object) -> list[dict[str, object]]:
    return [order_row(order_id, **values) for order_id in IDS]


def refused(run: ImportRun, before: dict[str, object], *expected: str) -> None:
    assert run.status == ImportStatus.FAILED
    for text in expected:
        assert text in run.fatal_error, run.fatal_error
    assert (run.orders_created, run.orders_updated, run.records_created) == (0, 0, 0)
    assert fingerprint() == before


def test_an_empty_file(before, import_path: ImportFile, tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf\r\n")
    refused(import_path(tmp_path / "empty.csv"), before, "The file is empty.")
    refused(import_path(tmp_path / "bom.csv"), before, "The file is empty.")


def test_an_export_with_no_orders_imports_zero_rows(
    before, import_path: ImportFile, tmp_path: Path
) -> None:
    run = import_path(write_export(tmp_path / "To Ship order.csv", []))
    assert (run.status, run.rows_read, run.orders_created) == (ImportStatus.SUCCEEDED, 0, 0)
    assert fingerprint() == before


def test_another_marketplaces_export(before, import_path: ImportFile, tmp_path: Path) -> None:
    amazon = write_table(
        tmp_path / "orders.txt",
        ["amazon-order-id", "merchant-order-id", "purchase-date", "sku", "quantity-purchased"],
        [["112-1234567-1234567", "", "2026-03-06T19:58:54+00:00", "TEE-BLK-M", "1"]],
    )
    shopify = write_table(
        tmp_path / "orders_export.csv",
        ["Name", "Email", "Financial Status", "Paid at", "Lineitem quantity", "Lineitem name"],
        [["#1001", "a@example.com", "paid", "2026-03-06 11:58:54 -0800", "1", "Tee"]],
    )
    refused(import_path(amazon), before, "looks like an Amazon order report")
    refused(import_path(shopify), before, "looks like a Shopify order report")
    unknown = write_table(tmp_path / "x.csv", ["Order", "Tracking"], [["1", "2"]])
    refused(import_path(unknown), before, "Not a TikTok Shop export", "Order, Tracking")


def test_a_file_cut_inside_a_quoted_cell(before, import_path: ImportFile, tmp_path: Path) -> None:
    path = write_export(tmp_path / "x.csv", five_orders())
    data = path.read_bytes()
    path.write_bytes(data[: data.rindex(b"Newton, New Jersey")])
    refused(import_path(path), before, "truncated")


def test_a_file_cut_between_two_cells(before, import_path: ImportFile, tmp_path: Path) -> None:
    path = write_export(tmp_path / "x.csv", five_orders())
    data = path.read_bytes()
    path.write_bytes(data[: data.rindex(b",PayPal,")])
    run = import_path(path)
    refused(run, before, "Row 6 has 54 of the header's 63 columns", "truncated")


def test_a_truncated_xlsx(before, import_path: ImportFile, tmp_path: Path) -> None:
    path = write_export(tmp_path / "x.xlsx", five_orders(), file_format="xlsx")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    refused(import_path(path), before, "XLSX file is truncated or damaged")


def test_ids_in_scientific_notation(before, import_path: ImportFile, tmp_path: Path) -> None:
    path = write_export(tmp_path / "x.csv", five_orders(), trailing_tabs=False)
    replace_in_file(path, IDS[-1], "5.76325E+17")
    run = import_path(path)
    refused(run, before, "Order ID '5.76325E+17' is in scientific notation", "Excel")
    assert run.issues.get().row_number == 6


def test_ids_whose_last_digits_excel_turned_to_zeros(
    before, import_path: ImportFile, tmp_path: Path
) -> None:
    rows = [
        order_row(
            f"5763251553229{number}000",
            **{
                "SKU ID": "1732943538931180000",
                "Product ID": "1722027977041420000",
                "Package ID": f"1154603763412{number}0000",
            },
        )
        for number in range(11, 16)
    ]
    run = import_path(write_export(tmp_path / "x.csv", rows, trailing_tabs=False))
    refused(run, before, "20 of the file's 20 long ids end in zeros", "Excel")


def test_a_mixed_region_file(before, import_path: ImportFile, tmp_path: Path) -> None:
    rows = five_orders()
    rows[-1] = {**rows[-1], "Country": "Malaysia", "State": "Selangor"}
    refused(
        import_path(write_export(tmp_path / "a.csv", rows)), before, "Malaysia", "mixes regions"
    )
    rows = five_orders()
    rows[-1] = {**rows[-1], "Order Amount": "MXN 160.00"}
    refused(import_path(write_export(tmp_path / "b.csv", rows)), before, "MXN 160.00")
    rows = five_orders()
    rows[-1] = {**rows[-1], "Created Time": "25/06/2026 13:03:57"}
    refused(import_path(write_export(tmp_path / "c.csv", rows)), before, "day-first")


def test_another_regions_layout(before, import_path: ImportFile, tmp_path: Path) -> None:
    header = ["Order ID", "Order Status", "Order Substatus", "SKU Subtotal After Discount",
              "Province", "Regency and City", "Districts", "Villages"]  # fmt: skip
    path = write_table(
        tmp_path / "x.csv", header, [[ORDER_ID, "To ship", "", "IDR 10.000"] + [""] * 4]
    )
    refused(import_path(path), before, "region ID", "the shop is in US")


def test_rows_re_sorted_in_a_spreadsheet(before, import_path: ImportFile, tmp_path: Path) -> None:
    rows = five_orders()
    second_line = order_row(IDS[0], **{"SKU ID": "1732943538931176615", "Seller SKU": "TEE-WHT-L"})
    refused(
        import_path(write_export(tmp_path / "x.csv", [*rows, second_line])),
        before,
        f"The rows of order {IDS[0]} are not together",
    )


def test_a_renamed_column(before, import_path: ImportFile, tmp_path: Path) -> None:
    path = write_export(tmp_path / "x.csv", five_orders())
    replace_in_file(path, ",Quantity,", ",Qty,", count=1)
    refused(import_path(path), before, "lacks the columns Quantity")


def test_an_old_excel_file_and_a_non_utf8_file(
    before, import_path: ImportFile, tmp_path: Path
) -> None:
    (tmp_path / "x.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    refused(import_path(tmp_path / "x.xls"), before, "Excel 97-2003")
    path = write_export(tmp_path / "x.csv", five_orders(), byte_order_mark=False)
    path.write_bytes(path.read_bytes().replace(b"Newton", "Néwton".encode("latin-1")))
    refused(import_path(path), before, "not UTF-8")


def test_an_xlsx_of_another_kind(before, import_path: ImportFile, tmp_path: Path) -> None:
    workbook = Workbook()
    workbook.active.append(["Name", "Email", "Financial Status", "Lineitem name"])
    workbook.save(tmp_path / "x.xlsx")
    refused(import_path(tmp_path / "x.xlsx"), before, "Shopify")


def test_a_shop_of_another_channel(before, import_path: ImportFile, tmp_path: Path) -> None:
    amazon_shop = ShopFactory(channel=Channel.AMAZON)
    run = import_path(write_export(tmp_path / "x.csv", five_orders()), into=amazon_shop)
    refused(run, before, "is not a TikTok Shop shop")


def test_an_xlsx_whose_ids_excel_stored_as_numbers(
    before, import_path: ImportFile, tmp_path: Path
) -> None:
    path = write_export(tmp_path / "x.xlsx", five_orders(), file_format="xlsx", trailing_tabs=False)
    workbook = load_workbook(path)
    sheet = workbook.active
    for (cell,) in sheet.iter_rows(min_row=2, max_col=1):
        cell.value = float(cell.value)  # what Excel keeps of an 18-digit id: a double
    workbook.save(path)
    run = import_path(path)
    refused(run, before, "Order ID '5.763251553229E+17' is in scientific notation")
