"""Four channel sandboxes on 127.0.0.1 (TikTok, Shopify, Amazon, eBay), a shop connected to
each, and one master SKU listed on all four."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from aftershow.catalog.models import ChannelListing, Product, Sku
from aftershow.integrations.amazon import client as amazon_client
from aftershow.integrations.amazon.tests.conftest import (  # noqa: F401 - fixtures
    amazon_sandbox,
    amazon_shop,
)
from aftershow.integrations.ebay.tests.conftest import ebay_sandbox, ebay_shop  # noqa: F401
from aftershow.integrations.shopify import client as shopify_client
from aftershow.integrations.shopify import sync as shopify_sync
from aftershow.integrations.shopify.tests.conftest import (  # noqa: F401 - fixtures
    shopify_sandbox,
    shopify_shop,
)
from aftershow.integrations.tiktok import inventory as tiktok_inventory
from aftershow.inventory.models import Warehouse
from aftershow.sandbox.amazon import AmazonSandbox
from aftershow.sandbox.ebay import EbaySandbox
from aftershow.sandbox.shopify import ShopifySandbox, gid
from aftershow.sandbox.tiktok import TikTokSandbox
from aftershow.sandbox.tiktok.inventory import inventory_book
from aftershow.shops.models import Shop


@pytest.fixture(autouse=True)
def _fast_retries_and_fresh_process_state(settings, monkeypatch):
    settings.HTTP_MAX_RETRY_WAIT_SECONDS = 0.05
    # Per-process state keyed by host: a reused loopback port must not inherit it.
    monkeypatch.setattr(shopify_client, "THROTTLE", shopify_client.CostThrottle())
    monkeypatch.setattr(shopify_sync, "_INVENTORY_ITEMS", {})
    monkeypatch.setattr(amazon_client, "PACER", amazon_client.UsagePlanPacer())
    monkeypatch.setattr(tiktok_inventory, "_WAREHOUSES", {})


@dataclass
class Channels:
    tiktok: TikTokSandbox
    tiktok_shop_id: str
    shopify: ShopifySandbox
    amazon: AmazonSandbox
    ebay: EbaySandbox
    shops: dict[str, Shop]

    def quantity(self, channel: str, code: str) -> int | None:
        if channel == "tiktok":
            return inventory_book(self.tiktok.store).quantity(self.tiktok_shop_id, code)
        sandbox = {"shopify": self.shopify, "amazon": self.amazon, "ebay": self.ebay}[channel]
        return sandbox.quantity(code)

    def history(self, channel: str, code: str) -> list[int]:
        if channel == "tiktok":
            return inventory_book(self.tiktok.store).history(self.tiktok_shop_id, code)
        sandbox = {"shopify": self.shopify, "amazon": self.amazon, "ebay": self.ebay}[channel]
        return sandbox.history(code)

    def faults(self, rate: float, seed: int) -> None:
        self.tiktok.faults.configure(rate=rate, kinds=("429", "500", "reset"), seed=seed)
        for number, sandbox in enumerate((self.shopify, self.amazon, self.ebay)):
            sandbox.faults.configure(
                rate=rate, kinds=("429", "500", "timeout"), seed=seed + number, timeout_seconds=0.4
            )

    def list(self, code: str, *, quantity: int = 0, sku: Sku | None = None) -> Sku:
        """A master SKU listed on all four channels (each channel starting at ``quantity``)."""
        if sku is None:
            product, _ = Product.objects.get_or_create(name="Live drop")
            sku = Sku.objects.create(product=product, code=code)
        remote = self.tiktok.store.add_product(
            self.tiktok_shop_id,
            code,
            [{"seller_sku": code, "price": "19.99", "quantity": quantity}],
        )
        ChannelListing.objects.create(
            sku=sku,
            shop=self.shops["tiktok"],
            remote_product_id=remote.id,
            remote_sku_id=remote.skus[0].id,
        )
        variant = self.shopify.add_variant(code, quantity=quantity)
        ChannelListing.objects.create(
            sku=sku,
            shop=self.shops["shopify"],
            remote_product_id=gid("Product", variant.product_number),
            remote_sku_id=gid("ProductVariant", variant.number),
        )
        listing = self.amazon.add_listing(code, quantity=quantity)
        ChannelListing.objects.create(
            sku=sku, shop=self.shops["amazon"], remote_product_id=listing.asin, remote_sku_id=code
        )
        offer_id = self.ebay.add_item(code, quantity=quantity)
        ChannelListing.objects.create(
            sku=sku, shop=self.shops["ebay"], remote_product_id=offer_id, remote_sku_id=code
        )
        return sku


@pytest.fixture
def warehouse(db) -> Warehouse:
    return Warehouse.objects.create(code="LA", name="Los Angeles", is_default=True)


@pytest.fixture
def channels(
    tiktok_sandbox,
    tiktok_remote_shop,
    tiktok_shop,
    shopify_sandbox,  # noqa: F811
    shopify_shop,  # noqa: F811
    amazon_sandbox,  # noqa: F811
    amazon_shop,  # noqa: F811
    ebay_sandbox,  # noqa: F811
    ebay_shop,  # noqa: F811
) -> Iterator[Channels]:
    yield Channels(
        tiktok=tiktok_sandbox,
        tiktok_shop_id=tiktok_remote_shop.id,
        shopify=shopify_sandbox,
        amazon=amazon_sandbox,
        ebay=ebay_sandbox,
        shops={
            "tiktok": tiktok_shop,
            "shopify": shopify_shop,
            "amazon": amazon_shop,
            "ebay": ebay_shop,
        },
    )
