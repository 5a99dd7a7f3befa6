"""``aftershow release_due [--shop ID]``: hold what must wait, release and screen what may go."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from aftershow.core.timeutils import utcnow
from aftershow.orders.release import orders_release_due
from aftershow.risk.management.commands._shop import add_shop_argument, shop_from


class Command(BaseCommand):
    help = "Release orders whose cancellation window (and combine window) is over, and screen them."

    def add_arguments(self, parser: CommandParser) -> None:
        add_shop_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        report = orders_release_due(now=utcnow(), shop=shop_from(options))
        held = ", ".join(f"{kind} {count}" for kind, count in sorted(report.held_by_kind.items()))
        self.stdout.write(
            f"released {report.released} (in review {report.screening.in_review}), "
            f"held {report.held}{f' ({held})' if held else ''}, "
            f"back to review {report.back_to_review}"
        )
