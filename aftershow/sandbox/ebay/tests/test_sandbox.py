"""The eBay sandbox refuses what eBay refuses, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator

import httpx
import pytest

from aftershow.sandbox.ebay import SCOPE_FULFILLMENT, EbaySandbox

CLIENT_ID = "client-1"
CLIENT_SECRET = "secret-1"
BULK = "/sell/inventory/v1/bulk_update_price_quantity"
TOKEN = "/identity/v1/oauth2/token"


@pytest.fixture
def sandbox() -> Iterator[EbaySandbox]:
    with EbaySandbox(client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as sb:
        yield sb


@pytest.fixture
def http(sandbox: EbaySandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.base_url, timeout=5) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def basic(client_id: str = CLIENT_ID, secret: str = CLIENT_SECRET) -> dict[str, str]:
    encoded = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


def error_ids(response: httpx.Response) -> list[int]:
    return [error["errorId"] for error in response.json()["errors"]]


def test_refresh_grant_issues_a_new_access_token_and_kills_the_old(sandbox, http):
    grant = sandbox.issue_user_token()
    old = grant.access_token
    response = http.post(
        TOKEN,
        data={"grant_type": "refresh_token", "refresh_token": grant.refresh_token},
        headers=basic(),
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["expires_in"] > 7100, body["token_type"]) == (True, "User Access Token")
    sandbox.add_item("A", quantity=1)
    fresh = http.post(BULK, json={"requests": [{"sku": "A"}]}, headers=bearer(old))
    assert (fresh.status_code, error_ids(fresh)) == (401, [1001])


@pytest.mark.parametrize(
    ("headers", "form", "status", "error"),
    [
        (basic(secret="nope"), {"grant_type": "refresh_token"}, 401, "invalid_client"),
        (basic(), {"grant_type": "refresh_token", "refresh_token": "x"}, 400, "invalid_grant"),
        (basic(), {"grant_type": "password"}, 400, "unsupported_grant_type"),
    ],
)
def test_token_endpoint_refusals(sandbox, http, headers, form, status, error):
    response = http.post(TOKEN, data=form, headers=headers)
    assert (response.status_code, response.json()["error"]) == (status, error)


def test_scopes_beyond_the_grant_are_refused(sandbox, http):
    grant = sandbox.store.issue_user_token(frozenset({SCOPE_FULFILLMENT}))
    response = http.post(
        TOKEN,
        data={
            "grant_type": "refresh_token",
            "refresh_token": grant.refresh_token,
            "scope": "https://api.ebay.com/oauth/api_scope/sell.inventory",
        },
        headers=basic(),
    )
    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")


def test_api_calls_need_a_live_bearer_token_with_the_scope(sandbox, http):
    sandbox.add_item("A", quantity=1)
    body = {"requests": [{"sku": "A", "shipToLocationAvailability": {"quantity": 2}}]}
    assert error_ids(http.post(BULK, json=body)) == [1001]
    assert error_ids(http.post(BULK, json=body, headers=bearer("made-up"))) == [1001]
    fulfillment_only = sandbox.store.issue_user_token(frozenset({SCOPE_FULFILLMENT}))
    refused = http.post(BULK, json=body, headers=bearer(fulfillment_only.access_token))
    assert (refused.status_code, error_ids(refused)) == (403, [1100])
    assert sandbox.quantity("A") == 1


@pytest.mark.parametrize(
    "body",
    [
        {"requests": []},
        {
            "requests": [
                {"sku": f"S{n}", "shipToLocationAvailability": {"quantity": 1}} for n in range(26)
            ]
        },
        {"requests": [{"sku": "A", "shipToLocationAvailability": {"quantity": -1}}]},
        {"requests": [{"sku": "A", "shipToLocationAvailability": {"quantity": "3"}}]},
        {"requests": [{"sku": "A", "shipToLocationAvailability": {"qty": 3}}]},
        {"requests": [{"sku": "A", "quantity": 3}]},
        {"requests": [{"sku": "A"}]},
        {"requests": [{"sku": "A", "offers": [{"availableQuantity": 2}]}]},
        {
            "requests": [
                {"sku": "A", "shipToLocationAvailability": {"quantity": 1}},
                {"sku": "A", "shipToLocationAvailability": {"quantity": 2}},
            ]
        },
        {"items": [{"sku": "A"}]},
    ],
)
def test_bulk_update_shape_errors_change_nothing(sandbox, http, body):
    sandbox.add_item("A", quantity=1)
    token = sandbox.issue_user_token().access_token
    response = http.post(BULK, json=body, headers=bearer(token))
    assert (response.status_code, error_ids(response)) == (400, [25709])
    assert sandbox.quantity("A") == 1


def test_bulk_update_needs_json(sandbox, http):
    token = sandbox.issue_user_token().access_token
    response = http.post(
        BULK, content=b"sku=A", headers={**bearer(token), "Content-Type": "text/plain"}
    )
    assert response.status_code == 415


def test_per_item_statuses_and_the_offer_must_belong_to_its_sku(sandbox, http):
    offer_a = sandbox.add_item("A", quantity=1)
    sandbox.add_item("B", quantity=1)
    token = sandbox.issue_user_token().access_token
    response = http.post(
        BULK,
        json={
            "requests": [
                {"sku": "A", "offers": [{"offerId": offer_a, "availableQuantity": 4}]},
                {"sku": "B", "offers": [{"offerId": offer_a, "availableQuantity": 9}]},
            ]
        },
        headers=bearer(token),
    )
    assert response.status_code == 207
    assert [(r["sku"], r["statusCode"]) for r in response.json()["responses"]] == [
        ("A", 200),
        ("B", 400),
    ]
    assert (sandbox.offer_quantity(offer_a), sandbox.quantity("A"), sandbox.quantity("B")) == (
        4,
        1,
        1,
    )


def test_250_revisions_a_day_then_refused(sandbox, http):
    sandbox.add_item("A", quantity=1)
    token = sandbox.issue_user_token().access_token
    for quantity in range(250):
        body = {"requests": [{"sku": "A", "shipToLocationAvailability": {"quantity": quantity}}]}
        assert http.post(BULK, json=body, headers=bearer(token)).status_code == 200
    body = {"requests": [{"sku": "A", "shipToLocationAvailability": {"quantity": 999}}]}
    response = http.post(BULK, json=body, headers=bearer(token))
    assert response.json()["responses"][0]["errors"][0]["errorId"] == 25019
    assert sandbox.quantity("A") == 249


def test_faults_429_500_and_timeout(sandbox, http):
    sandbox.add_item("A", quantity=1)
    token = sandbox.issue_user_token().access_token
    body = {"requests": [{"sku": "A", "shipToLocationAvailability": {"quantity": 5}}]}
    sandbox.faults.configure(timeout_seconds=0.5)
    sandbox.faults.fail_next(1, "429")
    sandbox.faults.fail_next(1, "500")
    sandbox.faults.fail_next(1, "timeout")
    first = http.post(BULK, json=body, headers=bearer(token))
    assert (first.status_code, error_ids(first)) == (429, [2001])
    second = http.post(BULK, json=body, headers=bearer(token))
    assert (second.status_code, error_ids(second)) == (500, [25001])
    assert sandbox.history("A") == []
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        http.post(BULK, json=body, headers=bearer(token), timeout=0.2)
    assert time.monotonic() - started < 0.45
    # A timed-out write is applied on arrival; only its answer is lost.
    assert sandbox.history("A") == [5]
    assert sandbox.faults.injected == {"429": 1, "500": 1, "timeout": 1}


def test_get_orders_filters_and_pages(sandbox, http):
    sandbox.add_item("A", quantity=10)
    orders = [sandbox.create_order(lines=[("A", 1)]) for _ in range(5)]
    token = sandbox.issue_user_token().access_token
    response = http.get(
        "/sell/fulfillment/v1/order",
        params={
            "filter": "lastmodifieddate:[2020-01-01T00:00:00.000Z..],"
            "orderfulfillmentstatus:{NOT_STARTED|IN_PROGRESS}",
            "limit": 2,
            "offset": 2,
        },
        headers=bearer(token),
    )
    body = response.json()
    assert (body["total"], body["offset"], body["limit"]) == (5, 2, 2)
    newest_first = sorted(orders, key=lambda o: (o["creationDate"], o["orderId"]), reverse=True)
    assert [o["orderId"] for o in body["orders"]] == [o["orderId"] for o in newest_first[2:4]]
    assert "next" in body


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 201},
        {"limit": 0},
        {"offset": -1},
        {"filter": "lastmodifieddate:[2020-01-01..]"},
        {"filter": "updated:[2020-01-01T00:00:00.000Z..]"},
        {"filter": "orderfulfillmentstatus:{SHIPPED}"},
    ],
)
def test_get_orders_refuses_bad_parameters(sandbox, http, params):
    sandbox.add_item("A", quantity=10)
    sandbox.create_order(lines=[("A", 1)])
    token = sandbox.issue_user_token().access_token
    response = http.get("/sell/fulfillment/v1/order", params=params, headers=bearer(token))
    assert response.status_code == 400
