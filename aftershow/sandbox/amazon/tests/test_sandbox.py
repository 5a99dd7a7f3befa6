"""The Amazon sandbox refuses what SP-API refuses, over real HTTP on 127.0.0.1, and its answers
match Amazon's own models."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from aftershow.sandbox.amazon import MARKETPLACE_US, AmazonSandbox, amazon_time, load_contract

CLIENT_ID = "amzn1.application-oa2-client.t"
CLIENT_SECRET = "s3cret"
SELLER = "A1SELLER"
ITEM = f"/listings/2021-08-01/items/{SELLER}/TEE"
QUERY = {"marketplaceIds": MARKETPLACE_US}
LISTINGS = load_contract("listingsItems_2021-08-01.json")
ORDERS = load_contract("ordersV0.json")


def merge(quantity: int) -> dict:
    return {
        "productType": "PRODUCT",
        "patches": [
            {
                "op": "merge",
                "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}],
            }
        ],
    }


@pytest.fixture
def sandbox() -> Iterator[AmazonSandbox]:
    with AmazonSandbox(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, seller_id=SELLER) as sb:
        sb.add_listing("TEE", quantity=10)
        yield sb


@pytest.fixture
def http(sandbox: AmazonSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.base_url, timeout=5) as client:
        yield client


@pytest.fixture
def token(sandbox: AmazonSandbox, http: httpx.Client) -> str:
    response = http.post(
        "/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": sandbox.authorize(),
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["token_type"], 3595 <= body["expires_in"] <= 3600) == ("bearer", True)
    return str(body["access_token"])


def auth(token: str) -> dict[str, str]:
    return {"x-amz-access-token": token}


def error(response: httpx.Response) -> tuple[int, str, str]:
    first = response.json()["errors"][0]
    return response.status_code, first["code"], first["details"]


@pytest.mark.parametrize(
    ("form", "status", "code"),
    [
        ({"client_id": CLIENT_ID, "client_secret": "x"}, 401, "invalid_client"),
        (
            {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "grant_type": "password"},
            400,
            "unsupported_grant_type",
        ),
        (
            {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "grant_type": "refresh_token",
                "refresh_token": "Atzr|nope",
            },
            400,
            "invalid_grant",
        ),
    ],
)
def test_lwa_refusals(sandbox, http, form, status, code):
    response = http.post("/auth/o2/token", data=form)
    assert (response.status_code, response.json()["error"]) == (status, code)


def test_lwa_wants_a_form(sandbox, http):
    response = http.post("/auth/o2/token", json={"grant_type": "refresh_token"})
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


def test_sp_api_access_token_checks(sandbox, http, token):
    assert error(http.patch(ITEM, params=QUERY, json=merge(1))) == (403, "Unauthorized", "")
    bad = http.patch(ITEM, params=QUERY, json=merge(1), headers=auth("Atza|forged"))
    assert error(bad)[2] == "The access token you provided is revoked, malformed or invalid."
    sandbox.store.expire_access_token(token)
    expired = http.patch(ITEM, params=QUERY, json=merge(1), headers=auth(token))
    assert error(expired) == (403, "Unauthorized", "The access token you provided has expired.")
    other_seller = http.patch(
        "/listings/2021-08-01/items/A2OTHER/TEE", params=QUERY, json=merge(1), headers=auth(token)
    )
    assert error(other_seller)[:2] == (403, "Unauthorized")
    assert sandbox.quantity("TEE") == 10


@pytest.mark.parametrize(
    ("params", "body"),
    [
        ({}, merge(1)),
        ({**QUERY, "mode": "LIVE"}, merge(1)),
        ({**QUERY, "colour": "red"}, merge(1)),
        (QUERY, {"patches": merge(1)["patches"]}),
        (QUERY, {"productType": "PRODUCT", "patches": []}),
        (QUERY, {"productType": "PRODUCT", "patches": [{"op": "upsert", "path": "/attributes/x"}]}),
        ({"marketplaceIds": "A1F83G8C2ARO7P"}, merge(1)),
    ],
)
def test_requests_outside_the_contract_are_invalid_input(sandbox, http, token, params, body):
    response = http.patch(ITEM, params=params, json=body, headers=auth(token))
    assert error(response)[:2] == (400, "InvalidInput")
    assert (
        LISTINGS.validate_response(LISTINGS.operation("patchListingsItem"), 400, response.json())
        == []
    )
    assert sandbox.quantity("TEE") == 10


@pytest.mark.parametrize(
    "patch",
    [
        {"op": "merge", "path": "/attributes/fulfillment_availability/0/quantity", "value": [{}]},
        {"op": "merge", "path": "/attributes/fulfillment_availability", "value": [{"quantity": 3}]},
        {
            "op": "merge",
            "path": "/attributes/fulfillment_availability",
            "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": -3}],
        },
        {
            "op": "merge",
            "path": "/attributes/fulfillment_availability",
            "value": [{"fulfillment_channel_code": "DEFAULT", "qty": 3}],
        },
    ],
)
def test_attribute_errors_answer_invalid_and_change_nothing(sandbox, http, token, patch):
    response = http.patch(
        ITEM, params=QUERY, json={"productType": "PRODUCT", "patches": [patch]}, headers=auth(token)
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["issues"][0]["severity"]) == ("INVALID", "ERROR")
    assert LISTINGS.validate_response(LISTINGS.operation("patchListingsItem"), 200, body) == []
    assert sandbox.history("TEE") == []


def test_replace_drops_the_other_fields_merge_keeps_them_preview_changes_nothing(
    sandbox, http, token
):
    preview = http.patch(
        ITEM, params={**QUERY, "mode": "VALIDATION_PREVIEW"}, json=merge(4), headers=auth(token)
    )
    assert preview.json()["status"] == "VALID"
    assert sandbox.quantity("TEE") == 10
    accepted = http.patch(ITEM, params=QUERY, json=merge(4), headers=auth(token)).json()
    assert accepted["status"] == "ACCEPTED"
    assert sandbox.listing("TEE").fulfillment_availability == [
        {"fulfillment_channel_code": "DEFAULT", "quantity": 4, "lead_time_to_ship_max_days": 2}
    ]
    replace = merge(3)
    replace["patches"][0]["op"] = "replace"
    http.patch(ITEM, params=QUERY, json=replace, headers=auth(token))
    assert sandbox.listing("TEE").fulfillment_availability == [
        {"fulfillment_channel_code": "DEFAULT", "quantity": 3}
    ]
    assert sandbox.history("TEE") == [4, 3]


def test_get_listing_answers_what_was_asked_for(sandbox, http, token):
    response = http.get(
        ITEM,
        params={**QUERY, "includedData": "summaries,fulfillmentAvailability"},
        headers=auth(token),
    )
    body = response.json()
    assert body["fulfillmentAvailability"] == [
        {"fulfillmentChannelCode": "DEFAULT", "quantity": 10}
    ]
    assert body["summaries"][0]["productType"] == "SHIRT"
    assert set(body) == {"sku", "summaries", "fulfillmentAvailability"}
    assert LISTINGS.validate_response(LISTINGS.operation("getListingsItem"), 200, body) == []
    missing = http.get(
        f"/listings/2021-08-01/items/{SELLER}/NOPE", params=QUERY, headers=auth(token)
    )
    assert missing.status_code == 404


def test_the_usage_plan_answers_429_with_the_rate(sandbox, http, token):
    sandbox.store.set_rate_limit("patchListingsItem", 1.0, 2)
    statuses = [
        http.patch(ITEM, params=QUERY, json=merge(n), headers=auth(token)).status_code
        for n in range(3)
    ]
    assert statuses == [200, 200, 429]
    refused = http.patch(ITEM, params=QUERY, json=merge(9), headers=auth(token))
    assert error(refused)[:2] == (429, "QuotaExceeded")
    assert refused.headers["x-amzn-RateLimit-Limit"] == "1.0"
    assert sandbox.history("TEE") == [0, 1]


def test_faults(sandbox, http, token):
    sandbox.faults.configure(timeout_seconds=0.5)
    sandbox.faults.fail_next(1, "429")
    sandbox.faults.fail_next(1, "500")
    sandbox.faults.fail_next(1, "timeout")
    assert error(http.patch(ITEM, params=QUERY, json=merge(1), headers=auth(token)))[:2] == (
        429,
        "QuotaExceeded",
    )
    assert error(http.patch(ITEM, params=QUERY, json=merge(2), headers=auth(token)))[:2] == (
        500,
        "InternalFailure",
    )
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        http.patch(ITEM, params=QUERY, json=merge(3), headers=auth(token), timeout=0.2)
    assert time.monotonic() - started < 0.45
    assert sandbox.history("TEE") == [3]  # applied on arrival, the answer lost


def orders_query(**params: str) -> dict[str, str]:
    return {"MarketplaceIds": MARKETPLACE_US, **params}


def test_get_orders_rules(sandbox, http, token):
    now = datetime.now(UTC)
    hour_ago = amazon_time(now - timedelta(hours=1))
    for params in (
        orders_query(),
        orders_query(CreatedAfter=hour_ago, LastUpdatedAfter=hour_ago),
        orders_query(LastUpdatedAfter=hour_ago, LastUpdatedBefore=amazon_time(now)),
        orders_query(LastUpdatedAfter="yesterday"),
        orders_query(LastUpdatedAfter=hour_ago, MaxResultsPerPage="101"),
    ):
        response = http.get("/orders/v0/orders", params=params, headers=auth(token))
        assert error(response)[:2] == (400, "InvalidInput"), params


def test_get_orders_pages_and_answers_per_the_contract(sandbox, http, token):
    sandbox.store.set_rate_limit("getOrderItems", 100.0, 100)
    for n in range(3):
        sandbox.create_order(
            lines=[("TEE", 2)], purchased_at=datetime.now(UTC) - timedelta(hours=1, seconds=-n)
        )
    query = orders_query(
        LastUpdatedAfter=amazon_time(datetime.now(UTC) - timedelta(hours=2)), MaxResultsPerPage="2"
    )
    first = http.get("/orders/v0/orders", params=query, headers=auth(token)).json()
    token_two = first["payload"]["NextToken"]
    second = http.get(
        "/orders/v0/orders", params=orders_query(NextToken=token_two), headers=auth(token)
    ).json()
    operation = ORDERS.operation("getOrders")
    assert ORDERS.validate_response(operation, 200, first) == []
    assert ORDERS.validate_response(operation, 200, second) == []
    assert (len(first["payload"]["Orders"]), len(second["payload"]["Orders"])) == (2, 1)
    assert "NextToken" not in second["payload"]
    order_id = first["payload"]["Orders"][0]["AmazonOrderId"]
    items = http.get(f"/orders/v0/orders/{order_id}/orderItems", headers=auth(token)).json()
    assert ORDERS.validate_response(ORDERS.operation("getOrderItems"), 200, items) == []
    assert items["payload"]["OrderItems"][0]["QuantityOrdered"] == 2


def test_operations_the_sandbox_does_not_serve_are_404(sandbox, http, token):
    response = http.get("/orders/v0/orders/113-1/buyerInfo", headers=auth(token))
    assert response.status_code == 404
    assert http.get("/nothing/here", headers=auth(token)).status_code == 404
