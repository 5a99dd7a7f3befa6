"""TikTok's rules for tracking numbers, applied before any call: the carrier ⇄ provider
mapping and the revise-once-within-72-hours rule (market-anchors.md §0 item 5; the §8 codes
``21011050``/``21011051`` are what TikTok answers when a client does not check)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from aftershow.core.timeutils import utcnow
from aftershow.integrations.models import ShippingProviderList, TrackingUpload
from aftershow.integrations.tiktok.fulfillment import ShippingProvider
from aftershow.shops.models import Shop

PUSH_CURSOR = "tiktok.tracking_push"
PROVIDERS_MAX_AGE = timedelta(days=1)
# TikTok: "tracking can be revised once, within 72 hours of the upload". Our clock stamps the
# first upload a moment after TikTok's does, so we stop a few minutes early.
REVISION_WINDOW = timedelta(hours=72)
REVISION_MARGIN = timedelta(minutes=5)
# TikTok's line statuses once a line has left the seller.
SHIPPED_STATUSES = frozenset({"AWAITING_COLLECTION", "IN_TRANSIT", "DELIVERED", "COMPLETED"})
# Carrier names as packers and label providers write them → one key per TikTok provider.
CARRIER_ALIASES = {
    "usps": "usps",
    "unitedstatespostalservice": "usps",
    "ups": "ups",
    "unitedparcelservice": "ups",
    "fedex": "fedex",
    "federalexpress": "fedex",
    "dhl": "dhlecommerce",
    "dhlecommerce": "dhlecommerce",
    "dhlecommercesolutions": "dhlecommerce",
    "ontrac": "ontrac",
    "lasership": "ontrac",
    "amazon": "amazonlogistics",
    "amazonshipping": "amazonlogistics",
    "amazonlogistics": "amazonlogistics",
}


def carrier_key(name: str) -> str:
    normalized = "".join(ch for ch in name.lower() if ch.isalnum())
    return CARRIER_ALIASES.get(normalized, normalized)


def match_provider(providers: Sequence[dict[str, str]], carrier: str) -> str | None:
    """TikTok's ``shipping_provider_id`` for a carrier name, or None."""
    wanted = carrier_key(carrier)
    for provider in providers:
        if carrier_key(provider["name"]) == wanted:
            return provider["id"]
    return None


def revision_refusal(upload: TrackingUpload, now: datetime) -> str | None:
    if upload.first_pushed_at is None:
        return None
    if upload.is_platform_label:
        return (
            "the tracking number of a TikTok Shipping label is TikTok's own and cannot be "
            "revised: buy a new label instead"
        )
    if upload.revisions >= 1:
        return (
            f"TikTok allows one tracking revision per package and package {upload.package_id} "
            f"was already revised (it shows {upload.pushed_tracking_number})"
        )
    closes = upload.first_pushed_at + REVISION_WINDOW - REVISION_MARGIN
    if now >= closes:
        return (
            f"TikTok accepts a revision only within 72 hours of the first upload "
            f"({upload.first_pushed_at:%Y-%m-%d %H:%M} UTC); the window closed at "
            f"{closes:%Y-%m-%d %H:%M} UTC"
        )
    return None


class ProviderDirectory:
    """TikTok's shipping providers per delivery option of one shop: kept for the run, cached a
    day in the database; a cached list that lacks the carrier is fetched again once."""

    def __init__(self, shop: Shop, fetch: Callable[[str], list[ShippingProvider]]) -> None:
        self.shop = shop
        self.fetch = fetch
        self._lists: dict[str, list[dict[str, str]]] = {}

    def _list(self, delivery_option_id: str, *, refresh: bool) -> list[dict[str, str]]:
        if not refresh and delivery_option_id in self._lists:
            return self._lists[delivery_option_id]
        cached = ShippingProviderList.objects.filter(
            shop=self.shop,
            delivery_option_id=delivery_option_id,
            fetched_at__gte=utcnow() - PROVIDERS_MAX_AGE,
        ).first()
        if cached is not None and not refresh:
            providers: list[dict[str, str]] = cached.providers
        else:
            providers = [{"id": p.id, "name": p.name} for p in self.fetch(delivery_option_id)]
            ShippingProviderList.objects.update_or_create(
                shop=self.shop,
                delivery_option_id=delivery_option_id,
                defaults={"providers": providers, "fetched_at": utcnow()},
            )
        self._lists[delivery_option_id] = providers
        return providers

    def provider_id(self, delivery_option_id: str, carrier: str) -> str | None:
        found = match_provider(self._list(delivery_option_id, refresh=False), carrier)
        if found is None:
            found = match_provider(self._list(delivery_option_id, refresh=True), carrier)
        return found
