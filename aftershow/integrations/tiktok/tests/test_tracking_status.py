"""After the push, TikTok's statuses (awaiting collection, in transit, delivered) come back
through the webhook + fetch path, on the queue, as in production."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction

from aftershow.core.timeutils import from_unix, utcnow
from aftershow.core.worker import run_queued_tasks
from aftershow.fulfillment.models import Package
from aftershow.integrations.models import TrackingUpload
from aftershow.integrations.tiktok.sync import TikTokConnector
from aftershow.integrations.tiktok.tracking import tracking_push_request
from aftershow.orders.models import Order, OrderState, OrderStatusChange


def settle(sandbox) -> None:
    assert sandbox.webhooks.wait_idle(timeout=30)
    run_queued_tasks()


@pytest.mark.django_db(transaction=True)
def test_statuses_after_the_push_come_back_through_webhooks(
    tiktok_sandbox, tiktok_remote_shop, tiktok_shop, live_server, settings
):
    settings.HTTP_MAX_RETRY_WAIT_SECONDS = 0.01
    TikTokConnector(tiktok_shop).register_webhooks(address=f"{live_server.url}/webhooks/tiktok/")
    tiktok_sandbox.store.add_product(
        tiktok_remote_shop.id, "Tee", skus=[{"seller_sku": "TEE", "price": "19.99"}]
    )
    order_ids = [
        tiktok_sandbox.store.create_order(tiktok_remote_shop.id, {"TEE": 1}) for _ in range(3)
    ]
    tiktok_sandbox.advance(timedelta(minutes=61))
    settle(tiktok_sandbox)
    assert set(Order.objects.values_list("platform_status", flat=True)) == {"AWAITING_SHIPMENT"}

    # The scan station marks the parcels shipped and queues the pushes on commit.
    for index, order in enumerate(Order.objects.order_by("remote_order_id")):
        with transaction.atomic():
            package = Package.objects.create(
                shop=tiktok_shop,
                carrier="USPS",
                tracking_number=f"9400111899{index:012d}",
                shipped_at=utcnow(),
            )
            order.lines.update(package=package)
            transaction.on_commit(lambda package=package: tracking_push_request(package=package))
    run_queued_tasks()  # the push task
    settle(tiktok_sandbox)  # TikTok's AWAITING_COLLECTION webhooks, then the fetch
    assert set(TrackingUpload.objects.values_list("state", flat=True)) == {"pushed"}
    assert set(Order.objects.values_list("platform_status", flat=True)) == {"AWAITING_COLLECTION"}

    tiktok_sandbox.advance(timedelta(hours=5))
    tiktok_sandbox.fulfillment.carrier_scan(order_ids[0])
    tiktok_sandbox.fulfillment.carrier_scan(order_ids[1])
    settle(tiktok_sandbox)
    tiktok_sandbox.advance(timedelta(days=2))
    tiktok_sandbox.fulfillment.deliver(order_ids[1])
    settle(tiktok_sandbox)

    orders = {o.remote_order_id: o for o in Order.objects.all()}
    first, second, third = (orders[order_id] for order_id in order_ids)
    remote_first = tiktok_sandbox.store.get_order(order_ids[0])
    remote_second = tiktok_sandbox.store.get_order(order_ids[1])
    assert (first.platform_status, first.state) == ("IN_TRANSIT", OrderState.SHIPPED)
    assert first.collected_at == from_unix(remote_first["collection_time"])
    assert (second.platform_status, second.state) == ("DELIVERED", OrderState.DONE)
    assert second.collected_at == from_unix(remote_second["collection_time"])
    assert second.delivered_at == from_unix(remote_second["delivery_time"])
    assert (third.platform_status, third.collected_at) == ("AWAITING_COLLECTION", None)
    history = list(
        OrderStatusChange.objects.filter(order=second)
        .order_by("id")
        .values_list("to_status", flat=True)
    )
    # First seen after the remorse window: both of its webhooks were fetched as one.
    assert history == [
        "AWAITING_SHIPMENT",
        "AWAITING_COLLECTION",
        "IN_TRANSIT",
        "DELIVERED",
    ]
