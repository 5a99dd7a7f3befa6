"""Fault: the process buying a 1,000-order label batch is killed (SIGKILL) halfway, then started
again. The batch completes with one label per parcel (none bought twice), and shipping then
ships every order once: none lost, none shipped twice.

The batch runs in a real ``aftershow labels_batch`` subprocess against this test's database
file (SQLite; on PostgreSQL the same database by name), so the kill is a real one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection

from aftershow.catalog.models import Sku
from aftershow.fulfillment.models import (
    BatchItemState,
    LabelBatch,
    LabelBatchItem,
    LabelPurchase,
    Package,
    PurchaseState,
)
from aftershow.fulfillment.shipping import packages_ship
from aftershow.fulfillment.tests.conftest import OrderMaker, make_sku
from aftershow.fulfillment.tests.test_packing import default_rules
from aftershow.inventory.allocation import order_lines_allocate
from aftershow.inventory.models import MovementKind, StockLevel, StockMovement, Warehouse
from aftershow.orders.models import Order, OrderState
from aftershow.shops.models import Shop

pytestmark = pytest.mark.django_db(transaction=True)
ORDERS = 1000
AFTERSHOW = Path(sys.executable).with_name("aftershow")


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        env["AFTERSHOW_SQLITE_PATH"] = str(db["NAME"])
    else:
        env["AFTERSHOW_DB_ENGINE"] = "postgresql"
        env["PGDATABASE"] = str(db["NAME"])
    env["AFTERSHOW_LABEL_AGGREGATOR"] = "sandbox"
    env["AFTERSHOW_VAR_DIR"] = str(tmp_path)
    return env


# Restarting: the same command again, or the batch step itself on every batch still holding
# pending items (what a resuming worker does).
RESUME = (
    "from aftershow.fulfillment.batches import label_batch_process\n"
    "from aftershow.fulfillment.models import LabelBatch\n"
    "for batch in LabelBatch.objects.filter(items__state='pending').distinct().order_by('pk'):\n"
    "    label_batch_process(batch=batch)\n"
)


def _run(shop: Shop, env: dict[str, str], how: str = "labels_batch") -> subprocess.Popen[bytes]:
    command = [str(AFTERSHOW), "labels_batch", "--shop", str(shop.pk), "--no-files"]
    if how == "resume":
        command = [str(AFTERSHOW), "shell", "-c", RESUME]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _bought() -> int:
    return LabelPurchase.objects.filter(state=PurchaseState.BOUGHT).count()


@pytest.mark.parametrize("restart", ["resume", "labels_batch"])
def test_a_label_batch_killed_halfway_completes_without_duplicates(
    tmp_path: Path,
    warehouse: Warehouse,
    shopify_shop: Shop,
    make_order: OrderMaker,
    restart: str,
) -> None:
    if connection.vendor == "sqlite" and str(connection.settings_dict["NAME"]).startswith(
        ("file:memorydb", ":memory:")
    ):
        pytest.skip("the subprocess needs the test database in a file")
    default_rules()
    sku: Sku = make_sku("TEE-BLK-M", weight_oz="6.2", bin_location="C-03")
    StockLevel.objects.create(sku=sku, warehouse=warehouse, on_hand=ORDERS)
    orders = [make_order(shopify_shop, sku) for _ in range(ORDERS)]
    order_lines_allocate(order_ids=[order.pk for order in orders])
    env = _env(tmp_path)

    worker = _run(shop=shopify_shop, env=env)
    deadline = time.monotonic() + 300
    while _bought() < ORDERS * 3 // 10 and worker.poll() is None:
        assert time.monotonic() < deadline, "the batch made no progress"
        time.sleep(0.05)
    assert worker.poll() is None, "the batch finished before it could be killed"
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)
    killed_at = _bought()
    assert 0 < killed_at < ORDERS
    assert LabelBatchItem.objects.filter(state=BatchItemState.PENDING).exists()

    again = _run(shop=shopify_shop, env=env, how=restart)
    output = again.communicate(timeout=600)[0].decode()
    assert again.returncode == 0, output

    packages = Package.objects.filter(shop=shopify_shop)
    assert packages.count() == ORDERS
    live = LabelPurchase.objects.exclude(state=PurchaseState.FAILED)
    assert Counter(live.values_list("state", flat=True)) == {PurchaseState.BOUGHT: ORDERS}
    assert set(Counter(live.values_list("package_id", flat=True)).values()) == {1}
    numbers = list(packages.values_list("tracking_number", flat=True))
    assert len(set(numbers)) == ORDERS and "" not in numbers
    assert set(LabelBatchItem.objects.values_list("state", flat=True)) == {BatchItemState.LABELLED}
    assert LabelBatchItem.objects.count() == ORDERS
    assert sum(LabelBatch.objects.values_list("order_count", flat=True)) == ORDERS

    report = packages_ship(packages=packages, actor=None, via="batch")
    assert (report.shipped, report.already_shipped, report.refused) == (ORDERS, 0, {})
    again_report = packages_ship(packages=packages, actor=None, via="batch")
    assert (again_report.shipped, again_report.already_shipped) == (0, ORDERS)
    assert Order.objects.filter(state=OrderState.SHIPPED).count() == ORDERS
    shipments = StockMovement.objects.filter(kind=MovementKind.SHIPMENT)
    assert set(Counter(shipments.values_list("order_id", flat=True)).values()) == {1}
    assert StockLevel.objects.values_list("on_hand", "allocated").get() == (0, 0)
