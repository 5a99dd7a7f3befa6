"""TikTok Shipping labels (services, packages, documents) and the carrier's side (scans,
delivery, tracking events) of the sandbox's fulfillment endpoints."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from pypdf import PdfReader

from aftershow.sandbox.tiktok import Shop, TikTokSandbox

from .conftest import SignedClient, WebhookReceiver
from .test_fulfillment import (
    AFTER_REMORSE,
    GROUND_ADVANTAGE,
    INVALID_PARAM,
    START,
    package_of,
    paid_order,
    ship,
)


@pytest.fixture(autouse=True)
def _close_documents(sandbox: TikTokSandbox) -> Iterator[None]:
    yield
    sandbox.fulfillment.close()


# -- TikTok Shipping -------------------------------------------------------------------------


def services_query(api: SignedClient, order: dict, weight: dict) -> dict:
    return api.call(
        "POST",
        f"/fulfillment/202309/orders/{order['id']}/shipping_services/query",
        body={
            "order_line_item_ids": [item["id"] for item in order["line_items"]],
            "weight": weight,
            "dimension": {"length": "10", "width": "8", "height": "2", "unit": "INCH"},
        },
    )


def create_package(api: SignedClient, order: dict, service_id: str = GROUND_ADVANTAGE) -> dict:
    return api.call(
        "POST",
        "/fulfillment/202309/packages",
        body={
            "order_id": order["id"],
            "order_line_item_ids": [item["id"] for item in order["line_items"]],
            "shipping_service_id": service_id,
            "weight": {"value": "1.2", "unit": "POUND"},
            "dimension": {"length": "10", "width": "8", "height": "2", "unit": "INCH"},
        },
    )


def test_eligible_shipping_services_are_priced_by_started_pound(
    sandbox: TikTokSandbox, shop: Shop, api: SignedClient
):
    order = paid_order(sandbox, shop, shipping_type="TIKTOK")

    services = services_query(api, order, {"value": "544", "unit": "GRAM"})["data"]

    assert [
        (s["name"], s["price"], s["is_default"], s["shipping_provider_name"])
        for s in services["shipping_services"]
    ] == [
        ("USPS Ground Advantage", "6.25", True, "USPS"),
        ("USPS Priority Mail", "10.80", False, "USPS"),
        ("UPS Ground", "10.90", False, "UPS"),
        ("FedEx Ground", "11.05", False, "FedEx"),
    ]


def test_shipping_services_need_a_tiktok_shipping_order_and_a_weight(
    sandbox: TikTokSandbox, shop: Shop, api: SignedClient
):
    seller = paid_order(sandbox, shop)
    tiktok = paid_order(sandbox, shop, shipping_type="TIKTOK")

    assert services_query(api, seller, {"value": "1", "unit": "POUND"})["message"] == (
        "invalid param error: shipping services are only for TikTok Shipping orders"
    )
    assert services_query(api, tiktok, {"value": "-1", "unit": "POUND"})["code"] == INVALID_PARAM
    assert services_query(api, tiktok, {"value": "1", "unit": "KILO"})["code"] == INVALID_PARAM


def test_create_package_buys_one_label_and_its_document_is_a_4x6_pdf(
    sandbox: TikTokSandbox, shop: Shop, api: SignedClient
):
    order = paid_order(sandbox, shop, {"TEE-BLK-M": 1, "MUG-LIVE": 1}, shipping_type="TIKTOK")

    created = create_package(api, order)["data"]
    package_id = created["package_id"]
    document = api.call(
        "GET",
        f"/fulfillment/202309/packages/{package_id}/shipping_documents",
        query={"document_type": "SHIPPING_LABEL", "document_size": "A6"},
    )["data"]
    pdf = httpx.get(document["doc_url"])
    again = create_package(api, order)

    tracking = sandbox.fulfillment.package(package_id).tracking_number
    assert created["order_id"] == order["id"]
    assert package_id != package_of(order)
    assert created["shipping_service_info"]["name"] == "USPS Ground Advantage"
    assert created["shipping_service_info"]["price"] == "6.25"
    assert document["tracking_number"] == tracking
    assert tracking.startswith("9400") and len(tracking) == 22
    assert (pdf.status_code, pdf.headers["Content-Type"]) == (200, "application/pdf")
    reader = PdfReader(io.BytesIO(pdf.content))
    assert len(reader.pages) == 1
    assert (reader.pages[0].mediabox.width, reader.pages[0].mediabox.height) == (288, 432)
    assert tracking in reader.pages[0].extract_text()
    assert again["code"] == INVALID_PARAM
    assert sandbox.fulfillment.label_purchases[order["id"]] == 1
    stored = sandbox.store.get_order(order["id"])
    assert [p["id"] for p in stored["packages"]] == [package_id]
    assert {i["tracking_number"] for i in stored["line_items"]} == {tracking}
    assert stored["status"] == "AWAITING_SHIPMENT"


def test_a_document_url_expires_after_24_hours(
    sandbox: TikTokSandbox, shop: Shop, api: SignedClient
):
    order = paid_order(sandbox, shop, shipping_type="TIKTOK")
    package_id = create_package(api, order)["data"]["package_id"]
    url = api.call(
        "GET",
        f"/fulfillment/202309/packages/{package_id}/shipping_documents",
        query={"document_type": "SHIPPING_LABEL_AND_PACKING_SLIP"},
    )["data"]["doc_url"]

    sandbox.advance(timedelta(hours=24))
    last_moment = httpx.get(url)
    sandbox.advance(timedelta(seconds=1))
    expired = httpx.get(url)

    assert len(PdfReader(io.BytesIO(last_moment.content)).pages) == 2
    assert (expired.status_code, expired.text) == (403, "Request has expired")


def test_shipping_documents_are_only_for_tiktok_shipping_packages(
    sandbox: TikTokSandbox, shop: Shop, api: SignedClient
):
    order = paid_order(sandbox, shop)

    envelope = api.call(
        "GET",
        f"/fulfillment/202309/packages/{package_of(order)}/shipping_documents",
        query={"document_type": "SHIPPING_LABEL"},
    )

    assert envelope["code"] == 11034002


def test_zpl_documents_do_not_exist_in_the_us(
    sandbox: TikTokSandbox, shop: Shop, api: SignedClient
):
    order = paid_order(sandbox, shop, shipping_type="TIKTOK")
    package_id = create_package(api, order)["data"]["package_id"]

    envelope = api.call(
        "GET",
        f"/fulfillment/202309/packages/{package_id}/shipping_documents",
        query={"document_type": "SHIPPING_LABEL", "document_format": "ZPL"},
    )

    assert envelope["code"] == INVALID_PARAM


def test_a_tiktok_shipping_package_ships_after_its_label(
    sandbox: TikTokSandbox, shop: Shop, api: SignedClient
):
    order = paid_order(sandbox, shop, shipping_type="TIKTOK")
    without_label = api.call(
        "POST",
        f"/fulfillment/202309/packages/{package_of(order)}/ship",
        body={"handover_method": "PICKUP"},
    )
    package_id = create_package(api, order)["data"]["package_id"]

    shipped = api.call(
        "POST",
        f"/fulfillment/202309/packages/{package_id}/ship",
        body={"handover_method": "PICKUP"},
    )

    assert without_label["code"] == INVALID_PARAM
    assert shipped["code"] == 0
    assert sandbox.store.get_order(order["id"])["status"] == "AWAITING_COLLECTION"
    assert sandbox.fulfillment.package(package_id).handover_method == "PICKUP"


# -- the carrier and status follow-up ------------------------------------------------------------


def test_carrier_scan_and_delivery_follow_with_webhooks(
    sandbox: TikTokSandbox, shop: Shop, api: SignedClient, receiver: WebhookReceiver
):
    sandbox.store.set_webhook_address(shop.id, receiver.url)
    order = paid_order(sandbox, shop)
    package_id = package_of(order)
    ship(api, package_id)
    sandbox.advance(timedelta(hours=20))
    scanned = sandbox.fulfillment.carrier_scan(order["id"])
    sandbox.advance(timedelta(days=2))
    delivered = sandbox.fulfillment.deliver(package_id)

    after = sandbox.store.get_order(order["id"])
    assert (scanned, delivered) == ([package_id], [package_id])
    assert after["status"] == "DELIVERED"
    assert after["collection_time"] == AFTER_REMORSE + 20 * 3600
    assert after["delivery_time"] == AFTER_REMORSE + 68 * 3600
    statuses = sorted(
        (json.loads(body)["data"]["update_time"], json.loads(body)["data"]["order_status"])
        for _, body in receiver.wait_for(5)
    )
    assert statuses == [  # deliveries are concurrent: compared sorted by (time, status)
        (START, "ON_HOLD"),
        (AFTER_REMORSE, "AWAITING_COLLECTION"),
        (AFTER_REMORSE, "AWAITING_SHIPMENT"),
        (AFTER_REMORSE + 20 * 3600, "IN_TRANSIT"),
        (AFTER_REMORSE + 68 * 3600, "DELIVERED"),
    ]
    tracking = api.call("GET", f"/fulfillment/202309/orders/{order['id']}/tracking")["data"]
    assert tracking["tracking"] == [
        {
            "description": "Package delivered",
            "update_time_millis": (AFTER_REMORSE + 68 * 3600) * 1000,
        },
        {
            "description": "Package picked up by the carrier",
            "update_time_millis": (AFTER_REMORSE + 20 * 3600) * 1000,
        },
        {"description": "Seller shipped the package", "update_time_millis": AFTER_REMORSE * 1000},
    ]


def test_only_shipped_packages_can_be_scanned(sandbox: TikTokSandbox, shop: Shop):
    order = paid_order(sandbox, shop)

    with pytest.raises(ValueError, match="neither a shipped package nor an order with one"):
        sandbox.fulfillment.carrier_scan(order["id"])


def test_scheduled_carrier_scans_happen_on_the_virtual_clock(
    sandbox: TikTokSandbox, shop: Shop, api: SignedClient
):
    sandbox.fulfillment.schedule_carrier_scans(timedelta(hours=6))
    order = paid_order(sandbox, shop)
    ship(api, package_of(order))

    sandbox.advance(timedelta(hours=6) - timedelta(seconds=1))
    before = sandbox.store.get_order(order["id"])["status"]
    sandbox.advance(timedelta(seconds=1))
    after = sandbox.store.get_order(order["id"])

    assert before == "AWAITING_COLLECTION"
    assert (after["status"], after["collection_time"]) == ("IN_TRANSIT", AFTER_REMORSE + 6 * 3600)
