"""Tracking through the production path with a faulty TikTok: parcels shipped by
``packages_ship`` (as the scan station does), the push task run by the django-tasks-db worker,
retries re-queued by the scheduler's job after their backoff. 10 % of TikTok's answers are 429
or 500; every tracking number ends up on TikTok, none pushed twice."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from aftershow.audit.models import IntegrationLog
from aftershow.core.timeutils import utcnow
from aftershow.core.worker import WorkerThread, run_queued_tasks
from aftershow.fulfillment.models import Package, PackageStatus
from aftershow.fulfillment.shipping import packages_ship
from aftershow.integrations.jobs import enqueue_due_tracking_pushes
from aftershow.integrations.models import TrackingUpload, TrackingUploadState
from aftershow.integrations.tiktok.tests.test_tracking import (
    SHIP,
    land_orders,
    pack_and_ship,
    pull,
    remote_package,
    tracking_for,
)
from aftershow.orders.models import Order, OrderState

pytestmark = pytest.mark.django_db(transaction=True)


def test_pushes_through_the_worker_survive_10_percent_429_and_500(
    tiktok_sandbox, tiktok_remote_shop, tiktok_shop, settings
) -> None:
    settings.HTTP_MAX_RETRY_WAIT_SECONDS = 0.01
    settings.HTTP_MAX_ATTEMPTS = 1  # every fault ends its call: the durable retry must carry it
    order_ids = land_orders(tiktok_sandbox, tiktok_remote_shop, 150)
    pull(tiktok_shop)
    orders = {o.remote_order_id: o for o in Order.objects.all()}
    packages = []
    for index, order_id in enumerate(order_ids):
        package = Package.objects.create(
            shop=tiktok_shop,
            carrier="USPS",
            service="Ground Advantage",
            tracking_number=tracking_for(index),
            status=PackageStatus.PROCESSING,
        )
        orders[order_id].lines.update(package=package)
        packages.append(package)
    Order.objects.update(state=OrderState.LABELLED)
    tiktok_sandbox.faults.configure(rate=0.1, kinds=("429", "500"), seed=83)

    report = packages_ship(packages=packages, actor=None, via="scan:dock-1")
    assert (report.shipped, report.refused, report.tracking_refused) == (150, {}, {})

    backed_off = 0
    for _ in range(40):
        run_queued_tasks()  # the push task queued on commit, or re-queued by the job below
        queued = TrackingUpload.objects.filter(state=TrackingUploadState.QUEUED)
        if not queued.exists():
            break
        # What failed waits for its backoff; let that time pass, then run the scheduler's job.
        backed_off += queued.filter(next_attempt_at__gt=utcnow(), attempts__gt=0).count()
        queued.update(next_attempt_at=utcnow() - timedelta(seconds=1))
        assert enqueue_due_tracking_pushes() == 1
    else:
        raise AssertionError("tracking uploads still queued")

    desk = tiktok_sandbox.fulfillment
    remote_ids = [remote_package(tiktok_sandbox, order_id) for order_id in order_ids]
    assert [desk.package(p).accepted_ships for p in remote_ids] == [1] * 150
    assert [desk.ship_requests[p] for p in remote_ids] == [1] * 150
    assert desk.rejections == {}
    assert tiktok_sandbox.faults.injected["429"] > 0
    assert tiktok_sandbox.faults.injected["500"] > 0
    assert backed_off > 0
    assert IntegrationLog.objects.filter(outcome="retryable", path=SHIP).exists()
    assert set(TrackingUpload.objects.values_list("state", "last_error")) == {("pushed", "")}
    for index, order_id in enumerate(order_ids):
        assert tiktok_sandbox.store.get_order(order_id)["tracking_number"] == tracking_for(index)


def test_a_whole_batch_gets_two_push_tasks_and_two_workers_push_each_parcel_once(
    tiktok_sandbox, tiktok_remote_shop, tiktok_shop
) -> None:
    """More than two Batch Ship calls' worth shipped at once queues a second push task; two
    worker loops running them side by side (on PostgreSQL truly in parallel) claim disjoint
    batches, so every parcel reaches TikTok exactly once."""
    order_ids = land_orders(tiktok_sandbox, tiktok_remote_shop, 160)
    pull(tiktok_shop)
    packages = pack_and_ship(tiktok_shop, order_ids)
    push_tasks = DBTaskResult.objects.filter(
        task_path="aftershow.integrations.tiktok.tasks.push_tracking",
        status=TaskResultStatus.READY,
    )
    assert push_tasks.count() == 2

    workers = [WorkerThread() for _ in range(2)]
    for worker in workers:
        worker.start()
    try:
        deadline = time.monotonic() + 60
        while (
            push_tasks.exists()
            or DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).exists()
        ):
            assert time.monotonic() < deadline, "the push tasks did not finish"
            time.sleep(0.05)
    finally:
        for worker in workers:
            worker.stop()

    finished = DBTaskResult.objects.filter(
        task_path="aftershow.integrations.tiktok.tasks.push_tracking"
    )
    assert set(finished.values_list("status", flat=True)) == {TaskResultStatus.SUCCESSFUL}
    assert sum(int(result.return_value) for result in finished) == len(packages)
    desk = tiktok_sandbox.fulfillment
    remote_ids = [remote_package(tiktok_sandbox, order_id) for order_id in order_ids]
    assert [desk.package(p).accepted_ships for p in remote_ids] == [1] * 160
    assert [desk.ship_requests[p] for p in remote_ids] == [1] * 160
    assert set(TrackingUpload.objects.values_list("state", flat=True)) == {"pushed"}


def test_a_few_parcels_get_one_push_task(tiktok_sandbox, tiktok_remote_shop, tiktok_shop) -> None:
    order_ids = land_orders(tiktok_sandbox, tiktok_remote_shop, 100)
    pull(tiktok_shop)
    pack_and_ship(tiktok_shop, order_ids)
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == 1
