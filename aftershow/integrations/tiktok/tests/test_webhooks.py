"""The webhook endpoint: verify, deduplicate, mark for fetch; bad input stores nothing."""

from __future__ import annotations

import json

import pytest
from django_tasks_db.models import DBTaskResult

from aftershow.audit.models import IntegrationLog
from aftershow.integrations.models import PendingOrderFetch, WebhookReceipt
from aftershow.integrations.tiktok.signing import webhook_signature
from aftershow.shops.models import Channel, Shop

APP_KEY = "hook_app_key"
APP_SECRET = "hook_app_secret"
URL = "/webhooks/tiktok/"


@pytest.fixture
def shop(db):
    return Shop.objects.create(
        name="Hook Shop",
        channel=Channel.TIKTOK,
        remote_shop_id="7494726673780148744",
        shop_cipher="ROW_abc",
        credentials={"app_key": APP_KEY, "app_secret": APP_SECRET},
    )


def notification(notification_id="n-1", order_id="576684019603311365", event_type=1) -> bytes:
    return json.dumps(
        {
            "type": event_type,
            "tts_notification_id": notification_id,
            "shop_id": "7494726673780148744",
            "timestamp": 1764160000,
            "data": {
                "order_id": order_id,
                "order_status": "AWAITING_SHIPMENT",
                "is_on_hold_order": False,
                "update_time": 1764160000,
            },
        },
        separators=(",", ":"),
    ).encode()


def post(client, body: bytes, signature: str | None):
    headers = {"HTTP_AUTHORIZATION": signature} if signature is not None else {}
    return client.post(URL, data=body, content_type="application/json", **headers)


def signed(body: bytes) -> str:
    return webhook_signature(app_key=APP_KEY, app_secret=APP_SECRET, body=body)


def stored_counts() -> tuple[int, int, int]:
    return (
        WebhookReceipt.objects.count(),
        PendingOrderFetch.objects.count(),
        DBTaskResult.objects.count(),
    )


def test_valid_webhook_is_recorded_and_queues_one_fetch(
    client, shop, django_capture_on_commit_callbacks
):
    body = notification()
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, body, signed(body))
    assert response.status_code == 200
    assert response.json() == {"code": 0, "message": "success"}
    receipt = WebhookReceipt.objects.get()
    assert (receipt.notification_id, receipt.event_type) == ("n-1", "ORDER_STATUS_CHANGE")
    pending = PendingOrderFetch.objects.get()
    assert (pending.shop_id, pending.remote_order_id) == (shop.pk, "576684019603311365")
    task = DBTaskResult.objects.get()
    assert task.task_path.endswith("fetch_pending_orders")
    assert task.args_kwargs["args"] == [shop.pk]
    log = IntegrationLog.objects.get()
    assert (log.direction, log.outcome, log.status_code) == ("in", "accepted", 200)


def test_bad_signature_is_401_and_stores_nothing(client, shop):
    body = notification()
    bad = signed(body)[:-2] + "00"
    response = post(client, body, bad)
    assert response.status_code == 401
    assert stored_counts() == (0, 0, 0)
    log = IntegrationLog.objects.get()
    assert (log.outcome, log.status_code, log.payload) == ("rejected", 401, None)


def test_missing_signature_is_401(client, shop):
    assert post(client, notification(), None).status_code == 401
    assert stored_counts() == (0, 0, 0)


def test_signature_from_another_app_is_401(client, shop):
    body = notification()
    forged = webhook_signature(app_key=APP_KEY, app_secret="not-the-secret", body=body)
    assert post(client, body, forged).status_code == 401
    assert stored_counts() == (0, 0, 0)


def test_unknown_shop_is_401(client, shop):
    body = notification().replace(b"7494726673780148744", b"1111111111111111111")
    assert post(client, body, signed(body)).status_code == 401
    assert stored_counts() == (0, 0, 0)


def test_body_that_is_not_json_is_400(client, shop):
    body = b"{not json"
    response = post(client, body, signed(body))
    assert response.status_code == 400
    assert response.json() == {"error": "body is not JSON"}
    assert stored_counts() == (0, 0, 0)


def test_signed_but_malformed_notification_is_400(client, shop):
    raw = json.loads(notification())
    del raw["tts_notification_id"]
    body = json.dumps(raw).encode()
    response = post(client, body, signed(body))
    assert response.status_code == 400
    assert "malformed notification" in response.json()["error"]
    assert stored_counts() == (0, 0, 0)


def test_order_event_without_order_id_is_400(client, shop):
    raw = json.loads(notification())
    raw["data"] = {"order_status": "AWAITING_SHIPMENT"}
    body = json.dumps(raw).encode()
    assert post(client, body, signed(body)).status_code == 400
    assert stored_counts() == (0, 0, 0)


def test_duplicate_delivery_is_a_no_op(client, shop, django_capture_on_commit_callbacks):
    body = notification()
    with django_capture_on_commit_callbacks(execute=True):
        first = post(client, body, signed(body))
        second = post(client, body, signed(body))
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json() == {"code": 0, "message": "duplicate"}
    assert stored_counts() == (1, 1, 1)


def test_many_webhooks_queue_one_fetch_task(client, shop, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for number in range(5):
            body = notification(notification_id=f"n-{number}", order_id=f"57668401960331{number}")
            assert post(client, body, signed(body)).status_code == 200
    # Five orders to fetch, one task to fetch them (it drains 50 ids a call).
    assert stored_counts() == (5, 5, 1)


def test_non_order_event_is_recorded_without_a_fetch(client, shop):
    raw = json.loads(notification(event_type=5))
    raw["data"] = {"product_id": "1729582718312380123", "status": "PRODUCT_FIRST_PASS_REVIEW"}
    body = json.dumps(raw).encode()
    assert post(client, body, signed(body)).status_code == 200
    assert stored_counts() == (1, 0, 0)
    assert WebhookReceipt.objects.get().event_type == "PRODUCT_STATUS_CHANGE"


def test_get_is_not_allowed(client, shop):
    assert client.get(URL).status_code == 405
