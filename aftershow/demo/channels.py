"""The demo's other channels: Shopify, Amazon and eBay sandboxes on 127.0.0.1, a shop on each,
and every demo SKU listed there, so the sync engine pushes each sale's new quantity to them
while the TikTok stream plays.

The sandboxes run in the demo's process for as long as it lives (daemon threads); the engine
runs wherever the queue's worker runs and reaches them over HTTP like real channels.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.db import transaction

from aftershow.catalog.models import ChannelListing, Sku
from aftershow.sandbox.amazon import AmazonSandbox
from aftershow.sandbox.ebay import EbaySandbox
from aftershow.sandbox.shopify import ShopifySandbox, gid
from aftershow.shops.models import Channel, Shop
from aftershow.stocksync.engine import work_pending
from aftershow.stocksync.marks import skus_changed
from aftershow.stocksync.models import ChannelBuffer, ListingSync

SHOPIFY_DOMAIN = "aftershow-demo.myshopify.com"
AMAZON_SELLER = "ADEMOSELLER1"
EBAY_SELLER = "aftershow_demo"
DEMO_SECRET = "demo-sandbox-secret"  # the loopback sandboxes' own, not a real secret


@dataclass
class DemoChannels:
    shopify: ShopifySandbox
    amazon: AmazonSandbox
    ebay: EbaySandbox
    shops: dict[str, Shop]
    codes: list[str]

    def quantities(self, code: str) -> dict[str, int | None]:
        return {
            "Shopify": self.shopify.quantity(code),
            "Amazon": self.amazon.quantity(code),
            "eBay": self.ebay.quantity(code),
        }

    def writes(self) -> dict[str, int]:
        return {
            "Shopify": sum(len(self.shopify.history(code)) for code in self.codes),
            "Amazon": sum(len(self.amazon.history(code)) for code in self.codes),
            "eBay": sum(len(self.ebay.history(code)) for code in self.codes),
        }


_CURRENT: list[DemoChannels] = []


def _shop(*, credentials: dict[str, str], **fields: str) -> Shop:
    shop = Shop(**fields)
    shop.credentials = credentials  # encrypted at rest by the field
    shop.save()
    return shop


def demo_channels_start() -> DemoChannels:
    """Start the three sandboxes, connect a shop to each and list every SKU the demo sells
    (eBay keeps a 10 % buffer, to show one); the engine pushes the first quantities at once."""
    shopify = ShopifySandbox(shop_domain=SHOPIFY_DOMAIN, app_secret=DEMO_SECRET, seed=5)
    amazon = AmazonSandbox(
        client_id="demo-amazon", client_secret=DEMO_SECRET, seller_id=AMAZON_SELLER, seed=5
    )
    ebay = EbaySandbox(client_id="demo-ebay", client_secret=DEMO_SECRET, seed=5)
    for sandbox in (shopify, amazon, ebay):
        sandbox.start()
    grant = ebay.issue_user_token()
    codes = sorted(
        Sku.objects.filter(listings__shop__channel=Channel.TIKTOK, is_bundle=False)
        .values_list("code", flat=True)
        .distinct()
    )
    with transaction.atomic():
        shops = {
            "shopify": _shop(
                name="Demo Shopify store",
                channel=Channel.SHOPIFY,
                remote_shop_id=SHOPIFY_DOMAIN,
                api_base_url=shopify.base_url,
                credentials={
                    "access_token": shopify.issue_token(),
                    "client_secret": DEMO_SECRET,
                    "location_id": shopify.location_id,
                },
            ),
            "amazon": _shop(
                name="Demo Amazon seller",
                channel=Channel.AMAZON,
                remote_shop_id=AMAZON_SELLER,
                api_base_url=amazon.base_url,
                auth_base_url=amazon.base_url,
                credentials={
                    "client_id": "demo-amazon",
                    "client_secret": DEMO_SECRET,
                    "refresh_token": amazon.authorize(),
                },
            ),
            "ebay": _shop(
                name="Demo eBay seller",
                channel=Channel.EBAY,
                remote_shop_id=EBAY_SELLER,
                api_base_url=ebay.base_url,
                auth_base_url=ebay.base_url,
                credentials={
                    "client_id": "demo-ebay",
                    "client_secret": DEMO_SECRET,
                    "refresh_token": grant.refresh_token,
                    "access_token": grant.access_token,
                },
            ),
        }
        ChannelBuffer.objects.create(shop=shops["ebay"], percent_of_available=90)
        skus = {sku.code: sku for sku in Sku.objects.filter(code__in=codes)}
        for code in codes:
            variant = shopify.add_variant(code, quantity=0)
            ChannelListing.objects.create(
                sku=skus[code],
                shop=shops["shopify"],
                remote_product_id=gid("Product", variant.product_number),
                remote_sku_id=gid("ProductVariant", variant.number),
            )
            listing = amazon.add_listing(code, quantity=0)
            ChannelListing.objects.create(
                sku=skus[code],
                shop=shops["amazon"],
                remote_product_id=listing.asin,
                remote_sku_id=code,
            )
            offer_id = ebay.add_item(code, quantity=0)
            ChannelListing.objects.create(
                sku=skus[code], shop=shops["ebay"], remote_product_id=offer_id, remote_sku_id=code
            )
        skus_changed(sku_ids=[sku.pk for sku in skus.values()])
    channels = DemoChannels(shopify, amazon, ebay, shops, codes)
    _CURRENT[:] = [channels]
    return channels


def demo_channels_summary() -> str:
    """What the other channels list now, next to what the sync should have pushed."""
    if not _CURRENT:
        return ""
    channels = _CURRENT[0]
    deadline = time.monotonic() + 15  # the engine's last pushes, a second or so behind
    while (work_pending() or ListingSync.objects.filter(is_due=True).exists()) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.1)
    targets = {
        (row.listing.shop.channel, row.listing.sku.code): row
        for row in ListingSync.objects.select_related("listing__shop", "listing__sku")
    }
    names = {"Shopify": "shopify", "Amazon": "amazon", "eBay": "ebay"}
    lines = ["\nOther channels (stock sync)\n"]
    in_sync = 0
    total = 0
    for code in channels.codes:
        listed = channels.quantities(code)
        shown = []
        for label, quantity in listed.items():
            row = targets.get((names[label], code))
            total += 1
            if row is not None and quantity == row.target_quantity:
                in_sync += 1
            shown.append(f"{label} {quantity}")
        lines.append(f"  {code:<16} {', '.join(shown)}\n")
    writes = channels.writes()
    lines.append(f"  listings in sync           {in_sync} of {total}\n")
    lines.append(
        "  quantity writes received   "
        + ", ".join(f"{label} {count}" for label, count in writes.items())
        + "\n"
    )
    return "".join(lines)
