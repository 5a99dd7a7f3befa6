"""The connector against the sandbox over real HTTP on 127.0.0.1."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection

from aftershow.audit.models import AuditAction, AuditEvent, IntegrationLog
from aftershow.core.http import ChannelError
from aftershow.core.timeutils import utcnow
from aftershow.core.worker import run_queued_tasks
from aftershow.integrations.models import PendingOrderFetch, SyncCursor
from aftershow.integrations.services import pending_fetch_request
from aftershow.integrations.tiktok.sync import TikTokConnector
from aftershow.orders.models import Order, OrderLine
from aftershow.sandbox.tiktok import StreamSpec
from aftershow.shops.models import Shop

SEARCH_PATH = "/order/202309/orders/search"
DETAIL_PATH = "/order/202309/orders"


@pytest.fixture(autouse=True)
def _fast_retries(settings):
    # Keep Retry-After honoured but short: the sandbox asks for whole seconds.
    settings.HTTP_MAX_RETRY_WAIT_SECONDS = 0.05


def release_stream(sandbox, remote_shop, orders: int, seed: int = 5):
    sandbox.store.add_product(
        remote_shop.id,
        "Cloud Tee",
        skus=[
            {"seller_sku": "TEE-BLK-M", "price": "19.99"},
            {"seller_sku": "TEE-WHT-L", "price": "21.00"},
        ],
    )
    plan = sandbox.simulate_live_stream(
        StreamSpec(
            creator_handle="mia",
            followers=100_000,
            viewers=orders * 10,
            conversion_rate=0.1,
            duration=timedelta(hours=1),
            sku_mix={"TEE-BLK-M": 3, "TEE-WHT-L": 1},
            seed=seed,
        )
    )
    sandbox.release_all(plan)
    return plan


def pull_everything(shop: Shop):
    # The sandbox clock runs from now, so pull up to a moment safely after the stream.
    return TikTokConnector(shop).pull_orders(until=utcnow() + timedelta(days=1))


def test_connecting_stores_the_shop_with_encrypted_credentials(tiktok_shop, tiktok_remote_shop):
    shop = Shop.objects.get()
    assert (shop.remote_shop_id, shop.shop_cipher) == (
        tiktok_remote_shop.id,
        tiktok_remote_shop.cipher,
    )
    assert set(shop.credentials) == {"app_key", "app_secret", "access_token", "refresh_token"}
    assert shop.access_token_expires_at > utcnow() + timedelta(days=6)
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM shops_shop WHERE id = %s", [shop.pk])
        (raw,) = cursor.fetchone()
    assert shop.credentials["app_secret"] not in raw
    assert shop.credentials["access_token"] not in raw
    assert AuditEvent.objects.filter(action=AuditAction.SHOP_CONNECTED).count() == 1


def test_pull_gets_every_order_exactly_once(tiktok_sandbox, tiktok_remote_shop, tiktok_shop):
    plan = release_stream(tiktok_sandbox, tiktok_remote_shop, orders=250)
    report = pull_everything(tiktok_shop)
    expected_ids = {order.order_id for order in plan.orders}
    assert len(expected_ids) == 250
    assert set(Order.objects.values_list("remote_order_id", flat=True)) == expected_ids
    assert report.orders_seen == 250
    assert report.pages == 3  # 100 a page
    # Orders with broken addresses are ingested like any other; screening flags them later.
    broken = {order.order_id for order in plan.with_anomaly("broken_address")}
    assert broken
    assert broken <= set(Order.objects.values_list("remote_order_id", flat=True))
    assert OrderLine.objects.count() == sum(len(order.seller_skus) for order in plan.orders)
    # Pulling again reads the overlap again and changes nothing.
    pull_everything(tiktok_shop)
    assert Order.objects.count() == 250


def test_pull_survives_429_and_500(tiktok_sandbox, tiktok_remote_shop, tiktok_shop):
    release_stream(tiktok_sandbox, tiktok_remote_shop, orders=300)
    tiktok_sandbox.faults.configure(rate=0.5, kinds=("429", "500"), seed=3)
    pull_everything(tiktok_shop)
    assert Order.objects.count() == 300
    outcomes = set(
        IntegrationLog.objects.filter(path=SEARCH_PATH).values_list("outcome", "status_code")
    )
    assert ("retryable", 429) in outcomes
    assert ("retryable", 500) in outcomes
    assert ("ok", 200) in outcomes


def test_pull_that_gives_up_resumes_from_its_cursor(
    tiktok_sandbox, tiktok_remote_shop, tiktok_shop, settings
):
    settings.HTTP_MAX_ATTEMPTS = 1  # no retries: every fault ends the pull
    release_stream(tiktok_sandbox, tiktok_remote_shop, orders=500)
    tiktok_sandbox.faults.configure(rate=0.4, kinds=("429", "500"), seed=8)
    failures, resumed_mid_window = 0, False
    for _ in range(60):
        try:
            pull_everything(tiktok_shop)
            break
        except ChannelError:
            failures += 1
            resumed_mid_window |= bool(SyncCursor.objects.get().page_token)
    assert failures > 0
    assert resumed_mid_window
    assert Order.objects.count() == 500
    assert Order.objects.values("remote_order_id").distinct().count() == 500


def test_expired_access_token_is_refreshed_and_the_call_repeated(
    tiktok_sandbox, tiktok_remote_shop, tiktok_shop
):
    release_stream(tiktok_sandbox, tiktok_remote_shop, orders=20)
    old_token = tiktok_shop.credentials["access_token"]
    tiktok_sandbox.store.expire_access_token(old_token)
    pull_everything(tiktok_shop)
    assert Order.objects.count() == 20
    shop = Shop.objects.get()
    assert shop.credentials["access_token"] != old_token
    assert AuditEvent.objects.filter(action=AuditAction.TOKEN_REFRESHED).count() == 1
    assert IntegrationLog.objects.filter(error_code="105002").count() == 1


def test_pending_fetches_are_drained_50_ids_a_call(tiktok_sandbox, tiktok_remote_shop, tiktok_shop):
    plan = release_stream(tiktok_sandbox, tiktok_remote_shop, orders=120)
    pending_fetch_request(shop=tiktok_shop, order_ids=[order.order_id for order in plan.orders])
    result = TikTokConnector(tiktok_shop).fetch_pending()
    assert result.created == 120
    assert IntegrationLog.objects.filter(path=DETAIL_PATH, outcome="ok").count() == 3
    assert PendingOrderFetch.objects.count() == 0


def test_an_order_tiktok_does_not_return_stays_pending_and_is_retried(
    tiktok_sandbox, tiktok_remote_shop, tiktok_shop
):
    pending_fetch_request(shop=tiktok_shop, order_ids=["999999999999999999"])
    TikTokConnector(tiktok_shop).fetch_pending()
    pending = PendingOrderFetch.objects.get()
    assert (pending.attempts, pending.last_error) == (1, "TikTok did not return this order")
    # Not retried in the same drain, but after a backoff that grows with each attempt.
    assert pending.claimed_until > utcnow() + timedelta(seconds=50)
    for attempt in range(2, 6):
        PendingOrderFetch.objects.update(claimed_until=utcnow() - timedelta(seconds=1))
        TikTokConnector(tiktok_shop).fetch_pending()
        assert PendingOrderFetch.objects.filter(attempts=attempt).count() == (attempt < 5)
    assert PendingOrderFetch.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_webhooks_bring_every_order_in_and_follow_its_status(
    tiktok_sandbox, tiktok_remote_shop, tiktok_shop, live_server
):
    TikTokConnector(tiktok_shop).register_webhooks(address=f"{live_server.url}/webhooks/tiktok/")
    plan = release_stream(tiktok_sandbox, tiktok_remote_shop, orders=60)
    tiktok_sandbox.webhooks.wait_idle(timeout=30)
    run_queued_tasks()
    assert Order.objects.count() == 60
    assert set(Order.objects.values_list("platform_status", flat=True)) <= {"ON_HOLD", "CANCELLED"}
    assert not Order.objects.filter(shipping_address__isnull=False).exists()

    tiktok_sandbox.advance(timedelta(minutes=61))  # the remorse window ends
    tiktok_sandbox.webhooks.wait_idle(timeout=30)
    run_queued_tasks()
    expected = {order.order_id: order for order in plan.orders}
    for order in Order.objects.select_related("shipping_address"):
        remote = tiktok_sandbox.store.get_order(order.remote_order_id)
        assert order.platform_status == remote["status"]
        if remote["status"] == "AWAITING_SHIPMENT":
            assert order.shipping_address is not None
            assert order.shipping_address.postal_code == remote["recipient_address"]["postal_code"]
    assert set(expected) == set(Order.objects.values_list("remote_order_id", flat=True))


def test_an_order_requested_again_during_its_fetch_is_fetched_again(
    tiktok_sandbox, tiktok_remote_shop, tiktok_shop
):
    plan = release_stream(tiktok_sandbox, tiktok_remote_shop, orders=3)
    order_ids = [order.order_id for order in plan.orders]
    pending_fetch_request(shop=tiktok_shop, order_ids=order_ids)
    connector = TikTokConnector(tiktok_shop)
    original = connector.client.get_order_detail

    def detail_then_a_new_webhook(ids):
        detail = original(ids)
        if len(IntegrationLog.objects.filter(path=DETAIL_PATH)) == 1:
            # A webhook for the first order lands while its detail is in flight.
            pending_fetch_request(shop=tiktok_shop, order_ids=[order_ids[0]])
        return detail

    connector.client.get_order_detail = detail_then_a_new_webhook
    connector.fetch_pending()
    assert PendingOrderFetch.objects.count() == 0
    # The second call re-read the order that was requested again.
    assert IntegrationLog.objects.filter(path=DETAIL_PATH, outcome="ok").count() == 2
