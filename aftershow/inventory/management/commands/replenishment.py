"""``aftershow replenishment [--all]``: SKUs at or below their reorder point, what to order."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from aftershow.inventory.planning import replenishment_suggestions


class Command(BaseCommand):
    help = (
        "Replenishment suggestions: reorder point = daily demand x lead time + safety stock; "
        "at or below it, order up to the reorder point plus the cover days of demand."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all", action="store_true", help="every stocked SKU, not only due")

    def handle(self, *args: Any, **options: Any) -> None:
        rows = replenishment_suggestions(only_needed=not options["all"])
        if not rows:
            self.stdout.write("No SKU at or below its reorder point.")
            return
        self.stdout.write(
            f"{'SKU':<16} {'avail':>7} {'incoming':>8} {'per day':>8} {'lead':>5} "
            f"{'safety':>6} {'reorder at':>10} {'order':>7}"
        )
        for row in rows:
            self.stdout.write(
                f"{row.sku.code:<16} {row.available:>7} {row.incoming:>8} {row.daily_demand:>8} "
                f"{row.lead_time_days:>5} {row.safety_stock:>6} {row.reorder_point:>10} "
                f"{row.suggested_quantity:>7}"
            )
