"""Shopify orders: both payload shapes on named fixtures, and the GraphQL pull over HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from aftershow.core.http import ChannelError
from aftershow.core.timeutils import utcnow
from aftershow.integrations.models import SyncCursor
from aftershow.integrations.shopify.mapping import (
    OrderNode,
    WebhookOrder,
    order_from_graphql,
    order_from_webhook,
)
from aftershow.integrations.shopify.sync import ShopifyConnector
from aftershow.orders.models import Order, OrderLine, PlatformStatus
from aftershow.orders.types import IncomingAddress, IncomingLine
from aftershow.sandbox.shopify import gid

FIXTURES = Path(__file__).parent / "fixtures"


def graphql_fixture() -> OrderNode:
    return OrderNode.model_validate(json.loads((FIXTURES / "order_graphql.json").read_text()))


def test_graphql_and_webhook_shapes_map_to_the_same_order():
    node = graphql_fixture()
    polled = order_from_graphql(node, node.lineItems.nodes)
    pushed = order_from_webhook(
        WebhookOrder.model_validate(json.loads((FIXTURES / "order_webhook.json").read_text()))
    )
    assert polled == pushed
    assert polled.remote_order_id == "gid://shopify/Order/5512345678901"
    assert polled.platform_status == PlatformStatus.AWAITING_SHIPMENT
    assert polled.placed_at == datetime(2026, 3, 6, 19, 4, 12, tzinfo=UTC)
    assert polled.buyer_user_id == "gid://shopify/Customer/7712345"
    assert polled.address == IncomingAddress(
        name="Jamie Buyer",
        phone="+15555550100",
        line1="12 Elm St",
        line2="Apt 4",
        city="Springfield",
        state="OH",
        postal_code="45501",
        country="US",
    )
    assert polled.lines == [
        IncomingLine(
            remote_line_id="gid://shopify/LineItem/13001",
            remote_product_id="gid://shopify/Product/9001",
            remote_sku_id="gid://shopify/ProductVariant/40001",
            seller_sku="TEE-BLK-M",
            product_name="Oversized Logo Tee",
            sku_name="Black / M",
            quantity=3,
            currency="USD",
            original_price=Decimal("19.99"),
            sale_price=Decimal("17.99"),
            platform_discount=Decimal("0.00"),
            seller_discount=Decimal("2.00"),
            display_status="",
        ),
        IncomingLine(
            remote_line_id="gid://shopify/LineItem/13002",
            remote_product_id="gid://shopify/Product/9002",
            remote_sku_id="gid://shopify/ProductVariant/40002",
            seller_sku="MUG-LIVE",
            product_name="Live Mug",
            sku_name="",
            quantity=1,
            currency="USD",
            original_price=Decimal("4.00"),
            sale_price=Decimal("4.00"),
            platform_discount=Decimal("0.00"),
            seller_discount=Decimal("0.00"),
            display_status="",
        ),
    ]
    assert (polled.subtotal, polled.shipping_fee, polled.tax, polled.total_amount) == (
        Decimal("57.97"),
        Decimal("4.99"),
        Decimal("4.80"),
        Decimal("67.76"),
    )


@pytest.mark.parametrize(
    ("financial", "fulfillment", "cancelled_at", "expected"),
    [
        ("PENDING", "UNFULFILLED", None, PlatformStatus.UNPAID),
        ("PAID", "PARTIALLY_FULFILLED", None, PlatformStatus.PARTIALLY_SHIPPING),
        ("PAID", "FULFILLED", None, PlatformStatus.IN_TRANSIT),
        ("PAID", "ON_HOLD", None, PlatformStatus.ON_HOLD),
        ("VOIDED", "UNFULFILLED", "2026-03-06T20:00:00Z", PlatformStatus.CANCELLED),
        ("REFUNDED", "UNFULFILLED", None, PlatformStatus.CANCELLED),
    ],
)
def test_status_mapping(financial, fulfillment, cancelled_at, expected):
    node = graphql_fixture().model_copy(
        update={
            "displayFinancialStatus": financial,
            "displayFulfillmentStatus": fulfillment,
            "cancelledAt": cancelled_at,
        }
    )
    assert order_from_graphql(node, []).platform_status == expected


def an_hour_ago(seconds: int = 0) -> datetime:
    return utcnow() - timedelta(hours=1) + timedelta(seconds=seconds)


def pull(shop, **kwargs):
    return ShopifyConnector(shop).pull_orders(until=utcnow() - timedelta(minutes=1), **kwargs)


def test_pull_ingests_every_order_with_all_its_lines(shopify_sandbox, shopify_shop):
    for sku in ("TEE", "MUG", *(f"PIN-{n:02d}" for n in range(14))):
        shopify_sandbox.add_variant(sku, quantity=500)
    orders = [
        shopify_sandbox.create_order(lines=[("TEE", 2), ("MUG", 1)], created_at=an_hour_ago(n))
        for n in range(24)
    ]
    big = shopify_sandbox.create_order(
        lines=[(f"PIN-{n:02d}", 1) for n in range(14)], created_at=an_hour_ago(30)
    )
    report = pull(shopify_shop)
    assert (report.pages, report.orders_seen, report.result.created) == (3, 25, 25)
    assert set(Order.objects.values_list("remote_order_id", flat=True)) == {
        gid("Order", order.number) for order in [*orders, big]
    }
    assert OrderLine.objects.filter(order__remote_order_id=gid("Order", big.number)).count() == 14
    line = OrderLine.objects.get(
        order__remote_order_id=gid("Order", orders[0].number), seller_sku="TEE"
    )
    assert (line.quantity, line.sale_price) == (2, Decimal("19.99"))
    queries = [call.json_body()["query"] for call in shopify_sandbox.calls]
    assert sum("AftershowOrderLines" in query for query in queries) == 1  # the 14-line order
    again = pull(shopify_shop)
    assert (again.result.created, again.result.updated) == (0, 0)


def test_a_cancellation_arrives_with_the_next_pull(shopify_sandbox, shopify_shop):
    shopify_sandbox.add_variant("MUG", quantity=5)
    order = shopify_sandbox.create_order(lines=[("MUG", 1)], created_at=an_hour_ago())
    ShopifyConnector(shopify_shop).pull_orders(until=utcnow() - timedelta(minutes=30))
    shopify_sandbox.cancel_order(order, at=utcnow() - timedelta(minutes=10))
    report = pull(shopify_shop)
    assert report.result.updated == 1
    assert Order.objects.get().platform_status == PlatformStatus.CANCELLED


def test_pull_resumes_on_the_page_it_failed(shopify_sandbox, shopify_shop, settings):
    settings.HTTP_MAX_ATTEMPTS = 1
    shopify_sandbox.add_variant("MUG", quantity=500)
    for n in range(25):
        shopify_sandbox.create_order(lines=[("MUG", 1)], created_at=an_hour_ago(n))
    shopify_sandbox.faults.fail_next(1, "500", after=1)
    with pytest.raises(ChannelError):
        pull(shopify_shop)
    assert SyncCursor.objects.get().page_token
    assert Order.objects.count() == 10
    report = ShopifyConnector(shopify_shop).pull_orders()
    assert (report.pages, report.orders_seen) == (2, 15)
    assert Order.objects.count() == 25
