"""``aftershow demo --file-mode``: the same burst for a seller without Partner API access.

The sandbox plays TikTok's Seller Center: the stream's orders land in its store and come out
as the "Manage orders → Export" CSV, quirks and all (``sandbox.tiktok.exports``). aftershow
imports that file (``imports.services.import_file``), then processes the burst exactly as with
the API (release, screening, confirm, parcels, carriers, sandbox-carrier labels, one PDF per
batch, ship) and writes TikTok's bulk tracking-upload XLSX (``imports.tracking``), which the
seller uploads in Seller Center. No call reaches TikTok's API: the sandbox's HTTP server is
never started and the shop has no API address or token.

USPS labels bought outside TikTok Shipping fail TikTok's verification (January 2026), so the
upload file refuses USPS rows. The file-mode demo therefore adds one carrier rule in front of
the seller's: UPS Ground for every parcel UPS takes; parcels UPS cannot take (PO Boxes,
military, territories) fall to the next rules, get USPS labels, and are listed as refused with
that reason (docs/decisions-fulfillment.md).
"""

from __future__ import annotations

import secrets
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.core.management import call_command

from aftershow.core.timeutils import utcnow
from aftershow.demo.catalog import demo_catalog_create, demo_stock_receive, demo_warehouse_create
from aftershow.demo.runner import Output
from aftershow.fulfillment.carriers.codes import ServiceCode
from aftershow.fulfillment.labels.sandbox import SandboxCarrier
from aftershow.fulfillment.models import CarrierRule
from aftershow.fulfillment.pipeline import BurstSummary, burst_process, summary_text
from aftershow.imports.models import ImportRun, ImportSource, ImportStatus
from aftershow.imports.services import import_file
from aftershow.imports.tracking import (
    TrackingUpload,
    tracking_upload_collect,
    tracking_upload_write,
)
from aftershow.sandbox.tiktok import StreamSpec, TikTokSandbox, VirtualClock
from aftershow.sandbox.tiktok.exports import write_stream_export
from aftershow.shops.models import Channel, Shop

STREAM = timedelta(hours=3)
AFTER_WINDOW = timedelta(minutes=62)
CONVERSION_RATE = 0.08
FILE_MODE_RULE = "File mode: UPS Ground (TikTok refuses USPS labels bought elsewhere)"


@dataclass
class FileModeSummary:
    export_path: Path
    upload_path: Path
    orders_planned: int = 0
    run: ImportRun | None = None
    burst: BurstSummary | None = None
    upload: TrackingUpload = field(default_factory=TrackingUpload)
    total_seconds: float = 0.0


def file_mode_rule_ensure() -> CarrierRule:
    """The rule in front of the seller's: UPS Ground wherever UPS delivers."""
    first = CarrierRule.objects.order_by("position").values_list("position", flat=True).first()
    rule, _ = CarrierRule.objects.update_or_create(
        name=FILE_MODE_RULE,
        defaults={
            "service": ServiceCode.UPS_GROUND,
            "is_active": True,
            "position": max((first or 10) - 5, 0),
        },
    )
    return rule


def run_file_mode(
    *, orders: int, seed: int, out: Output, directory: Path | None = None
) -> FileModeSummary:
    started = time.monotonic()
    directory = (
        Path(directory) if directory else Path(tempfile.mkdtemp(prefix="aftershow-file-mode-"))
    )
    directory.mkdir(parents=True, exist_ok=True)
    summary = FileModeSummary(
        export_path=directory / "tiktok-orders-export.csv",
        upload_path=directory / "tiktok-tracking-upload.xlsx",
    )
    call_command("migrate", verbosity=0)
    # Not started: in file mode nothing may reach TikTok's API, not even the sandbox's.
    sandbox = TikTokSandbox(
        app_key=f"files_{secrets.token_hex(4)}",
        app_secret=secrets.token_hex(16),
        seed=seed,
        clock=VirtualClock(start=utcnow() - STREAM - AFTER_WINDOW - timedelta(minutes=2), speed=0),
    )
    remote_shop = sandbox.store.create_shop(name="aftershow Demo Shop (files)", region="US")
    shop, _ = Shop.objects.get_or_create(
        channel=Channel.TIKTOK,
        remote_shop_id=remote_shop.id,
        defaults={"name": "aftershow Demo Shop (files)", "region": "US"},
    )
    mix = demo_catalog_create(sandbox=sandbox, remote_shop_id=remote_shop.id, shop=shop)
    demo_stock_receive(warehouse=demo_warehouse_create(), units_per_sku=orders * 4)
    file_mode_rule_ensure()
    plan = sandbox.simulate_live_stream(
        StreamSpec(
            creator_handle="glowwithmia",
            viewers=round(orders / CONVERSION_RATE),
            conversion_rate=CONVERSION_RATE,
            duration=STREAM,
            sku_mix=mix,
            seed=seed,
            shop_id=remote_shop.id,
        )
    )
    sandbox.release_all(plan)
    sandbox.advance(AFTER_WINDOW)
    summary.orders_planned = len(plan.orders)
    write_stream_export(sandbox, plan, summary.export_path)
    out.write(f"  Seller Center export written: {summary.export_path}\n")

    run = import_file(
        shop=shop,
        path=summary.export_path,
        file_name=summary.export_path.name,
        source=ImportSource.CLI,
    )
    summary.run = run
    out.write(
        f"  imported: {run.rows_read} rows, {run.orders_in_file} orders "
        f"({run.orders_created} new, {run.orders_updated} updated), status {run.status}\n"
    )
    if run.status == ImportStatus.FAILED:
        out.write(f"  the import was refused: {run.fatal_error}\n")
        return summary

    summary.burst = burst_process(shop=shop, provider=SandboxCarrier(shop))
    out.write("\n" + summary_text(summary.burst))

    summary.upload = tracking_upload_collect(shop=shop)
    tracking_upload_write(summary.upload, summary.upload_path)
    summary.total_seconds = time.monotonic() - started
    out.write(
        f"\n  TikTok bulk tracking upload written: {summary.upload_path}\n"
        f"    rows {len(summary.upload.rows)}, refused {len(summary.upload.refused)}\n"
    )
    reasons: dict[str, int] = {}
    for refused in summary.upload.refused:
        reasons[refused.reason] = reasons.get(refused.reason, 0) + 1
    for reason, count in sorted(reasons.items()):
        out.write(f"    refused {count}: {reason}\n")
    out.write(f"  time taken {summary.total_seconds:.1f} s\n")
    return summary
