"""The engine reaches each channel's inventory connector through a dotted path per channel
(``settings.INVENTORY_CHANNELS``), never by importing a connector."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from aftershow.integrations.inventory_push import InventoryChannel
from aftershow.shops.models import Shop

DEFAULT_INVENTORY_CHANNELS = {
    "tiktok": "aftershow.integrations.tiktok.inventory.TikTokInventory",
    "shopify": "aftershow.integrations.shopify.sync.ShopifyConnector",
    "amazon": "aftershow.integrations.amazon.sync.AmazonConnector",
    "ebay": "aftershow.integrations.ebay.sync.EbayConnector",
}


def inventory_channel_for(shop: Shop) -> InventoryChannel:
    paths = getattr(settings, "INVENTORY_CHANNELS", DEFAULT_INVENTORY_CHANNELS)
    path = paths.get(shop.channel)
    if path is None:
        raise LookupError(f"no inventory connector for channel {shop.channel!r}")
    channel: InventoryChannel = import_string(path)(shop)
    return channel
