"""Creator metrics and tiers recomputed over 100,000 orders.

The world: 200 creators, 2,000 live sessions with viewer counts, 100,000 paid orders (a quarter
with two lines, so 125,000 lines of costed SKUs), one commission row per line (both payers, some
void), about 6 % of orders returned, 3 samples and one flat-fee collaboration per creator.

- ``creator_metrics_100k_s`` (SQLite; ``_postgres`` appended on PostgreSQL): wall time of
  ``metrics_recompute`` (every creator's
  conversion, AOV, return rate and ROI from grouped queries, tiers, tier-change rows, standings
  written), median of 3 runs on the same data (the first run inserts the standings and records
  the first ratings, later runs update them).
- ``creator_metrics_100k_cpu_s[_postgres]``: the same in this process's CPU seconds (the shared
  machine's wall time varies with its load; PostgreSQL's server time is not counted).
- ``creator_metrics_100k_queries[_postgres]``: SQL statements one recompute issues, to show the
  work is done by aggregate queries, not by a Python loop over orders.

Run by benchmarks/run.py as ``python -m benchmarks.creator_metrics sqlite|postgres``; prints one
JSON line. Building the data takes a few minutes on a small machine; it is not measured.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftershow.settings")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from aftershow.catalog.models import Product, Sku  # noqa: E402
from aftershow.commissions.models import (  # noqa: E402
    CommissionLine,
    LineKind,
    LineStatus,
    Payer,
)
from aftershow.creators.models import (  # noqa: E402
    Collaboration,
    CollaborationKind,
    Creator,
    LiveSession,
    LiveSessionStatus,
    SampleShipment,
)
from aftershow.metrics.models import CreatorStanding, RecomputeTrigger  # noqa: E402
from aftershow.metrics.services import metrics_recompute  # noqa: E402
from aftershow.orders.models import Order, OrderLine, PlatformStatus  # noqa: E402
from aftershow.risk.models import OrderReturn  # noqa: E402
from aftershow.shops.models import Channel, Shop  # noqa: E402

ORDERS = 100_000
CREATORS = 200
SESSIONS_PER_CREATOR = 10
RUNS = 3
BATCH = 5_000
AS_OF = datetime(2026, 11, 26, tzinfo=UTC)
START = AS_OF - timedelta(days=180)


def build_world() -> None:
    """Deterministic data, written with bulk inserts (not part of the measurement)."""
    shop = Shop.objects.create(
        name="Bench shop", channel=Channel.TIKTOK, remote_shop_id="bench-metrics", region="US"
    )
    product = Product.objects.create(name="Bench product")
    skus = Sku.objects.bulk_create(
        Sku(product=product, code=f"BM-{n}", cost=Decimal("4.00") + n) for n in range(20)
    )
    creators = Creator.objects.bulk_create(
        Creator(handle=f"bench_creator_{n}", followers=1_000 * (n + 1)) for n in range(CREATORS)
    )
    sessions = LiveSession.objects.bulk_create(
        LiveSession(
            creator=creator,
            shop=shop,
            status=LiveSessionStatus.ENDED,
            starts_at=START + timedelta(days=s * 17 + c % 17, hours=c % 12),
            ends_at=START + timedelta(days=s * 17 + c % 17, hours=c % 12 + 2),
            viewers=500 + (c * 37 + s * 101) % 5_000,
        )
        for c, creator in enumerate(creators)
        for s in range(SESSIONS_PER_CREATOR)
    )
    SampleShipment.objects.bulk_create(
        SampleShipment(
            creator=creator,
            sku=skus[(c + k) % len(skus)],
            quantity=1 + k,
            unit_cost=Decimal("6.00"),
            shipping_cost=Decimal("4.50"),
            shipped_at=START + timedelta(days=k),
        )
        for c, creator in enumerate(creators)
        for k in range(3)
    )
    Collaboration.objects.bulk_create(
        Collaboration(
            creator=creator,
            kind=CollaborationKind.OFF_PLATFORM,
            starts_on=(START + timedelta(days=c % 30)).date(),
            # A wide spread of fees puts creators in every tier.
            flat_fee=Decimal(50 + (c * 97) % 2_500),
        )
        for c, creator in enumerate(creators)
    )
    for first in range(0, ORDERS, BATCH):
        with transaction.atomic():
            orders = []
            for n in range(first, min(first + BATCH, ORDERS)):
                creator_index = (n * 7919) % CREATORS
                session = sessions[creator_index * SESSIONS_PER_CREATOR + n % SESSIONS_PER_CREATOR]
                placed = session.starts_at + timedelta(seconds=n % 7_000)
                orders.append(
                    Order(
                        shop=shop,
                        remote_order_id=f"58{n:016d}",
                        platform_status=PlatformStatus.DELIVERED,
                        placed_at=placed,
                        paid_at=placed,
                        remote_updated_at=placed,
                        subtotal=Decimal("12.00") + (n % 40),
                        total_amount=Decimal("12.00") + (n % 40),
                        creator_id=session.creator_id,
                        live_session=session,
                    )
                )
            Order.objects.bulk_create(orders)
            lines = []
            returns = []
            commission = []
            for order in orders:
                n = int(order.remote_order_id[2:])
                for line_number in range(2 if n % 4 == 0 else 1):
                    lines.append(
                        OrderLine(
                            order=order,
                            remote_line_id=f"{order.remote_order_id}-{line_number}",
                            sku=skus[(n + line_number) % len(skus)],
                            quantity=1,
                            sale_price=order.subtotal,
                            creator_id=order.creator_id,
                            live_session=order.live_session,
                        )
                    )
                if n % 17 == 0:
                    returns.append(
                        OrderReturn(
                            order=order, remote_return_id=f"r{n}", returned_at=order.placed_at
                        )
                    )
            OrderLine.objects.bulk_create(lines)
            for line in lines:
                n = int(line.order.remote_order_id[2:])
                commission.append(
                    CommissionLine(
                        order=line.order,
                        order_line=line,
                        creator_id=line.creator_id,
                        live_session=line.live_session,
                        payer=Payer.SELLER if n % 5 == 0 else Payer.PLATFORM,
                        kind=LineKind.COMMISSION,
                        rate=Decimal("15.00"),
                        base=line.sale_price,
                        amount=(line.sale_price * Decimal("0.15")).quantize(Decimal("0.01")),
                        status=LineStatus.VOID if n % 17 == 0 else LineStatus.EARNED,
                        occurred_at=line.order.placed_at,
                        idempotency_key=f"bench:{line.remote_line_id}",
                    )
                )
            OrderReturn.objects.bulk_create(returns)
            CommissionLine.objects.bulk_create(commission)
        print(f"  built {min(first + BATCH, ORDERS)} orders", file=sys.stderr, flush=True)


def main(engine: str) -> dict[str, float]:
    call_command("migrate", verbosity=0)
    if not Order.objects.filter(remote_order_id=f"58{0:016d}").exists():
        build_world()
    figures: dict[str, float] = {}
    suffix = "" if engine == "sqlite" else f"_{engine}"
    walls = []
    cpus = []
    queries = 0
    for run in range(RUNS):
        started = time.perf_counter()
        cpu_started = time.process_time()
        with CaptureQueriesContext(connection) as captured:
            result = metrics_recompute(
                trigger=RecomputeTrigger.CLI, at=AS_OF + timedelta(minutes=run)
            )
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu_started)
        queries = len(captured)
        print(
            f"  recompute {run + 1}: {walls[-1]:.2f} s ({cpus[-1]:.2f} s CPU), "
            f"{result.creators} creators, {result.tier_changes} tier changes, {queries} queries",
            file=sys.stderr,
            flush=True,
        )
    tiers: dict[str, int] = {}
    for tier in CreatorStanding.objects.values_list("tier", flat=True):
        tiers[tier] = tiers.get(tier, 0) + 1
    print(f"  tiers: {dict(sorted(tiers.items()))}", file=sys.stderr, flush=True)
    figures[f"creator_metrics_100k_s{suffix}"] = round(statistics.median(walls), 3)
    figures[f"creator_metrics_100k_cpu_s{suffix}"] = round(statistics.median(cpus), 3)
    figures[f"creator_metrics_100k_queries{suffix}"] = queries
    return figures


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
