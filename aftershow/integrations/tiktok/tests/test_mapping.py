"""Pure mapping from TikTok's order object to aftershow's incoming order (named fixtures)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from aftershow.integrations.tiktok.mapping import (
    TikTokOrder,
    platform_status,
    to_incoming_order,
)

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def test_order_awaiting_shipment_maps_every_field():
    order = to_incoming_order(TikTokOrder.model_validate(load("order_awaiting_shipment.json")))
    assert order.remote_order_id == "576684019603311365"
    assert order.platform_status == "AWAITING_SHIPMENT"
    assert order.placed_at == datetime(2025, 11, 26, 12, 26, 40, tzinfo=UTC)
    assert order.ship_by == datetime(2025, 11, 28, 12, 26, 40, tzinfo=UTC)
    assert order.cancelled_at is None  # 0 means unset
    assert order.total_amount == Decimal("47.29")
    assert order.subtotal + order.shipping_fee + order.tax == order.total_amount
    assert order.address.city == "Los Angeles"
    assert order.address.state == "CA"  # from district_info's iso_code, not a dedicated field
    assert order.address.postal_code == "90026"
    assert order.address.line2 == "Apt 4"
    # One line item per unit: two units of one SKU are two lines of quantity 1.
    assert [(line.seller_sku, line.quantity) for line in order.lines] == [
        ("TEE-BLK-M", 1),
        ("TEE-BLK-M", 1),
    ]
    assert order.lines[0].sale_price == Decimal("18.99")


def test_on_hold_order_has_an_empty_address():
    raw = load("order_awaiting_shipment.json")
    raw["status"] = "ON_HOLD"
    raw["recipient_address"] = {
        "name": "",
        "address_line1": "",
        "postal_code": "",
        "district_info": [],
    }
    order = to_incoming_order(TikTokOrder.model_validate(raw))
    assert order.address.is_empty
    assert order.platform_status == "ON_HOLD"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("CANCEL", "CANCELLED"), ("CANCELLED", "CANCELLED"), ("IN_TRANSIT", "IN_TRANSIT")],
)
def test_webhook_cancel_is_the_api_cancelled(value, expected):
    assert platform_status(value) == expected


def test_unknown_status_is_refused():
    with pytest.raises(ValueError, match="unknown TikTok order status"):
        platform_status("SHIPPED_TO_MARS")
