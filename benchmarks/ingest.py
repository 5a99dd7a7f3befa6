"""Order ingest from the TikTok sandbox: cursor pulls of 1,000 and 10,000 orders, and the
webhook path (signed webhook → queued detail fetch → stored order) in orders per second.

Run by benchmarks/run.py as `python -m benchmarks.ingest sqlite|postgres`; prints one JSON line.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from datetime import timedelta

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftershow.settings")
django.setup()

from django.core.management import call_command  # noqa: E402

from aftershow.core.timeutils import utcnow  # noqa: E402
from aftershow.core.worker import WorkerThread  # noqa: E402
from aftershow.demo.runner import loopback_server  # noqa: E402
from aftershow.integrations.tiktok.sync import TikTokConnector, shop_connect  # noqa: E402
from aftershow.orders.models import Order  # noqa: E402
from aftershow.sandbox.tiktok import StreamSpec, TikTokSandbox, VirtualClock  # noqa: E402

APP_KEY, APP_SECRET = "bench_key", "bench_secret"
REPEATS = {1_000: 5, 10_000: 3}
WEBHOOK_ORDERS = 2_000


def new_shop(sandbox: TikTokSandbox, orders: int, seed: int):  # type: ignore[no-untyped-def]
    remote = sandbox.store.create_shop(name=f"Bench {seed}", region="US")
    sandbox.store.add_product(
        remote.id,
        "Cloud Tee",
        skus=[{"seller_sku": f"TEE-{seed}-{size}", "price": "19.99"} for size in "SML"],
    )
    plan = sandbox.simulate_live_stream(
        StreamSpec(
            viewers=orders * 10,
            conversion_rate=0.1,
            duration=timedelta(hours=3),
            seed=seed,
            shop_id=remote.id,
        )
    )
    (shop,) = shop_connect(
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        auth_code=sandbox.store.issue_auth_code(shop_ids=[remote.id]),
        api_base_url=sandbox.base_url,
        auth_base_url=sandbox.base_url,
    )
    return shop, plan


def time_pull(sandbox: TikTokSandbox, orders: int, seed: int) -> float:
    shop, plan = new_shop(sandbox, orders, seed)
    sandbox.release_all(plan)
    started = time.perf_counter()
    report = TikTokConnector(shop).pull_orders()
    elapsed = time.perf_counter() - started
    stored = Order.objects.filter(shop=shop).count()
    if report.orders_seen != orders or stored != orders:
        raise SystemExit(f"pulled {report.orders_seen}, stored {stored}, expected {orders}")
    return elapsed


def webhook_rate(sandbox: TikTokSandbox, engine: str, seed: int) -> float:
    shop, plan = new_shop(sandbox, WEBHOOK_ORDERS, seed)
    workers = [WorkerThread() for _ in range(2 if engine == "postgres" else 1)]
    with loopback_server() as web_url:
        TikTokConnector(shop).register_webhooks(address=f"{web_url}/webhooks/tiktok/")
        for worker in workers:
            worker.start()
        started = time.perf_counter()
        sandbox.release_all(plan)
        deadline = started + 600
        while Order.objects.filter(shop=shop).count() < WEBHOOK_ORDERS:
            if time.perf_counter() > deadline:
                raise SystemExit("webhook ingest did not finish in 10 minutes")
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
    for worker in workers:
        worker.stop()
    return WEBHOOK_ORDERS / elapsed


def main(engine: str) -> dict[str, float]:
    call_command("migrate", verbosity=0)
    sandbox = TikTokSandbox(
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        seed=1,
        clock=VirtualClock(start=utcnow() - timedelta(days=3), speed=0),
    )
    sandbox.start()
    figures: dict[str, float] = {}
    seed = 100
    try:
        for orders, repeats in REPEATS.items():
            runs = []
            for _ in range(repeats):
                seed += 1
                runs.append(time_pull(sandbox, orders, seed))
            figures[f"pull_{orders}_s_{engine}"] = round(statistics.median(runs), 3)
            print(f"  pull {orders}: {[round(r, 2) for r in runs]}", file=sys.stderr, flush=True)
        rates = [webhook_rate(sandbox, engine, seed + n) for n in range(1, 4)]
        print(f"  webhook orders/s: {[round(r) for r in rates]}", file=sys.stderr, flush=True)
        figures[f"webhook_orders_per_s_{engine}"] = round(statistics.median(rates), 1)
    finally:
        sandbox.stop()
    return figures


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
