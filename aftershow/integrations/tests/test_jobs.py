"""The scheduler's jobs enqueue idempotent work; stalled fetches get a new task."""

from __future__ import annotations

from django_tasks_db.models import DBTaskResult

from aftershow.core.timeutils import utcnow
from aftershow.integrations import jobs
from aftershow.integrations.models import PendingOrderFetch, SyncCursor
from aftershow.integrations.tiktok.tasks import PENDING_FETCH
from aftershow.shops.models import Channel, Shop


def make_shop(remote_id: str, *, is_active: bool = True) -> Shop:
    return Shop.objects.create(
        name=remote_id, channel=Channel.TIKTOK, remote_shop_id=remote_id, is_active=is_active
    )


def test_reconciliation_is_enqueued_for_every_active_tiktok_shop(db):
    first, second = make_shop("1"), make_shop("2")
    make_shop("3", is_active=False)
    Shop.objects.create(name="s", channel=Channel.SHOPIFY, remote_shop_id="4")
    assert jobs.enqueue_order_reconciliation() == 2
    tasks = DBTaskResult.objects.all()
    assert {task.task_path.rsplit(".", 1)[1] for task in tasks} == {"pull_orders"}
    assert sorted(task.args_kwargs["args"][0] for task in tasks) == [first.pk, second.pk]


def test_a_fetch_left_by_a_killed_worker_gets_a_new_task(db, django_capture_on_commit_callbacks):
    shop = make_shop("1")
    # A worker claimed the fetch, flagged its task as queued, then died.
    PendingOrderFetch.objects.create(shop=shop, remote_order_id="77", requested_at=utcnow())
    SyncCursor.objects.create(shop=shop, kind=PENDING_FETCH, task_queued=True)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.enqueue_stalled_fetches() == 1
    task = DBTaskResult.objects.get()
    assert task.task_path.endswith("fetch_pending_orders")
    assert task.args_kwargs["args"] == [shop.pk]
    assert SyncCursor.objects.get().task_queued is True


def test_no_pending_fetch_means_no_task(db):
    make_shop("1")
    assert jobs.enqueue_stalled_fetches() == 0
    assert DBTaskResult.objects.count() == 0
