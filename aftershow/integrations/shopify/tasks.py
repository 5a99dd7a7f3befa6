"""Background jobs for Shopify. Thin: they look up the shop and call the connector."""

from __future__ import annotations

from django_tasks import task

from aftershow.integrations.shopify.sync import ShopifyConnector
from aftershow.shops.models import Shop


@task()
def pull_orders(shop_id: int) -> int:
    """The reconciliation poll under the ``orders/*`` webhooks."""
    shop = Shop.objects.get(pk=shop_id)
    return ShopifyConnector(shop).pull_orders().orders_seen
