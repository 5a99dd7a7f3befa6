"""File import: a 100,000-row Seller Center order export (the 2026 US layout, with TikTok's
quirks) imported in one transaction, in seconds (wall clock and CPU of the process, medians of
``REPEATS`` imports of the same file into fresh shops) and in peak resident memory of the whole
process. The file is read and parsed by a reader process while the importing process writes
(aftershow/imports/pipeline.py): its CPU time and peak resident memory are reported apart
(``import_100k_reader_*``); the wall clock covers both.

Run by benchmarks/run.py as `python -m benchmarks.imports sqlite|postgres [repeats]`; prints one
JSON line.
The targets (issue 6) are for SQLite, whose keys carry no suffix; PostgreSQL's end in
``_postgres``.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftershow.settings")
django.setup()

from django.core.management import call_command  # noqa: E402

from aftershow.imports.models import ImportSource, ImportStatus  # noqa: E402
from aftershow.imports.services import import_file  # noqa: E402
from aftershow.orders.models import Order  # noqa: E402
from aftershow.sandbox.tiktok.exports import synthetic_rows, write_rows  # noqa: E402
from aftershow.shops.models import Channel, Shop  # noqa: E402
from benchmarks.procs import children_cpu  # noqa: E402

ROWS = 100_000
# Orders have 1-3 SKU rows (2 on average): enough orders to fill ROWS rows.
ORDERS = 60_000
REPEATS = 3


def peak_rss_mb() -> float:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reader_peak_rss_mb() -> float:
    # The largest ended child: the reader process, whose resident set includes the pages it
    # shares with this process since the fork.
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def import_once(path: Path, written: int, number: int) -> tuple[float, float, float]:
    shop = Shop.objects.create(
        name=f"Bench import {number}",
        channel=Channel.TIKTOK,
        remote_shop_id=f"bench-{time.time_ns()}",
    )
    started, cpu_started, reader_started = time.perf_counter(), time.process_time(), children_cpu()
    run = import_file(shop=shop, path=path, file_name=path.name, source=ImportSource.CLI)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    reader_cpu = children_cpu() - reader_started
    stored = Order.objects.filter(shop=shop).count()
    imported = run.status == ImportStatus.SUCCEEDED and run.rows_read == written
    if not imported or stored != run.orders_created:
        raise SystemExit(f"import failed: {run.fatal_error or run.status}, {stored} orders stored")
    print(
        f"  import {written} rows ({stored} orders): {elapsed:.2f} s ({cpu:.2f} s of CPU, "
        f"reader process {reader_cpu:.2f} s)",
        file=sys.stderr,
        flush=True,
    )
    return elapsed, cpu, reader_cpu


def main(engine: str, repeats: int = REPEATS) -> dict[str, float]:
    call_command("migrate", verbosity=0)
    suffix = "" if engine == "sqlite" else f"_{engine}"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "All order-2026-03-06-22_00.csv"
        written = write_rows(islice(synthetic_rows(ORDERS, seed=1), ROWS), path)
        print(f"  file: {path.stat().st_size / 1e6:.0f} MB", file=sys.stderr, flush=True)
        runs = [import_once(path, written, number) for number in range(repeats)]
    return {
        f"import_100k_rows_s{suffix}": round(statistics.median(run[0] for run in runs), 2),
        f"import_100k_cpu_s{suffix}": round(statistics.median(run[1] for run in runs), 2),
        f"import_100k_reader_cpu_s{suffix}": round(statistics.median(run[2] for run in runs), 2),
        f"import_100k_peak_rss_mb{suffix}": round(peak_rss_mb(), 1),
        f"import_100k_reader_peak_rss_mb{suffix}": round(reader_peak_rss_mb(), 1),
    }


if __name__ == "__main__":
    # An optional second argument imports the file fewer (or more) times than REPEATS.
    print(json.dumps(main(sys.argv[1], *(int(argument) for argument in sys.argv[2:3]))))
