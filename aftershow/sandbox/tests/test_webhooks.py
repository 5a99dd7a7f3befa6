"""ORDER_STATUS_CHANGE webhooks: envelope, signature, retries and exact duplicates."""

from __future__ import annotations

import json
import socket
from datetime import timedelta

from aftershow.integrations.tiktok.signing import webhook_signature, webhook_signature_is_valid
from aftershow.sandbox.tiktok import Shop, TikTokSandbox

from .conftest import APP_KEY, APP_SECRET, STREAM_START, WebhookReceiver

START = int(STREAM_START.timestamp())


def test_status_changes_are_signed_webhooks(
    sandbox: TikTokSandbox, shop: Shop, receiver: WebhookReceiver
):
    sandbox.store.set_webhook_address(shop.id, receiver.url)
    order_id = sandbox.store.create_order(shop.id, {"TEE-BLK-M": 1}, at=STREAM_START)
    sandbox.advance(timedelta(hours=1))

    deliveries = receiver.wait_for(2)
    payloads = sorted((json.loads(body) for _, body in deliveries), key=lambda p: p["timestamp"])
    assert [p["data"] for p in payloads] == [
        {
            "order_id": order_id,
            "order_status": "ON_HOLD",
            "is_on_hold_order": True,
            "update_time": START,
        },
        {
            "order_id": order_id,
            "order_status": "AWAITING_SHIPMENT",
            "is_on_hold_order": False,
            "update_time": START + 3600,
        },
    ]
    assert [p["timestamp"] for p in payloads] == [START, START + 3600]
    for headers, body in deliveries:
        payload = json.loads(body)
        assert list(payload) == ["type", "tts_notification_id", "shop_id", "timestamp", "data"]
        assert (payload["type"], payload["shop_id"]) == (1, shop.id)
        assert headers["Authorization"] == webhook_signature(
            app_key=APP_KEY, app_secret=APP_SECRET, body=body
        )
        assert webhook_signature_is_valid(
            app_key=APP_KEY, app_secret=APP_SECRET, body=body, signature=headers["Authorization"]
        )
        assert headers["Content-Type"] == "application/json"
    assert len({json.loads(body)["tts_notification_id"] for _, body in deliveries}) == 2


def test_cancelled_orders_are_announced_as_cancel(
    sandbox: TikTokSandbox, shop: Shop, receiver: WebhookReceiver
):
    sandbox.store.set_webhook_address(shop.id, receiver.url)
    order_id = sandbox.store.create_order(
        shop.id, {"MUG-LIVE": 1}, at=STREAM_START, cancel_after=timedelta(minutes=5)
    )
    sandbox.advance(timedelta(hours=2))

    statuses = sorted(
        (json.loads(body)["data"]["update_time"], json.loads(body)["data"]["order_status"])
        for _, body in receiver.wait_for(2)
    )

    assert statuses == [(START, "ON_HOLD"), (START + 300, "CANCEL")]
    assert sandbox.store.get_order(order_id)["status"] == "CANCELLED"


def test_unacknowledged_delivery_is_retried_on_schedule_with_the_same_bytes(
    sandbox: TikTokSandbox, shop: Shop, receiver: WebhookReceiver
):
    receiver.statuses = [500, 503]
    sandbox.store.set_webhook_address(shop.id, receiver.url)
    sandbox.store.create_order(shop.id, {"MUG-LIVE": 1}, at=STREAM_START)
    receiver.wait_for(1)
    assert sandbox.webhooks.wait_idle()

    sandbox.advance(timedelta(minutes=1, seconds=59))
    assert sandbox.webhooks.wait_idle()
    assert len(receiver.deliveries) == 1  # TikTok waits 2 minutes before the first retry

    sandbox.advance(timedelta(seconds=1))
    receiver.wait_for(2)
    assert sandbox.webhooks.wait_idle()
    sandbox.advance(timedelta(minutes=30))
    deliveries = receiver.wait_for(3)
    assert sandbox.webhooks.wait_idle()

    assert len({body for _, body in deliveries}) == 1
    assert len({headers["Authorization"] for headers, _ in deliveries}) == 1
    log = sandbox.webhook_log
    assert [(a.attempt, a.status_code, a.acknowledged) for a in log] == [
        (1, 500, False),
        (2, 503, False),
        (3, 200, True),
    ]
    assert [a.virtual_time for a in log] == [START, START + 120, START + 120 + 1800]
    notification_id = log[0].notification_id
    sandbox.advance(timedelta(hours=3))  # acknowledged: that notification is not sent again
    assert sandbox.webhooks.wait_idle()
    ids = [json.loads(body)["tts_notification_id"] for _, body in receiver.deliveries]
    assert ids.count(notification_id) == 3
    assert len(ids) == 4  # the fourth is the AWAITING_SHIPMENT change at the hour mark


def test_delivery_gives_up_after_the_last_retry(shop: Shop, receiver: WebhookReceiver):
    from aftershow.sandbox.tiktok import VirtualClock

    sandbox = TikTokSandbox(
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        seed=3,
        clock=VirtualClock(STREAM_START, speed=0),
        webhook_retry_schedule=[timedelta(seconds=10)] * 2,
    )
    try:
        own_shop = sandbox.store.create_shop()
        sandbox.store.add_product(own_shop.id, "Mug", skus=[{"seller_sku": "M", "price": "9"}])
        receiver.statuses = [500] * 10
        sandbox.store.set_webhook_address(own_shop.id, receiver.url)
        sandbox.store.create_order(own_shop.id, {"M": 1}, at=STREAM_START)
        for _ in range(5):
            assert sandbox.webhooks.wait_idle()
            sandbox.advance(timedelta(seconds=10))
        assert sandbox.webhooks.wait_idle()

        assert [a.attempt for a in sandbox.webhook_log] == [1, 2, 3]
        assert len(receiver.deliveries) == 3
    finally:
        sandbox.stop()


def test_connection_refused_counts_as_unacknowledged(sandbox: TikTokSandbox, shop: Shop):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sandbox.store.set_webhook_address(shop.id, f"http://127.0.0.1:{port}/hook")
    sandbox.store.create_order(shop.id, {"MUG-LIVE": 1}, at=STREAM_START)
    assert sandbox.webhooks.wait_idle()
    sandbox.advance(timedelta(minutes=2))
    assert sandbox.webhooks.wait_idle()

    log = sandbox.webhook_log
    assert [(a.attempt, a.status_code) for a in log] == [(1, None), (2, None)]
    assert log[0].error.startswith("ConnectError")


def test_redelivery_is_an_exact_duplicate(
    sandbox: TikTokSandbox, shop: Shop, receiver: WebhookReceiver
):
    sandbox.store.set_webhook_address(shop.id, receiver.url)
    sandbox.store.create_order(shop.id, {"MUG-LIVE": 1}, at=STREAM_START)
    ((first_headers, first_body),) = receiver.wait_for(1)
    notification_id = json.loads(first_body)["tts_notification_id"]

    attempt = sandbox.redeliver(notification_id)
    (_, _), (second_headers, second_body) = receiver.wait_for(2)

    assert attempt.redelivery is True and attempt.acknowledged is True
    assert second_body == first_body
    assert second_headers["Authorization"] == first_headers["Authorization"]
    assert json.loads(second_body)["tts_notification_id"] == notification_id


def test_no_webhook_without_an_address(sandbox: TikTokSandbox, shop: Shop):
    sandbox.store.create_order(shop.id, {"MUG-LIVE": 1}, at=STREAM_START)
    sandbox.advance(timedelta(hours=1))

    assert sandbox.webhooks.wait_idle()
    assert sandbox.webhook_log == []
