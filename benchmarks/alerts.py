"""Stock alerts: what the periodic evaluation, the ledger hook and a delivery cost.

- ``alert_eval_1000_skus_s_<engine>``: one ``stock_alerts_evaluate()`` over 1,000 stocked SKUs
  (thresholds, velocity, stock-out, reorder point; 20,000 order-line allocations in the last
  14 days), median of 3 passes after a first one that raises the alerts (later passes raise
  nothing: the measured steady state of the scheduler's 5-minute job).
- ``alert_eval_1000_skus_queries_<engine>``: SQL statements of one such pass.
- ``alert_hook_request_us_<engine>``: the cost of the ledger's post-commit hook during a burst,
  when an evaluation is already queued (one indexed read), median over 2,000 calls (µs); beside
  it ``select_1_us_<engine>``, a bare ``SELECT 1`` round trip on the same connection (µs).
- ``alert_delivery_p50_ms_<engine>``: alert raised → received by both loopback destinations
  (an SMTP server and a JSON webhook, through Apprise), median of 20 alerts (ms).

Run as ``python -m benchmarks.alerts sqlite|postgres``; prints one JSON line.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftershow.settings")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from aftershow.alerts.evaluation import stock_alerts_evaluate  # noqa: E402
from aftershow.alerts.models import Alert, AlertDestination, AlertKind, AlertLevel  # noqa: E402
from aftershow.alerts.receivers import SmtpInbox, WebhookInbox  # noqa: E402
from aftershow.alerts.services import (  # noqa: E402
    alert_deliver,
    alert_raise,
    destination_create,
    stock_evaluation_request,
)
from aftershow.catalog.models import Product, Sku  # noqa: E402
from aftershow.core.timeutils import utcnow  # noqa: E402
from aftershow.inventory.models import (  # noqa: E402
    AllocationStatus,
    StockAllocation,
    StockLevel,
    Warehouse,
)
from aftershow.orders.models import Order, OrderLine  # noqa: E402
from aftershow.shops.models import Channel, Shop  # noqa: E402

SKUS = 1_000
ALLOCATIONS = 20_000
RUNS = 3
HOOK_CALLS = 2_000
DELIVERIES = 20


def build_world() -> None:
    product = Product.objects.create(name="Bench alerts")
    skus = Sku.objects.bulk_create(
        Sku(product=product, code=f"AL-{n:04d}", cost=Decimal("3.00")) for n in range(SKUS)
    )
    warehouse = Warehouse.objects.create(code="BENCH-AL", name="Bench", is_default=True)
    # Spread from plenty to nearly out, so every rule has work and some alerts fire.
    StockLevel.objects.bulk_create(
        StockLevel(sku=sku, warehouse=warehouse, on_hand=(n * 7) % 400)
        for n, sku in enumerate(skus)
    )
    shop = Shop.objects.create(name="Bench", channel=Channel.TIKTOK, remote_shop_id="bench-alerts")
    now = utcnow()
    orders = Order.objects.bulk_create(
        Order(
            shop=shop,
            remote_order_id=f"AL{n:08d}",
            platform_status="AWAITING_SHIPMENT",
            placed_at=now - timedelta(hours=n % 300),
            remote_updated_at=now,
        )
        for n in range(ALLOCATIONS)
    )
    lines = OrderLine.objects.bulk_create(
        OrderLine(order=order, remote_line_id="1", sku=skus[n % SKUS], quantity=1)
        for n, order in enumerate(orders)
    )
    allocations = StockAllocation.objects.bulk_create(
        StockAllocation(
            order=order,
            order_line=line,
            sku_id=line.sku_id,
            warehouse=warehouse,
            quantity=1,
            status=AllocationStatus.BACKORDERED,
        )
        for order, line in zip(orders, lines, strict=True)
    )
    # Spread the sales over the last 14 days (created_at is auto_now_add).
    for n, allocation in enumerate(allocations):
        allocation.created_at = now - timedelta(minutes=(n * 13) % (14 * 24 * 60))
    StockAllocation.objects.bulk_update(allocations, ["created_at"], batch_size=2_000)


def main(engine: str) -> dict[str, float]:
    call_command("migrate", verbosity=0)
    if not Sku.objects.filter(code="AL-0000").exists():
        build_world()
    figures: dict[str, float] = {}

    first = stock_alerts_evaluate()
    print(f"  first pass raised {first} alerts", file=sys.stderr, flush=True)
    walls = []
    queries = 0
    for _ in range(RUNS):
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            raised = stock_alerts_evaluate()
        walls.append(time.perf_counter() - started)
        queries = len(captured)
        print(f"  pass: {walls[-1]:.3f} s, {queries} queries, {raised} raised", file=sys.stderr)
    figures[f"alert_eval_1000_skus_s_{engine}"] = round(statistics.median(walls), 3)
    figures[f"alert_eval_1000_skus_queries_{engine}"] = queries

    stock_evaluation_request()  # queued: later calls only read
    hook = []
    for _ in range(HOOK_CALLS):
        started = time.perf_counter()
        stock_evaluation_request()
        hook.append(time.perf_counter() - started)
    figures[f"alert_hook_request_us_{engine}"] = round(statistics.median(hook) * 1e6, 1)
    # Next to it, the database's floor on this machine now: one trivial round trip.
    floor = []
    with connection.cursor() as cursor:
        for _ in range(HOOK_CALLS):
            started = time.perf_counter()
            cursor.execute("SELECT 1")
            cursor.fetchone()
            floor.append(time.perf_counter() - started)
    figures[f"select_1_us_{engine}"] = round(statistics.median(floor) * 1e6, 1)

    smtp, webhook = SmtpInbox().start(), WebhookInbox().start()
    try:
        destination_create(name="bench smtp", url=smtp.apprise_url())
        destination_create(name="bench webhook", url=webhook.json_url())
        latencies = []
        for n in range(DELIVERIES):
            started = time.perf_counter()
            alert = alert_raise(
                kind=AlertKind.OTHER,
                level=AlertLevel.YELLOW,
                subject_key=f"bench:{time.time_ns()}:{n}",
                title=f"Bench alert {n}",
                body="Benchmark delivery",
            )
            assert alert is not None
            report = alert_deliver(alert=alert)
            smtp.wait_for(n + 1)
            webhook.wait_for(n + 1)
            latencies.append(time.perf_counter() - started)
            assert report.sent == 2, report
        figures[f"alert_delivery_p50_ms_{engine}"] = round(statistics.median(latencies) * 1e3, 1)
    finally:
        smtp.stop()
        webhook.stop()
        Alert.objects.filter(kind=AlertKind.OTHER).delete()
        AlertDestination.objects.filter(name__startswith="bench ").delete()
    return figures


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
