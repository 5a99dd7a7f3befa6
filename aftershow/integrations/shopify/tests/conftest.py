"""A Shopify sandbox on 127.0.0.1, a store connected to it, and catalog listings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aftershow.catalog.models import ChannelListing, Product, Sku
from aftershow.integrations.shopify import client, sync
from aftershow.sandbox.shopify import ShopifySandbox, gid
from aftershow.shops.models import Channel, Shop

DOMAIN = "live-drops.myshopify.com"
APP_SECRET = "shpss_test_secret_0123"


@pytest.fixture(autouse=True)
def _fast_retries_and_fresh_process_state(settings, monkeypatch):
    settings.HTTP_MAX_RETRY_WAIT_SECONDS = 0.05
    # Per-process state is keyed by host: a port reused from an earlier test must not inherit
    # that test's cost bucket or variant lookups.
    monkeypatch.setattr(client, "THROTTLE", client.CostThrottle())
    monkeypatch.setattr(sync, "_INVENTORY_ITEMS", {})


@pytest.fixture
def shopify_sandbox() -> Iterator[ShopifySandbox]:
    sandbox = ShopifySandbox(shop_domain=DOMAIN, app_secret=APP_SECRET, seed=2)
    sandbox.start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture
def shopify_shop(shopify_sandbox: ShopifySandbox, db) -> Shop:
    return Shop.objects.create(
        name="Shopify sandbox",
        channel=Channel.SHOPIFY,
        remote_shop_id=DOMAIN,
        api_base_url=shopify_sandbox.base_url,
        credentials={
            "access_token": shopify_sandbox.issue_token(),
            "client_secret": APP_SECRET,
            "location_id": shopify_sandbox.location_id,
        },
    )


def list_skus(sandbox: ShopifySandbox, shop: Shop, codes: list[str], quantity: int = 0) -> dict:
    """Each code becomes a master SKU, a Shopify variant and the listing; code → variant id."""
    product = Product.objects.create(name="Live drop")
    variants = {}
    for code in codes:
        variant = sandbox.add_variant(code, quantity=quantity)
        sku = Sku.objects.create(product=product, code=code)
        ChannelListing.objects.create(
            sku=sku,
            shop=shop,
            remote_product_id=gid("Product", variant.product_number),
            remote_sku_id=gid("ProductVariant", variant.number),
        )
        variants[code] = gid("ProductVariant", variant.number)
    return variants
