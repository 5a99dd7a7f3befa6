"""Importing a file: detect it, then write all of it or nothing, streaming.

The header is read and checked first (format, layout, region, key columns): a wrong file is
refused before any transaction starts. Then the rows are read one at a time, grouped into
orders (by a reader process, :mod:`aftershow.imports.pipeline`, while this process writes)
and written in batches of ``ORDER_BATCH`` through ``orders_upsert``, all inside one
transaction: a fatal problem met anywhere (Excel-damaged ids, a row of another region, a
truncated end, re-sorted rows) or a database error rolls back every batch before it, so the
database ends unchanged or fully updated, never half. Memory holds one batch, not the file.

Affiliate, finance and returns files are read twice: once to settle their date order (which
only the whole file tells) and catch fatal problems, then to write in one transaction.

On SQLite the transaction holds the database's single write lock while the file is written;
webhooks and workers wait on the 30-second busy timeout meanwhile (TikTok retries a webhook
that times out). PostgreSQL only locks the orders being written. The run and its report are
written outside the transaction, so a refused file still leaves its report.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftershow.accounts.models import User
from aftershow.imports.headers import detect
from aftershow.imports.ingest import PreparedOrder, orders_write
from aftershow.imports.models import (
    FileFormat,
    ImportIssue,
    ImportRun,
    ImportSource,
    ImportStatus,
    IssueSeverity,
)
from aftershow.imports.orders import OrderExport
from aftershow.imports.pipeline import order_batches
from aftershow.imports.reader import open_table
from aftershow.imports.records import FORMATS, RETURNS, RecordFile, records_upsert
from aftershow.imports.report import ImportReport
from aftershow.imports.values import FatalImportError
from aftershow.orders.services import UpsertResult
from aftershow.shops.models import Channel, Shop

# Orders per orders_upsert call: big enough to amortise its queries, small enough to keep a
# batch's objects (a few MB) out of the way of the memory bound.
ORDER_BATCH = 1000


def import_file(
    *,
    shop: Shop,
    path: Path,
    file_name: str,
    source: ImportSource,
    user: User | None = None,
) -> ImportRun:
    """Import one Seller Center / Affiliate Center file into ``shop``; returns its report.

    A refused file comes back with status FAILED and ``fatal_error`` set; nothing of it is
    stored. Errors other than the file's (e.g. the database going away) are raised, after the
    run is marked failed.
    """
    run = ImportRun.objects.create(
        shop=shop,
        file_name=file_name[:255],
        file_size=path.stat().st_size,
        source=source,
        created_by=user if user is not None and user.pk else None,
    )
    report = ImportReport()
    try:
        if shop.channel != Channel.TIKTOK:
            raise FatalImportError(
                _("%(shop)s is not a TikTok Shop shop: these files can only be imported into one.")
                % {"shop": shop}
            )
        _import(shop=shop, path=path, run=run, report=report)
    except FatalImportError as error:
        _finish(run, report, fatal=error)
    except BaseException:
        _finish(run, report, fatal=FatalImportError(_("The import stopped on an internal error.")))
        raise
    else:
        _finish(run, report)
    return run


def _import(*, shop: Shop, path: Path, run: ImportRun, report: ImportReport) -> None:
    with open_table(path, detect) as table:
        run.detected_format = table.detection.format
        run.layout = table.detection.layout
        if table.detection.format == FileFormat.ORDER_EXPORT:
            # The header's problems (layout, region, missing columns) are found here, before
            # the transaction; the rows' are found while writing, and roll everything back.
            OrderExport(table, shop_region=shop.region)
        else:
            records = RecordFile(
                table, FORMATS[FileFormat(table.detection.format)], shop_region=shop.region
            )
            records.sniff(table.rows, report)
    if run.detected_format == FileFormat.ORDER_EXPORT:
        # Read and parsed by a reader process while this one writes (imports/pipeline.py).
        with (
            order_batches(
                path,
                shop_region=shop.region,
                channel=shop.channel,
                report=report,
                batch_size=ORDER_BATCH,
            ) as batches,
            transaction.atomic(),
        ):
            for batch in batches:
                _write_orders(shop, batch, run, report)
        return
    # Affiliate, finance and returns files: the date order is only known once the whole file
    # was read, so they are read twice (they are small next to order exports).
    with open_table(path, detect) as table, transaction.atomic():
        records.write(table.rows, report, shop_id=shop.pk, run=run)


def _write_orders(
    shop: Shop, batch: list[PreparedOrder], run: ImportRun, report: ImportReport
) -> None:
    report.orders += orders_write(shop=shop, batch=batch)
    returns = [record for order in batch for record in order.returns]
    if returns:
        created, updated, unchanged = records_upsert(RETURNS, shop.pk, returns, run)
        report.records_created += created
        report.records_updated += updated
        report.records_unchanged += unchanged


def _finish(run: ImportRun, report: ImportReport, *, fatal: FatalImportError | None = None) -> None:
    if fatal is not None:
        # Nothing was written: whatever the write pass had counted was rolled back.
        report.orders = UpsertResult()
        report.records_created = report.records_updated = report.records_unchanged = 0
        report.add(IssueSeverity.ERROR, fatal.message, row=fatal.row, column=fatal.column)
    run.status = ImportStatus.FAILED if fatal is not None else ImportStatus.SUCCEEDED
    run.fatal_error = fatal.message if fatal is not None else ""
    run.rows_read = report.rows_read
    run.rows_skipped = report.rows_skipped
    run.orders_in_file = report.orders_in_file
    run.orders_created = report.orders.created
    run.orders_updated = report.orders.updated
    run.orders_unchanged = report.orders.unchanged
    run.orders_stale = report.orders.stale
    run.records_created = report.records_created
    run.records_updated = report.records_updated
    run.records_unchanged = report.records_unchanged
    run.errors_count = report.errors_count
    run.warnings_count = report.warnings_count
    run.finished_at = timezone.now()
    run.save()
    ImportIssue.objects.bulk_create(
        ImportIssue(
            run=run,
            row_number=issue.row,
            column=issue.column[:80],
            severity=issue.severity,
            message=issue.message,
        )
        for issue in report.issues
    )


def import_upload(
    *, shop: Shop, upload: UploadedFile[bytes], source: ImportSource, user: User | None = None
) -> ImportRun:
    """Import a file uploaded through the UI or the API.

    Django keeps uploads above 2.5 MB in a temporary file already; smaller ones are copied to
    one chunk by chunk, so the importer always streams from disk and reads the file twice if
    it must.
    """
    with tempfile.NamedTemporaryFile(prefix="aftershow-import-", suffix=".upload") as copy:
        for chunk in upload.chunks():
            copy.write(chunk)
        copy.flush()
        return import_file(
            shop=shop,
            path=Path(copy.name),
            file_name=upload.name or "upload",
            source=source,
            user=user,
        )
