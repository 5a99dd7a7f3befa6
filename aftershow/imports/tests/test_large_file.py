"""A 50 MB export imports completely while the process's memory stays flat.

Memory is the resident set size sampled every 10 ms during the import, minus what it was just
before: a reader that held the file (or its rows) would add hundreds of MB for 50 MB of CSV.
"""

from __future__ import annotations

import csv
import gc
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from aftershow.imports.models import ImportStatus
from aftershow.imports.tests.conftest import ImportFile
from aftershow.orders.models import Order, OrderLine
from aftershow.sandbox.tiktok.exports import write_synthetic_export

FIFTY_MB = 50 * 10**6
ORDERS = 46_000  # about 92,000 rows of the 63-column layout: just over 50 MB
# What the import may add to the process at its peak: a batch of orders, the set of order ids
# seen (~60 bytes an order), SQLite's page cache, Python's allocator slack.
MAX_GROWTH_MB = 80


class PeakRss:
    def __init__(self) -> None:
        self.process = psutil.Process()
        self.peak = self.baseline = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.baseline) / 10**6


@pytest.mark.slow
@pytest.mark.django_db
def test_a_50_mb_export_imports_with_flat_memory(import_path: ImportFile, tmp_path: Path) -> None:
    path = tmp_path / "All order-2026-03-07-09_00.csv"
    rows = write_synthetic_export(path, orders=ORDERS, seed=5)
    assert path.stat().st_size > FIFTY_MB
    with path.open(encoding="utf-8-sig", newline="") as handle:
        units = sum(int(row["Quantity"]) for row in csv.DictReader(handle))
    gc.collect()

    started = time.perf_counter()
    with PeakRss() as memory:
        run = import_path(path)
    elapsed = time.perf_counter() - started

    print(  # the figures go in the report
        f"\n50 MB import: {path.stat().st_size / 10**6:.1f} MB, {rows} rows, {elapsed:.1f} s, "
        f"peak RSS growth {memory.growth_mb:.1f} MB",
        file=sys.stderr,
    )
    assert (run.status, run.rows_read, run.orders_in_file, run.orders_created) == (
        ImportStatus.SUCCEEDED,
        rows,
        ORDERS,
        ORDERS,
    )
    assert (run.errors_count, run.rows_skipped) == (0, 0)
    assert Order.objects.count() == ORDERS
    assert OrderLine.objects.count() == units
    assert memory.growth_mb < MAX_GROWTH_MB
