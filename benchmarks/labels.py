"""Labels: 1,000 confirmed orders through build → carrier selection → batches → sandbox labels →
the batch PDFs, and the label rendering rate against reportlab's raw page rate.

- ``labels_1000_s_<engine>``: machine time from "build parcels" until both batch PDFs (600 + 400
  orders, TikTok's cap) are rendered, median of 3 runs on fresh orders.
- ``label_rate_ratio`` (SQLite run only): labels per second of ``batch_pdf`` (database reads,
  pick list, pick order, every label) divided by labels per second of reportlab drawing the same
  label layout from ready-made values into one canvas, measured side by side, alternating, median
  of 5 pairs. Target ≥ 0.5.
- ``labels_1000_cpu_s_<engine>``: the same, in this process's CPU seconds (a shared machine's
  wall time varies several-fold with its load).
- ``labels_peak_rss_mb_<engine>``: peak resident memory of the benchmark process.

Run by benchmarks/run.py as ``python -m benchmarks.labels sqlite|postgres``; prints one JSON line.
"""

from __future__ import annotations

import io
import json
import os
import resource
import statistics
import sys
import time
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
RATE_PAIRS = 5
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


def raw_rate(batch: LabelBatch) -> float:
    """Labels per second of reportlab drawing the same layout from ready-made values."""
    contents = [label.content for label in batch_labels(batch) if label.content is not None]
    started = time.perf_counter()
    canvas = new_canvas(io.BytesIO(), title="raw")
    painter = LabelPainter(canvas)
    for content in contents:
        painter.draw(content)
        canvas.showPage()
    canvas.save()
    return len(contents) / (time.perf_counter() - started)


def pipeline_rate(batch: LabelBatch) -> float:
    count = batch.items.count()
    started = time.perf_counter()
    batch_pdf(batch=batch)
    return count / (time.perf_counter() - started)


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
        ratios = []
        for _pair in range(RATE_PAIRS):
            raw = raw_rate(largest)
            ours = pipeline_rate(largest)
            ratios.append(ours / raw)
            print(
                f"  raw {raw:.0f} labels/s, batch_pdf {ours:.0f} labels/s",
                file=sys.stderr,
                flush=True,
            )
        figures["label_rate_ratio"] = round(statistics.median(ratios), 3)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    figures[f"labels_peak_rss_mb_{engine}"] = round(peak_kib / 1024, 1)
    return figures


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
