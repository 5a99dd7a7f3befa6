"""``aftershow labels_retry BATCH``: retry only the orders of a batch whose label failed, then
rewrite the batch's PDF and ZPL."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from aftershow.fulfillment.batches import label_batch_retry
from aftershow.fulfillment.conf import label_dir
from aftershow.fulfillment.management.commands._output import report_batch
from aftershow.fulfillment.models import LabelBatch


class Command(BaseCommand):
    help = "Retry the failed labels of one batch."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("batch", type=int, help="Batch id")
        parser.add_argument("--output", type=Path, default=None, help="Where to write files")
        parser.add_argument("--no-files", action="store_true", help="Do not write PDF/ZPL")
        parser.add_argument("--slips", action="store_true", help="Add packing slips")

    def handle(self, *args: Any, **options: Any) -> None:
        batch = LabelBatch.objects.filter(pk=options["batch"]).first()
        if batch is None:
            raise CommandError(f"no batch {options['batch']}")
        report = label_batch_retry(batch=batch)
        output = None if options["no_files"] else options["output"] or label_dir() / "batches"
        report_batch(self.stdout, report, output_dir=output, slips=options["slips"])
