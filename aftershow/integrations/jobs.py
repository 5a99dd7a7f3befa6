"""Periodic jobs, enqueued by the scheduler process (``aftershow scheduler``).

The scheduler only enqueues; workers on any machine run the jobs. Each job is idempotent, so a
job enqueued twice (two schedulers, a restart) does no harm.
"""

from __future__ import annotations

from functools import partial

from django.db import transaction

from aftershow.integrations.models import PendingOrderFetch
from aftershow.integrations.services import cursor_task_claim_enqueue, cursor_task_started
from aftershow.integrations.tiktok.tasks import PENDING_FETCH, fetch_pending_orders, pull_orders
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
