"""``aftershow metrics_recompute``: recompute every creator's figures and tier now."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aftershow.metrics.models import RecomputeTrigger
from aftershow.metrics.services import metrics_recompute


class Command(BaseCommand):
    help = "Recompute creator metrics (conversion, AOV, return rate, ROI) and S/A/B tiers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--as-of",
            help="Compute as of this moment (ISO 8601 with a time zone), e.g. 2026-11-01T00:00Z",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        as_of = None
        if options.get("as_of"):
            try:
                as_of = datetime.fromisoformat(options["as_of"].replace("Z", "+00:00"))
            except ValueError as error:
                raise CommandError(
                    f"--as-of is not an ISO 8601 time: {options['as_of']}"
                ) from error
            if as_of.tzinfo is None:
                raise CommandError("--as-of needs a time zone, e.g. 2026-11-01T00:00Z")
        run = metrics_recompute(trigger=RecomputeTrigger.CLI, at=as_of)
        self.stdout.write(
            f"recomputed {run.creators} creators as of {run.as_of:%Y-%m-%d %H:%M} UTC "
            f"with thresholds v{run.policy.version}: {run.tier_changes} tier changes"
        )
