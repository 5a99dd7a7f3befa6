"""Fulfillment and logistics endpoints: shipping, tracking rules, TikTok Shipping labels, and
the carrier's scans, with every rejection TikTok documents."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from aftershow.sandbox.tiktok import Shop, TikTokSandbox

from .conftest import STREAM_START, SignedClient

START = int(STREAM_START.timestamp())
AFTER_REMORSE = START + 3600
USPS = "7117858858072016686"
UPS = "7117859084333745966"
SELLER_OPTION = "7359159720562657057"
TIKTOK_OPTION = "7359159720562657056"
GROUND_ADVANTAGE = "7403158236471283461"
TRACKING = "9400111899223344556677"
OTHER_TRACKING = "9400111899223344556688"
INVALID_PARAM = 36009004


@pytest.fixture(autouse=True)
def _close_documents(sandbox: TikTokSandbox) -> Iterator[None]:
    yield
    sandbox.fulfillment.close()


def paid_order(
    sandbox: TikTokSandbox, shop: Shop, items: dict[str, int] | None = None, **kwargs
) -> dict:
    """An order past its remorse window (AWAITING_SHIPMENT), as the store holds it."""
    order_id = sandbox.store.create_order(
        shop.id, items or {"TEE-BLK-M": 1}, at=STREAM_START, **kwargs
    )
    sandbox.advance(timedelta(minutes=60) - (sandbox.clock.now() - STREAM_START))
    return sandbox.store.get_order(order_id)


def package_of(order: dict) -> str:
    return order["packages"][0]["id"]


def ship(api: SignedClient, package_id: str, tracking=TRACKING, provider=USPS) -> dict:
    return api.call(
        "POST",
        f"/fulfillment/202309/packages/{package_id}/ship",
        body={
            "handover_method": "DROP_OFF",
            "self_shipment": {"tracking_number": tracking, "shipping_provider_id": provider},
        },
    )


def update_info(api: SignedClient, package_id: str, tracking: str, provider=USPS) -> dict:
    return api.call(
        "POST",
        f"/fulfillment/202309/packages/{package_id}/shipping_info/update",
        body={"tracking_number": tracking, "shipping_provider_id": provider},
    )


# -- seller shipping -----------------------------------------------------------------------------


def test_shipping_a_package_makes_the_order_awaiting_collection(
    sandbox: TikTokSandbox, shop: Shop, api: SignedClient
):
    order = paid_order(sandbox, shop, {"TEE-BLK-M": 2})
    package_id = package_of(order)

    envelope = ship(api, package_id)

    assert (envelope["code"], envelope["data"]) == (0, {})
    after = sandbox.store.get_order(order["id"])
    assert after["status"] == "AWAITING_COLLECTION"
    assert (after["rts_time"], after["update_time"]) == (AFTER_REMORSE, AFTER_REMORSE)
    assert (after["tracking_number"], after["shipping_provider"]) == (TRACKING, "USPS")
    assert [
        (i["display_status"], i["package_status"], i["tracking_number"], i["package_id"])
        for i in after["line_items"]
    ] == [("AWAITING_COLLECTION", "FULFILLING", TRACKING, package_id)] * 2
    detail = api.call("GET", f"/fulfillment/202309/packages/{package_id}")["data"]
    assert {
        k: detail[k] for k in ("package_status", "tracking_number", "shipping_provider_id")
    } == {
        "package_status": "FULFILLING",
        "tracking_number": TRACKING,
        "shipping_provider_id": USPS,
    }
    assert detail["orders"] == [
        {"id": order["id"], "skus": [{"id": after["line_items"][0]["sku_id"], "quantity": 2}]}
    ]
    assert sandbox.fulfillment.package(package_id).accepted_ships == 1


def test_shipping_twice_is_21011040_and_changes_nothing(
    sandbox: TikTokSandbox, shop: Shop, api: SignedClient
):
    order = paid_order(sandbox, shop)
    package_id = package_of(order)
    ship(api, package_id)
    sandbox.advance(timedelta(minutes=5))
    before = sandbox.store.get_order(order["id"])

    envelope = ship(api, package_id, tracking=OTHER_TRACKING)

    assert (envelope["code"], "data" in envelope) == (21011040, False)
    assert envelope["message"] == "The package has already been shipped."
    assert sandbox.store.get_order(order["id"]) == before
    assert sandbox.fulfillment.package(package_id).accepted_ships == 1
    assert sandbox.fulfillment.ship_requests[package_id] == 2


@pytest.mark.parametrize(
    ("prepare", "code"),
    [
        ("remorse", 21011044),
        ("cancelled", 21011041),
        ("buyer_cancel_request", 21011046),
    ],
)
def test_orders_that_may_not_ship_are_rejected(
    sandbox: TikTokSandbox, shop: Shop, api: SignedClient, prepare: str, code: int
):
    order_id = sandbox.store.create_order(shop.id, {"MUG-LIVE": 1}, at=STREAM_START)
    if prepare != "remorse":
        sandbox.advance(timedelta(hours=1))
    if prepare == "cancelled":
        sandbox.store.cancel_order(order_id, initiator="SELLER", reason="Out of stock")
    if prepare == "buyer_cancel_request":
        sandbox.store.update_order(order_id, lambda o: o.update(is_buyer_request_cancel=True))
    before = sandbox.store.get_order(order_id)

    envelope = ship(api, package_of(before))

    assert envelope["code"] == code
    assert sandbox.store.get_order(order_id) == before
    assert sandbox.fulfillment.rejections[code] == 1


@pytest.mark.parametrize(
    ("tracking", "provider"),
    [
        (TRACKING, "7000000000000000000"),  # no such provider
        ("1Z999AA10123456784", USPS),  # a UPS number sent as USPS
        ("94001118992233445566", USPS),  # 20 digits: too short for IMpb
    ],
)
def test_bad_provider_or_tracking_is_21011022(
    sandbox: TikTokSandbox, shop: Shop, api: SignedClient, tracking: str, provider: str
):
    order = paid_order(sandbox, shop)

    envelope = ship(api, package_of(order), tracking=tracking, provider=provider)

    assert envelope["code"] == 21011022
    assert sandbox.store.get_order(order["id"])["status"] == "AWAITING_SHIPMENT"


def test_a_tracking_number_used_by_another_package_is_21011025(
    sandbox: TikTokSandbox, shop: Shop, api: SignedClient
):
    first, second = paid_order(sandbox, shop), paid_order(sandbox, shop)
    ship(api, package_of(first))

    envelope = ship(api, package_of(second))

    assert envelope["code"] == 21011025
    assert sandbox.store.get_order(second["id"])["status"] == "AWAITING_SHIPMENT"


def test_seller_packages_need_a_self_shipment(
    sandbox: TikTokSandbox, shop: Shop, api: SignedClient
):
    order = paid_order(sandbox, shop)

    envelope = api.call("POST", f"/fulfillment/202309/packages/{package_of(order)}/ship", body={})

    assert envelope["code"] == INVALID_PARAM
    assert envelope["message"] == (
        "invalid param error: self_shipment is required for packages shipped by the seller"
    )


def test_batch_ship_reports_partial_failures_per_package(
    sandbox: TikTokSandbox, shop: Shop, api: SignedClient
):
    orders = [paid_order(sandbox, shop) for _ in range(3)]
    sandbox.store.cancel_order(orders[1]["id"], initiator="SELLER")
    trackings = ["9400111899223344550001", "9400111899223344550002", "9400111899223344550003"]
    packages = [
        {
            "id": package_of(order),
            "handover_method": "DROP_OFF",
            "self_shipment": {"tracking_number": tracking, "shipping_provider_id": USPS},
        }
        for order, tracking in zip(orders, trackings, strict=True)
    ]
    packages.append({"id": "1150000000000000001", "self_shipment": packages[0]["self_shipment"]})

    envelope = api.call("POST", "/fulfillment/202309/packages/ship", body={"packages": packages})

    assert envelope["code"] == 0
    assert [(e["code"], e["detail"]) for e in envelope["data"]["errors"]] == [
        (21011041, {"package_id": package_of(orders[1])}),
        (INVALID_PARAM, {"package_id": "1150000000000000001"}),
    ]
    statuses = [sandbox.store.get_order(order["id"])["status"] for order in orders]
    assert statuses == ["AWAITING_COLLECTION", "CANCELLED", "AWAITING_COLLECTION"]


@pytest.mark.parametrize("count", [0, 51])
def test_batch_ship_takes_1_to_50_packages(api: SignedClient, count: int):
    packages = [{"id": str(1150000000000000000 + i)} for i in range(count)]

    envelope = api.call("POST", "/fulfillment/202309/packages/ship", body={"packages": packages})

    assert envelope["code"] == INVALID_PARAM
    assert envelope["message"] == "invalid param error: packages must list 1 to 50 packages"


def test_mark_package_as_shipped_all_lines_keeps_the_package(
    sandbox: TikTokSandbox, shop: Shop, api: SignedClient
):
    order = paid_order(sandbox, shop, {"TEE-BLK-M": 1, "MUG-LIVE": 1})
    line_ids = [item["id"] for item in order["line_items"]]

    envelope = api.call(
        "POST",
        f"/fulfillment/202309/orders/{order['id']}/packages",
        body={
            "tracking_number": TRACKING,
            "shipping_provider_id": USPS,
            "order_line_item_ids": line_ids,
        },
    )

    assert envelope["data"] == {
        "order_id": order["id"],
        "package_id": package_of(order),
        "order_line_item_ids": line_ids,
    }
    assert sandbox.store.get_order(order["id"])["status"] == "AWAITING_COLLECTION"


def test_mark_package_as_shipped_some_lines_splits_the_order(
    sandbox: TikTokSandbox, shop: Shop, api: SignedClient
):
    order = paid_order(sandbox, shop, {"TEE-BLK-M": 1, "MUG-LIVE": 1})
    first_line, second_line = (item["id"] for item in order["line_items"])

    def mark(line_id: str, tracking: str) -> dict:
        return api.call(
            "POST",
            f"/fulfillment/202309/orders/{order['id']}/packages",
            body={
                "tracking_number": tracking,
                "shipping_provider_id": USPS,
                "order_line_item_ids": [line_id],
            },
        )

    split = mark(first_line, TRACKING)["data"]["package_id"]
    partial = sandbox.store.get_order(order["id"])
    rest = mark(second_line, OTHER_TRACKING)["data"]["package_id"]
    again = mark(second_line, "9400111899223344550099")
    after = sandbox.store.get_order(order["id"])

    assert split != package_of(order)
    assert rest == package_of(order)
    assert partial["status"] == "PARTIALLY_SHIPPING"
    assert [p["id"] for p in partial["packages"]] == [package_of(order), split]
    assert after["status"] == "AWAITING_COLLECTION"
    assert [(i["package_id"], i["tracking_number"]) for i in after["line_items"]] == [
        (split, TRACKING),
        (rest, OTHER_TRACKING),
    ]
    assert again["code"] == 21011040


# -- revising tracking ---------------------------------------------------------------------------


def test_tracking_can_be_updated_once(sandbox: TikTokSandbox, shop: Shop, api: SignedClient):
    order = paid_order(sandbox, shop)
    package_id = package_of(order)
    ship(api, package_id)

    first = update_info(api, package_id, "1Z999AA10123456784", provider=UPS)
    second = update_info(api, package_id, OTHER_TRACKING)

    assert (first["code"], first["data"]) == (0, {})
    assert second["code"] == 21011050
    after = sandbox.store.get_order(order["id"])
    assert (after["tracking_number"], after["shipping_provider"]) == ("1Z999AA10123456784", "UPS")
    # The old number is free again for another package.
    other = paid_order(sandbox, shop)
    assert ship(api, package_of(other))["code"] == 0


def test_tracking_can_be_updated_only_within_72_hours(
    sandbox: TikTokSandbox, shop: Shop, api: SignedClient
):
    order = paid_order(sandbox, shop)
    package_id = package_of(order)
    ship(api, package_id)

    sandbox.advance(timedelta(hours=72))
    at_the_limit = sandbox.store.get_order(order["id"])
    sandbox.advance(timedelta(seconds=1))
    late = update_info(api, package_id, OTHER_TRACKING)

    assert late["code"] == 21011051
    assert sandbox.store.get_order(order["id"]) == at_the_limit


def test_a_package_not_yet_shipped_cannot_be_updated(
    sandbox: TikTokSandbox, shop: Shop, api: SignedClient
):
    order = paid_order(sandbox, shop)

    envelope = update_info(api, package_of(order), TRACKING)

    assert envelope["code"] == INVALID_PARAM
    assert (
        envelope["message"]
        == f"invalid param error: package {package_of(order)} has not been shipped"
    )


# -- logistics -------------------------------------------------------------------------------


def test_shipping_providers_per_delivery_option(api: SignedClient):
    seller = api.call(
        "GET", f"/logistics/202309/delivery_options/{SELLER_OPTION}/shipping_providers"
    )
    tiktok = api.call(
        "GET", f"/logistics/202309/delivery_options/{TIKTOK_OPTION}/shipping_providers"
    )
    unknown = api.call("GET", "/logistics/202309/delivery_options/42/shipping_providers")

    assert [p["name"] for p in seller["data"]["shipping_providers"]] == [
        "USPS",
        "UPS",
        "FedEx",
        "DHL eCommerce",
        "OnTrac",
        "Amazon Logistics",
    ]
    assert seller["data"]["shipping_providers"][0] == {"id": USPS, "name": "USPS"}
    assert [p["name"] for p in tiktok["data"]["shipping_providers"]] == ["USPS", "UPS", "FedEx"]
    assert unknown["code"] == INVALID_PARAM


# -- faults ----------------------------------------------------------------------------------


def test_an_injected_fault_changes_nothing(sandbox: TikTokSandbox, shop: Shop, api: SignedClient):
    order = paid_order(sandbox, shop)
    sandbox.faults.fail_next(1, "500")

    faulted = api.request(
        "POST",
        f"/fulfillment/202309/packages/{package_of(order)}/ship",
        body={"self_shipment": {"tracking_number": TRACKING, "shipping_provider_id": USPS}},
    )

    assert (faulted.status_code, faulted.json()["code"]) == (500, 36009003)
    assert sandbox.store.get_order(order["id"])["status"] == "AWAITING_SHIPMENT"
    assert ship(api, package_of(order))["code"] == 0


def test_a_lost_response_was_applied_and_the_retry_is_21011040(
    sandbox: TikTokSandbox, shop: Shop, api: SignedClient
):
    order = paid_order(sandbox, shop)
    sandbox.fulfillment.lose_responses(next_count=1)

    lost = api.request(
        "POST",
        f"/fulfillment/202309/packages/{package_of(order)}/ship",
        body={"self_shipment": {"tracking_number": TRACKING, "shipping_provider_id": USPS}},
    )
    retry = ship(api, package_of(order))

    assert (lost.status_code, lost.json()["code"]) == (500, 36009003)
    assert retry["code"] == 21011040
    assert sandbox.store.get_order(order["id"])["status"] == "AWAITING_COLLECTION"
    assert sandbox.fulfillment.package(package_of(order)).accepted_ships == 1


def test_the_gateway_rules_apply_to_fulfillment_routes(
    sandbox: TikTokSandbox, shop: Shop, api: SignedClient
):
    order = paid_order(sandbox, shop)
    path = f"/fulfillment/202309/packages/{package_of(order)}/ship"

    no_cipher = api.call("POST", path, body={}, shop_cipher=None)
    bad_sign = api.call("POST", path, body={}, sign="0" * 64)

    assert (no_cipher["code"], bad_sign["code"]) == (106013, 106001)
    assert sandbox.store.get_order(order["id"])["status"] == "AWAITING_SHIPMENT"
