"""Statement files: XLSX (summary + detail sheets) and CSV, and the creator's signed link.

The XLSX has a frozen header, number formats and a totals row written as values, so Excel,
LibreOffice and openpyxl all read the same totals without recalculating.
"""

from __future__ import annotations

import csv
import functools
import io
import math
import multiprocessing
import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core import signing
from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import CharField, F, FloatField, Func
from django.db.models.sql.compiler import SQLCompiler
from django.utils.translation import gettext as _

from aftershow.commissions import xlsx
from aftershow.commissions.models import ZERO, CommissionLine, Statement
from aftershow.core.money import CENT

LINK_SALT = "aftershow.commissions.statement"
# A creator's download link works for 30 days; the team can send a fresh one at any time.
LINK_MAX_AGE_SECONDS = 30 * 24 * 3600


@dataclass(frozen=True)
class DetailRow:
    order_id: str
    placed_at: datetime | None
    seller_sku: str
    product: str
    kind: str
    order_status: str
    base: Decimal
    rate: Decimal | None
    amount: Decimal
    currency: str
    earned_at: datetime | None
    note: str


DETAIL_HEADER = (
    "Order ID", "Placed at (UTC)", "Seller SKU", "Product", "Kind", "Order status",
    "Base", "Rate %", "Amount", "Currency", "Earned at (UTC)", "Note",
)  # fmt: skip


def statement_detail(statement: Statement) -> Iterator[DetailRow]:
    """The statement's rows, order by order (rows without an order last)."""
    rows = (
        CommissionLine.objects.filter(statement=statement)
        .order_by(F("order__placed_at").asc(nulls_last=True), "order_id", "pk")
        .values_list(
            "order__remote_order_id", "order__placed_at", "order_line__seller_sku",
            "order_line__product_name", "kind", "order__platform_status", "base", "rate",
            "amount", "currency", "earned_at", "note",
        )
    )  # fmt: skip
    for row in rows.iterator(chunk_size=2000):
        (
            order_id,
            placed_at,
            sku,
            product,
            kind,
            status,
            base,
            rate,
            amount,
            code,
            earned,
            note,
        ) = row
        yield DetailRow(
            order_id or "", placed_at, sku or "", product or "", kind, status or "", base, rate,
            amount, code, earned, note,
        )  # fmt: skip


def summary_rows(statement: Statement) -> list[tuple[str, object]]:
    creator = statement.creator
    return [
        (_("Creator"), f"@{creator.handle}"),
        (_("Month"), statement.period.strftime("%Y-%m")),
        (_("Status"), statement.get_status_display()),
        (_("Currency"), statement.currency),
        (_("Orders"), statement.orders_count),
        (_("Sales"), statement.sales),
        (_("Valid orders (excluding returns and cancellations)"), statement.valid_orders_count),
        (_("Valid sales"), statement.valid_sales),
        (_("Commission payable (seller-paid)"), statement.commission_payable),
        (_("Deductions carried forward"), statement.deductions_carried_in),
        (_("Below-minimum balance carried forward"), statement.minimum_carried_in),
        (_("Balance"), statement.balance),
        (_("Minimum payout"), statement.minimum_payout),
        (_("Manual hold"), statement.hold_reason if statement.is_held else _("No")),
        (_("Payable now"), statement.payable),
        (_("Carried to next month"), statement.carried_forward),
        (_("Paid by TikTok (information only, not paid by the seller)"),
         statement.platform_commission),
    ]  # fmt: skip


class ExcelSerial(Func):
    """A UTC datetime as Excel's serial number (days since 1899-12-30), computed by the
    database: parsing 190,000 datetimes in Python costs more than the rest of the file."""

    output_field = FloatField()
    template = "CAST(EXTRACT(EPOCH FROM %(expressions)s) / 86400.0 + 25569.0 AS DOUBLE PRECISION)"

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, Any]:
        # Julian day 2415018.5 is 1899-12-30 00:00 UTC.
        template = "(julianday(%(expressions)s) - 2415018.5)"
        return self.as_sql(compiler, connection, template=template, **extra_context)


class NumberText(Func):
    """A number as the text of an XLSX ``<v>`` element, written by the database (SQLite: 15
    significant digits; PostgreSQL: a numeric's own digits, a double's shortest form), so the
    writer pastes it as it comes instead of converting every value in Python."""

    output_field = CharField()
    template = "CAST(%(expressions)s AS TEXT)"


# Stands for the statement's id while the detail query is compiled (any id would do).
_STATEMENT_PLACEHOLDER = -1


@functools.cache
def _xlsx_detail_sql(alias: str, vendor: str) -> str:
    """The detail query's SQL for one database, its one parameter the statement's id: compiled
    once per process, because compiling it (joins, casts) costs about as much as running it for
    a 470-row statement. ``vendor`` is part of the key as the SQL depends on it."""
    rows = (
        CommissionLine.objects.using(alias)
        .filter(statement_id=_STATEMENT_PLACEHOLDER)
        .order_by(F("order__placed_at").asc(nulls_last=True), "order_id", "pk")
        .values_list(
            "order__remote_order_id", NumberText(ExcelSerial("order__placed_at")),
            "order_line__seller_sku", "order_line__product_name", "kind",
            "order__platform_status", NumberText("base"), NumberText("rate"),
            NumberText("amount"), "currency", NumberText(ExcelSerial("earned_at")), "note",
        )
    )  # fmt: skip
    sql, params = rows.query.sql_with_params()
    if list(params) != [_STATEMENT_PLACEHOLDER]:
        raise RuntimeError(f"unexpected parameters in the statement detail query: {params!r}")
    return sql


def _xlsx_detail(statement: Statement) -> Iterator[tuple[Any, ...]]:
    """The detail rows in ``statement_detail``'s order, numbers as ``<v>`` text and times as
    Excel serials, straight from the database cursor: no per-value conversion in Python."""
    alias = router.db_for_read(CommissionLine)
    connection = connections[alias]
    sql = _xlsx_detail_sql(alias, connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [statement.pk])
        while batch := cursor.fetchmany(2000):
            yield from batch


DETAIL_WIDTHS = (22, 18, 16, 32, 12, 14, 12, 9, 12, 9, 18, 40)


def statement_xlsx(statement: Statement) -> bytes:
    """Summary and detail sheets: frozen headers, number formats, a filter on the detail and a
    totals row (values, not formulas). Each detail row is one string template
    (``aftershow.commissions.xlsx`` says why)."""
    book = xlsx.Workbook(created=statement.generated_at)
    summary = book.sheet(_("Summary"), widths=(52, 22))
    summary.append([(_("Item"), xlsx.BOLD), (_("Value"), xlsx.BOLD)])
    for label, value in summary_rows(statement):
        style = xlsx.MONEY if isinstance(value, Decimal) else xlsx.PLAIN
        summary.append([(label, xlsx.PLAIN), (value, style)])

    detail = book.sheet(_("Detail"), widths=DETAIL_WIDTHS, auto_filter=True)
    detail.append([(_(title), xlsx.BOLD) for title in DETAIL_HEADER])
    t = book.strings
    rows = detail.rows
    bases: list[str] = []
    amounts: list[str] = []
    number = 1
    for row in _xlsx_detail(statement):
        order_id, placed, sku, product, kind, status, base, rate, amount, code, earned, note = row
        number += 1
        bases.append(base)
        amounts.append(amount)
        r = number
        if placed is not None and rate is not None and earned is not None:
            # An order's commission row, by far the most common: one f-string.
            rows.append(
                f'<row r="{r}"><c r="A{r}"{t[order_id]}<c r="B{r}" s="4"><v>{placed}</v></c>'
                f'<c r="C{r}"{t[sku]}<c r="D{r}"{t[product]}<c r="E{r}"{t[kind]}'
                f'<c r="F{r}"{t[status]}<c r="G{r}" s="2"><v>{base}</v></c>'
                f'<c r="H{r}" s="3"><v>{rate}</v></c><c r="I{r}" s="2"><v>{amount}</v></c>'
                f'<c r="J{r}"{t[code]}<c r="K{r}" s="4"><v>{earned}</v></c>'
                f'<c r="L{r}"{t[note]}</row>'
            )
            continue
        rows.append(
            f'<row r="{r}"><c r="A{r}"{t[order_id]}'
            + (f'<c r="B{r}" s="4"><v>{placed}</v></c>' if placed is not None else "")
            + f'<c r="C{r}"{t[sku]}<c r="D{r}"{t[product]}<c r="E{r}"{t[kind]}'
            f'<c r="F{r}"{t[status]}<c r="G{r}" s="2"><v>{base}</v></c>'
            + (f'<c r="H{r}" s="3"><v>{rate}</v></c>' if rate is not None else "")
            + f'<c r="I{r}" s="2"><v>{amount}</v></c><c r="J{r}"{t[code]}'
            + (f'<c r="K{r}" s="4"><v>{earned}</v></c>' if earned is not None else "")
            + f'<c r="L{r}"{t[note]}</row>'
        )
    detail.last_row = number
    detail.filter_last_row = number
    # Cent amounts: the exact sum of the doubles (fsum) is within far less than half a cent of
    # the exact decimal total, so rounding it to cents gives that total.
    total_base = _cents(math.fsum(map(float, bases)))
    total_amount = _cents(math.fsum(map(float, amounts)))
    detail.append(
        [
            (_("Total (%(count)s rows)") % {"count": number - 1}, xlsx.BOLD),
            *[(None, xlsx.PLAIN)] * 5,
            (total_base, xlsx.BOLD_MONEY),
            (None, xlsx.PLAIN),
            (total_amount, xlsx.BOLD_MONEY),
            (statement.currency, xlsx.PLAIN),
        ]
    )
    return book.to_bytes()


def _cents(value: float) -> Decimal:
    return Decimal(repr(round(value, 2))).quantize(CENT) + ZERO


def statement_csv(statement: Statement) -> str:
    """The detail sheet as CSV (UTF-8, ISO dates), with the totals row last."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(DETAIL_HEADER)
    total_base = total_amount = ZERO
    for row in statement_detail(statement):
        total_base += row.base
        total_amount += row.amount
        writer.writerow(
            [
                row.order_id,
                row.placed_at.isoformat() if row.placed_at else "",
                row.seller_sku,
                row.product,
                row.kind,
                row.order_status,
                f"{row.base:.2f}",
                f"{row.rate:.2f}" if row.rate is not None else "",
                f"{row.amount:.2f}",
                row.currency,
                row.earned_at.isoformat() if row.earned_at else "",
                row.note,
            ]
        )
    writer.writerow(
        ["Total", "", "", "", "", "", f"{total_base:.2f}", "", f"{total_amount:.2f}",
         statement.currency, "", ""]
    )  # fmt: skip
    return buffer.getvalue()


def statement_file_stem(statement: Statement) -> str:
    return f"statement-{statement.creator.handle}-{statement.period:%Y-%m}"


FILE_FORMATS = ("xlsx", "csv")


def _write_whole(path: Path, data: bytes) -> None:
    """Under a temporary name, then renamed: a reader (or a failed run) never sees part of a
    file, and a file already there is replaced in one step."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


# SQLite: while a month's files are written, the database file is read through a memory map
# of up to this size (``PRAGMA mmap_size``), then unmapped. Each statement's rows are spread over
# the whole table, and reading those pages through the map instead of copying each into the
# page cache took 25 % off the XLSX CPU time (benchmark, 200 statements). The mapped pages are
# the operating system's file cache, shared, not memory of this process's own.
_SQLITE_MMAP_BYTES = 256 * 1024 * 1024


@contextmanager
def _file_mapped_reads() -> Iterator[None]:
    connection = connections[router.db_for_read(CommissionLine)]
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA mmap_size={_SQLITE_MMAP_BYTES}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA mmap_size=0")


def _write_statement_files(
    statements: Sequence[Statement], directory: Path, formats: Sequence[str]
) -> list[Path]:
    with _file_mapped_reads():
        return _write_each(statements, directory, formats)


def _write_each(
    statements: Sequence[Statement], directory: Path, formats: Sequence[str]
) -> list[Path]:
    written = []
    for statement in statements:
        stem = statement_file_stem(statement)
        for file_format in formats:
            path = directory / f"{stem}.{file_format}"
            if file_format == "xlsx":
                _write_whole(path, statement_xlsx(statement))
            else:
                _write_whole(path, statement_csv(statement).encode())
            written.append(path)
    return written


def _write_in_child(
    statements: Sequence[Statement], directory: Path, formats: Sequence[str]
) -> list[Path]:
    """A worker process's share; its own database connections, closed when done (the parent
    closed its own before the fork, so none is inherited)."""
    try:
        return _write_statement_files(statements, directory, formats)
    finally:
        connections.close_all()


def _can_fork() -> bool:
    """Worker processes only from a plain single-threaded process with no open transaction:
    a child cannot see uncommitted rows, and a fork copies other threads' held locks."""
    return (
        "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
        and not any(connection.in_atomic_block for connection in connections.all())
    )


def statements_write_files(
    statements: Sequence[Statement],
    directory: Path,
    *,
    formats: Sequence[str] = FILE_FORMATS,
    workers: int = 2,
) -> list[Path]:
    """Each statement's files (``statement-<handle>-<YYYY-MM>.xlsx`` / ``.csv``) in
    ``directory``, each one written whole. With ``workers`` > 1 the files are shared between
    this process and ``workers - 1`` forked processes, as rendering a month's files is CPU work
    (200 statements: about 2 s on one core); an error in any of them is raised here, after the
    others have stopped. Files already written stay: each is complete and correct."""
    unknown = set(formats) - set(FILE_FORMATS)
    if unknown:
        raise ValueError(f"unknown statement file formats: {sorted(unknown)}")
    directory.mkdir(parents=True, exist_ok=True)
    statements = list(statements)
    workers = max(1, min(workers, len(statements)))
    if workers == 1 or not _can_fork():
        return _write_statement_files(statements, directory, formats)
    # Interleaved shares: statements of similar size land in different processes.
    shares = [statements[index::workers] for index in range(workers)]
    connections.close_all()
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers - 1, mp_context=context) as pool:
        futures = [pool.submit(_write_in_child, share, directory, formats) for share in shares[1:]]
        try:
            written = _write_statement_files(shares[0], directory, formats)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
        for future in futures:
            written += future.result()
    return written


def statement_link_token(statement: Statement) -> str:
    """A signed token naming the statement; no account needed, expires after 30 days."""
    return signing.dumps({"statement": statement.pk}, salt=LINK_SALT, compress=True)


def statement_from_token(token: str, *, max_age: int = LINK_MAX_AGE_SECONDS) -> Statement:
    """The statement a token names; raises ``signing.BadSignature`` (or its subclass
    ``SignatureExpired``) for a forged or expired token."""
    payload = signing.loads(token, salt=LINK_SALT, max_age=max_age)
    return Statement.objects.select_related("creator").get(pk=payload["statement"])
