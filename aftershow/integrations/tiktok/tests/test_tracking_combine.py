"""A parcel holding several TikTok orders of one buyer is combined on TikTok (Combine Package)
before its tracking is pushed; orders TikTok will not combine are refused with the reason."""

from __future__ import annotations

from typing import Any

from aftershow.audit.models import IntegrationLog
from aftershow.core.timeutils import utcnow
from aftershow.fulfillment.models import Package
from aftershow.integrations.models import TrackingUpload, TrackingUploadState
from aftershow.integrations.tiktok.tests.test_tracking import land_orders, pull, push_until_done
from aftershow.integrations.tiktok.tracking import tracking_pushes_request
from aftershow.integrations.tiktok.tracking_push import TrackingPusher
from aftershow.orders.models import OrderLine

COMBINE = "/fulfillment/202309/packages/combine"


def same_buyer(sandbox, first_id: str, second_id: str) -> None:
    first = sandbox.store.get_order(first_id)

    def copy(order: dict[str, Any]) -> None:
        order["user_id"] = first["user_id"]
        order["recipient_address"] = first["recipient_address"]

    sandbox.store.update_order(second_id, copy)


def parcel(shop, order_ids: list[str], tracking: str) -> Package:
    package = Package.objects.create(
        shop=shop, carrier="USPS", tracking_number=tracking, shipped_at=utcnow()
    )
    OrderLine.objects.filter(order__remote_order_id__in=order_ids).update(package=package)
    return package


def test_a_buyers_orders_in_one_parcel_are_combined_then_shipped_once(
    tiktok_sandbox, tiktok_remote_shop, tiktok_shop
):
    first, second, third, fourth = land_orders(tiktok_sandbox, tiktok_remote_shop, 4)
    same_buyer(tiktok_sandbox, first, second)
    pull(tiktok_shop)
    together = parcel(tiktok_shop, [first, second], "9400111899000000000001")
    strangers = parcel(tiktok_shop, [third, fourth], "9400111899000000000002")
    assert tracking_pushes_request(packages=[together, strangers]) == {}

    push_until_done(tiktok_shop)

    pushed = TrackingUpload.objects.get(package=together)
    assert pushed.state == TrackingUploadState.PUSHED
    for order_id in (first, second):
        remote = tiktok_sandbox.store.get_order(order_id)
        assert remote["status"] == "AWAITING_COLLECTION"
        assert remote["tracking_number"] == "9400111899000000000001"
        assert remote["packages"] == [{"id": pushed.remote_package_id}]
    refused = TrackingUpload.objects.get(package=strangers)
    assert refused.state == TrackingUploadState.FAILED
    assert "would not combine" in refused.last_error
    assert "another buyer" in refused.last_error
    for order_id in (third, fourth):
        assert tiktok_sandbox.store.get_order(order_id)["status"] == "AWAITING_SHIPMENT"
    assert IntegrationLog.objects.filter(direction="out", path=COMBINE).count() == 1

    TrackingPusher(tiktok_shop).push_due()  # nothing left: no second combine, no second ship
    assert IntegrationLog.objects.filter(direction="out", path=COMBINE).count() == 1
    assert tiktok_sandbox.fulfillment.package(pushed.remote_package_id).accepted_ships == 1
