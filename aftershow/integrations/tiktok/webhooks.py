"""TikTok Shop webhook endpoint.

Verifies ``Authorization`` (HMAC-SHA256 of app_key + raw body, keyed with the app secret),
records each notification once by ``tts_notification_id``, marks the order for a detail fetch
and answers at once: the fetch runs on the queue. TikTok retries unacknowledged deliveries
(2 min, 30 min, 3 h, 12 h), so a duplicate is answered 200 and changes nothing.
"""

from __future__ import annotations

import json

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from pydantic import ValidationError

from aftershow.integrations.services import (
    cursor_task_claim_enqueue,
    pending_fetch_request,
    webhook_log_record,
    webhook_receipt_create,
)
from aftershow.integrations.tiktok.mapping import (
    ORDER_EVENT_TYPES,
    WEBHOOK_TYPE_NAMES,
    WebhookEnvelope,
    WebhookOrderData,
)
from aftershow.integrations.tiktok.signing import webhook_signature_is_valid
from aftershow.integrations.tiktok.tasks import PENDING_FETCH, fetch_pending_orders
from aftershow.shops.models import Channel, Shop

MAX_BODY_BYTES = 1_000_000


def _reject(
    request: HttpRequest, status: int, message: str, shop: Shop | None = None
) -> JsonResponse:
    webhook_log_record(
        channel=Channel.TIKTOK,
        shop=shop,
        path=request.path,
        status_code=status,
        outcome="rejected",
        error=message,
    )
    return JsonResponse({"error": message}, status=status)


@csrf_exempt
@require_POST
def tiktok_webhook(request: HttpRequest) -> JsonResponse:
    body = request.body
    if len(body) > MAX_BODY_BYTES:
        return _reject(request, 413, "body too large")
    try:
        raw = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _reject(request, 400, "body is not JSON")
    shop_id = str(raw.get("shop_id", "")) if isinstance(raw, dict) else ""
    shop = Shop.objects.filter(channel=Channel.TIKTOK, remote_shop_id=shop_id).first()
    credentials = (shop.credentials or {}) if shop else {}
    # Verify before trusting anything else in the body; an unknown shop cannot be verified.
    if shop is None or not webhook_signature_is_valid(
        app_key=credentials.get("app_key", ""),
        app_secret=credentials.get("app_secret", ""),
        body=body,
        signature=request.headers.get("Authorization"),
    ):
        return _reject(request, 401, "signature does not verify")
    try:
        envelope = WebhookEnvelope.model_validate(raw)
        order_data = (
            WebhookOrderData.model_validate(envelope.data)
            if envelope.type in ORDER_EVENT_TYPES
            else None
        )
    except ValidationError as error:
        return _reject(request, 400, f"malformed notification: {error.errors()[0]['msg']}", shop)

    event_name = WEBHOOK_TYPE_NAMES.get(envelope.type, f"TYPE_{envelope.type}")
    with transaction.atomic():
        is_new = webhook_receipt_create(
            channel=Channel.TIKTOK,
            shop=shop,
            notification_id=envelope.tts_notification_id,
            event_type=event_name,
            payload=raw,
        )
        if is_new and order_data is not None:
            pending_fetch_request(shop=shop, order_ids=[order_data.order_id])
            if cursor_task_claim_enqueue(shop=shop, kind=PENDING_FETCH):
                transaction.on_commit(lambda: fetch_pending_orders.enqueue(shop.pk))
        webhook_log_record(
            channel=Channel.TIKTOK,
            shop=shop,
            path=request.path,
            status_code=200,
            outcome="accepted" if is_new else "duplicate",
            payload={"type": envelope.type, "notification_id": envelope.tts_notification_id},
        )
    return JsonResponse({"code": 0, "message": "success" if is_new else "duplicate"})
