"""Periodic jobs of the stock sync, enqueued by the scheduler (``aftershow scheduler``)."""

from __future__ import annotations

from aftershow.shops.models import Channel, Shop
from aftershow.stocksync.engine import work_pending
from aftershow.stocksync.marks import engine_wake
from aftershow.stocksync.tasks import check_drift


def enqueue_engine_if_needed() -> int:
    """The safety net under the wake-ups: work left by a killed worker, retries falling due
    after the engine went idle. Returns 1 when a run was enqueued."""
    return int(work_pending() and engine_wake())


def enqueue_drift_checks() -> int:
    shop_ids = list(
        Shop.objects.filter(is_active=True, listings__isnull=False)
        .values_list("pk", flat=True)
        .distinct()
    )
    for shop_id in shop_ids:
        check_drift.enqueue(shop_id)
    return len(shop_ids)


def enqueue_channel_order_pulls() -> int:
    """Shopify, Amazon and eBay orders deduct the master stock too: poll them like TikTok's
    (Shopify's webhooks are the fast path; the poll is the net under them)."""
    from aftershow.integrations.amazon.tasks import pull_orders as amazon_pull
    from aftershow.integrations.ebay.tasks import pull_orders as ebay_pull
    from aftershow.integrations.shopify.tasks import pull_orders as shopify_pull

    pulls = {Channel.SHOPIFY: shopify_pull, Channel.AMAZON: amazon_pull, Channel.EBAY: ebay_pull}
    shops = list(Shop.objects.filter(is_active=True, channel__in=list(pulls)))
    for shop in shops:
        pulls[Channel(shop.channel)].enqueue(shop.pk)
    return len(shops)
