"""A file order and an API order are one order: the sandbox over real HTTP on 127.0.0.1.

The sandbox lands a stream, writes it as the Seller Center export a seller would download, and
serves the same orders through the Partner API that ``TikTokConnector`` pulls.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from aftershow.core.timeutils import utcnow
from aftershow.imports.models import ImportSource, ImportStatus
from aftershow.imports.reconcile import PROVISIONAL_LINE_PREFIX
from aftershow.imports.services import import_file
from aftershow.imports.tests.conftest import add_products, fingerprint, stream
from aftershow.integrations.tiktok.sync import TikTokConnector
from aftershow.orders.models import Order, OrderLine
from aftershow.sandbox.tiktok.exports import write_stream_export

ORDERS = 80


@pytest.fixture(autouse=True)
def _fast_retries(settings) -> None:
    settings.HTTP_MAX_RETRY_WAIT_SECONDS = 0.05


@pytest.fixture
def landed(tiktok_sandbox, tiktok_remote_shop, tmp_path: Path):
    add_products(tiktok_sandbox, tiktok_remote_shop)
    plan = stream(tiktok_sandbox, tiktok_remote_shop, orders=ORDERS)
    tiktok_sandbox.advance(timedelta(hours=2))  # remorse windows over, addresses revealed
    path = tmp_path / "All order-2026-03-06-23_00.csv"
    write_stream_export(tiktok_sandbox, plan, path)
    return plan, path


def import_export(shop, path: Path):
    run = import_file(shop=shop, path=path, file_name=path.name, source=ImportSource.CLI)
    assert (run.status, run.errors_count) == (ImportStatus.SUCCEEDED, 0)
    return run


def pull(shop):
    return TikTokConnector(shop).pull_orders(until=utcnow() + timedelta(days=1))


def test_file_first_then_api_is_one_order_per_id(tiktok_sandbox, tiktok_shop, landed) -> None:
    plan, path = landed
    assert import_export(tiktok_shop, path).orders_created == ORDERS

    report = pull(tiktok_shop)

    assert report.orders_seen == ORDERS
    assert report.result is not None and report.result.created == 0
    ids = list(Order.objects.values_list("remote_order_id", flat=True))
    assert sorted(ids) == sorted(order.order_id for order in plan.orders)
    for order in Order.objects.all():
        wire = tiktok_sandbox.store.get_order(order.remote_order_id)
        assert order.platform_status == wire["status"]
        # The API's deadlines replace the file's estimate.
        assert order.ship_by is not None and int(order.ship_by.timestamp()) == wire["rts_sla_time"]


def test_file_first_then_api_has_no_duplicate_lines(tiktok_sandbox, tiktok_shop, landed) -> None:
    plan, path = landed
    import_export(tiktok_shop, path)

    pull(tiktok_shop)

    units = sum(len(order.seller_skus) for order in plan.orders)
    assert OrderLine.objects.count() == units
    assert not OrderLine.objects.filter(remote_line_id__startswith=PROVISIONAL_LINE_PREFIX).exists()


def test_api_first_then_file_keeps_the_api_lines(tiktok_sandbox, tiktok_shop, landed) -> None:
    plan, path = landed
    pull(tiktok_shop)
    before = fingerprint()
    api_lines = set(OrderLine.objects.values_list("order__remote_order_id", "remote_line_id"))
    deadlines = dict(Order.objects.values_list("remote_order_id", "ship_by"))

    run = import_export(tiktok_shop, path)

    assert run.orders_created == 0
    assert run.orders_updated + run.orders_unchanged + run.orders_stale == ORDERS
    # The file matched every unit to the API's line of the same order and SKU: no line added,
    # none renamed, so stock allocated per line is never taken twice.
    assert set(OrderLine.objects.values_list("order__remote_order_id", "remote_line_id")) == (
        api_lines
    )
    assert Counter(OrderLine.objects.values_list("seller_sku", flat=True)) == Counter(
        sku for order in plan.orders for sku in order.seller_skus
    )
    assert dict(Order.objects.values_list("remote_order_id", "ship_by")) == deadlines
    assert fingerprint()["lines"] == before["lines"]
    assert fingerprint()["orders"] == before["orders"]
