"""Order search paging, Get Order Detail, the remorse window and the order object itself."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from aftershow.sandbox.tiktok import AddressKind, Shop, TikTokSandbox
from aftershow.sandbox.tiktok.addresses import STATES

from .conftest import STREAM_START, SignedClient

SEARCH = "/order/202309/orders/search"
DETAIL = "/order/202309/orders"
INVALID_PARAM = 36009004
START = int(STREAM_START.timestamp())


def make_orders(sandbox: TikTokSandbox, shop: Shop, count: int) -> list[str]:
    return [
        sandbox.store.create_order(
            shop.id, {"TEE-BLK-M": 1}, at=STREAM_START + timedelta(seconds=10 * i)
        )
        for i in range(count)
    ]


def page_through(api: SignedClient, query: dict, body: dict, *, between_pages=None) -> list[dict]:
    orders, token, pages = [], "", 0
    while True:
        params = {**query, **({"page_token": token} if token else {})}
        envelope = api.call("POST", SEARCH, query=params, body=body)
        assert envelope["code"] == 0, envelope
        orders.extend(envelope["data"]["orders"])
        token = envelope["data"]["next_page_token"]
        pages += 1
        if not token:
            return orders
        if between_pages:
            between_pages(pages)


def test_paging_returns_every_order_exactly_once(
    sandbox: TikTokSandbox, shop: Shop, api: SignedClient
):
    ids = make_orders(sandbox, shop, 250)
    first = api.call("POST", SEARCH, query={"page_size": 100}, body={})["data"]

    assert first["total_count"] == 250
    assert len(first["orders"]) == 100
    # Default sort: create_time DESC.
    assert [o["id"] for o in first["orders"]] == ids[::-1][:100]
    seen = page_through(api, {"page_size": 100}, {})
    assert sorted(o["id"] for o in seen) == sorted(ids)
    assert len(seen) == 250


def test_orders_changing_while_paging_do_not_make_others_disappear(
    sandbox: TikTokSandbox, shop: Shop, api: SignedClient
):
    ids = make_orders(sandbox, shop, 120)

    def cancel_a_batch(pages_read: int) -> None:
        # Orders not yet read jump to the front of an update_time ASC ordering... and beyond.
        sandbox.advance(timedelta(minutes=5))
        for order_id in ids[pages_read * 25 : pages_read * 25 + 30]:
            sandbox.store.cancel_order(order_id)

    seen = page_through(
        api,
        {"page_size": 25, "sort_field": "update_time", "sort_order": "ASC"},
        {},
        between_pages=cancel_a_batch,
    )

    assert sorted(o["id"] for o in seen) == sorted(ids)
    assert len(seen) == len(ids)


def test_last_page_has_an_empty_token_and_page_tokens_are_opaque_base64(
    sandbox: TikTokSandbox, shop: Shop, api: SignedClient
):
    make_orders(sandbox, shop, 3)
    first = api.call("POST", SEARCH, query={"page_size": 2}, body={})["data"]
    token = first["next_page_token"]
    second = api.call("POST", SEARCH, query={"page_size": 2, "page_token": token}, body={})

    assert token.endswith("==")
    assert len(second["data"]["orders"]) == 1
    assert second["data"]["next_page_token"] == ""
    assert second["data"]["total_count"] == 3


@pytest.mark.parametrize("page_size", ["0", "101", "-1", "ten", ""])
def test_page_size_out_of_range_is_an_invalid_parameter(api: SignedClient, page_size: str):
    query = {"page_size": page_size} if page_size else {}

    envelope = api.call("POST", SEARCH, query=query, body={})

    assert envelope["code"] == INVALID_PARAM
    assert envelope["message"].startswith("invalid param error: page_size must be")


@pytest.mark.parametrize("page_size", [1, 100])
def test_page_size_bounds_are_inclusive(
    sandbox: TikTokSandbox, shop: Shop, api: SignedClient, page_size: int
):
    make_orders(sandbox, shop, 2)

    envelope = api.call("POST", SEARCH, query={"page_size": page_size}, body={})

    assert envelope["code"] == 0
    assert len(envelope["data"]["orders"]) == min(page_size, 2)


def test_search_filters(sandbox: TikTokSandbox, shop: Shop, api: SignedClient):
    early = sandbox.store.create_order(shop.id, {"MUG-LIVE": 1}, at=STREAM_START)
    late = sandbox.store.create_order(
        shop.id, {"MUG-LIVE": 1}, shipping_type="TIKTOK", at=STREAM_START + timedelta(minutes=30)
    )
    sandbox.advance(timedelta(minutes=61))  # early leaves the remorse window, late does not

    def ids(body: dict) -> list[str]:
        return [
            o["id"]
            for o in api.call("POST", SEARCH, query={"page_size": 50}, body=body)["data"]["orders"]
        ]

    assert ids({"order_status": "AWAITING_SHIPMENT"}) == [early]
    assert ids({"order_status": "ON_HOLD"}) == [late]
    assert ids({"shipping_type": "TIKTOK"}) == [late]
    assert ids({"create_time_ge": START + 60}) == [late]
    assert ids({"create_time_lt": START + 60}) == [early]
    assert ids({"update_time_ge": START + 3600}) == [early]
    assert ids({"buyer_user_id": sandbox.store.get_order(late)["user_id"]}) == [late]
    bad = api.call("POST", SEARCH, query={"page_size": 50}, body={"order_status": "SHIPPED"})
    assert bad["code"] == INVALID_PARAM


def test_order_detail_returns_known_ids_in_request_order(
    sandbox: TikTokSandbox, shop: Shop, api: SignedClient
):
    first, second = make_orders(sandbox, shop, 2)
    other_shop = sandbox.store.create_shop(name="Other")
    sandbox.store.add_product(other_shop.id, "Other", skus=[{"seller_sku": "X-1", "price": "5"}])
    foreign = sandbox.store.create_order(other_shop.id, {"X-1": 1})

    envelope = api.call(
        "GET", DETAIL, query={"ids": f"{second},999999999999999999,{foreign},{first}"}
    )

    assert envelope["code"] == 0
    assert [o["id"] for o in envelope["data"]["orders"]] == [second, first]


def test_order_detail_takes_at_most_50_ids(sandbox: TikTokSandbox, shop: Shop, api: SignedClient):
    ids = make_orders(sandbox, shop, 51)

    fifty = api.call("GET", DETAIL, query={"ids": ",".join(ids[:50])})
    fifty_one = api.call("GET", DETAIL, query={"ids": ",".join(ids)})
    none = api.call("GET", DETAIL, query={"ids": ""})

    assert len(fifty["data"]["orders"]) == 50
    assert fifty_one["code"] == INVALID_PARAM
    assert fifty_one["message"] == "invalid param error: ids accepts at most 50 order ids"
    assert none["code"] == INVALID_PARAM


def test_remorse_window_hides_the_recipient_for_one_hour(
    sandbox: TikTokSandbox, shop: Shop, api: SignedClient
):
    order_id = sandbox.store.create_order(shop.id, {"HOOD-GRY-M": 1}, at=STREAM_START)

    def fetch() -> dict:
        return api.call("GET", DETAIL, query={"ids": order_id})["data"]["orders"][0]

    on_hold = fetch()
    assert on_hold["status"] == "ON_HOLD"
    assert on_hold["is_on_hold_order"] is True
    address = on_hold["recipient_address"]
    assert (address["name"], address["address_line1"], address["postal_code"]) == ("", "", "")
    assert address["district_info"] == []

    sandbox.advance(timedelta(minutes=59, seconds=59))
    assert fetch()["status"] == "ON_HOLD"

    sandbox.advance(timedelta(seconds=1))
    released = fetch()
    assert released["status"] == "AWAITING_SHIPMENT"
    assert released["update_time"] == START + 3600
    address = released["recipient_address"]
    assert address["name"] == f"{address['first_name']} {address['last_name']}"
    assert address["address_line1"] != ""
    assert len(address["postal_code"]) == 5
    levels = {d["address_level_name"]: d for d in address["district_info"]}
    assert levels["Country"]["iso_code"] == "US"
    assert levels["State"]["iso_code"].startswith("US-")
    assert levels["City"]["address_name"] != ""


def test_order_object_one_line_per_unit_and_consistent_money(
    sandbox: TikTokSandbox, shop: Shop, api: SignedClient
):
    order_id = sandbox.store.create_order(shop.id, {"TEE-BLK-M": 2, "MUG-LIVE": 1}, at=STREAM_START)
    sandbox.advance(timedelta(hours=1))
    order = api.call("GET", DETAIL, query={"ids": order_id})["data"]["orders"][0]
    state = next(
        d for d in order["recipient_address"]["district_info"] if d["address_level_name"] == "State"
    )["iso_code"][3:]
    rate = STATES[state][1] / 100

    assert len(order["id"]) == 18 and order["id"].isdigit()
    assert [i["seller_sku"] for i in order["line_items"]] == ["TEE-BLK-M", "TEE-BLK-M", "MUG-LIVE"]
    assert len({i["id"] for i in order["line_items"]}) == 3
    assert {i["package_id"] for i in order["line_items"]} == {order["packages"][0]["id"]}
    payment = order["payment"]
    expected_tax = sum(
        (Decimal(p) * rate).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
        for p in ("19.99", "19.99", "14.00")
    )
    assert payment["original_total_product_price"] == "53.98"
    assert payment["sub_total"] == "53.98"
    assert payment["original_shipping_fee"] == "7.99"
    assert payment["shipping_fee"] == "0.00"  # free shipping over $35
    assert payment["tax"] == f"{expected_tax:.2f}"
    assert Decimal(payment["total_amount"]) == Decimal("53.98") + expected_tax
    assert order["shipping_type"] == "SELLER"
    assert order["warehouse_id"] == shop.default_warehouse_id
    assert order["rts_sla_time"] == order["paid_time"] + 2 * 86_400
    assert "cancel_time" not in order


def test_buyer_cancellation_in_the_remorse_window(
    sandbox: TikTokSandbox, shop: Shop, api: SignedClient
):
    order_id = sandbox.store.create_order(
        shop.id, {"MUG-LIVE": 1}, at=STREAM_START, cancel_after=timedelta(minutes=12)
    )
    sandbox.advance(timedelta(hours=2))

    order = api.call("GET", DETAIL, query={"ids": order_id})["data"]["orders"][0]

    assert order["status"] == "CANCELLED"
    assert order["cancel_time"] == START + 720
    assert order["update_time"] == START + 720
    assert order["cancellation_initiator"] == "BUYER"
    assert {i["display_status"] for i in order["line_items"]} == {"CANCELLED"}
    assert order["recipient_address"]["address_line1"] == ""  # never revealed


def test_tiktok_shipping_orders_mask_the_recipient(
    sandbox: TikTokSandbox, shop: Shop, api: SignedClient
):
    order_id = sandbox.store.create_order(
        shop.id,
        {"MUG-LIVE": 1},
        shipping_type="TIKTOK",
        address_kind=AddressKind.VALID,
        at=STREAM_START,
    )
    sandbox.advance(timedelta(hours=1))

    address = api.call("GET", DETAIL, query={"ids": order_id})["data"]["orders"][0][
        "recipient_address"
    ]

    assert address["first_name"].endswith("***")
    assert "*****" in address["phone_number"]


def test_warehouses_products_and_webhook_registration(api: SignedClient, shop: Shop):
    warehouses = api.call("GET", "/logistics/202309/warehouses")["data"]["warehouses"]
    products = api.call("POST", "/product/202502/products/search", query={"page_size": 2}, body={})[
        "data"
    ]
    put = api.call(
        "PUT",
        "/event/202309/webhooks",
        body={
            "address": "http://127.0.0.1:8000/webhooks/tiktok/",
            "event_type": "ORDER_STATUS_CHANGE",
        },
    )
    hooks = api.call("GET", "/event/202309/webhooks")["data"]
    deleted = api.call(
        "DELETE", "/event/202309/webhooks", body={"event_type": "ORDER_STATUS_CHANGE"}
    )
    after = api.call("GET", "/event/202309/webhooks")["data"]

    assert [(w["id"], w["is_default"]) for w in warehouses] == [(shop.default_warehouse_id, True)]
    assert products["total_count"] == 3
    assert len(products["products"]) == 2
    assert products["next_page_token"] != ""
    assert put["code"] == 0 and deleted["code"] == 0
    assert [(h["address"], h["event_type"]) for h in hooks["webhooks"]] == [
        ("http://127.0.0.1:8000/webhooks/tiktok/", "ORDER_STATUS_CHANGE")
    ]
    assert after == {"webhooks": [], "total_count": 0}
