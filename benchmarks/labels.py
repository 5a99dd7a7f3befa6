"""Labels: 1,000 confirmed orders through build → carrier selection → batches → sandbox labels →
the batch PDFs, and the label rendering rate against reportlab's raw page rate.

- ``labels_1000_s_<engine>``: machine time from "build parcels" until both batch PDFs (600 + 400
  orders, TikTok's cap) are rendered, median of 3 runs on fresh orders.
- ``label_rate_ratio`` (SQLite run only): labels per second of ``batch_pdf`` (database reads,
  pick list, pick order, every label, the saved PDF) divided by labels per second of reportlab
  drawing the same label layout (the same ``LabelPainter``, the same pages) from ready-made values
  into one canvas and saving it, measured side by side on the largest batch (600 labels): median
  of 9 pairs, the side going first alternating, a full garbage collection before each side (so
  neither pays for the other's garbage), each side timed in CPU seconds of the measuring thread
  (a shared machine's wall time swings several-fold within seconds). Target ≥ 0.5.
- ``label_rate_ratio_wall``: the same pairs timed by the wall clock (quoted for comparison; on a
  quiet machine both agree).
- ``labels_1000_cpu_s_<engine>``: the same, in this process's CPU seconds (a shared machine's
  wall time varies several-fold with its load).
- ``labels_peak_rss_mb_<engine>``: peak resident memory of the benchmark process.

Run by benchmarks/run.py as ``python -m benchmarks.labels sqlite|postgres``; prints one JSON line.
"""

from __future__ import annotations

import gc
import io
import json
import os
import resource
import statistics
import sys
import time
from dataclasses import dataclass
from decimal import Decimal

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftershow.settings")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from aftershow.catalog.models import Product, Sku  # noqa: E402
from aftershow.fulfillment.batches import (  # noqa: E402
    label_batch_process,
    label_batches_create,
)
from aftershow.fulfillment.choosing import packages_select  # noqa: E402
from aftershow.fulfillment.documents import batch_labels, batch_pdf  # noqa: E402
from aftershow.fulfillment.labels.render import LabelPainter, new_canvas  # noqa: E402
from aftershow.fulfillment.models import LabelBatch, SkuLocation  # noqa: E402
from aftershow.fulfillment.packing import packages_build  # noqa: E402
from aftershow.inventory.models import Warehouse  # noqa: E402
from aftershow.orders.models import (  # noqa: E402
    Address,
    Order,
    OrderLine,
    OrderState,
    PlatformStatus,
)
from aftershow.shops.models import Channel, Shop  # noqa: E402

ORDERS = 1_000
RUNS = 3
RATE_PAIRS = 9
DESTINATIONS = [
    ("New York", "NY", "10118"),
    ("Los Angeles", "CA", "90012"),
    ("Chicago", "IL", "60601"),
    ("Houston", "TX", "77002"),
    ("Miami", "FL", "33101"),
    ("Seattle", "WA", "98101"),
    ("Denver", "CO", "80202"),
    ("Boston", "MA", "02108"),
]
CATALOG = [
    ("TEE-BLK-M", "6.2", ("10", "8", "1"), "C-03"),
    ("HOOD-GRY-L", "19.4", ("12", "10", "3"), "D-11"),
    ("SERUM-30", "3.1", ("4", "2", "2"), "B-02"),
    ("MUG-LIVE", "14.0", ("5", "4", "4"), "A-01"),
    ("LAMP-XL", "120", ("24", "12", "12"), "E-07"),
]


def setup_world(run: int) -> tuple[Shop, list[Sku]]:
    shop = Shop.objects.create(
        name=f"Bench web store {run}", channel=Channel.SHOPIFY, remote_shop_id=f"bench-{run}"
    )
    if not Warehouse.objects.filter(is_default=True).exists():
        Warehouse.objects.create(
            code="ROA",
            name="Aftershow Warehouse",
            address_line1="100 Main St",
            city="Roanoke",
            state="VA",
            postal_code="24001",
            is_default=True,
        )
    skus = []
    for code, weight, dims, bin_location in CATALOG:
        sku, created = Sku.objects.get_or_create(
            code=code,
            defaults={
                "product": Product.objects.create(name=code),
                "weight_oz": Decimal(weight),
                "length_in": Decimal(dims[0]),
                "width_in": Decimal(dims[1]),
                "height_in": Decimal(dims[2]),
            },
        )
        if created:
            SkuLocation.objects.create(sku=sku, bin_location=bin_location)
        skus.append(sku)
    return shop, skus


def confirmed_orders(shop: Shop, skus: list[Sku], run: int) -> None:
    now = timezone.now()
    addresses = Address.objects.bulk_create(
        [
            Address(
                name=f"Buyer {index}",
                line1=f"{100 + index} Main Street",
                city=city,
                state=state,
                postal_code=zip_code,
            )
            for index, (city, state, zip_code) in enumerate(DESTINATIONS)
        ]
    )
    orders = Order.objects.bulk_create(
        [
            Order(
                shop=shop,
                remote_order_id=f"B{run}-{index:06d}",
                shipping_address=addresses[index % len(addresses)],
                platform_status=PlatformStatus.AWAITING_SHIPMENT,
                state=OrderState.CONFIRMED,
                placed_at=now,
                paid_at=now,
                remote_updated_at=now,
                total_amount=Decimal("24.99"),
                delivery_option_name="Standard Shipping",
            )
            for index in range(ORDERS)
        ]
    )
    lines = []
    for index, order in enumerate(orders):
        lines.append(OrderLine(order=order, remote_line_id=f"{order.pk}-1", sku=skus[index % 4]))
        if index % 10 == 0:  # some orders carry a second, larger item
            lines.append(OrderLine(order=order, remote_line_id=f"{order.pk}-2", sku=skus[4]))
    OrderLine.objects.bulk_create(lines)


def label_burst(shop: Shop) -> tuple[float, float, list[LabelBatch]]:
    started = time.perf_counter()
    cpu_started = time.process_time()
    built = packages_build(shop=shop)
    packages_select(packages=built.created)
    batches = label_batches_create(shop=shop)
    reports = [label_batch_process(batch=batch) for batch in batches]
    documents = [batch_pdf(batch=batch) for batch in batches]
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    labelled = sum(report.labelled for report in reports)
    if labelled != ORDERS or any(report.errors for report in reports):
        raise SystemExit(f"labelled {labelled} of {ORDERS}: {reports[0].errors[:3]}")
    if not all(document.startswith(b"%PDF-") for document in documents):
        raise SystemExit("a batch PDF is not a PDF")
    return elapsed, cpu, batches


@dataclass(frozen=True)
class SideTime:
    labels: int
    wall: float
    cpu: float  # CPU seconds of the measuring thread


def raw_side(batch: LabelBatch) -> SideTime:
    """reportlab drawing the batch's labels with the same painter from values read beforehand
    (the read is not timed), then saving the document."""
    contents = [label.content for label in batch_labels(batch) if label.content is not None]
    gc.collect()
    wall, cpu = time.perf_counter(), time.thread_time()
    canvas = new_canvas(io.BytesIO(), title="raw")
    painter = LabelPainter(canvas)
    for content in contents:
        painter.draw(content)
        canvas.showPage()
    canvas.save()
    return SideTime(len(contents), time.perf_counter() - wall, time.thread_time() - cpu)


def our_side(batch: LabelBatch) -> SideTime:
    """``batch_pdf``: its database reads, the pick list and every label, saved."""
    labels = sum(1 for label in batch_labels(batch) if label.content is not None)
    gc.collect()
    wall, cpu = time.perf_counter(), time.thread_time()
    document = batch_pdf(batch=batch)
    elapsed = SideTime(labels, time.perf_counter() - wall, time.thread_time() - cpu)
    if not document.startswith(b"%PDF-"):
        raise SystemExit("the batch PDF is not a PDF")
    return elapsed


def label_rate_ratio(batch: LabelBatch, *, pairs: int = RATE_PAIRS) -> dict[str, float]:
    """``batch_pdf``'s labels per second over reportlab's raw rate on the same labels, median of
    side-by-side pairs (CPU seconds of this thread; the wall-clock median alongside)."""
    cpu_ratios, wall_ratios = [], []
    for pair in range(pairs):
        if pair % 2 == 0:
            raw, ours = raw_side(batch), our_side(batch)
        else:
            ours, raw = our_side(batch), raw_side(batch)
        if raw.labels != ours.labels or not raw.labels:
            raise SystemExit(f"the sides drew {raw.labels} and {ours.labels} labels")
        # The same labels on both sides: the ratio of the rates is the inverse ratio of times.
        cpu_ratios.append(raw.cpu / ours.cpu)
        wall_ratios.append(raw.wall / ours.wall)
        print(
            f"  {raw.labels} labels, per second CPU (wall): raw {raw.labels / raw.cpu:.0f} "
            f"({raw.labels / raw.wall:.0f}), batch_pdf {ours.labels / ours.cpu:.0f} "
            f"({ours.labels / ours.wall:.0f}); ratio {cpu_ratios[-1]:.3f} ({wall_ratios[-1]:.3f})",
            file=sys.stderr,
            flush=True,
        )
    return {
        "label_rate_ratio": round(statistics.median(cpu_ratios), 3),
        "label_rate_ratio_wall": round(statistics.median(wall_ratios), 3),
    }


def main(engine: str) -> dict[str, float]:
    call_command("migrate", verbosity=0)
    figures: dict[str, float] = {}
    runs = []
    cpu_runs = []
    largest: LabelBatch | None = None
    for run in range(1, RUNS + 1):
        shop, skus = setup_world(run)
        confirmed_orders(shop, skus, run)
        elapsed, cpu, batches = label_burst(shop)
        runs.append(elapsed)
        cpu_runs.append(cpu)
        largest = max(batches, key=lambda batch: batch.order_count)
        print(f"  labels {ORDERS}: {elapsed:.2f} s ({cpu:.2f} s CPU)", file=sys.stderr, flush=True)
    figures[f"labels_1000_s_{engine}"] = round(statistics.median(runs), 3)
    # This process's CPU time: what the figure would be on an idle machine (the database
    # work of SQLite runs in-process; PostgreSQL's server time is not counted).
    figures[f"labels_1000_cpu_s_{engine}"] = round(statistics.median(cpu_runs), 3)
    assert largest is not None
    if engine == "sqlite":
        figures.update(label_rate_ratio(largest))
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    figures[f"labels_peak_rss_mb_{engine}"] = round(peak_kib / 1024, 1)
    return figures


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
