"""Shopify order webhooks: verify, record once, upsert the order in the same transaction.

``X-Shopify-Hmac-Sha256`` must be base64(HMAC-SHA256(app secret, raw body)) for the store named
by ``X-Shopify-Shop-Domain``; anything else gets 401 and stores nothing but an integration-log
line. Each delivery is recorded once by ``X-Shopify-Webhook-Id`` (the same on Shopify's
retries), so a redelivery answers 200 and changes nothing. The order JSON is complete, so it
is upserted at once (a sale reserves stock within the request), and Shopify's 5-second
delivery timeout leaves ample room for one order. Topics other than the order ones are
acknowledged and ignored, so Shopify does not retry them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from pydantic import ValidationError

from aftershow.integrations.services import webhook_log_record, webhook_receipt_create
from aftershow.integrations.shopify.mapping import WebhookOrder, order_from_webhook
from aftershow.orders.models import ChangeSource
from aftershow.orders.services import orders_upsert
from aftershow.shops.models import Channel, Shop

MAX_BODY_BYTES = 1_000_000
ORDER_TOPICS = frozenset(
    {"orders/create", "orders/updated", "orders/paid", "orders/cancelled", "orders/fulfilled"}
)


def hmac_is_valid(*, secret: str, body: bytes, header: str | None) -> bool:
    if not secret or not header:
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    return hmac.compare_digest(expected, header.strip().encode())


def _reject(
    request: HttpRequest, status: int, message: str, shop: Shop | None = None
) -> JsonResponse:
    webhook_log_record(
        channel=Channel.SHOPIFY,
        shop=shop,
        path=request.path,
        status_code=status,
        outcome="rejected",
        error=message,
    )
    return JsonResponse({"error": message}, status=status)


@csrf_exempt
@require_POST
def shopify_webhook(request: HttpRequest) -> JsonResponse:
    body = request.body
    if len(body) > MAX_BODY_BYTES:
        return _reject(request, 413, "body too large")
    domain = request.headers.get("X-Shopify-Shop-Domain", "")
    shop = Shop.objects.filter(channel=Channel.SHOPIFY, remote_shop_id=domain).first()
    secret = str((shop.credentials or {}).get("client_secret", "")) if shop else ""
    # Verify before reading anything else; an unknown store cannot be verified.
    if shop is None or not hmac_is_valid(
        secret=secret, body=body, header=request.headers.get("X-Shopify-Hmac-Sha256")
    ):
        return _reject(request, 401, "HMAC does not verify")
    topic = request.headers.get("X-Shopify-Topic", "")
    webhook_id = request.headers.get("X-Shopify-Webhook-Id", "")
    if not webhook_id:
        return _reject(request, 400, "X-Shopify-Webhook-Id is missing", shop)
    if topic not in ORDER_TOPICS:
        webhook_log_record(
            channel=Channel.SHOPIFY,
            shop=shop,
            path=request.path,
            status_code=200,
            outcome="ignored",
            payload={"topic": topic, "webhook_id": webhook_id},
        )
        return JsonResponse({"ok": True})
    try:
        order = WebhookOrder.model_validate(json.loads(body))
        incoming = order_from_webhook(order)
    except (UnicodeDecodeError, json.JSONDecodeError, ValidationError, ValueError) as error:
        return _reject(request, 400, f"malformed order: {str(error)[:200]}", shop)
    # The receipt keeps what identifies the event, not the buyer's name and address.
    summary = {"topic": topic, "order_id": order.id, "updated_at": order.updated_at}
    with transaction.atomic():
        is_new = webhook_receipt_create(
            channel=Channel.SHOPIFY,
            shop=shop,
            notification_id=webhook_id,
            event_type=topic,
            payload=summary,
        )
        if is_new:
            orders_upsert(shop=shop, incoming=[incoming], source=ChangeSource.WEBHOOK)
        webhook_log_record(
            channel=Channel.SHOPIFY,
            shop=shop,
            path=request.path,
            status_code=200,
            outcome="accepted" if is_new else "duplicate",
            payload={**summary, "webhook_id": webhook_id},
        )
    return JsonResponse({"ok": True, "duplicate": not is_new})
