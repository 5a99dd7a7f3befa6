"""Search Combinable Packages and Combine Package: a buyer's orders to one address become one
package that ships with one tracking number; what TikTok's rules forbid is refused per entry."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from aftershow.sandbox.tiktok import Shop, TikTokSandbox
from aftershow.sandbox.tiktok.combine import NOT_COMBINABLE

from .conftest import SignedClient
from .test_fulfillment import INVALID_PARAM, TRACKING, package_of, paid_order, ship


@pytest.fixture(autouse=True)
def _close_documents(sandbox: TikTokSandbox) -> Iterator[None]:
    yield
    sandbox.fulfillment.close()


def same_buyer(sandbox: TikTokSandbox, first: dict, second: dict) -> dict:
    """Make ``second`` an order of ``first``'s buyer, to the same address."""

    def copy(order: dict[str, Any]) -> None:
        order["user_id"] = first["user_id"]
        order["recipient_address"] = first["recipient_address"]

    sandbox.store.update_order(second["id"], copy)
    return sandbox.store.get_order(second["id"])


def search(api: SignedClient, **query: Any) -> dict:
    return api.call(
        "GET", "/fulfillment/202309/combinable_packages/search", query={"page_size": 50, **query}
    )


def combine(api: SignedClient, package_id: str, order_ids: list[str]) -> dict:
    return api.call(
        "POST",
        "/fulfillment/202309/packages/combine",
        body={"combinable_packages": [{"id": package_id, "order_ids": order_ids}]},
    )["data"]


def test_a_buyers_orders_combine_into_one_package_that_ships_once(
    sandbox: TikTokSandbox, shop: Shop, api: SignedClient
):
    first = paid_order(sandbox, shop, {"TEE-BLK-M": 1})
    second = same_buyer(sandbox, first, paid_order(sandbox, shop, {"TEE-BLK-M": 2}))
    paid_order(sandbox, shop)  # another buyer: not combinable with them

    found = search(api)["data"]
    assert found["combinable_packages"] == [
        {"id": package_of(first), "order_ids": [first["id"], second["id"]]}
    ]
    assert (found["total_count"], found["next_page_token"]) == (1, "")

    answer = combine(api, package_of(first), [first["id"], second["id"]])

    assert answer == {
        "packages": [{"id": package_of(first), "order_ids": [first["id"], second["id"]]}],
        "errors": [],
    }
    after = sandbox.store.get_order(second["id"])
    assert after["packages"] == [{"id": package_of(first)}]
    assert after["split_or_combine_tag"] == "COMBINED"
    assert {line["package_id"] for line in after["line_items"]} == {package_of(first)}
    assert search(api)["data"]["combinable_packages"] == []  # nothing left to combine
    # The old package is gone; the combined one ships both orders with one tracking number.
    assert ship(api, package_of(second))["code"] == INVALID_PARAM
    assert ship(api, package_of(first))["code"] == 0
    for order_id in (first["id"], second["id"]):
        shipped = sandbox.store.get_order(order_id)
        assert shipped["status"] == "AWAITING_COLLECTION"
        assert {line["tracking_number"] for line in shipped["line_items"]} == {TRACKING}
    detail = api.call("GET", f"/fulfillment/202309/packages/{package_of(first)}")["data"]
    assert [(o["id"], o["skus"][0]["quantity"]) for o in detail["orders"]] == [
        (first["id"], 1),
        (second["id"], 2),
    ]


def test_what_the_rules_forbid_is_refused_per_entry(
    sandbox: TikTokSandbox, shop: Shop, api: SignedClient
):
    first = paid_order(sandbox, shop)
    stranger = paid_order(sandbox, shop)
    shipped = same_buyer(sandbox, first, paid_order(sandbox, shop))
    ship(api, package_of(shipped))
    fine = same_buyer(sandbox, first, paid_order(sandbox, shop))

    answer = api.call(
        "POST",
        "/fulfillment/202309/packages/combine",
        body={
            "combinable_packages": [
                {"id": package_of(first), "order_ids": [first["id"], stranger["id"]]},
                {"id": package_of(first), "order_ids": [first["id"], shipped["id"]]},
                {"id": package_of(first), "order_ids": [first["id"], fine["id"]]},
            ]
        },
    )["data"]

    assert [(e["code"], e["detail"]["package_id"]) for e in answer["errors"]] == [
        (NOT_COMBINABLE, package_of(first))
    ] * 2
    assert "another buyer" in answer["errors"][0]["message"]
    assert "AWAITING_COLLECTION" in answer["errors"][1]["message"]
    assert answer["packages"] == [{"id": package_of(first), "order_ids": [first["id"], fine["id"]]}]
    assert sandbox.store.get_order(stranger["id"])["packages"] == stranger["packages"]


def test_searching_needs_a_page_size_of_1_to_50(api: SignedClient):
    for size in (0, 51, "x"):
        assert search(api, page_size=size)["code"] == INVALID_PARAM
