"""Amazon orders: the mapping on a named fixture, and the pull (getOrders + getOrderItems)
against the sandbox, with every request and answer checked against ``ordersV0.json``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from aftershow.core.http import ChannelError
from aftershow.core.timeutils import utcnow
from aftershow.integrations.amazon import sync
from aftershow.integrations.amazon.mapping import AmazonOrder, OrderItem, to_incoming_order
from aftershow.integrations.amazon.sync import AmazonConnector
from aftershow.integrations.models import SyncCursor
from aftershow.orders.models import Order, OrderLine, PlatformStatus
from aftershow.orders.types import IncomingAddress, IncomingLine
from aftershow.sandbox.amazon import load_contract

from .conftest import contract_problems, sp_api_calls

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "order_unshipped.json").read_text())


def test_the_fixture_is_a_valid_ordersv0_order_and_items():
    contract = load_contract("ordersV0.json")
    assert contract.validate({"$ref": "#/definitions/Order"}, FIXTURE["order"]) == []
    assert contract.validate({"$ref": "#/definitions/OrderItemList"}, FIXTURE["items"]) == []


def test_order_maps_to_unit_prices_and_partial_address():
    order = to_incoming_order(
        AmazonOrder.model_validate(FIXTURE["order"]),
        [OrderItem.model_validate(item) for item in FIXTURE["items"]],
    )
    assert (order.remote_order_id, order.platform_status) == (
        "113-0000001-0000042",
        PlatformStatus.AWAITING_SHIPMENT,
    )
    assert order.placed_at == datetime(2026, 3, 6, 19, 4, 12, tzinfo=UTC)
    assert order.remote_updated_at == datetime(2026, 3, 6, 19, 20, 3, tzinfo=UTC)
    assert order.ship_by == datetime(2026, 3, 9, 6, 59, 59, tzinfo=UTC)
    assert order.address == IncomingAddress(
        city="SEATTLE", state="WA", postal_code="98109-5210", country="US"
    )
    assert order.lines[0] == IncomingLine(
        remote_line_id="68828574383266",
        remote_product_id="B00TEE0001",
        remote_sku_id="TEE-BLK-M",
        seller_sku="TEE-BLK-M",
        product_name="Oversized Logo Tee",
        sku_name="",
        quantity=3,
        currency="USD",
        original_price=Decimal("19.99"),
        sale_price=Decimal("17.99"),
        platform_discount=Decimal("0.00"),
        seller_discount=Decimal("2.00"),
        display_status="",
    )
    assert (order.lines[1].quantity, order.lines[1].sale_price) == (1, Decimal("2.69"))
    assert (order.subtotal, order.seller_discount, order.tax, order.total_amount) == (
        Decimal("62.66"),
        Decimal("6.00"),
        Decimal("4.80"),
        Decimal("61.46"),
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("Pending", PlatformStatus.UNPAID),
        ("PendingAvailability", PlatformStatus.ON_HOLD),
        ("PartiallyShipped", PlatformStatus.PARTIALLY_SHIPPING),
        ("Shipped", PlatformStatus.IN_TRANSIT),
        ("Canceled", PlatformStatus.CANCELLED),
    ],
)
def test_status_mapping(status, expected):
    order = AmazonOrder.model_validate({**FIXTURE["order"], "OrderStatus": status})
    assert to_incoming_order(order, []).platform_status == expected


@pytest.fixture
def listed(amazon_sandbox):
    amazon_sandbox.store.set_rate_limit("getOrderItems", 100.0, 30)
    amazon_sandbox.add_listing("TEE-BLK-M", quantity=100, price="19.99")
    amazon_sandbox.add_listing("MUG", quantity=100, price="12.00")


def an_hour_ago(offset_seconds: int = 0) -> datetime:
    return utcnow() - timedelta(hours=1) + timedelta(seconds=offset_seconds)


def test_pull_ingests_mfn_orders_with_all_their_items(amazon_sandbox, amazon_shop, listed):
    orders = [
        amazon_sandbox.create_order(
            lines=[("TEE-BLK-M", 2), ("MUG", 1)], purchased_at=an_hour_ago(n)
        )
        for n in range(25)
    ]
    big = amazon_sandbox.create_order(
        lines=[("MUG", 1)] * 12, purchased_at=an_hour_ago(30)
    )  # 12 items: two pages of getOrderItems
    fba = amazon_sandbox.create_order(lines=[("MUG", 1)], purchased_at=an_hour_ago(31))
    amazon_sandbox.store.update_order(
        fba["AmazonOrderId"], FulfillmentChannel="AFN", modified_at=an_hour_ago(31)
    )
    report = AmazonConnector(amazon_shop).pull_orders()
    assert (report.pages, report.orders_seen, report.result.created) == (1, 26, 26)
    assert set(Order.objects.values_list("remote_order_id", flat=True)) == {
        order["AmazonOrderId"] for order in [*orders, big]
    }
    assert OrderLine.objects.filter(order__remote_order_id=big["AmazonOrderId"]).count() == 12
    line = OrderLine.objects.get(
        order__remote_order_id=orders[0]["AmazonOrderId"], seller_sku="TEE-BLK-M"
    )
    assert (line.quantity, line.sale_price) == (2, Decimal("19.99"))
    calls = sp_api_calls(amazon_sandbox)
    assert [call.path.rsplit("/", 1)[-1] for call in calls].count("orderItems") == 27
    assert all(contract_problems(call) == [] for call in calls)
    (first,) = [call for call in calls if call.path == "/orders/v0/orders"]
    assert first.query["FulfillmentChannels"] == ["MFN"]
    # A second pull re-reads the overlap and changes nothing.
    again = AmazonConnector(amazon_shop).pull_orders()
    assert (again.result.created, again.result.updated) == (0, 0)
    assert Order.objects.count() == 26


def test_a_cancellation_arrives_with_the_next_pull(amazon_sandbox, amazon_shop, listed):
    order = amazon_sandbox.create_order(lines=[("MUG", 1)], purchased_at=an_hour_ago())
    AmazonConnector(amazon_shop).pull_orders(until=utcnow() - timedelta(minutes=30))
    amazon_sandbox.store.update_order(
        order["AmazonOrderId"], OrderStatus="Canceled", modified_at=utcnow() - timedelta(minutes=10)
    )
    report = AmazonConnector(amazon_shop).pull_orders()
    assert report.result.updated == 1
    assert Order.objects.get().platform_status == PlatformStatus.CANCELLED


def test_pull_pages_with_next_token_and_resumes_where_it_failed(
    amazon_sandbox, amazon_shop, listed, settings, monkeypatch
):
    monkeypatch.setattr(sync, "ORDERS_PAGE_SIZE", 10)
    settings.HTTP_MAX_ATTEMPTS = 1
    for n in range(25):
        amazon_sandbox.create_order(lines=[("MUG", 1)], purchased_at=an_hour_ago(n))
    connector = AmazonConnector(amazon_shop)
    # getOrders page 1 and its 10 getOrderItems land (LWA is never faulted); page 2 fails.
    amazon_sandbox.faults.fail_next(1, "500", after=11)
    with pytest.raises(ChannelError):
        connector.pull_orders()
    cursor = SyncCursor.objects.get()
    assert cursor.page_token
    assert Order.objects.count() == 10
    report = connector.pull_orders()
    assert (report.pages, report.orders_seen) == (2, 15)
    assert Order.objects.count() == 25
    assert SyncCursor.objects.get().page_token == ""
    assert [
        call.query.get("NextToken", [""])[0] == cursor.page_token
        for call in sp_api_calls(amazon_sandbox)
        if call.path == "/orders/v0/orders"
    ] == [False, True, True, False]
