"""Stock sync and allocation: sale → every channel updated during a 1,000-order burst, API calls
per sale per channel, and allocation throughput next to a raw-SQL loop doing the same
conditional update and ledger insert.

Run by benchmarks/run.py as `python -m benchmarks.sync sqlite|postgres`; prints one JSON line.

- Sync (SQLite run only; its keys carry no engine suffix): four channel sandboxes on 127.0.0.1
  (TikTok, Shopify, Amazon, eBay), five SKUs listed on all four. 1,000 one-line orders are
  ingested as fast as this process can (``orders_upsert``, one transaction each, as webhooks
  arrive); the engine runs in its own ``aftershow sync_engine`` process next to an ``aftershow
  db_worker`` (``--interval 0.1``), as the README deploys them (``SYNC_BENCH_ENGINE=queue``: as the
  worker's task instead, with its 30 s hand-overs). A sale counts as reached on a channel when
  the channel's own write log (timestamped by the sandbox when applied) shows a quantity at or
  below the available stock right after that sale; sale → all channels is the latest of the
  four. API calls are every outbound attempt in the integration log during the burst (retries,
  look-ups and read-backs included), per sale and per channel.
- Allocation: orders/s through ``orders_upsert`` (order stored + stock allocated + ledger row +
  stock-change mark, one transaction per order), one worker on SQLite, two worker processes on
  PostgreSQL; the raw loop runs the same conditional ``UPDATE`` and ledger ``INSERT`` through
  the DB-API cursor, one transaction per order, with the same number of workers.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftershow.settings")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from aftershow.audit.models import IntegrationLog  # noqa: E402
from aftershow.catalog.models import ChannelListing, Product, Sku  # noqa: E402
from aftershow.integrations.tiktok.sync import shop_connect  # noqa: E402
from aftershow.inventory.models import (  # noqa: E402
    MovementKind,
    StockLevel,
    StockMovement,
    Warehouse,
)
from aftershow.inventory.services import stock_receive  # noqa: E402
from aftershow.inventory.tests.helpers import incoming_order  # noqa: E402
from aftershow.orders.models import ChangeSource  # noqa: E402
from aftershow.orders.services import orders_upsert  # noqa: E402
from aftershow.sandbox.amazon import AmazonSandbox  # noqa: E402
from aftershow.sandbox.ebay import EbaySandbox  # noqa: E402
from aftershow.sandbox.shopify import ShopifySandbox, gid  # noqa: E402
from aftershow.sandbox.tiktok import TikTokSandbox  # noqa: E402
from aftershow.sandbox.tiktok.inventory import inventory_book  # noqa: E402
from aftershow.shops.models import Channel, Shop  # noqa: E402
from aftershow.stocksync.engine import work_pending  # noqa: E402
from aftershow.stocksync.models import ListingSync  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BURST = 1_000
SKU_COUNT = 5
START_STOCK = 5_000
ALLOC_ORDERS = int(os.environ.get("SYNC_BENCH_ALLOC_ORDERS", "1000"))
RAW_TX = 2_000
CHANNELS = ("tiktok", "shopify", "amazon", "ebay")
ENGINE_MODE = os.environ.get("SYNC_BENCH_ENGINE", "process")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


# -- the sync burst ------------------------------------------------------------------------


class Sandboxes:
    """Fresh sandboxes for one run; ``run`` keeps the shops of a second run (SYNC_BENCH_RUNS)
    apart from the first one's in the same database."""

    def __init__(self, run: int = 0) -> None:
        seed = 3 + run
        self.run = run
        self.shopify_domain = f"bench{run}.myshopify.com"
        self.amazon_seller = f"ABENCH{run}"
        self.tiktok = TikTokSandbox(app_key="bench_key", app_secret="bench_secret", seed=seed)
        self.shopify = ShopifySandbox(shop_domain=self.shopify_domain, app_secret="s", seed=seed)
        self.amazon = AmazonSandbox(
            client_id="c", client_secret="s", seller_id=self.amazon_seller, seed=seed
        )
        self.ebay = EbaySandbox(client_id="c", client_secret="s", seed=seed)
        for sandbox in (self.tiktok, self.shopify, self.amazon, self.ebay):
            sandbox.start()
        self.tiktok_remote = self.tiktok.store.create_shop(name="Bench TikTok")

    def stop(self) -> None:
        for sandbox in (self.tiktok, self.shopify, self.amazon, self.ebay):
            sandbox.stop()

    def shops(self) -> dict[str, Shop]:
        (tiktok,) = shop_connect(
            app_key="bench_key",
            app_secret="bench_secret",
            auth_code=self.tiktok.store.issue_auth_code(shop_ids=[self.tiktok_remote.id]),
            api_base_url=self.tiktok.base_url,
            auth_base_url=self.tiktok.base_url,
        )
        shopify = Shop.objects.create(
            name="Bench Shopify",
            channel=Channel.SHOPIFY,
            remote_shop_id=self.shopify_domain,
            api_base_url=self.shopify.base_url,
            credentials={
                "access_token": self.shopify.issue_token(),
                "client_secret": "s",
                "location_id": self.shopify.location_id,
            },
        )
        amazon = Shop.objects.create(
            name="Bench Amazon",
            channel=Channel.AMAZON,
            remote_shop_id=self.amazon_seller,
            api_base_url=self.amazon.base_url,
            auth_base_url=self.amazon.base_url,
            credentials={
                "client_id": "c",
                "client_secret": "s",
                "refresh_token": self.amazon.authorize(),
            },
        )
        grant = self.ebay.issue_user_token()
        ebay = Shop.objects.create(
            name="Bench eBay",
            channel=Channel.EBAY,
            remote_shop_id=f"bench_seller{self.run}",
            api_base_url=self.ebay.base_url,
            auth_base_url=self.ebay.base_url,
            credentials={
                "client_id": "c",
                "client_secret": "s",
                "refresh_token": grant.refresh_token,
                "access_token": grant.access_token,
            },
        )
        return {"tiktok": tiktok, "shopify": shopify, "amazon": amazon, "ebay": ebay}

    def list(self, shops: dict[str, Shop], sku: Sku, quantity: int) -> None:
        code = sku.code
        remote = self.tiktok.store.add_product(
            self.tiktok_remote.id,
            code,
            [{"seller_sku": code, "price": "9.99", "quantity": quantity}],
        )
        ChannelListing.objects.create(
            sku=sku,
            shop=shops["tiktok"],
            remote_product_id=remote.id,
            remote_sku_id=remote.skus[0].id,
        )
        variant = self.shopify.add_variant(code, quantity=quantity)
        ChannelListing.objects.create(
            sku=sku,
            shop=shops["shopify"],
            remote_product_id=gid("Product", variant.product_number),
            remote_sku_id=gid("ProductVariant", variant.number),
        )
        listing = self.amazon.add_listing(code, quantity=quantity)
        ChannelListing.objects.create(
            sku=sku, shop=shops["amazon"], remote_product_id=listing.asin, remote_sku_id=code
        )
        offer_id = self.ebay.add_item(code, quantity=quantity)
        ChannelListing.objects.create(
            sku=sku, shop=shops["ebay"], remote_product_id=offer_id, remote_sku_id=code
        )

    def timed_history(self, channel: str, code: str) -> list[tuple[float, int]]:
        if channel == "tiktok":
            return inventory_book(self.tiktok.store).timed_history(self.tiktok_remote.id, code)
        sandbox = {"shopify": self.shopify, "amazon": self.amazon, "ebay": self.ebay}[channel]
        return sandbox.timed_history(code)


def start_workers() -> list[subprocess.Popen[bytes]]:
    """A queue worker, and (unless ``SYNC_BENCH_ENGINE=queue``) the engine's own process, as the
    README's deployment runs them; with ``queue`` the engine runs as the worker's task."""
    commands = [["db_worker", "--interval", "0.1", "--no-startup-delay"]]
    if ENGINE_MODE == "process":
        commands.append(["sync_engine"])
    return [
        subprocess.Popen(
            [sys.executable, "-m", "django", *command],
            cwd=ROOT,
            env={**os.environ},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for command in commands
    ]


def wait_settled(timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while work_pending() or ListingSync.objects.filter(is_due=True).exists():
        if time.monotonic() > deadline:
            raise SystemExit("the channels did not settle in time")
        time.sleep(0.05)


def sync_burst(warehouse: Warehouse, run: int = 0) -> dict[str, float]:
    sandboxes = Sandboxes(run)
    workers: list[subprocess.Popen[bytes]] = []
    try:
        shops = sandboxes.shops()
        product = Product.objects.create(name="Bench drop")
        skus = [
            Sku.objects.create(product=product, code=f"DROP{run}-{n}") for n in range(SKU_COUNT)
        ]
        for sku in skus:
            sandboxes.list(shops, sku, quantity=0)
        workers = start_workers()
        for sku in skus:  # the stock arrives: every channel gets its first quantity
            stock_receive(sku=sku, warehouse=warehouse, quantity=START_STOCK)
        wait_settled(120)
        first_log = IntegrationLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        remaining = {sku.code: START_STOCK for sku in skus}
        sales: list[tuple[float, str, int]] = []  # (committed at, code, available after)
        started = time.monotonic()
        for number in range(BURST):
            code = skus[number % SKU_COUNT].code
            order = incoming_order(f"B{number:05d}", [(code, 1)])
            orders_upsert(shop=shops["tiktok"], incoming=[order], source=ChangeSource.WEBHOOK)
            remaining[code] -= 1
            sales.append((time.monotonic(), code, remaining[code]))
        burst_seconds = time.monotonic() - started
        wait_settled(300)
        time.sleep(0.5)
        calls = {
            channel: IntegrationLog.objects.filter(pk__gt=first_log, channel=channel).count()
            for channel in CHANNELS
        }
        histories = {
            (channel, sku.code): sandboxes.timed_history(channel, sku.code)
            for channel in CHANNELS
            for sku in skus
        }
        latencies = []
        by_channel: dict[str, list[float]] = {channel: [] for channel in CHANNELS}
        for at, code, available in sales:
            reached = []
            for channel in CHANNELS:
                when = next(
                    (
                        t
                        for t, quantity in histories[(channel, code)]
                        if t >= at and quantity <= available
                    ),
                    None,
                )
                if when is None:
                    raise SystemExit(f"{channel} never showed {code} at {available} or below")
                reached.append(when - at)
                by_channel[channel].append(when - at)
            latencies.append(max(reached))
        finals = {
            channel: [sandboxes.timed_history(channel, sku.code)[-1][1] for sku in skus]
            for channel in CHANNELS
        }
        expected = [remaining[sku.code] for sku in skus]
        if any(values != expected for values in finals.values()):
            raise SystemExit(f"channels ended on {finals}, expected {expected}")
        print(
            f"  burst (engine: {ENGINE_MODE}): {BURST} orders in {burst_seconds:.1f} s; "
            f"calls per channel {calls}; "
            f"sale -> all channels p50 {statistics.median(latencies):.3f} s, "
            f"p99 {percentile(latencies, 0.99):.3f} s, max {max(latencies):.3f} s; per channel "
            + ", ".join(
                f"{channel} p50 {statistics.median(values):.3f} / p99 "
                f"{percentile(values, 0.99):.3f} s"
                for channel, values in by_channel.items()
            ),
            file=sys.stderr,
            flush=True,
        )
        return {
            "p50": statistics.median(latencies),
            "p99": percentile(latencies, 0.99),
            "calls_per_sale_per_channel": sum(calls.values()) / len(CHANNELS) / BURST,
        }
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        sandboxes.stop()


# -- allocation throughput -------------------------------------------------------------------


def _alloc_worker(shop_id: int, codes: list[str], prefix: str, count: int, queue) -> None:  # type: ignore[no-untyped-def]
    connections.close_all()
    shop = Shop.objects.get(pk=shop_id)
    orders = [
        incoming_order(f"{prefix}{n:06d}", [(codes[n % len(codes)], 1)]) for n in range(count)
    ]
    queue.put("ready")
    started = time.monotonic()
    for order in orders:
        orders_upsert(shop=shop, incoming=[order], source=ChangeSource.WEBHOOK)
    queue.put(time.monotonic() - started)
    connections.close_all()


def _raw_worker(level_ids: list[int], prefix: str, count: int, queue) -> None:  # type: ignore[no-untyped-def]
    connections.close_all()
    level = StockLevel.objects.get(pk=level_ids[0])
    fields = [f for f in StockMovement._meta.local_concrete_fields if not f.primary_key]
    template = StockMovement(
        sku_id=level.sku_id,
        warehouse_id=level.warehouse_id,
        kind=MovementKind.ALLOCATION,
        quantity=1,
        allocated_delta=1,
        reference="raw",
    )
    table = connection.ops.quote_name(StockMovement._meta.db_table)
    level_table = connection.ops.quote_name(StockLevel._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    insert = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
    update = (
        f"UPDATE {level_table} SET allocated = allocated + 1 "
        "WHERE id = %s AND on_hand - allocated >= 1"
    )
    queue.put("ready")
    started = time.monotonic()
    for n in range(count):
        level_id = level_ids[n % len(level_ids)]
        template.at = timezone.now()
        template.idempotency_key = f"raw:{prefix}:{n}"
        values = [f.get_db_prep_save(getattr(template, f.attname), connection) for f in fields]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(update, [level_id])
            if cursor.rowcount != 1:
                raise SystemExit("raw loop ran out of stock")
            cursor.execute(insert, values)
    queue.put(time.monotonic() - started)
    connections.close_all()


def run_workers(target, args_for, workers: int, total: int) -> float:  # type: ignore[no-untyped-def]
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    connections.close_all()
    processes = [
        context.Process(target=target, args=(*args_for(n), total // workers, queue))
        for n in range(workers)
    ]
    started = time.monotonic()
    for process in processes:
        process.start()
    results = [queue.get(timeout=600) for _ in range(2 * workers)]
    elapsed = time.monotonic() - started
    for process in processes:
        process.join(timeout=60)
        if process.exitcode != 0:
            raise SystemExit(f"a worker failed with exit code {process.exitcode}")
    durations = [r for r in results if isinstance(r, float)]
    # Throughput over the slowest worker's own loop (setup excluded), bounded by the wall time.
    return total / min(max(durations), elapsed)


def allocation(engine: str, warehouse: Warehouse) -> dict[str, float]:
    workers = 2 if engine == "postgres" else 1
    shop = Shop.objects.create(name="Alloc", channel=Channel.TIKTOK, remote_shop_id="alloc")
    product = Product.objects.create(name="Alloc")
    skus = [Sku.objects.create(product=product, code=f"ALLOC-{n}") for n in range(SKU_COUNT)]
    for sku in skus:
        stock_receive(sku=sku, warehouse=warehouse, quantity=10 * (ALLOC_ORDERS + RAW_TX))
    codes = [sku.code for sku in skus]
    level_ids = list(
        StockLevel.objects.filter(sku__in=skus).order_by("pk").values_list("pk", flat=True)
    )
    alloc_rates, raw_rates = [], []
    for repeat in range(3):
        alloc_rates.append(
            run_workers(
                _alloc_worker,
                lambda n, r=repeat: (
                    shop.pk,
                    codes,
                    f"A{r}{n}-",
                ),
                workers,
                ALLOC_ORDERS,
            )
        )
        raw_rates.append(
            run_workers(_raw_worker, lambda n, r=repeat: (level_ids, f"{r}{n}"), workers, RAW_TX)
        )
    print(
        f"  alloc orders/s {[round(r) for r in alloc_rates]}, "
        f"raw tx/s {[round(r) for r in raw_rates]}",
        file=sys.stderr,
        flush=True,
    )
    return {
        f"alloc_orders_per_s_{engine}": round(statistics.median(alloc_rates), 1),
        f"raw_alloc_tx_per_s_{engine}": round(statistics.median(raw_rates), 1),
    }


def main(engine: str) -> dict[str, float]:
    call_command("migrate", verbosity=0)
    warehouse = Warehouse.objects.create(code="BENCH", name="Bench", is_default=True)
    figures: dict[str, float] = {}
    if engine == "sqlite":
        count = int(os.environ.get("SYNC_BENCH_RUNS", "1"))
        runs = [sync_burst(warehouse, run) for run in range(count)]
        figures["sync_p50_s"] = round(statistics.median(r["p50"] for r in runs), 3)
        figures["sync_p99_s"] = round(statistics.median(r["p99"] for r in runs), 3)
        figures["api_calls_per_sale_per_channel"] = round(
            statistics.median(r["calls_per_sale_per_channel"] for r in runs), 3
        )
    elif os.environ.get("SYNC_BENCH_BURST_POSTGRES"):
        # The same burst with PostgreSQL behind ingest and engine (no single writer lock).
        burst = sync_burst(warehouse)
        figures["sync_p50_s_postgres"] = round(burst["p50"], 3)
        figures["sync_p99_s_postgres"] = round(burst["p99"], 3)
        figures["api_calls_per_sale_per_channel_postgres"] = round(
            burst["calls_per_sale_per_channel"], 3
        )
    if not os.environ.get("SYNC_BENCH_SKIP_ALLOCATION"):
        figures.update(allocation(engine, warehouse))
    return figures


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
