"""``aftershow labels_batch --shop ID``: build parcels for the shop's confirmed orders, choose
carriers, cut batches of at most 600 orders, buy every label, print the errors per order and
write each batch's PDF and ZPL (``--output DIR``, default var/labels/batches)."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from aftershow.fulfillment.batches import labels_batch_run
from aftershow.fulfillment.conf import label_dir
from aftershow.fulfillment.management.commands._output import report_batch
from aftershow.shops.models import Shop


class Command(BaseCommand):
    help = "Label every confirmed order of a shop, in batches of at most 600 orders."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--shop", type=int, required=True, help="Shop id")
        parser.add_argument("--max-orders", type=int, default=None, help="Orders per batch")
        parser.add_argument("--output", type=Path, default=None, help="Where to write files")
        parser.add_argument("--no-files", action="store_true", help="Do not write PDF/ZPL")
        parser.add_argument("--slips", action="store_true", help="Add packing slips")

    def handle(self, *args: Any, **options: Any) -> None:
        shop = Shop.objects.filter(pk=options["shop"]).first()
        if shop is None:
            raise CommandError(f"no shop {options['shop']}")
        reports = labels_batch_run(shop=shop, max_orders=options["max_orders"])
        if not reports:
            self.stdout.write("nothing to label")
            return
        output = None if options["no_files"] else options["output"] or label_dir() / "batches"
        for report in reports:
            report_batch(self.stdout, report, output_dir=output, slips=options["slips"])
