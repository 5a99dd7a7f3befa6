"""A month's statement files written by more than one process: every file whole and readable,
the same as one process writes, and an error in a worker raised to the caller."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from aftershow.commissions import exports
from aftershow.commissions.exports import _can_fork, statement_xlsx, statements_write_files
from aftershow.commissions.ledger import (
    commission_lines_accrue,
    commission_lines_settle,
    unaccrued_order_lines,
)
from aftershow.commissions.models import Statement
from aftershow.commissions.statements import statements_generate
from aftershow.commissions.tests.conftest import OrderMaker, collaborate
from aftershow.creators.models import Creator
from aftershow.orders.tests.factories import CreatorFactory

OCTOBER = date(2026, 10, 1)
NOV_2 = datetime(2026, 11, 2, tzinfo=UTC)


def _month(creator: Creator, make_order: OrderMaker) -> list[Statement]:
    creators = [creator] + [collaborate(CreatorFactory(handle=f"c{n}.live")) for n in range(4)]
    for n in range(25):
        make_order(
            creator=creators[n % len(creators)],
            placed_at=datetime(2026, 10, 1 + n, 12, tzinfo=UTC),
            price=Decimal("10.00") + n,
        )
    commission_lines_accrue(order_lines=unaccrued_order_lines())
    commission_lines_settle(now=datetime(2026, 10, 31, tzinfo=UTC))
    statements = statements_generate(period=OCTOBER, now=NOV_2).statements
    assert len(statements) == 5
    return statements


@pytest.fixture
def idle_threads_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    """Earlier tests of a full run leave idle pool threads behind (Apprise's executor), which
    hold no lock; here the process may fork as the single-threaded CLI process does."""
    monkeypatch.setattr(exports.threading, "active_count", lambda: 1)


def _sheets(content: Path | bytes) -> dict[str, list[tuple[object, ...]]]:
    from io import BytesIO

    workbook = load_workbook(BytesIO(content) if isinstance(content, bytes) else content)
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in workbook}


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("idle_threads_ignored")
def test_files_from_two_processes_match_one_process(
    creator: Creator, make_order: OrderMaker, tmp_path: Path
) -> None:
    statements = _month(creator, make_order)
    assert _can_fork()  # otherwise this test would not exercise the worker process

    written = statements_write_files(statements, tmp_path / "two", workers=2)
    single = statements_write_files(statements, tmp_path / "one", workers=1)

    assert sorted(path.name for path in written) == sorted(path.name for path in single)
    assert len(written) == 10  # XLSX and CSV for each of the 5 statements
    assert sorted(path.name for path in (tmp_path / "two").iterdir()) == sorted(
        path.name for path in written
    )  # nothing else: no temporary file left behind
    for statement in statements:
        stem = f"statement-{statement.creator.handle}-2026-10"
        sheets = _sheets(tmp_path / "two" / f"{stem}.xlsx")
        assert sheets == _sheets(tmp_path / "one" / f"{stem}.xlsx")
        assert sheets == _sheets(statement_xlsx(statement))
        detail = sheets["Detail"]
        assert len(detail) == 2 + 5  # header, 5 orders, totals
        assert Decimal(str(detail[-1][8])) == statement.commission_payable
        assert (tmp_path / "two" / f"{stem}.csv").read_bytes() == (
            tmp_path / "one" / f"{stem}.csv"
        ).read_bytes()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("idle_threads_ignored")
def test_an_error_in_the_worker_process_is_raised_and_leaves_no_partial_file(
    creator: Creator, make_order: OrderMaker, tmp_path: Path
) -> None:
    statements = _month(creator, make_order)
    assert _can_fork()
    # The second statement is the worker's (shares are interleaved): its XLSX cannot be
    # written where a directory stands.
    blocked = statements[1]
    (tmp_path / f"statement-{blocked.creator.handle}-2026-10.xlsx").mkdir()

    with pytest.raises(IsADirectoryError):
        statements_write_files(statements, tmp_path, formats=("xlsx",), workers=2)

    names = {path.name for path in tmp_path.iterdir()}
    assert not [name for name in names if name.endswith(".part")]
    # The parent's share was written, each file whole.
    for statement in statements[0::2]:
        path = tmp_path / f"statement-{statement.creator.handle}-2026-10.xlsx"
        assert _sheets(path)["Detail"][-1][0] == f"Total ({statement.lines.count()} rows)"


@pytest.mark.usefixtures("idle_threads_ignored")
def test_inside_a_transaction_the_files_are_written_in_this_process(
    creator: Creator, make_order: OrderMaker, tmp_path: Path
) -> None:
    # The test runs in a transaction: a worker could not see its rows, so none is started.
    statements = _month(creator, make_order)
    assert not _can_fork()
    written = statements_write_files(statements, tmp_path, formats=("xlsx",), workers=2)
    assert len(written) == 5
    for path in written:
        assert _sheets(path)["Detail"][0][0] == "Order ID"
