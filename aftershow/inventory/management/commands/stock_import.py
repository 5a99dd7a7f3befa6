"""``aftershow stock_import FILE``: counts, adjustments or receipts from CSV or XLSX."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aftershow.inventory.importing import IMPORT_KINDS, ImportRejected, stock_import
from aftershow.inventory.management.options import user_from_option
from aftershow.inventory.models import MovementKind


class Command(BaseCommand):
    help = (
        "Import stock counts, adjustments or receipts from a .csv or .xlsx file. Columns: sku, "
        "quantity, and optionally warehouse, kind, reason, reference, note. Every row is checked "
        "first; if any row is wrong, nothing is imported. Importing the same file twice changes "
        "nothing the second time."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--kind",
            choices=[str(kind) for kind in IMPORT_KINDS],
            default=MovementKind.COUNT,
            help="for rows without a kind column (default: count)",
        )
        parser.add_argument("--user", help="username recorded as the person who made the change")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            content = path.read_bytes()
        except OSError as error:
            raise CommandError(f"cannot read {path}: {error.strerror}") from None
        by = user_from_option(options["user"])
        try:
            result = stock_import(
                filename=path.name,
                content=content,
                default_kind=MovementKind(options["kind"]),
                by=by,
                actor_label="import",
            )
        except ImportRejected as rejected:
            for problem in rejected.errors:
                self.stderr.write(str(problem))
            raise CommandError(
                f"{len(rejected.errors)} problem(s) in {path.name}; nothing was imported"
            ) from None
        self.stdout.write(
            f"{path.name}: {result.applied} row(s) applied, "
            f"{result.already_applied} already applied before"
        )
