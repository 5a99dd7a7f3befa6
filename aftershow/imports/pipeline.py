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
- Orders cross the pipe as tuples of their fields, not pickled dataclasses: unpickling an
  object rebuilds its ``__dict__`` key by key, which cost the writer about 3 s of CPU per
  100,000 rows; plain tuples unpickle about ten times faster.
- A reader that dies (killed, out of memory, a bug) is an internal error naming its exit code;
  a writer that stops (a database error) closes the pipe and ends the reader.

The reader never touches the database (it only inherits the connection objects, unused, and
leaves through ``os._exit`` as multiprocessing's children do). Where fork is not available
(or inside a daemonic process, which may not have children) the same batches are read in
this process, one after the other.
"""

from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import fields
from multiprocessing.connection import Connection
from operator import attrgetter
from pathlib import Path
from typing import Any, TypeVar

from django.utils import translation
from django.utils.translation import gettext as _

from aftershow.imports.headers import detect
from aftershow.imports.orders import FileOrder, OrderExport, SkuRow
from aftershow.imports.reader import open_table
from aftershow.imports.report import MAX_STORED_ISSUES, ImportReport, Issue
from aftershow.imports.values import DamagedIdError, FatalImportError, MixedRegionError
from aftershow.orders.types import IncomingAddress

# Seconds the writer waits for a reader to leave once the pipe is closed, before killing it.
READER_EXIT_TIMEOUT = 5.0
_FATAL_TYPES: dict[str, type[FatalImportError]] = {
    kind.__name__: kind for kind in (FatalImportError, DamagedIdError, MixedRegionError)
}
# What the report counts, sent with every batch: rows read, rows skipped, orders in the file,
# errors, warnings, and the issues added since the batch before.
Progress = tuple[int, int, int, int, int, list[Issue]]


_ORDER_FIELDS = tuple(f.name for f in fields(FileOrder) if f.name not in ("address", "skus"))
_ADDRESS_FIELDS = tuple(f.name for f in fields(IncomingAddress))
_SKU_FIELDS = tuple(f.name for f in fields(SkuRow))
_order_values = attrgetter(*_ORDER_FIELDS)
_address_values = attrgetter(*_ADDRESS_FIELDS)
_sku_values = attrgetter(*_SKU_FIELDS)
T = TypeVar("T")
EncodedOrder = tuple[tuple[Any, ...], tuple[Any, ...], list[tuple[Any, ...]]]


def encode(order: FileOrder) -> EncodedOrder:
    """A parsed order as plain tuples, the form in which it crosses the pipe."""
    return (
        _order_values(order),
        _address_values(order.address),
        [_sku_values(sku) for sku in order.skus],
    )


def _rebuild(kind: type[T], names: Sequence[str], values: Sequence[Any]) -> T:
    # The fields are set as the dataclass's own __init__ would (these classes have no
    # __post_init__ and no slots), without its per-field call overhead; frozen classes too.
    instance = object.__new__(kind)
    instance.__dict__.update(zip(names, values, strict=True))
    return instance


def decode(encoded: EncodedOrder) -> FileOrder:
    values, address, skus = encoded
    order = _rebuild(FileOrder, _ORDER_FIELDS, values)
    order.address = _rebuild(IncomingAddress, _ADDRESS_FIELDS, address)
    order.skus = [_rebuild(SkuRow, _SKU_FIELDS, sku) for sku in skus]
    return order


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
    path: Path, shop_region: str, report: ImportReport, batch_size: int
) -> Iterator[list[FileOrder]]:
    with open_table(path, detect) as table:
        export = OrderExport(table, shop_region=shop_region)
        batch: list[FileOrder] = []
        for order in export.orders(table.rows, report):
            batch.append(order)
            if len(batch) >= batch_size:
                yield batch
                batch = []
        if batch:
            yield batch


def _read(
    path: Path, shop_region: str, language: str | None, batch_size: int, sender: Connection
) -> None:
    """The reader process: every batch of the file, then how it ended, through ``sender``."""
    report = ImportReport()
    progress = _Progress(report)
    message: tuple[str, Any, Progress]
    try:
        with translation.override(language):
            for batch in _batches(path, shop_region, report, batch_size):
                sender.send(("orders", [encode(order) for order in batch], progress()))
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
) -> Iterator[list[FileOrder]]:
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
            yield [decode(encoded) for encoded in payload]
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
    path: Path, *, shop_region: str, report: ImportReport, batch_size: int
) -> Iterator[Iterator[list[FileOrder]]]:
    """The parsed orders of the export at ``path``, ``batch_size`` at a time, read ahead by a
    reader process; row problems go to ``report``, fatal ones are raised by the iterator.

    Enter it before the transaction that writes the batches (the reader is forked outside it).
    """
    if not _can_fork():
        yield _batches(path, shop_region, report, batch_size)
        return
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    reader = context.Process(
        target=_read,
        args=(path, shop_region, translation.get_language(), batch_size, sender),
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
