"""An eBay sandbox on 127.0.0.1 and a shop connected to it, with catalog listings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from aftershow.catalog.models import ChannelListing, Product, Sku
from aftershow.core.timeutils import utcnow
from aftershow.sandbox.ebay import EbaySandbox
from aftershow.shops.models import Channel, Shop

CLIENT_ID = "aftershow-test-ebay"
CLIENT_SECRET = "ebay-test-secret-0123"


@pytest.fixture(autouse=True)
def _fast_retries(settings):
    settings.HTTP_MAX_RETRY_WAIT_SECONDS = 0.05


@pytest.fixture
def ebay_sandbox() -> Iterator[EbaySandbox]:
    sandbox = EbaySandbox(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, seed=3)
    sandbox.start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture
def ebay_shop(ebay_sandbox: EbaySandbox, db) -> Shop:
    grant = ebay_sandbox.issue_user_token()
    return Shop.objects.create(
        name="eBay sandbox",
        channel=Channel.EBAY,
        remote_shop_id="aftershow_seller",
        api_base_url=ebay_sandbox.base_url,
        auth_base_url=ebay_sandbox.base_url,
        credentials={
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "refresh_token": grant.refresh_token,
            "access_token": grant.access_token,
        },
        access_token_expires_at=utcnow() + timedelta(hours=2),
    )


def list_skus(sandbox: EbaySandbox, shop: Shop, codes: list[str], quantity: int = 0) -> dict:
    """Each code becomes a master SKU, an eBay item with a published offer, and the listing
    linking them; returns code → offer id."""
    product = Product.objects.create(name="Live drop")
    offers = {}
    for code in codes:
        offer_id = sandbox.add_item(code, quantity=quantity)
        sku = Sku.objects.create(product=product, code=code)
        ChannelListing.objects.create(
            sku=sku, shop=shop, remote_product_id=offer_id, remote_sku_id=code
        )
        offers[code] = offer_id
    return offers
