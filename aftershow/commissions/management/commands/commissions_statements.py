from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from aftershow.commissions.exports import statements_write_files
from aftershow.commissions.models import Statement, StatementStatus
from aftershow.commissions.statements import (
    parse_period,
    previous_month,
    statement_approve,
    statements_generate,
)
from aftershow.core.timeutils import utcnow


class Command(BaseCommand):
    help = "Make (or remake, while draft) the creator statements of a month; optionally approve."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", help="YYYY-MM (default: last month)")
        parser.add_argument("--approve", action="store_true", help="approve the month's drafts")
        parser.add_argument("--export-dir", type=Path, help="write each statement's XLSX and CSV")
        parser.add_argument(
            "--workers",
            type=int,
            default=2,
            help="processes writing the files (default 2; 1 writes them in this process)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            period = (
                parse_period(options["month"]) if options["month"] else previous_month(utcnow())
            )
            result = statements_generate(period=period)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        for statement in result.statements + result.locked:
            self.stdout.write(
                f"@{statement.creator.handle:<24} {statement.get_status_display():<9} "
                f"orders {statement.orders_count:>5} valid {statement.valid_orders_count:>5} "
                f"payable {statement.payable:>10} carried {statement.carried_forward:>9}"
                + (f" held: {statement.hold_reason}" if statement.is_held else "")
            )
        if options["approve"]:
            drafts = Statement.objects.filter(period=period, status=StatementStatus.DRAFT)
            for statement in drafts:
                statement_approve(statement=statement)
            self.stdout.write(f"approved {len(drafts)} statements")
        directory: Path | None = options["export_dir"]
        if directory is not None:
            statements = Statement.objects.filter(period=period).select_related("creator")
            written = statements_write_files(
                list(statements.order_by("creator__handle")), directory, workers=options["workers"]
            )
            self.stdout.write(f"{len(written)} files written to {directory}")
