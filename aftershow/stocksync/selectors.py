"""Reads for the sync page."""

from __future__ import annotations

from django.db.models import QuerySet

from aftershow.stocksync.models import ChannelBuffer, ListingSync


def listing_syncs() -> QuerySet[ListingSync]:
    return ListingSync.objects.select_related("listing__sku", "listing__shop").order_by(
        "listing__sku__code", "listing__shop__channel", "listing__shop__name"
    )


def buffers() -> QuerySet[ChannelBuffer]:
    return ChannelBuffer.objects.select_related("shop", "sku", "updated_by").order_by(
        "shop__name", "sku__code"
    )
