"""``aftershow import_file PATH --shop ID``: import a TikTok Shop export and print its report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aftershow.imports.models import ImportRun, ImportSource, ImportStatus
from aftershow.imports.selectors import tiktok_shops
from aftershow.imports.services import import_file


def report_lines(run: ImportRun) -> list[str]:
    """The report as the command prints it (also used by tests)."""
    lines = [
        f"{run.file_name}: {run.get_status_display()}",
        f"  format: {run.get_detected_format_display() or '-'} ({run.layout or '-'})",
        f"  rows read: {run.rows_read}, skipped: {run.rows_skipped}",
    ]
    if run.fatal_error:
        lines.append(f"  nothing imported: {run.fatal_error}")
    if run.orders_in_file or run.orders_created or run.orders_updated:
        lines.append(
            f"  orders: {run.orders_in_file} in the file, {run.orders_created} created, "
            f"{run.orders_updated} updated, {run.orders_unchanged} unchanged, "
            f"{run.orders_stale} older than stored"
        )
    if run.records_created or run.records_updated or run.records_unchanged:
        lines.append(
            f"  records: {run.records_created} created, {run.records_updated} updated, "
            f"{run.records_unchanged} unchanged"
        )
    for issue in run.issues.all():
        where = f"row {issue.row_number}" if issue.row_number else "file"
        column = f", {issue.column}" if issue.column else ""
        lines.append(f"  {issue.severity}: {where}{column}: {issue.message}")
    return lines


class Command(BaseCommand):
    help = (
        "Import a Seller Center order export, an Affiliate Center affiliate-orders export, a "
        "finance statement or a returns export (CSV or XLSX) into a TikTok shop. The format is "
        "detected from the header. Exits with status 1 when the file is refused."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="the file, as downloaded")
        parser.add_argument("--shop", type=int, required=True, help="aftershow shop id")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        shop = tiktok_shops().filter(pk=options["shop"]).first()
        if shop is None:
            raise CommandError(f"no active TikTok shop with id {options['shop']}")
        run = import_file(shop=shop, path=path, file_name=path.name, source=ImportSource.CLI)
        self.stdout.write("\n".join(report_lines(run)))
        if run.status != ImportStatus.SUCCEEDED:
            raise CommandError("the file was refused: nothing was imported")
