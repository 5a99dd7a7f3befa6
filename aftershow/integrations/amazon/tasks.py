"""Background jobs for Amazon. Thin: they look up the shop and call the connector."""

from __future__ import annotations

from django_tasks import task

from aftershow.integrations.amazon.sync import AmazonConnector
from aftershow.shops.models import Shop


@task()
def pull_orders(shop_id: int) -> int:
    """The order poll (Amazon's ORDER_CHANGE notifications arrive over SQS or EventBridge, not
    HTTP webhooks, and are not wired yet)."""
    shop = Shop.objects.get(pk=shop_id)
    return AmazonConnector(shop).pull_orders().orders_seen
