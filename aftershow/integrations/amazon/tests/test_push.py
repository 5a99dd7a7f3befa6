"""Stock pushes and read-backs against the Amazon sandbox over real HTTP on 127.0.0.1, with
every request and answer checked against Amazon's own Swagger models."""

from __future__ import annotations

import time
import uuid

import pytest

from aftershow.audit.models import AuditAction, AuditEvent, IntegrationLog
from aftershow.integrations.amazon import client
from aftershow.integrations.amazon.mapping import quantity_patch
from aftershow.integrations.amazon.sync import AmazonConnector
from aftershow.integrations.inventory_push import PushStatus, QuantityUpdate
from aftershow.integrations.registry import connector_for
from aftershow.integrations.tests.convergence import (
    Listing,
    assert_no_lost_update,
    drive,
    falling_sequences,
)
from aftershow.sandbox.amazon import load_contract
from aftershow.shops.models import Shop

from .conftest import SELLER_ID, contract_problems, list_skus, sp_api_calls

LWA = "/auth/o2/token"
LISTINGS = f"/listings/2021-08-01/items/{SELLER_ID}"


def update(code: str, quantity: int) -> QuantityUpdate:
    return QuantityUpdate(
        sku_code=code,
        remote_product_id="",
        remote_sku_id=code,
        quantity=quantity,
        compare_quantity=None,
        idempotency_key=str(uuid.uuid4()),
    )


def log(path_prefix: str = "") -> list[tuple[str, int | None, str]]:
    return [
        (path, status, outcome)
        for path, status, outcome in IntegrationLog.objects.order_by("pk").values_list(
            "path", "status_code", "outcome"
        )
        if path.startswith(path_prefix)
    ]


def test_the_patch_body_is_a_valid_listings_item_patch_request():
    contract = load_contract("listingsItems_2021-08-01.json")
    schema = {"$ref": "#/definitions/ListingsItemPatchRequest"}
    assert contract.validate(schema, quantity_patch(7)) == []
    assert quantity_patch(7) == {
        "productType": "PRODUCT",
        "patches": [
            {
                "op": "merge",
                "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 7}],
            }
        ],
    }


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"patches": [{"op": "merge", "path": "/a"}]}, "body: 'productType' is required"),
        ({"productType": "PRODUCT", "patches": []}, "body.patches: fewer than 1 items"),
        (
            {"productType": "PRODUCT", "patches": [{"op": "set", "path": "/a"}]},
            "body.patches[0].op: 'set' is not one of ['add', 'replace', 'merge', 'delete']",
        ),
        (
            {"productType": "PRODUCT", "patches": [{"op": "merge", "path": "/a", "value": {}}]},
            "body.patches[0].value: expected array, got dict",
        ),
        ({"productType": 7, "patches": [{"op": "merge", "path": "/a"}]}, "body.productType: "),
    ],
)
def test_the_contract_check_catches_malformed_bodies(body, problem):
    contract = load_contract("listingsItems_2021-08-01.json")
    operation = contract.operation("patchListingsItem")
    problems = contract.validate_request(
        operation,
        path_params={"sellerId": SELLER_ID, "sku": "A"},
        query={"marketplaceIds": ["ATVPDKIKX0DER"]},
        body=body,
    )
    assert len(problems) == 1
    assert problems[0].startswith(problem)


def test_push_exchanges_the_refresh_token_then_merges_the_quantity(amazon_sandbox, amazon_shop):
    list_skus(amazon_sandbox, amazon_shop, ["TEE-BLK-M", "MUG"], quantity=40)
    results = AmazonConnector(amazon_shop).push_quantities(
        [update("TEE-BLK-M", 31), update("MUG", 0)]
    )
    assert [r.status for r in results] == [PushStatus.APPLIED, PushStatus.APPLIED]
    assert (amazon_sandbox.quantity("TEE-BLK-M"), amazon_sandbox.quantity("MUG")) == (31, 0)
    # merge, not replace: the seller's handling time survives the quantity update.
    assert amazon_sandbox.listing("TEE-BLK-M").fulfillment_availability == [
        {"fulfillment_channel_code": "DEFAULT", "quantity": 31, "lead_time_to_ship_max_days": 2}
    ]
    assert log() == [
        (LWA, 200, "ok"),
        (f"{LISTINGS}/TEE-BLK-M", 200, "ok"),
        (f"{LISTINGS}/MUG", 200, "ok"),
    ]
    shop = Shop.objects.get()
    assert shop.credentials["access_token"].startswith("Atza|")
    assert AuditEvent.objects.filter(action=AuditAction.TOKEN_REFRESHED).count() == 1
    calls = sp_api_calls(amazon_sandbox)
    assert [call.headers["x-amz-access-token"] for call in calls] == [
        shop.credentials["access_token"]
    ] * 2
    assert [contract_problems(call) for call in calls] == [[], []]


def test_a_sku_with_a_slash_is_encoded(amazon_sandbox, amazon_shop):
    list_skus(amazon_sandbox, amazon_shop, ["TEE/BLK M"], quantity=4)
    (result,) = AmazonConnector(amazon_shop).push_quantities([update("TEE/BLK M", 3)])
    assert result.status == PushStatus.APPLIED
    assert amazon_sandbox.quantity("TEE/BLK M") == 3
    (call,) = sp_api_calls(amazon_sandbox)
    assert call.raw_path == f"{LISTINGS}/TEE%2FBLK%20M"


def test_expired_access_token_is_refreshed_and_the_call_repeated(amazon_sandbox, amazon_shop):
    list_skus(amazon_sandbox, amazon_shop, ["TEE-BLK-M"], quantity=40)
    connector = AmazonConnector(amazon_shop)
    connector.push_quantities([update("TEE-BLK-M", 39)])
    first_token = Shop.objects.get().credentials["access_token"]
    amazon_sandbox.store.expire_access_token(first_token)
    (result,) = AmazonConnector(Shop.objects.get()).push_quantities([update("TEE-BLK-M", 38)])
    assert result.status == PushStatus.APPLIED
    assert amazon_sandbox.history("TEE-BLK-M") == [39, 38]
    assert Shop.objects.get().credentials["access_token"] != first_token
    assert log()[1:] == [
        (f"{LISTINGS}/TEE-BLK-M", 200, "ok"),
        (f"{LISTINGS}/TEE-BLK-M", 403, "terminal"),
        (LWA, 200, "ok"),
        (f"{LISTINGS}/TEE-BLK-M", 200, "ok"),
    ]


def test_revoked_refresh_token_is_terminal_and_changes_nothing(amazon_sandbox, amazon_shop):
    list_skus(amazon_sandbox, amazon_shop, ["TEE-BLK-M"], quantity=40)
    amazon_sandbox.store.revoke(amazon_shop.credentials["refresh_token"])
    (result,) = AmazonConnector(amazon_shop).push_quantities([update("TEE-BLK-M", 12)])
    assert (result.status, result.error_code) == (PushStatus.REJECTED, "invalid_grant")
    assert amazon_sandbox.quantity("TEE-BLK-M") == 40
    assert log() == [(LWA, 400, "terminal")]
    assert sp_api_calls(amazon_sandbox) == []


def test_wrong_client_secret_is_terminal(amazon_sandbox, amazon_shop):
    list_skus(amazon_sandbox, amazon_shop, ["TEE-BLK-M"], quantity=40)
    amazon_shop.credentials = {**amazon_shop.credentials, "client_secret": "nope"}
    amazon_shop.save()
    (result,) = AmazonConnector(amazon_shop).push_quantities([update("TEE-BLK-M", 12)])
    assert (result.status, result.error_code) == (PushStatus.REJECTED, "invalid_client")
    assert log() == [(LWA, 401, "terminal")]


def test_another_sellers_id_is_refused_without_a_token_refresh(amazon_sandbox, amazon_shop):
    list_skus(amazon_sandbox, amazon_shop, ["TEE-BLK-M"], quantity=40)
    amazon_shop.remote_shop_id = "A9SOMEONEELSE"
    amazon_shop.save()
    (result,) = AmazonConnector(amazon_shop).push_quantities([update("TEE-BLK-M", 12)])
    assert (result.status, result.error_code) == (PushStatus.REJECTED, "Unauthorized")
    assert [entry[1:] for entry in log()] == [(200, "ok"), (403, "terminal")]
    assert amazon_sandbox.quantity("TEE-BLK-M") == 40


def test_unknown_sku_is_rejected_alone(amazon_sandbox, amazon_shop):
    list_skus(amazon_sandbox, amazon_shop, ["TEE-BLK-M"], quantity=40)
    results = AmazonConnector(amazon_shop).push_quantities(
        [update("GHOST", 3), update("TEE-BLK-M", 5)]
    )
    assert [(r.status, r.error_code) for r in results] == [
        (PushStatus.REJECTED, "NOT_FOUND"),
        (PushStatus.APPLIED, ""),
    ]


def test_pushes_are_paced_to_the_usage_plan(amazon_sandbox, amazon_shop):
    """patchListingsItem allows 5 a second after a burst of 5: 15 pushes take 2 s, no 429."""
    codes = [f"SKU-{n:02d}" for n in range(15)]
    list_skus(amazon_sandbox, amazon_shop, codes, quantity=1)
    started = time.monotonic()
    results = AmazonConnector(amazon_shop).push_quantities([update(code, 9) for code in codes])
    elapsed = time.monotonic() - started
    assert [r.status for r in results] == [PushStatus.APPLIED] * 15
    assert elapsed >= 1.9
    assert [status for _, status, _ in log(LISTINGS)] == [200] * 15


def test_a_429_waits_one_token_of_the_stated_rate_and_the_rate_is_learnt(
    amazon_sandbox, amazon_shop
):
    amazon_sandbox.store.set_rate_limit("patchListingsItem", 20.0, 1)
    list_skus(amazon_sandbox, amazon_shop, ["A", "B"], quantity=1)
    results = AmazonConnector(amazon_shop).push_quantities([update("A", 2), update("B", 2)])
    assert [r.status for r in results] == [PushStatus.APPLIED] * 2
    assert log(LISTINGS) == [
        (f"{LISTINGS}/A", 200, "ok"),
        (f"{LISTINGS}/B", 429, "retryable"),
        (f"{LISTINGS}/B", 200, "ok"),
    ]
    key = (amazon_sandbox.base_url, SELLER_ID, "patchListingsItem")
    assert client.PACER.rate(key) == 20.0


def test_read_quantities_skips_what_amazon_does_not_know(amazon_sandbox, amazon_shop):
    list_skus(amazon_sandbox, amazon_shop, ["A", "B", "GONE"], quantity=6)
    del amazon_sandbox.store.listings[(SELLER_ID, "GONE")]  # deleted on Amazon since
    quantities = AmazonConnector(amazon_shop).read_quantities(["A", "B", "GONE", "NOT-LISTED"])
    assert quantities == {"A": 6, "B": 6}
    assert [contract_problems(call) for call in sp_api_calls(amazon_sandbox)] == [[], [], []]


def test_pushes_converge_with_20_percent_of_calls_failing(amazon_sandbox, amazon_shop, settings):
    """The proof: 429s, 500s and timeouts on a fifth of the calls; every SKU ends on its last
    intended quantity, no older value ever overwrote a newer one, and every request and answer
    matched Amazon's contract."""
    settings.HTTP_TIMEOUT_SECONDS = 0.25
    settings.HTTP_MAX_ATTEMPTS = 2
    amazon_sandbox.store.set_rate_limit("patchListingsItem", 200.0, 50)
    codes = [f"LIVE-{n:02d}" for n in range(10)]
    list_skus(amazon_sandbox, amazon_shop, codes, quantity=600)
    sequences = falling_sequences(codes, steps=6, seed=12)
    amazon_sandbox.faults.configure(
        rate=0.2, kinds=("429", "500", "timeout"), seed=9, timeout_seconds=0.5
    )
    report = drive(
        AmazonConnector(amazon_shop),
        [Listing(code, "", code) for code in codes],
        sequences,
        initial=dict.fromkeys(codes, 600),
        use_compare=False,
    )
    assert set(amazon_sandbox.faults.injected) == {"429", "500", "timeout"}
    assert report.statuses[PushStatus.FAILED] > 0
    for code in codes:
        assert_no_lost_update(
            sequences[code], amazon_sandbox.history(code), amazon_sandbox.quantity(code)
        )
    answered = [call for call in sp_api_calls(amazon_sandbox) if call.status is not None]
    assert all(contract_problems(call) == [] for call in answered)


def test_the_registry_reaches_this_connector(amazon_shop):
    connector = connector_for(amazon_shop)
    assert type(connector) is AmazonConnector
    assert {"push_quantities", "read_quantities", "pull_orders"} <= set(dir(connector))
