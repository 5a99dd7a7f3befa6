"""Monthly statements for 100,000 order lines across 200 creators, XLSX included.

The world: 200 creators, 100,000 one-line orders placed in October 2026 (TikTok sends one line
per unit), each with its two commission rows (15 % paid by TikTok, 5 % paid by the seller),
about 6 % of orders returned (their rows void), everything else confirmed and earned.

- ``statements_100k_s`` (SQLite) / ``statements_100k_s_postgres``: wall time of one month's
  run as on the 1st: ``statements_generate`` (200 new statements: order figures, the sweep of
  94,000 seller rows, carry-ins) plus every statement's XLSX file (summary and detail sheets,
  about 470 detail rows each) written to a directory by ``statements_write_files``, as
  ``commissions_statements --export-dir`` does: this process and one forked worker
  (``AFTERSHOW_BENCH_STATEMENT_WORKERS``, default 2; 1 = this process alone). Median of 3 runs on
  the same data; before each run (not measured) the month's statements are deleted and their
  rows released, so every run makes the month from scratch.
- ``statements_100k_generate_s`` / ``statements_100k_xlsx_s`` (+ ``_postgres``): the two parts.
- ``statements_100k_cpu_s`` (+ ``_postgres``): the whole run in CPU seconds of this process and
  of the file-writing worker (client side only on PostgreSQL).
- ``statements_100k_remake_s`` (+ ``_postgres``): remaking the 200 drafts once more (nothing
  changed in the ledger), without the XLSX; one run.

Run by benchmarks/run.py as ``python -m benchmarks.statements sqlite|postgres``; prints one JSON
line. Building the data takes a few minutes on a small machine; it is not measured.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftershow.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from aftershow.commissions.exports import statements_write_files  # noqa: E402
from aftershow.commissions.models import (  # noqa: E402
    CommissionLine,
    LineKind,
    LineStatus,
    Payer,
    Statement,
)
from aftershow.commissions.statements import statements_generate  # noqa: E402
from aftershow.creators.models import Creator  # noqa: E402
from aftershow.orders.models import Order, OrderLine, PlatformStatus  # noqa: E402
from aftershow.risk.models import OrderReturn  # noqa: E402
from aftershow.shops.models import Channel, Shop  # noqa: E402

LINES = 100_000
CREATORS = 200
RUNS = 3
WORKERS = int(os.environ.get("AFTERSHOW_BENCH_STATEMENT_WORKERS", "2"))
BATCH = 5_000
PERIOD = date(2026, 10, 1)
MONTH_START = datetime(2026, 10, 1, tzinfo=UTC)
NOW = datetime(2026, 12, 1, 2, 15, tzinfo=UTC)
FIRST_ORDER_ID = f"59{0:016d}"


def _amount(base: Decimal, rate: str) -> Decimal:
    return (base * Decimal(rate) / 100).quantize(Decimal("0.01"))


def build_world() -> None:
    """Deterministic data, written with bulk inserts (not part of the measurement)."""
    shop = Shop.objects.create(
        name="Bench statements", channel=Channel.TIKTOK, remote_shop_id="bench-stmt", region="US"
    )
    creators = Creator.objects.bulk_create(
        Creator(handle=f"stmt_creator_{n}", followers=1_000 * (n + 1)) for n in range(CREATORS)
    )
    for first in range(0, LINES, BATCH):
        with transaction.atomic():
            orders = []
            for n in range(first, min(first + BATCH, LINES)):
                placed = MONTH_START + timedelta(seconds=(n * 26) % (30 * 86_400))
                price = Decimal("9.99") + (n % 50)
                orders.append(
                    Order(
                        shop=shop,
                        remote_order_id=f"59{n:016d}",
                        platform_status=PlatformStatus.COMPLETED,
                        placed_at=placed,
                        paid_at=placed,
                        delivered_at=placed + timedelta(days=3),
                        remote_updated_at=placed + timedelta(days=10),
                        subtotal=price,
                        total_amount=price,
                        creator_id=creators[(n * 7919) % CREATORS].pk,
                    )
                )
            Order.objects.bulk_create(orders)
            lines = [
                OrderLine(
                    order=order,
                    remote_line_id=f"{order.remote_order_id}-1",
                    remote_sku_id=f"sku{int(order.remote_order_id) % 30}",
                    seller_sku=f"BENCH-{int(order.remote_order_id) % 30}",
                    product_name="Bench product",
                    quantity=1,
                    sale_price=order.subtotal,
                    creator_id=order.creator_id,
                )
                for order in orders
            ]
            OrderLine.objects.bulk_create(lines)
            returned = {order.pk for order in orders if int(order.remote_order_id) % 17 == 0}
            OrderReturn.objects.bulk_create(
                OrderReturn(order_id=pk, remote_return_id=f"r{pk}", returned_at=NOW)
                for pk in returned
            )
            rows = []
            for line in lines:
                assert line.creator_id is not None
                status = LineStatus.VOID if line.order_id in returned else LineStatus.EARNED
                for payer, rate in ((Payer.PLATFORM, "15.00"), (Payer.SELLER, "5.00")):
                    rows.append(
                        CommissionLine(
                            order=line.order,
                            order_line=line,
                            creator_id=line.creator_id,
                            payer=payer,
                            kind=LineKind.COMMISSION,
                            rate=Decimal(rate),
                            base=line.sale_price,
                            amount=_amount(line.sale_price, rate),
                            status=status,
                            earned_at=None
                            if status == LineStatus.VOID
                            else NOW - timedelta(days=1),
                            occurred_at=line.order.placed_at,
                            idempotency_key=f"bench:{line.remote_line_id}:{payer}",
                        )
                    )
            CommissionLine.objects.bulk_create(rows)
        print(f"  built {min(first + BATCH, LINES)} order lines", file=sys.stderr, flush=True)


def _reset() -> None:
    """The month as on the 1st before the job: no statement made, every row on none."""
    with transaction.atomic():
        CommissionLine.objects.filter(statement__isnull=False).update(statement=None)
        Statement.objects.all().delete()


def _cpu_seconds() -> float:
    """This process's CPU time plus that of its finished (waited-for) children."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def main(engine: str) -> dict[str, float]:
    vendor = {"sqlite": "sqlite", "postgres": "postgresql"}[engine]
    if connection.vendor != vendor:
        # A cluster that failed to start would otherwise measure SQLite under the other name.
        raise SystemExit(f"asked for {engine} but connected to {connection.vendor}")
    call_command("migrate", verbosity=0)
    if not Order.objects.filter(remote_order_id=FIRST_ORDER_ID).exists():
        build_world()
    suffix = "" if engine == "sqlite" else f"_{engine}"
    walls, generates, xlsxs, cpus = [], [], [], []
    for run in range(RUNS):
        _reset()
        directory = tempfile.mkdtemp(prefix="bench-statements-", dir=settings.VAR_DIR)
        cpu_started = _cpu_seconds()
        started = time.perf_counter()
        result = statements_generate(period=PERIOD, now=NOW)
        generated = time.perf_counter()
        cpu_generated = _cpu_seconds()
        written = statements_write_files(
            result.statements, Path(directory), formats=("xlsx",), workers=WORKERS
        )
        finished = time.perf_counter()
        walls.append(finished - started)
        generates.append(generated - started)
        xlsxs.append(finished - generated)
        cpus.append(_cpu_seconds() - cpu_started)
        size = sum(path.stat().st_size for path in written)
        shutil.rmtree(directory)
        stated = CommissionLine.objects.filter(statement__isnull=False).count()
        print(
            f"  run {run + 1}: {walls[-1]:.2f} s (generate {generates[-1]:.2f} s, XLSX "
            f"{xlsxs[-1]:.2f} s, {cpus[-1]:.2f} s CPU: generate {cpu_generated - cpu_started:.2f}"
            f" s); {len(result.statements)} statements, {stated} rows stated, {len(written)} "
            f"files, {size / 1e6:.1f} MB of XLSX, {WORKERS} writing process(es)",
            file=sys.stderr,
            flush=True,
        )
    started = time.perf_counter()
    remade = statements_generate(period=PERIOD, now=NOW)
    remake = time.perf_counter() - started
    print(
        f"  remake: {remake:.2f} s; {len(remade.statements)} statements",
        file=sys.stderr,
        flush=True,
    )
    return {
        f"statements_100k_remake_s{suffix}": round(remake, 3),
        f"statements_100k_s{suffix}": round(statistics.median(walls), 3),
        f"statements_100k_generate_s{suffix}": round(statistics.median(generates), 3),
        f"statements_100k_xlsx_s{suffix}": round(statistics.median(xlsxs), 3),
        f"statements_100k_cpu_s{suffix}": round(statistics.median(cpus), 3),
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
