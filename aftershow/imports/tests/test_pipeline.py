"""The order export's reader process: same result as reading in-process, orders intact across
the pipe, and a reader that dies is an internal error that leaves the database unchanged."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aftershow.imports import ingest, pipeline, services
from aftershow.imports.headers import detect
from aftershow.imports.models import ImportRun, ImportStatus
from aftershow.imports.orders import FileOrder, OrderExport
from aftershow.imports.reader import open_table
from aftershow.imports.report import ImportReport
from aftershow.imports.tests.conftest import ImportFile, fingerprint
from aftershow.imports.tests.files import order_row, write_export
from aftershow.sandbox.tiktok.exports import write_synthetic_export
from aftershow.shops.models import Channel

pytestmark = pytest.mark.django_db

IDS = [f"5763251553229{number:05d}" for number in range(11, 17)]


def messy_export(path: Path) -> Path:
    """Good orders, a multi-SKU one, a bad amount (skipped order), an unknown state (warning)."""
    return write_export(
        path,
        [
            order_row(IDS[0]),
            order_row(IDS[1], **{"SKU ID": "1729385739601", "Quantity": "3"}),
            order_row(IDS[1], **{"SKU ID": "1729385739602", "Seller SKU": "MUG-2"}),
            order_row(IDS[2], **{"SKU Unit Original Price": "twelve"}),
            order_row(IDS[3], **{"State": "Atlantis"}),
            order_row(IDS[4], **{"Order Status": "Shipped", "Order Substatus": "Delivered"}),
        ],
    )


def report_of(run: ImportRun) -> tuple[object, ...]:
    return (
        run.status,
        run.rows_read,
        run.rows_skipped,
        run.orders_in_file,
        run.orders_created,
        run.errors_count,
        run.warnings_count,
        sorted(run.issues.values_list("row_number", "column", "severity", "message")),
    )


def test_the_reader_process_gives_what_reading_in_process_gives(
    import_path: ImportFile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = messy_export(tmp_path / "export.csv")
    monkeypatch.setattr(services, "ORDER_BATCH", 2)
    forked = import_path(path)
    stored = fingerprint()
    assert forked.status == ImportStatus.SUCCEEDED
    assert (forked.orders_created, forked.errors_count, forked.warnings_count) == (4, 1, 1)

    monkeypatch.setattr(pipeline, "_can_fork", lambda: False)
    monkeypatch.setattr(services, "ORDER_BATCH", 1000)
    again = import_path(path)  # the same file again, in-process: nothing changes
    assert fingerprint() == stored
    assert report_of(again)[1:4] == report_of(forked)[1:4]
    assert report_of(again)[5:] == report_of(forked)[5:]
    assert again.orders_unchanged == 4


def test_orders_cross_the_pipe_unchanged(tmp_path: Path) -> None:
    path = messy_export(tmp_path / "export.csv")
    with open_table(path, detect) as table:
        orders: list[FileOrder] = list(
            OrderExport(table, shop_region="US").orders(table.rows, ImportReport())
        )
    assert len(orders) == 4
    assert [ingest.decode(ingest.encode(order)) for order in orders] == orders
    assert orders[1].skus[0].quantity == 3


def test_reading_happens_in_another_process(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    write_synthetic_export(path, orders=30, seed=3)
    seen: list[int] = []
    report = ImportReport()
    with pipeline.order_batches(
        path, shop_region="US", channel=Channel.TIKTOK, report=report, batch_size=7
    ) as batches:
        for batch in batches:
            seen.append(len(batch))
    assert sum(seen) == 30 == report.orders_in_file
    assert max(seen) == 7
    assert report.rows_read >= 30


def test_a_reader_that_dies_is_an_internal_error_and_nothing_is_stored(
    import_path: ImportFile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_path(write_export(tmp_path / "first.csv", [order_row(IDS[5])]))
    before = fingerprint()
    path = tmp_path / "export.csv"
    write_synthetic_export(path, orders=40, seed=2)
    parse = OrderExport.parse
    parsed = 0

    def dies_midway(self: OrderExport, group: object, report: ImportReport) -> FileOrder:
        nonlocal parsed
        parsed += 1
        if parsed > 25:  # in the reader process: after some batches were written
            os._exit(3)
        return parse(self, group, report)  # type: ignore[arg-type]

    monkeypatch.setattr(OrderExport, "parse", dies_midway)
    monkeypatch.setattr(services, "ORDER_BATCH", 5)
    with pytest.raises(pipeline.ImportReaderError, match=r"exit code 3"):
        import_path(path)
    run = ImportRun.objects.latest("pk")
    assert run.status == ImportStatus.FAILED
    assert run.fatal_error == "The import stopped on an internal error."
    assert fingerprint() == before
    assert parsed == 0  # this process parsed nothing: the reader did
