"""Writes of the stock sync that people make: channel buffers."""

from __future__ import annotations

from django.db import transaction

from aftershow.accounts.models import User
from aftershow.catalog.models import ChannelListing, Sku
from aftershow.shops.models import Shop
from aftershow.stocksync.marks import skus_changed
from aftershow.stocksync.models import ChannelBuffer


def buffer_save(
    *,
    shop: Shop,
    sku: Sku | None,
    percent_of_available: int,
    units_held_back: int,
    max_listed: int | None,
    by: User | None,
) -> ChannelBuffer:
    """Create or change a shop's buffer (``sku`` None: the shop's default); the listings it
    covers are recomputed and pushed."""
    with transaction.atomic():
        buffer, _ = ChannelBuffer.objects.update_or_create(
            shop=shop,
            sku=sku,
            defaults={
                "percent_of_available": percent_of_available,
                "units_held_back": units_held_back,
                "max_listed": max_listed,
                "updated_by": by,
            },
        )
        covered = ChannelListing.objects.filter(shop=shop)
        if sku is not None:
            covered = covered.filter(sku=sku)
        skus_changed(sku_ids=covered.values_list("sku_id", flat=True))
    return buffer


def buffer_delete(*, buffer: ChannelBuffer) -> None:
    with transaction.atomic():
        covered = ChannelListing.objects.filter(shop_id=buffer.shop_id)
        if buffer.sku_id is not None:
            covered = covered.filter(sku_id=buffer.sku_id)
        skus_changed(sku_ids=covered.values_list("sku_id", flat=True))
        buffer.delete()
