"""The scheduler's stock-sync jobs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django_tasks_db.models import DBTaskResult

from aftershow.core.management.commands.scheduler import SCHEDULE
from aftershow.core.timeutils import utcnow
from aftershow.shops.models import Channel, Shop
from aftershow.stocksync import jobs
from aftershow.stocksync.models import EngineLease, StockChange

pytestmark = pytest.mark.django_db


def queued(name: str) -> list[DBTaskResult]:
    return [row for row in DBTaskResult.objects.all() if row.task_path.endswith(name)]


def test_the_schedule_runs_the_stock_sync_jobs():
    scheduled = {job for job, _fields, _why in SCHEDULE}
    assert {
        jobs.enqueue_engine_if_needed,
        jobs.enqueue_drift_checks,
        jobs.enqueue_channel_order_pulls,
    } <= scheduled


def test_orders_of_shopify_amazon_and_ebay_are_pulled():
    for channel in Channel:
        Shop.objects.create(name=channel, channel=channel, remote_shop_id=f"r-{channel}")
    Shop.objects.create(name="off", channel=Channel.EBAY, remote_shop_id="r-off", is_active=False)
    assert jobs.enqueue_channel_order_pulls() == 3
    paths = sorted(row.task_path for row in DBTaskResult.objects.all())
    assert paths == [
        "aftershow.integrations.amazon.tasks.pull_orders",
        "aftershow.integrations.ebay.tasks.pull_orders",
        "aftershow.integrations.shopify.tasks.pull_orders",
    ]


def test_the_sweep_wakes_the_engine_only_for_work_left_behind(django_capture_on_commit_callbacks):
    assert jobs.enqueue_engine_if_needed() == 0
    from aftershow.catalog.models import Product, Sku

    sku = Sku.objects.create(product=Product.objects.create(name="T"), code="T")
    StockChange.objects.create(sku=sku, at=utcnow())
    # A killed engine's lease, expired.
    EngineLease.objects.create(
        name="stocksync", holder="dead", expires_at=utcnow() - timedelta(seconds=5)
    )
    assert jobs.enqueue_engine_if_needed() == 1
    assert len(queued("run_engine")) == 1
    assert jobs.enqueue_engine_if_needed() == 0  # one wake-up on its way is enough
