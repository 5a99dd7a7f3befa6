from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from aftershow.commissions.demo import demo_terms_ensure, demo_time_advance


class Command(BaseCommand):
    help = (
        "Demo only: move time forward for attributed orders (delivered, returned, completed) "
        "and give demo creators commission terms and PayPal details."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=35, help="days that pass (default 35)")
        parser.add_argument("--return-rate", type=float, default=0.1)
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args: Any, **options: Any) -> None:
        set_up = demo_terms_ensure()
        result = demo_time_advance(
            days=options["days"], return_rate=options["return_rate"], seed=options["seed"]
        )
        self.stdout.write(
            f"{set_up} creators given demo terms; {options['days']} days passed: "
            f"{result.delivered} delivered, {result.returned} returned, "
            f"{result.completed} completed"
        )
