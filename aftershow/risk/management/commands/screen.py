"""``aftershow screen [--shop ID]``: run the active rules again over orders not yet confirmed."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from aftershow.core.timeutils import utcnow
from aftershow.risk.management.commands._shop import add_shop_argument, shop_from
from aftershow.risk.services import orders_screen


class Command(BaseCommand):
    help = "Screen every READY and IN_REVIEW order with the active risk rules."

    def add_arguments(self, parser: CommandParser) -> None:
        add_shop_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        report = orders_screen(now=utcnow(), shop=shop_from(options))
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(report.flags_by_kind.items()))
        self.stdout.write(
            f"screened {report.screened} with {report.rules} active rules: "
            f"in review {report.in_review}"
            f" (new {report.to_review}, cleared {report.to_ready})"
            f"{f'; flags: {kinds}' if kinds else ''}"
        )
