"""``aftershow export_tracking --shop ID --out FILE``: TikTok's bulk tracking upload XLSX."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aftershow.imports.selectors import tiktok_shops
from aftershow.imports.tracking import tracking_upload_collect, tracking_upload_write


class Command(BaseCommand):
    help = (
        "Write every parcel shipped by the seller with a tracking number into the XLSX layout "
        "of TikTok's bulk tracking template, and list the orders that cannot go in it and why."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--shop", type=int, required=True, help="aftershow shop id")
        parser.add_argument("--out", type=Path, required=True, help="where to write the XLSX")

    def handle(self, *args: Any, **options: Any) -> None:
        shop = tiktok_shops().filter(pk=options["shop"]).first()
        if shop is None:
            raise CommandError(f"no active TikTok shop with id {options['shop']}")
        upload = tracking_upload_collect(shop=shop)
        out: Path = options["out"]
        tracking_upload_write(upload, out)
        self.stdout.write(
            f"{out}: {len(upload.rows)} rows, {len(upload.refused)} refused, "
            f"{upload.already_shipped} already shipped on TikTok"
        )
        for row in upload.refused:
            self.stdout.write(
                f"  refused {row.order_id} ({row.carrier or '-'} {row.tracking_id}): {row.reason}"
            )
