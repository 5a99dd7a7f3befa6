"""Stock pushes and read-backs against the Shopify sandbox over real HTTP on 127.0.0.1."""

from __future__ import annotations

import time
import uuid

from aftershow.audit.models import IntegrationLog
from aftershow.core.http import OutboundHttp
from aftershow.integrations.inventory_push import (
    PushStatus,
    QuantityUpdate,
    batch_idempotency_key,
)
from aftershow.integrations.registry import connector_for
from aftershow.integrations.shopify.sync import ShopifyConnector
from aftershow.integrations.tests.convergence import (
    Listing,
    assert_no_lost_update,
    drive,
    falling_sequences,
)
from aftershow.sandbox.shopify.store import CostBucket
from aftershow.shops.models import Channel

from .conftest import list_skus

GRAPHQL = "/admin/api/2026-04/graphql.json"


def update(variant_id: str, quantity: int, compare: int | None, code: str = "") -> QuantityUpdate:
    return QuantityUpdate(
        sku_code=code,
        remote_product_id="",
        remote_sku_id=variant_id,
        quantity=quantity,
        compare_quantity=compare,
        idempotency_key=str(uuid.uuid4()),
    )


def mutations(sandbox) -> list:
    return [
        call
        for call in sandbox.server.calls_to("POST", GRAPHQL)
        if "inventorySetQuantities" in call.json_body()["query"]
    ]


def test_push_sets_available_with_compare_and_an_idempotency_key(shopify_sandbox, shopify_shop):
    variants = list_skus(shopify_sandbox, shopify_shop, ["TEE-BLK-M", "MUG"], quantity=40)
    updates = [update(variants["TEE-BLK-M"], 31, 40), update(variants["MUG"], 0, 40)]
    results = ShopifyConnector(shopify_shop).push_quantities(updates)
    assert [r.status for r in results] == [PushStatus.APPLIED, PushStatus.APPLIED]
    assert (shopify_sandbox.quantity("TEE-BLK-M"), shopify_sandbox.quantity("MUG")) == (31, 0)
    assert shopify_sandbox.quantity("TEE-BLK-M", "on_hand") == 31
    (call,) = mutations(shopify_sandbox)
    body = call.json_body()
    assert "@idempotent(key: $key)" in body["query"]
    assert body["variables"]["key"] == batch_idempotency_key(updates)
    assert body["variables"]["input"]["name"] == "available"
    assert [
        (q["quantity"], q["changeFromQuantity"]) for q in body["variables"]["input"]["quantities"]
    ] == [(31, 40), (0, 40)]
    assert call.headers["x-shopify-access-token"] == shopify_shop.credentials["access_token"]


def test_inventory_items_are_looked_up_once(shopify_sandbox, shopify_shop):
    variants = list_skus(shopify_sandbox, shopify_shop, ["TEE-BLK-M"], quantity=40)
    connector = ShopifyConnector(shopify_shop)
    connector.push_quantities([update(variants["TEE-BLK-M"], 39, 40)])
    connector.push_quantities([update(variants["TEE-BLK-M"], 38, 39)])
    queries = [call.json_body()["query"] for call in shopify_sandbox.calls]
    assert ["AftershowInventoryItems" in q for q in queries] == [True, False, False]
    assert shopify_sandbox.history("TEE-BLK-M") == [39, 38]


def test_a_sale_on_shopify_makes_the_compare_stale_and_nothing_is_overwritten(
    shopify_sandbox, shopify_shop
):
    variants = list_skus(shopify_sandbox, shopify_shop, ["TEE-BLK-M"], quantity=40)
    shopify_sandbox.create_order(lines=[("TEE-BLK-M", 3)])  # Shopify reserves 3: 37 left
    connector = ShopifyConnector(shopify_shop)
    (result,) = connector.push_quantities([update(variants["TEE-BLK-M"], 35, 40)])
    assert (result.status, result.error_code, result.remote_quantity) == (
        PushStatus.STALE,
        "CHANGE_FROM_QUANTITY_STALE",
        37,
    )
    assert shopify_sandbox.quantity("TEE-BLK-M") == 37
    (again,) = connector.push_quantities([update(variants["TEE-BLK-M"], 34, 37)])
    assert again.status == PushStatus.APPLIED
    assert shopify_sandbox.history("TEE-BLK-M") == [34]


def test_a_stale_compare_already_at_the_target_counts_as_applied(shopify_sandbox, shopify_shop):
    variants = list_skus(shopify_sandbox, shopify_shop, ["MUG"], quantity=9)
    (result,) = ShopifyConnector(shopify_shop).push_quantities([update(variants["MUG"], 9, 12)])
    assert result.status == PushStatus.APPLIED
    assert shopify_sandbox.history("MUG") == []


def test_the_rest_of_a_call_is_resent_without_the_refused_quantities(shopify_sandbox, shopify_shop):
    variants = list_skus(shopify_sandbox, shopify_shop, ["A", "B", "C"], quantity=10)
    results = ShopifyConnector(shopify_shop).push_quantities(
        [update(variants["A"], 8, 10), update(variants["B"], 7, 99), update(variants["C"], 6, None)]
    )
    assert [(r.status, r.remote_quantity) for r in results] == [
        (PushStatus.APPLIED, None),
        (PushStatus.STALE, 10),
        (PushStatus.APPLIED, None),
    ]
    sent = [
        len(call.json_body()["variables"]["input"]["quantities"])
        for call in mutations(shopify_sandbox)
    ]
    assert sent == [3, 2]  # all or nothing: A and C went again without B
    assert [shopify_sandbox.quantity(code) for code in "ABC"] == [8, 10, 6]


def test_unknown_variant_is_rejected_and_the_rest_applied(shopify_sandbox, shopify_shop):
    variants = list_skus(shopify_sandbox, shopify_shop, ["A"], quantity=10)
    results = ShopifyConnector(shopify_shop).push_quantities(
        [update("gid://shopify/ProductVariant/404", 1, None), update(variants["A"], 2, None)]
    )
    assert [(r.status, r.error_code) for r in results] == [
        (PushStatus.REJECTED, "INVALID_INVENTORY_ITEM"),
        (PushStatus.APPLIED, ""),
    ]


def test_251_quantities_take_two_calls(shopify_sandbox, shopify_shop):
    codes = [f"SKU-{n:03d}" for n in range(251)]
    variants = list_skus(shopify_sandbox, shopify_shop, codes, quantity=5)
    results = ShopifyConnector(shopify_shop).push_quantities(
        [update(variants[code], 4, 5) for code in codes]
    )
    assert {r.status for r in results} == {PushStatus.APPLIED}
    sent = [
        len(call.json_body()["variables"]["input"]["quantities"])
        for call in mutations(shopify_sandbox)
    ]
    assert sent == [250, 1]


def test_an_invalid_token_is_terminal(shopify_sandbox, shopify_shop):
    variants = list_skus(shopify_sandbox, shopify_shop, ["A"], quantity=10)
    shopify_shop.credentials = {**shopify_shop.credentials, "access_token": "shpat_revoked"}
    (result,) = ShopifyConnector(shopify_shop).push_quantities([update(variants["A"], 2, 10)])
    assert (result.status, result.error_code) == (PushStatus.REJECTED, "401")
    assert list(IntegrationLog.objects.values_list("status_code", "outcome")) == [(401, "terminal")]
    assert shopify_sandbox.quantity("A") == 10


def test_a_token_without_write_inventory_is_refused(shopify_sandbox, shopify_shop):
    variants = list_skus(shopify_sandbox, shopify_shop, ["A"], quantity=10)
    token = shopify_sandbox.issue_token(frozenset({"read_inventory"}))
    shopify_shop.credentials = {**shopify_shop.credentials, "access_token": token}
    (result,) = ShopifyConnector(shopify_shop).push_quantities([update(variants["A"], 2, 10)])
    assert (result.status, result.error_code) == (PushStatus.REJECTED, "ACCESS_DENIED")
    assert shopify_sandbox.quantity("A") == 10


def test_a_timed_out_mutation_applied_late_is_applied_once(shopify_sandbox, shopify_shop, settings):
    """The first attempt times out and lands late; the retries carry the same key: Shopify
    answers "in progress" until it is done, then replays its answer. One write, not two."""
    settings.HTTP_TIMEOUT_SECONDS = 0.25
    variants = list_skus(shopify_sandbox, shopify_shop, ["A"], quantity=10)
    shopify_sandbox.faults.configure(timeout_seconds=0.4)
    shopify_sandbox.faults.fail_next(1, "timeout", after=1)  # after the variant lookup
    (result,) = ShopifyConnector(shopify_shop).push_quantities([update(variants["A"], 7, 10)])
    assert result.status == PushStatus.APPLIED
    assert shopify_sandbox.history("A") == [7]
    codes = [code for code in IntegrationLog.objects.values_list("error_code", flat=True) if code]
    assert set(codes) == {"IDEMPOTENCY_CONCURRENT_REQUEST"}
    assert len({call.json_body()["variables"]["key"] for call in mutations(shopify_sandbox)}) == 1


def test_the_cost_limit_is_respected_before_shopify_has_to_say_so(shopify_sandbox, shopify_shop):
    """A 40-point bucket restoring 100 points a second, 12 mutations of 13 points: the
    connector waits for points instead of being throttled."""
    shopify_sandbox.store.bucket = CostBucket(maximum=40, restore_rate=100)
    variants = list_skus(shopify_sandbox, shopify_shop, ["A"], quantity=100)
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        time.sleep(seconds)

    http = OutboundHttp(channel=Channel.SHOPIFY, sleep=sleep)
    connector = ShopifyConnector(shopify_shop, http=http)
    started = time.monotonic()
    for n in range(12):
        (result,) = connector.push_quantities([update(variants["A"], 99 - n, 100 - n)])
        assert result.status == PushStatus.APPLIED
    elapsed = time.monotonic() - started
    throttled = [c for c in shopify_sandbox.calls if b"THROTTLED" in c.response_body]
    assert throttled == []
    assert elapsed >= (4 + 12 * 13 - 40) / 100 * 0.9
    assert sum(sleeps) > 0
    assert shopify_sandbox.history("A") == [99 - n for n in range(12)]


def test_a_throttled_call_waits_until_its_cost_is_restored(shopify_sandbox, shopify_shop, settings):
    settings.HTTP_MAX_RETRY_WAIT_SECONDS = 2
    shopify_sandbox.store.bucket = CostBucket(maximum=100, restore_rate=50)
    variants = list_skus(shopify_sandbox, shopify_shop, ["A"], quantity=10)
    connector = ShopifyConnector(shopify_shop)
    connector.read_quantities(["A"])  # the variant lookup, done before the bucket runs dry
    shopify_sandbox.store.bucket.drain()  # another app on the store spent it all
    started = time.monotonic()
    (result,) = connector.push_quantities([update(variants["A"], 9, 10)])
    assert result.status == PushStatus.APPLIED
    assert time.monotonic() - started >= 13 / 50 * 0.9
    outcomes = list(IntegrationLog.objects.values_list("outcome", "error_code"))
    assert outcomes[-2:] == [("retryable", "THROTTLED"), ("ok", "")]


def test_read_quantities(shopify_sandbox, shopify_shop):
    list_skus(shopify_sandbox, shopify_shop, ["A", "B"], quantity=6)
    shopify_sandbox.create_order(lines=[("B", 2)])
    quantities = ShopifyConnector(shopify_shop).read_quantities(["A", "B", "NOT-LISTED"])
    assert quantities == {"A": 6, "B": 4}


def test_pushes_converge_with_20_percent_of_calls_failing(shopify_sandbox, shopify_shop, settings):
    """The proof: 429s, 500s and timeouts (applied late, after the client gave up) on a fifth of
    the calls; every SKU ends on its last intended quantity and no older value ever overwrote a
    newer one, thanks to the compare quantities and idempotency keys."""
    settings.HTTP_TIMEOUT_SECONDS = 0.25
    settings.HTTP_MAX_ATTEMPTS = 2
    codes = [f"LIVE-{n:02d}" for n in range(12)]
    variants = list_skus(shopify_sandbox, shopify_shop, codes, quantity=600)
    sequences = falling_sequences(codes, steps=8, seed=13)
    shopify_sandbox.faults.configure(
        rate=0.2, kinds=("429", "500", "timeout"), seed=21, timeout_seconds=0.4
    )
    report = drive(
        ShopifyConnector(shopify_shop),
        [Listing(code, "", variants[code]) for code in codes],
        sequences,
        initial=dict.fromkeys(codes, 600),
        use_compare=True,
        batch_size=3,
    )
    assert set(shopify_sandbox.faults.injected) == {"429", "500", "timeout"}
    assert report.statuses[PushStatus.FAILED] > 0
    # A late write did arrive after a newer one, and its compare quantity refused it.
    assert shopify_sandbox.store.stale_refusals > 0
    for code in codes:
        assert_no_lost_update(
            sequences[code], shopify_sandbox.history(code), shopify_sandbox.quantity(code)
        )


def test_the_registry_reaches_this_connector(shopify_shop):
    connector = connector_for(shopify_shop)
    assert type(connector) is ShopifyConnector
    assert {"push_quantities", "read_quantities", "pull_orders"} <= set(dir(connector))
