"""Background jobs for TikTok Shop. Thin: they look up the shop and call the connector."""

from __future__ import annotations

from django_tasks import task

from aftershow.integrations.services import cursor_task_started
from aftershow.integrations.tiktok.dispatch import ship_by_alerts_raise
from aftershow.integrations.tiktok.sync import TikTokConnector
from aftershow.integrations.tiktok.tracking_push import TrackingPusher
from aftershow.integrations.tiktok.tracking_rules import PUSH_CURSOR
from aftershow.shops.models import Shop

PENDING_FETCH = "tiktok.pending_fetch"


@task()
def fetch_pending_orders(shop_id: int) -> int:
    """Fetch every order a webhook (or anything else) marked as changed."""
    shop = Shop.objects.get(pk=shop_id)
    cursor_task_started(shop=shop, kind=PENDING_FETCH)
    result = TikTokConnector(shop).fetch_pending()
    return result.created + result.updated


@task()
def pull_orders(shop_id: int) -> int:
    """The reconciliation poll: everything updated since the last pull."""
    shop = Shop.objects.get(pk=shop_id)
    report = TikTokConnector(shop).pull_orders()
    return report.orders_seen


@task()
def push_tracking(shop_id: int) -> int:
    """Push every due tracking upload of the shop to TikTok; returns how many TikTok took."""
    shop = Shop.objects.get(pk=shop_id)
    cursor_task_started(shop=shop, kind=PUSH_CURSOR)
    report = TrackingPusher(shop).push_due()
    return report.accepted + report.already_on_tiktok


@task()
def raise_ship_by_alerts() -> int:
    """Alert every order nearing its ship-by deadline without a carrier scan."""
    return ship_by_alerts_raise()
