"""/api/orders/: the list's filters and paging as JSON, one order with lines and history, and
the OpenAPI document and docs page."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client

from aftershow.accounts.models import User
from aftershow.orders.models import OrderState, OrderStatusChange, PlatformStatus
from aftershow.orders.tests.conftest import NOW
from aftershow.orders.tests.factories import (
    AddressFactory,
    BuyerFactory,
    CreatorFactory,
    OrderFactory,
    OrderLineFactory,
    OrderStatusChangeFactory,
    ShopFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def orders(frozen_now):
    shop_a, shop_b = ShopFactory(name="Glow Lab US"), ShopFactory(name="Glow Lab Outlet")
    mia = CreatorFactory(handle="mia.makeup")
    sunny = BuyerFactory(nickname="Sunny")
    later = OrderFactory(
        remote_order_id="A3",
        shop=shop_a,
        buyer=sunny,
        creator=mia,
        ship_by=NOW + timedelta(days=1),
        total_amount=Decimal("39.98"),
    )
    OrderLineFactory(order=later, seller_sku="TEE-BLK-M")
    OrderLineFactory(order=later, seller_sku="TEE-BLK-M")
    OrderLineFactory(order=later, seller_sku="CAP-RED")
    soonest = OrderFactory(remote_order_id="A1", shop=shop_b, ship_by=NOW + timedelta(hours=1))
    OrderLineFactory(order=soonest, seller_sku="MUG-01")
    undated = OrderFactory(
        remote_order_id="A4", shop=shop_a, platform_status=PlatformStatus.UNPAID, ship_by=None
    )
    middle = OrderFactory(
        remote_order_id="A2",
        shop=shop_b,
        creator=mia,
        platform_status=PlatformStatus.ON_HOLD,
        ship_by=NOW + timedelta(hours=2),
    )
    return {
        "shop_a": shop_a,
        "shop_b": shop_b,
        "mia": mia,
        "soonest": soonest,
        "middle": middle,
        "later": later,
        "undated": undated,
    }


def ids(response) -> list[str]:
    return [item["remote_order_id"] for item in response.json()["items"]]


def test_anonymous_gets_401(client: Client) -> None:
    assert client.get("/api/orders/").status_code == 401
    assert client.get("/api/orders/1").status_code == 401


def test_outsider_gets_401(client: Client, outsider: User) -> None:
    client.force_login(outsider)

    assert client.get("/api/orders/").status_code == 401


def test_list_is_soonest_deadline_first_with_summaries(packer_client: Client, orders) -> None:
    response = packer_client.get("/api/orders/")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 4
    assert (body["limit"], body["offset"]) == (50, 0)
    assert ids(response) == ["A1", "A2", "A3", "A4"]
    assert body["items"][2] == {
        "id": orders["later"].pk,
        "remote_order_id": "A3",
        "shop": {"id": orders["shop_a"].pk, "name": "Glow Lab US"},
        "platform_status": "AWAITING_SHIPMENT",
        "state": "new",
        "placed_at": "2026-11-20T19:00:00Z",
        "ship_by": "2026-11-21T20:00:00Z",
        "buyer_nickname": "Sunny",
        "items_count": 3,
        "skus": [
            {"seller_sku": "TEE-BLK-M", "quantity": 2},
            {"seller_sku": "CAP-RED", "quantity": 1},
        ],
        "currency": "USD",
        "total_amount": "39.98",
        "creator": "mia.makeup",
    }
    assert body["items"][3]["ship_by"] is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=ON_HOLD", ["A2"]),
        ("status=AWAITING_SHIPMENT", ["A1", "A3"]),
        ("shop={shop_a}", ["A3", "A4"]),
        ("creator={mia}", ["A2", "A3"]),
        ("creator={mia}&shop={shop_b}", ["A2"]),
        ("q=A4", ["A4"]),
        ("q=sunny", ["A3"]),
        ("q=CAP-RED", ["A3"]),
        ("q=MUG", []),
    ],
)
def test_list_filters(packer_client: Client, orders, query: str, expected: list[str]) -> None:
    query = query.format(
        shop_a=orders["shop_a"].pk, shop_b=orders["shop_b"].pk, mia=orders["mia"].pk
    )

    response = packer_client.get(f"/api/orders/?{query}")

    assert ids(response) == expected
    assert response.json()["count"] == len(expected)


def test_list_pages_with_limit_and_offset(packer_client: Client, orders) -> None:
    first = packer_client.get("/api/orders/?limit=2")
    second = packer_client.get("/api/orders/?limit=2&offset=2")
    beyond = packer_client.get("/api/orders/?limit=2&offset=10")

    assert ids(first) == ["A1", "A2"]
    assert ids(second) == ["A3", "A4"]
    assert ids(beyond) == []
    assert [page.json()["count"] for page in (first, second, beyond)] == [4, 4, 4]


@pytest.mark.parametrize(
    "query",
    ["limit=201", "limit=0", "offset=-1", "status=SHIPPED", "shop=abc", f"q={'x' * 101}"],
)
def test_list_rejects_bad_parameters(packer_client: Client, orders, query: str) -> None:
    response = packer_client.get(f"/api/orders/?{query}")

    assert response.status_code == 422


def test_list_accepts_the_maximum_limit(packer_client: Client, orders) -> None:
    response = packer_client.get("/api/orders/?limit=200")

    assert response.status_code == 200
    assert response.json()["limit"] == 200


def test_list_query_count_does_not_grow_with_the_page(
    packer_client: Client, orders, django_assert_num_queries
) -> None:
    # session, user, COUNT, the page (shop, buyer and creator joined), the page's lines
    with django_assert_num_queries(5):
        packer_client.get("/api/orders/")
    shop = ShopFactory()
    for _ in range(20):
        OrderLineFactory(order=OrderFactory(shop=shop, creator=CreatorFactory()))
    with django_assert_num_queries(5):
        response = packer_client.get("/api/orders/")
    assert response.json()["count"] == 24


def test_detail_has_lines_address_and_history_newest_first(
    packer_client: Client, frozen_now, owner: User
) -> None:
    order = OrderFactory(
        remote_order_id="576461413038785752",
        shipping_address=AddressFactory(name="Ada Park", line2=""),
        state=OrderState.HELD,
        hold_reason="Same address as 3 other orders",
    )
    OrderLineFactory(
        order=order,
        remote_line_id="L1",
        seller_sku="TEE-BLK-M",
        creator=CreatorFactory(handle="mia.makeup"),
        commission_rate=Decimal("15.00"),
    )
    first = OrderStatusChangeFactory(order=order, reason="first seen")
    OrderStatusChangeFactory(
        order=order,
        source="user",
        actor=owner,
        from_state=OrderState.NEW,
        to_state=OrderState.HELD,
        reason="risk check",
    )
    OrderStatusChange.objects.filter(pk=first.pk).update(at=NOW - timedelta(minutes=30))

    response = packer_client.get(f"/api/orders/{order.pk}")

    assert response.status_code == 200
    body = response.json()
    assert body["remote_order_id"] == "576461413038785752"
    assert body["state"] == "held"
    assert body["hold_reason"] == "Same address as 3 other orders"
    assert body["shipping_address"] == {
        "name": "Ada Park",
        "phone": "(+1)212*****67",
        "line1": "350 Fifth Avenue",
        "line2": "",
        "city": "New York",
        "state": "NY",
        "postal_code": "10118",
        "country": "US",
    }
    assert body["lines"] == [
        {
            "id": order.lines.get().pk,
            "remote_line_id": "L1",
            "seller_sku": "TEE-BLK-M",
            "product_name": "Cloud Tee",
            "sku_name": "Black, M",
            "quantity": 1,
            "currency": "USD",
            "original_price": "24.99",
            "sale_price": "19.99",
            "display_status": "AWAITING_SHIPMENT",
            "creator": "mia.makeup",
            "commission_rate": "15.00",
        }
    ]
    assert [(change["reason"], change["actor"]) for change in body["history"]] == [
        ("risk check", "olivia"),
        ("first seen", None),
    ]
    assert body["history"][0]["at"] == "2026-11-20T20:00:00Z"
    assert body["history"][0]["source"] == "user"


def test_detail_of_an_unknown_order_is_404(packer_client: Client) -> None:
    response = packer_client.get("/api/orders/424242")

    assert response.status_code == 404


def test_openapi_document_describes_the_order_endpoints(client: Client) -> None:
    response = client.get("/api/openapi.json")

    assert response.status_code == 200
    document = response.json()
    assert document["info"]["title"] == "aftershow"
    assert document["paths"]["/api/orders/"]["get"]["tags"] == ["orders"]
    assert "/api/orders/{order_id}" in document["paths"]
    parameters = {
        parameter["name"]: parameter
        for parameter in document["paths"]["/api/orders/"]["get"]["parameters"]
    }
    assert sorted(parameters) == ["creator", "limit", "offset", "q", "shop", "status"]
    assert parameters["limit"]["schema"]["maximum"] == 200
    schemas = document["components"]["schemas"]
    assert schemas["PlatformStatus"]["enum"] == [status.value for status in PlatformStatus]
    assert "history" in schemas["OrderDetailOut"]["properties"]


def test_api_docs_page_loads(client: Client) -> None:
    response = client.get("/api/docs")

    assert response.status_code == 200
    assert "/api/openapi.json" in response.content.decode()
