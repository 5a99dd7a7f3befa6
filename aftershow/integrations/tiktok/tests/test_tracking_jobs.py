"""The scheduler's tracking jobs, the push task, and two pushers sharing the work."""

from __future__ import annotations

from datetime import timedelta

from django_tasks_db.models import DBTaskResult

from aftershow.core.management.commands.scheduler import SCHEDULE
from aftershow.core.timeutils import utcnow
from aftershow.fulfillment.models import Package
from aftershow.integrations import jobs
from aftershow.integrations.models import SyncCursor, TrackingUpload, TrackingUploadState
from aftershow.integrations.tiktok.tracking_push import TrackingPusher
from aftershow.integrations.tiktok.tracking_rules import PUSH_CURSOR
from aftershow.orders.tests.factories import ShopFactory


def upload(shop, index: int, **fields) -> TrackingUpload:
    package = Package.objects.create(
        shop=shop, carrier="USPS", tracking_number=f"9400111899{index:012d}"
    )
    now = utcnow()
    values = {
        "shop": shop,
        "package": package,
        "tracking_number": package.tracking_number,
        "carrier": "USPS",
        "requested_at": now,
        "next_attempt_at": now - timedelta(seconds=1),
        **fields,
    }
    return TrackingUpload.objects.create(**values)


def test_shops_with_due_pushes_get_a_task(db, django_capture_on_commit_callbacks):
    due, later, busy, done = ShopFactory(), ShopFactory(), ShopFactory(), ShopFactory()
    upload(due, 1)
    upload(later, 2, next_attempt_at=utcnow() + timedelta(minutes=5))
    upload(busy, 3, claimed_until=utcnow() + timedelta(minutes=1))
    upload(done, 4, state=TrackingUploadState.PUSHED)
    # The push task queued for it earlier died with its worker.
    SyncCursor.objects.create(shop=due, kind=PUSH_CURSOR, task_queued=True)

    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.enqueue_due_tracking_pushes() == 1

    task = DBTaskResult.objects.get()
    assert task.task_path.endswith("push_tracking")
    assert task.args_kwargs["args"] == [due.pk]


def test_ship_by_alerts_are_enqueued(db):
    assert jobs.enqueue_ship_by_alerts() == 1
    assert DBTaskResult.objects.get().task_path.endswith("raise_ship_by_alerts")


def test_the_scheduler_runs_the_tracking_jobs():
    scheduled = {job.__name__: fields for job, fields, _why in SCHEDULE}
    assert scheduled["enqueue_due_tracking_pushes"] == {"minute": "*"}
    assert scheduled["enqueue_ship_by_alerts"] == {"minute": "*/10"}


def test_two_pushers_claim_different_uploads(db):
    shop = ShopFactory()
    for index in range(60):
        upload(shop, index)

    first = TrackingPusher.__new__(TrackingPusher)
    second = TrackingPusher.__new__(TrackingPusher)
    first.shop = second.shop = shop
    mine, theirs = first._claim(), second._claim()

    assert (len(mine), len(theirs)) == (50, 10)
    assert not {u.pk for u in mine} & {u.pk for u in theirs}
    assert second._claim() == []
