"""An order export is read and parsed in a second process while this one writes it.

Reading the CSV, grouping rows into orders and parsing their cells is a third of an import's CPU
time and needs nothing from the database, so on a machine with a spare core it overlaps with
the writing (the queries, the inserts, allocation) instead of alternating with it. The reader
is a forked child process (threads would share one interpreter lock: measured, no gain, see
docs/decisions-imports.md); it sends the parsed orders in batches through a pipe:

- The pipe is the bound on memory: the reader blocks on ``send`` until the writer has taken the
  batch before, so at most a batch in the pipe and one being parsed exist besides the writer's.
- What the writer needs of the report (rows read and skipped, orders in the file, the issues
  with their row and column) comes with every batch, so the report is the same as when one
  process does both.
- A fatal problem of the file (Excel-damaged ids, a row of another region, a truncated end, a
  re-sorted file) found by the reader is raised in the writer as the same ``FatalImportError``,
  inside the writer's transaction: everything written before it is rolled back, as before.
- Orders cross the pipe as the rows that store them if they are new, converted for the
  database driver, with the parsed order itself pickled as plain tuples beside them
  (aftershow/imports/ingest.py): building those rows was a third of the writer's CPU, and
  the writer only unpickles the parsed order of an order it already has.
- A reader that dies (killed, out of memory, a bug) is an internal error naming its exit code;
  a writer that stops (a database error) closes the pipe and ends the reader.

The reader never touches the database (it only inherits the connection objects, unused, and
leaves through ``os._exit`` as multiprocessing's children do). Where fork is not available
(or inside a daemonic process, which may not have children) the same batches are read in
this process, one after the other.
"""

from __future__ import annotations

import gc
import multiprocessing
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from aftershow.imports.headers import detect
from aftershow.imports.ingest import OrderPreparer, PreparedOrder
from aftershow.imports.orders import OrderExport
from aftershow.imports.reader import open_table
from aftershow.imports.report import MAX_STORED_ISSUES, ImportReport, Issue
from aftershow.imports.values import DamagedIdError, FatalImportError, MixedRegionError

# Seconds the writer waits for a reader to leave once the pipe is closed, before killing it.
READER_EXIT_TIMEOUT = 5.0
_FATAL_TYPES: dict[str, type[FatalImportError]] = {
    kind.__name__: kind for kind in (FatalImportError, DamagedIdError, MixedRegionError)
}
# What the report counts, sent with every batch: rows read, rows skipped, orders in the file,
# errors, warnings, and the issues added since the batch before.
Progress = tuple[int, int, int, int, int, list[Issue]]


class ImportReaderError(RuntimeError):
    """The reader process ended without finishing the file (an internal error, not the file's)."""


def _can_fork() -> bool:
    return (
        "fork" in multiprocessing.get_all_start_methods()
        and not multiprocessing.current_process().daemon
    )


class _Progress:
    def __init__(self, report: ImportReport) -> None:
        self.report = report
        self.sent_issues = 0

    def __call__(self) -> Progress:
        report = self.report
        issues = report.issues[self.sent_issues :]
        self.sent_issues = len(report.issues)
        return (
            report.rows_read,
            report.rows_skipped,
            report.orders_in_file,
            report.errors_count,
            report.warnings_count,
            issues,
        )


def _batches(
    path: Path, shop_region: str, channel: str, report: ImportReport, batch_size: int
) -> Iterator[list[PreparedOrder]]:
    prepare = OrderPreparer(channel=channel)
    with open_table(path, detect) as table:
        export = OrderExport(table, shop_region=shop_region)
        batch: list[PreparedOrder] = []
        for order in export.orders(table.rows, report):
            batch.append(prepare(order))
            if len(batch) >= batch_size:
                yield batch
                batch = []
        if batch:
            yield batch


def _read(
    path: Path,
    shop_region: str,
    channel: str,
    language: str | None,
    batch_size: int,
    sender: Connection,
) -> None:
    """The reader process: every batch of the file, then how it ended, through ``sender``."""
    report = ImportReport()
    progress = _Progress(report)
    message: tuple[str, Any, Progress]
    try:
        with translation.override(language):
            for batch in _batches(path, shop_region, channel, report, batch_size):
                sender.send(("orders", batch, progress()))
        message = ("done", None, progress())
    except FatalImportError as error:
        fatal = (type(error).__name__, error.message, error.row, error.column)
        message = ("fatal", fatal, progress())
    except BrokenPipeError:
        return  # the writer stopped: nobody is listening any more
    except BaseException:
        message = ("error", traceback.format_exc(), progress())
    try:
        sender.send(message)
    except BrokenPipeError:
        pass
    finally:
        sender.close()


def _merge(report: ImportReport, progress: Progress) -> None:
    (
        report.rows_read,
        report.rows_skipped,
        report.orders_in_file,
        report.errors_count,
        report.warnings_count,
        issues,
    ) = progress
    room = MAX_STORED_ISSUES - len(report.issues)
    report.issues.extend(issues[: max(room, 0)])


def _receive(
    receiver: Connection, reader: multiprocessing.process.BaseProcess, report: ImportReport
) -> Iterator[list[PreparedOrder]]:
    while True:
        try:
            kind, payload, progress = receiver.recv()
        except EOFError:
            reader.join(READER_EXIT_TIMEOUT)
            raise ImportReaderError(
                _("The file reader process stopped before the end of the file (exit code %s).")
                % reader.exitcode
            ) from None
        _merge(report, progress)
        if kind == "orders":
            yield payload
        elif kind == "done":
            return
        elif kind == "fatal":
            name, message, row, column = payload
            raise _FATAL_TYPES.get(name, FatalImportError)(message, row=row, column=column)
        else:
            raise ImportReaderError(
                _("The file reader process failed:\n%(traceback)s") % {"traceback": payload}
            )


@contextmanager
def order_batches(
    path: Path, *, shop_region: str, channel: str, report: ImportReport, batch_size: int
) -> Iterator[Iterator[list[PreparedOrder]]]:
    """The parsed orders of the export at ``path``, prepared for a shop of ``channel``,
    ``batch_size`` at a time, read ahead by a reader process; row problems go to ``report``,
    fatal ones are raised by the iterator.

    Enter it before the transaction that writes the batches (the reader is forked outside it).
    """
    # Both processes allocate millions of short-lived tuples, which set off the collector's
    # full passes over every object of the process (Django, the caller's): frozen, the objects
    # that existed before are left out of them until the import ends (in the reader, which
    # inherits it, for good). Measured at 40,000 rows, alternated: 5.3-5.5 s instead of
    # 6.7-7.0 s of CPU in each process. Process-wide but harmless: garbage that existed
    # before is collected after the import instead of during it (as in burst_process).
    gc.freeze()
    try:
        with _order_batches(
            path, shop_region=shop_region, channel=channel, report=report, batch_size=batch_size
        ) as batches:
            yield batches
    finally:
        gc.unfreeze()


@contextmanager
def _order_batches(
    path: Path, *, shop_region: str, channel: str, report: ImportReport, batch_size: int
) -> Iterator[Iterator[list[PreparedOrder]]]:
    if not _can_fork():
        yield _batches(path, shop_region, channel, report, batch_size)
        return
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    reader = context.Process(
        target=_read,
        args=(path, shop_region, channel, translation.get_language(), batch_size, sender),
        name="aftershow-import-reader",
    )
    reader.start()
    sender.close()
    try:
        yield _receive(receiver, reader, report)
    finally:
        receiver.close()  # a reader still sending gets a broken pipe and leaves
        reader.join(READER_EXIT_TIMEOUT)
        if reader.exitcode is None:
            reader.kill()
            reader.join()
        reader.close()
