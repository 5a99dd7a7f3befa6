"""An Amazon SP-API sandbox on 127.0.0.1, a shop connected to it, catalog listings, and the
contract checks the tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aftershow.catalog.models import ChannelListing, Product, Sku
from aftershow.integrations.amazon import client
from aftershow.sandbox.amazon import AmazonSandbox, load_contract
from aftershow.sandbox.loopback import RecordedCall
from aftershow.shops.models import Channel, Shop

CLIENT_ID = "amzn1.application-oa2-client.test"
CLIENT_SECRET = "amzn-test-secret-0123"
SELLER_ID = "A3TESTSELLER42"
CONTRACTS = ("listingsItems_2021-08-01.json", "ordersV0.json")


@pytest.fixture(autouse=True)
def _fast_retries_and_a_fresh_pacer(settings, monkeypatch):
    settings.HTTP_MAX_RETRY_WAIT_SECONDS = 0.05
    # Buckets are per process and keyed by host: a port reused from an earlier test must not
    # inherit that test's spent tokens.
    monkeypatch.setattr(client, "PACER", client.UsagePlanPacer())


@pytest.fixture
def amazon_sandbox() -> Iterator[AmazonSandbox]:
    sandbox = AmazonSandbox(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, seller_id=SELLER_ID, seed=4
    )
    sandbox.start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture
def amazon_shop(amazon_sandbox: AmazonSandbox, db) -> Shop:
    """Connected the way a seller's consent leaves it: a refresh token, no access token yet."""
    return Shop.objects.create(
        name="Amazon sandbox",
        channel=Channel.AMAZON,
        remote_shop_id=SELLER_ID,
        api_base_url=amazon_sandbox.base_url,
        auth_base_url=amazon_sandbox.base_url,
        credentials={
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "refresh_token": amazon_sandbox.authorize(),
        },
    )


def list_skus(sandbox: AmazonSandbox, shop: Shop, codes: list[str], quantity: int = 0) -> dict:
    """Each code becomes a master SKU, an Amazon listing and the link; returns code → ASIN."""
    product = Product.objects.create(name="Live drop")
    asins = {}
    for code in codes:
        listing = sandbox.add_listing(code, quantity=quantity)
        sku = Sku.objects.create(product=product, code=code)
        ChannelListing.objects.create(
            sku=sku, shop=shop, remote_product_id=listing.asin, remote_sku_id=code
        )
        asins[code] = listing.asin
    return asins


def contract_problems(call: RecordedCall) -> list[str]:
    """The call's request, and its answer, checked against Amazon's own model."""
    for name in CONTRACTS:
        contract = load_contract(name)
        found = contract.match(call.method, call.raw_path)
        if found is None:
            continue
        operation, path_params = found
        problems = contract.validate_request(
            operation, path_params=path_params, query=call.query, body=call.json_body()
        )
        if call.status is not None:
            problems += contract.validate_response(operation, call.status, call.json_response())
        return problems
    return [f"{call.method} {call.path} is no operation of the contracts"]


def sp_api_calls(sandbox: AmazonSandbox) -> list[RecordedCall]:
    return [call for call in sandbox.calls if call.path != "/auth/o2/token"]
