"""Order webhooks as Shopify sends them: the REST order JSON, signed with the app secret.

``X-Shopify-Hmac-Sha256`` is base64(HMAC-SHA256(app secret, raw body)); ``X-Shopify-Webhook-Id``
names a delivery and stays the same when Shopify retries it; ``X-Shopify-Event-Id`` names the
event (channel-apis.md §2.3). Timestamps in the body are in the shop's time zone with an
offset, as REST payloads are (GraphQL answers in UTC).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx

from .store import Order, gid

SHOP_TIME_ZONE = timezone(timedelta(hours=-5))  # the sandbox shop is on US Eastern (standard)


def webhook_hmac(secret: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _money(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("0.01")))


def _shop_time(moment: datetime | None) -> str | None:
    return moment.astimezone(SHOP_TIME_ZONE).isoformat() if moment else None


def order_payload(order: Order) -> dict[str, Any]:
    """The REST Admin ``Order`` resource, as the ``orders/*`` topics deliver it."""
    shipping = {"amount": _money(order.shipping), "currency_code": order.currency}
    return {
        "id": order.number,
        "admin_graphql_api_id": gid("Order", order.number),
        "name": order.name,
        "created_at": _shop_time(order.created_at),
        "updated_at": _shop_time(order.updated_at),
        "processed_at": _shop_time(order.created_at),
        "cancelled_at": _shop_time(order.cancelled_at),
        "financial_status": order.financial_status.lower(),
        "fulfillment_status": None
        if order.fulfillment_status == "UNFULFILLED"
        else order.fulfillment_status.lower(),
        "currency": order.currency,
        "subtotal_price": _money(order.subtotal),
        "total_price": _money(order.total),
        "total_tax": _money(order.tax),
        "total_discounts": _money(order.discounts),
        "total_shipping_price_set": {"shop_money": shipping, "presentment_money": shipping},
        "customer": {
            "id": order.customer_number,
            "admin_graphql_api_id": gid("Customer", order.customer_number),
        },
        "shipping_address": dict(order.shipping_address),
        "line_items": [
            {
                "id": line.number,
                "admin_graphql_api_id": gid("LineItem", line.number),
                "variant_id": line.variant.number,
                "product_id": line.variant.product_number,
                "sku": line.variant.sku,
                "title": line.variant.product_title,
                "variant_title": line.variant.title,
                "name": f"{line.variant.product_title} - {line.variant.title}",
                "quantity": line.quantity,
                "price": _money(line.variant.price),
                "total_discount": _money(line.discount),
            }
            for line in order.lines
        ],
    }


@dataclass(frozen=True)
class Delivery:
    webhook_id: str
    topic: str
    address: str
    headers: dict[str, str]
    body: bytes
    status: int | None  # None: the endpoint could not be reached


class WebhookSender:
    def __init__(self, *, shop_domain: str, secret: str, api_version: str) -> None:
        self.shop_domain = shop_domain
        self.secret = secret
        self.api_version = api_version
        self.deliveries: list[Delivery] = []
        self._lock = threading.Lock()

    def build(
        self, topic: str, payload: dict[str, Any], *, event_id: str = ""
    ) -> tuple[dict[str, str], bytes]:
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": webhook_hmac(self.secret, body),
            "X-Shopify-Shop-Domain": self.shop_domain,
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            "X-Shopify-Event-Id": event_id or str(uuid.uuid4()),
            "X-Shopify-API-Version": self.api_version,
            "X-Shopify-Triggered-At": datetime.now(SHOP_TIME_ZONE).isoformat(),
        }
        return headers, body

    def send(self, address: str, topic: str, headers: dict[str, str], body: bytes) -> Delivery:
        """POST once (Shopify gives an endpoint 5 s); a retry reuses the same headers."""
        try:
            response = httpx.post(address, content=body, headers=headers, timeout=5.0)
            status: int | None = response.status_code
        except httpx.HTTPError:
            status = None
        delivery = Delivery(headers["X-Shopify-Webhook-Id"], topic, address, headers, body, status)
        with self._lock:
            self.deliveries.append(delivery)
        return delivery

    def redeliver(self, webhook_id: str) -> Delivery:
        """Shopify's retry of a delivery: same body, same headers, same webhook id."""
        with self._lock:
            first = next(d for d in self.deliveries if d.webhook_id == webhook_id)
        return self.send(first.address, first.topic, first.headers, first.body)
