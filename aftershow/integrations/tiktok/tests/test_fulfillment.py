"""The typed fulfillment calls against the sandbox: shapes in, models out, codes kept."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aftershow.core.http import TerminalChannelError
from aftershow.integrations.tiktok.fulfillment import (
    DUPLICATE_TRACKING,
    NO_SHIPPING_DOCUMENT,
    SHIPPED_TWICE,
    TRACKING_UPDATE_EXPIRED,
    TRACKING_UPDATED_ONCE,
    SelfShipment,
    ShippingProvider,
    TikTokFulfillmentApi,
    TrackingEvent,
)
from aftershow.integrations.tiktok.sync import TikTokConnector

SELLER_OPTION = "7359159720562657057"
USPS_ID = "7117858858072016686"
FIRST, SECOND = "9400111899000000000001", "9400111899000000000002"


@pytest.fixture
def api(tiktok_shop) -> TikTokFulfillmentApi:
    return TikTokFulfillmentApi(TikTokConnector(tiktok_shop).client)


@pytest.fixture
def order(tiktok_sandbox, tiktok_remote_shop) -> dict:
    tiktok_sandbox.store.add_product(
        tiktok_remote_shop.id, "Tee", skus=[{"seller_sku": "TEE", "price": "19.99"}]
    )
    order_id = tiktok_sandbox.store.create_order(tiktok_remote_shop.id, {"TEE": 2})
    tiktok_sandbox.advance(timedelta(minutes=61))
    return tiktok_sandbox.store.get_order(order_id)


def test_shipping_providers(api):
    providers = api.get_shipping_providers(SELLER_OPTION)

    assert providers[:2] == [
        ShippingProvider(id=USPS_ID, name="USPS"),
        ShippingProvider(id="7117859084333745966", name="UPS"),
    ]
    assert len(providers) == 6


def test_ship_then_read_the_package_its_order_and_its_tracking(tiktok_sandbox, api, order):
    package_id = order["packages"][0]["id"]

    api.ship_package(SelfShipment(package_id, FIRST, USPS_ID))
    tiktok_sandbox.advance(timedelta(hours=3))
    tiktok_sandbox.fulfillment.carrier_scan(package_id)
    detail = api.get_package_detail(package_id)
    (packages,) = api.get_order_packages([order["id"]])
    tracking = api.get_tracking(order["id"])

    assert (detail.package_status, detail.tracking_number, detail.shipping_provider_id) == (
        "FULFILLING",
        FIRST,
        USPS_ID,
    )
    assert [o.id for o in detail.orders] == [order["id"]]
    assert (packages.status, packages.delivery_option_id) == ("IN_TRANSIT", SELLER_OPTION)
    assert [
        (line.package_id, line.display_status, line.tracking_number) for line in packages.line_items
    ] == [(package_id, "IN_TRANSIT", FIRST)] * 2
    shipped_at = tiktok_sandbox.fulfillment.package(package_id).shipped_at
    collected_at = tiktok_sandbox.fulfillment.package(package_id).collected_at
    assert collected_at - shipped_at >= 3 * 3600  # the clock runs at real speed too
    assert tracking == [
        TrackingEvent(
            description="Package picked up by the carrier",
            update_time_millis=collected_at * 1000,
        ),
        TrackingEvent(
            description="Seller shipped the package", update_time_millis=shipped_at * 1000
        ),
    ]


def test_tiktoks_fulfillment_refusals_keep_their_codes(
    tiktok_sandbox, tiktok_remote_shop, api, order
):
    package_id = order["packages"][0]["id"]
    api.ship_package(SelfShipment(package_id, FIRST, USPS_ID))
    other = tiktok_sandbox.store.create_order(tiktok_remote_shop.id, {"TEE": 1})
    tiktok_sandbox.advance(timedelta(minutes=61))
    other_package = tiktok_sandbox.store.get_order(other)["packages"][0]["id"]

    def code_of(call, *args, **kwargs) -> str:
        with pytest.raises(TerminalChannelError) as refused:
            call(*args, **kwargs)
        return refused.value.code

    assert code_of(api.ship_package, SelfShipment(package_id, SECOND, USPS_ID)) == SHIPPED_TWICE
    assert (
        code_of(api.ship_package, SelfShipment(other_package, FIRST, USPS_ID)) == DUPLICATE_TRACKING
    )
    assert code_of(api.get_shipping_document, package_id) == NO_SHIPPING_DOCUMENT
    api.update_package_shipping_info(
        package_id, tracking_number=SECOND, shipping_provider_id=USPS_ID
    )
    assert (
        code_of(
            api.update_package_shipping_info,
            package_id,
            tracking_number=FIRST,
            shipping_provider_id=USPS_ID,
        )
        == TRACKING_UPDATED_ONCE
    )
    api.ship_package(SelfShipment(other_package, FIRST, USPS_ID))
    tiktok_sandbox.advance(timedelta(hours=72, seconds=1))
    assert (
        code_of(
            api.update_package_shipping_info,
            other_package,
            tracking_number="9400111899000000000003",
            shipping_provider_id=USPS_ID,
        )
        == TRACKING_UPDATE_EXPIRED
    )


def test_batch_ship_returns_the_packages_it_refused(tiktok_sandbox, api, order):
    package_id = order["packages"][0]["id"]

    first = api.batch_ship([SelfShipment(package_id, FIRST, USPS_ID)])
    second = api.batch_ship([SelfShipment(package_id, FIRST, USPS_ID)])

    assert first == []
    assert [(e.code, e.detail.package_id) for e in second] == [(21011040, package_id)]
    with pytest.raises(ValueError, match="Batch Ship takes 1 to 50 packages"):
        api.batch_ship([])
