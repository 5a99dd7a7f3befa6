"""The engine reaches each channel's inventory connector through a dotted path per channel
(``settings.INVENTORY_CHANNELS``), never by importing a connector."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from aftershow.core.http import OutboundHttp, Recorder
from aftershow.integrations.inventory_push import InventoryChannel
from aftershow.shops.models import Shop

DEFAULT_INVENTORY_CHANNELS = {
    "tiktok": "aftershow.integrations.tiktok.inventory.TikTokInventory",
    "shopify": "aftershow.integrations.shopify.sync.ShopifyConnector",
    "amazon": "aftershow.integrations.amazon.sync.AmazonConnector",
    "ebay": "aftershow.integrations.ebay.sync.EbayConnector",
}


def inventory_channel_for(shop: Shop, *, recorder: Recorder | None = None) -> InventoryChannel:
    """The shop's connector; with ``recorder``, its HTTP calls are handed to that recorder
    instead of being written to the integration log one by one (the engine writes them with
    the push's results, in one transaction)."""
    paths = getattr(settings, "INVENTORY_CHANNELS", DEFAULT_INVENTORY_CHANNELS)
    path = paths.get(shop.channel)
    if path is None:
        raise LookupError(f"no inventory connector for channel {shop.channel!r}")
    factory = import_string(path)
    channel: InventoryChannel
    if recorder is None:
        channel = factory(shop)
    else:
        channel = factory(shop, http=OutboundHttp(channel=shop.channel, recorder=recorder))
    return channel
