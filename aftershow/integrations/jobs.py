"""Periodic jobs, enqueued by the scheduler process (``aftershow scheduler``).

The scheduler only enqueues; workers on any machine run the jobs. Each job is idempotent, so a
job enqueued twice (two schedulers, a restart) does no harm.
"""

from __future__ import annotations

from functools import partial

from django.db import transaction
from django.db.models import Q

from aftershow.core.timeutils import utcnow
from aftershow.integrations.models import PendingOrderFetch, TrackingUpload, TrackingUploadState
from aftershow.integrations.services import cursor_task_claim_enqueue, cursor_task_started
from aftershow.integrations.tiktok.tasks import (
    PENDING_FETCH,
    fetch_pending_orders,
    pull_orders,
    push_tracking,
    raise_ship_by_alerts,
)
from aftershow.integrations.tiktok.tracking_rules import PUSH_CURSOR
from aftershow.shops.models import Channel, Shop


def enqueue_order_reconciliation() -> int:
    """The safety net under webhooks: pull every order updated since the last pull."""
    shops = list(Shop.objects.filter(is_active=True, channel=Channel.TIKTOK))
    for shop in shops:
        pull_orders.enqueue(shop.pk)
    return len(shops)


def enqueue_stalled_fetches() -> int:
    """Pending fetches whose task died with its worker get a new task."""
    shop_ids = set(PendingOrderFetch.objects.values_list("shop_id", flat=True).distinct())
    for shop in Shop.objects.filter(pk__in=shop_ids, channel=Channel.TIKTOK):
        # A task flagged as queued may have been lost with a killed worker: clear and requeue.
        cursor_task_started(shop=shop, kind=PENDING_FETCH)
        with transaction.atomic():
            if cursor_task_claim_enqueue(shop=shop, kind=PENDING_FETCH):
                transaction.on_commit(partial(fetch_pending_orders.enqueue, shop.pk))
    return len(shop_ids)


def enqueue_due_tracking_pushes() -> int:
    """Shops with tracking pushes due (first tries, retries after backoff, or left by a killed
    worker) get a push task."""
    now = utcnow()
    shop_ids = set(
        TrackingUpload.objects.filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
            state=TrackingUploadState.QUEUED,
            next_attempt_at__lte=now,
        )
        .values_list("shop_id", flat=True)
        .distinct()
    )
    for shop in Shop.objects.filter(pk__in=shop_ids, channel=Channel.TIKTOK):
        # A task flagged as queued may have died with its worker: clear and requeue.
        cursor_task_started(shop=shop, kind=PUSH_CURSOR)
        with transaction.atomic():
            if cursor_task_claim_enqueue(shop=shop, kind=PUSH_CURSOR):
                transaction.on_commit(partial(push_tracking.enqueue, shop.pk))
    return len(shop_ids)


def enqueue_ship_by_alerts() -> int:
    raise_ship_by_alerts.enqueue()
    return 1
