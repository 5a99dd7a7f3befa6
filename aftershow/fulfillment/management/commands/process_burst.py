"""``aftershow process_burst --shop ID``: the whole burst in one command (see
``aftershow.fulfillment.pipeline``): release and screen, confirm all clean, parcels, carriers,
labels, one PDF per batch of at most 600 orders, ship, and the tracking pushed to TikTok.

The tracking push runs on the task queue. By default the command runs two worker loops
in-process while it waits, so it finishes on its own (two: the stock sync engine, woken by the
shipments, holds one for seconds and the push must not wait behind it); with ``--no-worker`` it
relies on ``db_worker``."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from aftershow.core.worker import WorkerThread
from aftershow.fulfillment.labels.base import LabelError, LabelProvider
from aftershow.fulfillment.labels.registry import label_provider
from aftershow.fulfillment.pipeline import burst_process, summary_text
from aftershow.shops.models import Shop


class Command(BaseCommand):
    help = "Process a shop's whole burst: screen, confirm, label, one PDF, ship, push tracking."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--shop", type=int, required=True, help="Shop id")
        parser.add_argument(
            "--label-provider",
            default=None,
            help="buy every label from this provider (e.g. sandbox) instead of the rules' one",
        )
        parser.add_argument("--pdf-dir", type=Path, default=None, help="Where to write PDFs")
        parser.add_argument(
            "--timeout", type=float, default=120.0, help="seconds to wait for TikTok's answers"
        )
        parser.add_argument(
            "--no-worker", action="store_true", help="do not run a worker (db_worker runs)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        shop = Shop.objects.filter(pk=options["shop"]).first()
        if shop is None:
            raise CommandError(f"no shop {options['shop']}")
        provider: LabelProvider | None = None
        if options["label_provider"]:
            try:
                provider = label_provider(options["label_provider"], shop=shop)
            except LabelError as error:
                raise CommandError(error.reason) from error
        workers = [] if options["no_worker"] else [WorkerThread(), WorkerThread()]
        for worker in workers:
            worker.start()
        try:
            summary = burst_process(
                shop=shop,
                provider=provider,
                pdf_dir=options["pdf_dir"],
                tracking_timeout=options["timeout"],
            )
        finally:
            for worker in workers:
                worker.stop()
        self.stdout.write(summary_text(summary), ending="")
        if summary.tracking_waiting:
            raise CommandError(
                f"{summary.tracking_waiting} tracking numbers still waiting for TikTok"
            )
