"""The Shopify webhook endpoint: verify, record once, upsert; bad input stores nothing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from aftershow.audit.models import IntegrationLog
from aftershow.core.timeutils import utcnow
from aftershow.integrations.models import WebhookReceipt
from aftershow.integrations.shopify.sync import ShopifyConnector
from aftershow.integrations.shopify.webhooks import hmac_is_valid
from aftershow.orders.models import Order, OrderLine, OrderStatusChange, PlatformStatus
from aftershow.sandbox.shopify import gid, webhook_hmac

from .conftest import APP_SECRET, DOMAIN

URL = "/webhooks/shopify/"


def post(client, headers: dict[str, str], body: bytes):
    extra = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
    extra.pop("HTTP_CONTENT_TYPE", None)
    return client.post(URL, data=body, content_type="application/json", **extra)


def stored() -> tuple[int, int, int]:
    return WebhookReceipt.objects.count(), Order.objects.count(), OrderStatusChange.objects.count()


def test_the_reference_vector_verifies():
    body = b'{"id":820982911946154508,"email":"jon@example.com"}'
    header = "D0UMXmhjwBRi4y66TmhJrDlhQABD7zI2fm3p6/QLMo8="
    assert hmac_is_valid(secret="hush", body=body, header=header)
    assert not hmac_is_valid(secret="hush", body=body + b" ", header=header)
    assert not hmac_is_valid(secret="", body=body, header=header)


@pytest.fixture
def order(shopify_sandbox):
    shopify_sandbox.add_variant("TEE-BLK-M", quantity=20, price="19.99")
    return shopify_sandbox.create_order(lines=[("TEE-BLK-M", 3)])


def test_orders_create_is_upserted_at_once(client, shopify_sandbox, shopify_shop, order):
    headers, body = shopify_sandbox.webhook_for("orders/create", order)
    response = post(client, headers, body)
    assert (response.status_code, response.json()) == (200, {"ok": True, "duplicate": False})
    stored_order = Order.objects.get()
    assert stored_order.remote_order_id == gid("Order", order.number)
    assert stored_order.platform_status == PlatformStatus.AWAITING_SHIPMENT
    line = OrderLine.objects.get()
    assert (line.seller_sku, line.quantity) == ("TEE-BLK-M", 3)
    receipt = WebhookReceipt.objects.get()
    assert (receipt.notification_id, receipt.event_type) == (
        headers["X-Shopify-Webhook-Id"],
        "orders/create",
    )
    assert set(receipt.payload) == {"topic", "order_id", "updated_at"}  # no buyer details
    assert OrderStatusChange.objects.get().source == "webhook"


def test_a_redelivery_changes_nothing(client, shopify_sandbox, shopify_shop, order):
    headers, body = shopify_sandbox.webhook_for("orders/create", order)
    post(client, headers, body)
    before = stored()
    response = post(client, headers, body)
    assert (response.status_code, response.json()["duplicate"]) == (200, True)
    assert stored() == before == (1, 1, 1)
    assert IntegrationLog.objects.filter(outcome="duplicate").count() == 1


def test_webhook_then_poll_of_the_same_order_changes_nothing(
    client, shopify_sandbox, shopify_shop, order
):
    headers, body = shopify_sandbox.webhook_for("orders/create", order)
    post(client, headers, body)
    report = ShopifyConnector(shopify_shop).pull_orders(until=utcnow() + timedelta(minutes=1))
    assert (report.result.created, report.result.updated, report.result.unchanged) == (0, 0, 1)


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"X-Shopify-Hmac-Sha256": "AAAA"}, 401),
        ({"X-Shopify-Hmac-Sha256": None}, 401),
        ({"X-Shopify-Shop-Domain": "someone-else.myshopify.com"}, 401),
        ({"X-Shopify-Webhook-Id": None}, 400),
    ],
)
def test_refusals_store_nothing(client, shopify_sandbox, shopify_shop, order, change, status):
    headers, body = shopify_sandbox.webhook_for("orders/create", order)
    for name, value in change.items():
        if value is None:
            headers.pop(name)
        else:
            headers[name] = value
    response = post(client, headers, body)
    assert response.status_code == status
    assert stored() == (0, 0, 0)
    log = IntegrationLog.objects.get()
    assert (log.outcome, log.payload) == ("rejected", None)


def test_a_tampered_body_is_refused(client, shopify_sandbox, shopify_shop, order):
    headers, body = shopify_sandbox.webhook_for("orders/create", order)
    tampered = body.replace(b'"quantity":3', b'"quantity":1')
    assert tampered != body
    assert post(client, headers, tampered).status_code == 401
    assert stored() == (0, 0, 0)


def test_a_signed_but_malformed_order_is_a_400(client, shopify_sandbox, shopify_shop):
    body = json.dumps({"id": "not-a-number"}).encode()
    headers = {
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Hmac-Sha256": webhook_hmac(APP_SECRET, body),
        "X-Shopify-Shop-Domain": DOMAIN,
        "X-Shopify-Webhook-Id": "w-1",
    }
    assert post(client, headers, body).status_code == 400
    assert stored() == (0, 0, 0)


def test_other_topics_are_acknowledged_and_ignored(client, shopify_sandbox, shopify_shop):
    body = b'{"id":1}'
    headers = {
        "X-Shopify-Topic": "products/update",
        "X-Shopify-Hmac-Sha256": webhook_hmac(APP_SECRET, body),
        "X-Shopify-Shop-Domain": DOMAIN,
        "X-Shopify-Webhook-Id": "w-2",
    }
    assert post(client, headers, body).status_code == 200
    assert stored() == (0, 0, 0)
    assert IntegrationLog.objects.get().outcome == "ignored"


@pytest.mark.django_db(transaction=True)
def test_a_sale_on_shopify_reaches_the_order_book_over_http(
    live_server, shopify_sandbox, shopify_shop
):
    """End to end: the sandbox delivers ``orders/create`` over real HTTP to the running app."""
    shopify_sandbox.add_variant("MUG", quantity=8)
    shopify_sandbox.subscribe("orders/create", f"{live_server.url}{URL}")
    order = shopify_sandbox.create_order(lines=[("MUG", 2)])
    (delivery,) = shopify_sandbox.webhooks.deliveries
    assert delivery.status == 200
    assert OrderLine.objects.get(order__remote_order_id=gid("Order", order.number)).quantity == 2
    assert shopify_sandbox.webhooks.redeliver(delivery.webhook_id).status == 200
    assert (WebhookReceipt.objects.count(), Order.objects.count()) == (1, 1)
