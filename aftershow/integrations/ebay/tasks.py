"""Background jobs for eBay. Thin: they look up the shop and call the connector."""

from __future__ import annotations

from django_tasks import task

from aftershow.integrations.ebay.sync import EbayConnector
from aftershow.shops.models import Shop


@task()
def pull_orders(shop_id: int) -> int:
    """The order poll: everything modified since the last pull (eBay sends no order webhooks
    to this integration; its Notification API is not wired)."""
    shop = Shop.objects.get(pk=shop_id)
    return EbayConnector(shop).pull_orders().orders_seen
