"""The Shopify sandbox refuses what the Admin GraphQL API refuses, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from aftershow.sandbox.shopify import ShopifySandbox, gid, webhook_hmac
from aftershow.sandbox.shopify.store import CostBucket

SET = """
mutation Set($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id changes { name delta quantityAfterChange } }
    userErrors { code field message }
  }
}
"""


@pytest.fixture
def sandbox() -> Iterator[ShopifySandbox]:
    with ShopifySandbox(app_secret="shpss_t") as sb:
        yield sb


@pytest.fixture
def token(sandbox: ShopifySandbox) -> str:
    return sandbox.issue_token()


@pytest.fixture
def http(sandbox: ShopifySandbox, token: str) -> Iterator[httpx.Client]:
    headers = {"X-Shopify-Access-Token": token}
    with httpx.Client(base_url=sandbox.base_url, timeout=5, headers=headers) as client:
        yield client


@pytest.fixture
def tee(sandbox: ShopifySandbox) -> str:
    return gid("InventoryItem", sandbox.add_variant("TEE", quantity=10).item_number)


def gql(http: httpx.Client, sandbox: ShopifySandbox, query: str, **variables: Any) -> dict:
    response = http.post(sandbox.graphql_path, json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return dict(response.json())


def quantities(item: str, location: str, quantity: int, change_from: int | None) -> dict:
    return {
        "name": "available",
        "reason": "correction",
        "referenceDocumentUri": "gid://aftershow/InventorySync/1",
        "quantities": [
            {
                "inventoryItemId": item,
                "locationId": location,
                "quantity": quantity,
                "changeFromQuantity": change_from,
            }
        ],
    }


def first_error(answer: dict) -> tuple[str, str]:
    error = answer["errors"][0]
    return error.get("extensions", {}).get("code", ""), error["message"]


def test_gateway_refusals(sandbox, http):
    path = sandbox.graphql_path
    with httpx.Client(base_url=sandbox.base_url) as anonymous:
        assert anonymous.post(path, json={"query": "{ shop { name } }"}).status_code == 401
    assert (
        http.post(
            path, content=b"{ shop { name } }", headers={"Content-Type": "application/graphql"}
        ).status_code
        == 415
    )
    assert http.post(path, json={"variables": {}}).status_code == 400
    assert (
        http.post(
            "/admin/api/2023-01/graphql.json", json={"query": "{ shop { name } }"}
        ).status_code
        == 404
    )
    assert http.get(path).status_code == 404


@pytest.mark.parametrize(
    ("query", "variables", "code", "message"),
    [
        ("{ shop { name }", {}, "", "Parse error on 'end of document' at [1, 16]"),
        ("{ shop { nme } }", {}, "undefinedField", "Field 'nme' doesn't exist on type 'Shop'"),
        ("{ shop }", {}, "", "Field must have selections"),
        ("{ shop { name { x } } }", {}, "", "Selections can't be made on scalars"),
        ("{ orders { nodes { id } } }", {}, "", "You must provide a `first` or `last`"),
        ("{ orders(first: 5, colour: RED) { nodes { id } } }", {}, "argumentNotAccepted", ""),
        (
            "query Q($n: String!) { orders(first: $n) { nodes { id } } }",
            {"n": "5"},
            "",
            "Type mismatch",
        ),
        (
            "query Q($n: Int!) { orders(first: 5) { nodes { id } } }",
            {"n": 5},
            "",
            "declared but never used",
        ),
        ("{ orders(first: $n) { nodes { id } } }", {}, "", "Variable $n is used but not declared"),
        (
            "fragment F on Shop { name } { shop { ...F } }",
            {},
            "",
            "Named fragments are not supported",
        ),
    ],
)
def test_documents_outside_the_schema_are_refused(sandbox, http, query, variables, code, message):
    answer = gql(http, sandbox, query, **variables)
    assert "data" not in answer
    got_code, got_message = first_error(answer)
    assert got_code == code
    assert got_message.startswith(message) or message in got_message


def test_invalid_variables_are_refused_before_anything_runs(sandbox, http, tee):
    data = quantities(tee, sandbox.location_id, 3, 10)
    data["quantities"][0]["inventoryItemID"] = data["quantities"][0].pop("inventoryItemId")
    answer = gql(http, sandbox, SET, input=data, key="k")
    code, message = first_error(answer)
    assert code == "INVALID_VARIABLE"
    assert (
        "input.quantities.0.inventoryItemID: Field is not defined on InventoryQuantityInput"
        in message
    )
    assert sandbox.quantity("TEE") == 10


def test_costs_are_reported_and_the_cap_enforced(sandbox, http):
    answer = gql(http, sandbox, "{ shop { name } }")
    assert answer["extensions"]["cost"]["requestedQueryCost"] == 1
    status = answer["extensions"]["cost"]["throttleStatus"]
    assert (status["maximumAvailable"], status["restoreRate"]) == (2000.0, 100.0)
    costly = "{ orders(first: 250) { nodes { id lineItems(first: 250) { nodes { id } } } } }"
    code, message = first_error(gql(http, sandbox, costly))
    assert code == "MAX_COST_EXCEEDED"
    # 2 + 250 orders * (1 + the line connection's 2 + 250 lines * 1)
    assert message.startswith("Query cost is 63252, which exceeds the single query max cost")


def test_points_a_query_did_not_use_go_back_to_the_bucket(sandbox, http):
    sandbox.add_variant("TEE", quantity=50)
    for _ in range(2):
        sandbox.create_order(lines=[("TEE", 1)])
    cost = gql(http, sandbox, "{ orders(first: 50) { nodes { id } } }")["extensions"]["cost"]
    assert (cost["requestedQueryCost"], cost["actualQueryCost"]) == (52, 4)
    assert cost["throttleStatus"]["currentlyAvailable"] >= 2000 - 4 - 1


def test_an_empty_bucket_answers_throttled(sandbox, http):
    sandbox.store.bucket = CostBucket(maximum=100, restore_rate=10)
    sandbox.store.bucket.drain()
    answer = gql(http, sandbox, "{ shop { name } }")
    assert first_error(answer) == ("THROTTLED", "Throttled")
    assert answer["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 0
    time.sleep(0.15)
    assert "data" in gql(http, sandbox, "{ shop { name } }")


def test_scopes_are_checked_per_root_field(sandbox, tee):
    token = sandbox.issue_token(frozenset({"read_inventory"}))
    with httpx.Client(base_url=sandbox.base_url, headers={"X-Shopify-Access-Token": token}) as http:
        answer = gql(http, sandbox, SET, input=quantities(tee, sandbox.location_id, 1, 10), key="k")
    assert first_error(answer)[0] == "ACCESS_DENIED"
    assert sandbox.quantity("TEE") == 10


def test_the_idempotent_directive_and_change_from_quantity_are_mandatory(sandbox, http, tee):
    no_directive = SET.replace("@idempotent(key: $key)", "").replace(", $key: String!", "")
    answer = gql(http, sandbox, no_directive, input=quantities(tee, sandbox.location_id, 1, 10))
    assert "@idempotent(key:) directive is required" in first_error(answer)[1]
    data = quantities(tee, sandbox.location_id, 1, 10)
    del data["quantities"][0]["changeFromQuantity"]
    answer = gql(http, sandbox, SET, input=data, key="k")
    assert "changeFromQuantity is required" in first_error(answer)[1]
    assert sandbox.quantity("TEE") == 10


def test_set_stale_replay_and_key_mismatch(sandbox, http, tee):
    location = sandbox.location_id
    applied = gql(http, sandbox, SET, input=quantities(tee, location, 7, 10), key="k1")
    group = applied["data"]["inventorySetQuantities"]["inventoryAdjustmentGroup"]
    assert group["changes"] == [
        {"name": "available", "delta": -3, "quantityAfterChange": 7},
        {"name": "on_hand", "delta": -3, "quantityAfterChange": 7},
    ]
    replay = gql(http, sandbox, SET, input=quantities(tee, location, 7, 10), key="k1")
    assert replay["data"] == applied["data"]
    mismatch = gql(http, sandbox, SET, input=quantities(tee, location, 6, 7), key="k1")
    assert mismatch["data"]["inventorySetQuantities"]["userErrors"][0]["code"] == (
        "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"
    )
    stale = gql(http, sandbox, SET, input=quantities(tee, location, 5, 10), key="k2")
    payload = stale["data"]["inventorySetQuantities"]
    assert payload == {
        "inventoryAdjustmentGroup": None,
        "userErrors": [
            {
                "code": "CHANGE_FROM_QUANTITY_STALE",
                "field": ["input", "quantities", "0", "changeFromQuantity"],
                "message": "The changeFromQuantity value does not match persisted value.",
            }
        ],
    }
    assert sandbox.history("TEE") == [7]


def test_a_call_with_one_bad_quantity_applies_none(sandbox, http, tee):
    mug = gid("InventoryItem", sandbox.add_variant("MUG", quantity=4).item_number)
    data = quantities(tee, sandbox.location_id, 9, 10)
    data["quantities"].append({**data["quantities"][0], "inventoryItemId": mug, "quantity": -1})
    answer = gql(http, sandbox, SET, input=data, key="k")
    errors = answer["data"]["inventorySetQuantities"]["userErrors"]
    assert [(e["code"], e["field"]) for e in errors] == [
        ("INVALID_QUANTITY_NEGATIVE", ["input", "quantities", "1", "quantity"])
    ]
    assert (sandbox.quantity("TEE"), sandbox.quantity("MUG")) == (10, 4)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"name": "incoming"}, "INVALID_NAME"),
        ({"reason": "because"}, "INVALID_REASON"),
        ({"referenceDocumentUri": "sync-1"}, "INVALID_REFERENCE_DOCUMENT"),
    ],
)
def test_input_level_user_errors(sandbox, http, tee, change, code):
    data = {**quantities(tee, sandbox.location_id, 9, 10), **change}
    answer = gql(http, sandbox, SET, input=data, key="k")
    assert answer["data"]["inventorySetQuantities"]["userErrors"][0]["code"] == code
    assert sandbox.quantity("TEE") == 10


def test_more_than_250_quantities_are_refused(sandbox, http, tee):
    data = quantities(tee, sandbox.location_id, 9, 10)
    data["quantities"] = data["quantities"] * 251
    code, message = first_error(gql(http, sandbox, SET, input=data, key="k"))
    assert code == "INVALID_VARIABLE"
    assert "The input array size of 251 is greater than the maximum allowed of 250." in message


def test_faults_and_the_late_write_of_a_timeout(sandbox, http, tee):
    sandbox.faults.configure(timeout_seconds=0.5, retry_after=2)
    sandbox.faults.fail_next(1, "429")
    sandbox.faults.fail_next(1, "500")
    sandbox.faults.fail_next(1, "timeout")
    body = {
        "query": SET,
        "variables": {"input": quantities(tee, sandbox.location_id, 4, 10), "key": "k"},
    }
    throttled = http.post(sandbox.graphql_path, json=body)
    assert (throttled.status_code, throttled.headers["Retry-After"]) == (429, "2.0")
    assert http.post(sandbox.graphql_path, json=body).status_code == 500
    with pytest.raises(httpx.ReadTimeout):
        http.post(sandbox.graphql_path, json=body, timeout=0.2)
    # The key is taken on arrival: a retry while the original waits is told so.
    retry = gql(http, sandbox, SET, input=quantities(tee, sandbox.location_id, 4, 10), key="k")
    assert retry["data"]["inventorySetQuantities"]["userErrors"][0]["code"] == (
        "IDEMPOTENCY_CONCURRENT_REQUEST"
    )
    assert sandbox.history("TEE") == []
    time.sleep(0.5)
    assert sandbox.history("TEE") == [4]  # applied late, after the client gave up


def test_order_pages_continue_after_the_same_order_however_the_list_changed(sandbox, http):
    sandbox.add_variant("TEE", quantity=50)
    orders = [sandbox.create_order(lines=[("TEE", 1)]) for _ in range(5)]
    query = """query Q($after: String) { orders(first: 2, after: $after, sortKey: ID) {
        nodes { id } pageInfo { hasNextPage endCursor } } }"""
    first = gql(http, sandbox, query, after=None)["data"]["orders"]
    sandbox.cancel_order(orders[0])  # changes the list before the next page
    second = gql(http, sandbox, query, after=first["pageInfo"]["endCursor"])["data"]["orders"]
    ids = [node["id"] for node in first["nodes"] + second["nodes"]]
    assert ids == [gid("Order", order.number) for order in orders[:4]]


def test_order_webhooks_are_signed_rest_payloads(sandbox):
    sandbox.add_variant("TEE", quantity=5, price="19.99")
    order = sandbox.create_order(lines=[("TEE", 2)])
    headers, body = sandbox.webhook_for("orders/create", order)
    assert headers["X-Shopify-Hmac-Sha256"] == webhook_hmac("shpss_t", body)
    assert headers["X-Shopify-Topic"] == "orders/create"
    payload = json.loads(body)
    assert payload["admin_graphql_api_id"] == gid("Order", order.number)
    assert payload["created_at"].endswith("-05:00")
    assert (payload["line_items"][0]["quantity"], payload["line_items"][0]["price"]) == (2, "19.99")
    assert sandbox.quantity("TEE") == 3
    assert sandbox.quantity("TEE", "committed") == 2
