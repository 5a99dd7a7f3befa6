"""Formats are told apart by their headers, never by file names (no database)."""

from __future__ import annotations

import pytest

from aftershow.imports import headers as h
from aftershow.imports.headers import Detection, detect, foreign_marketplace
from aftershow.imports.models import FileFormat
from aftershow.sandbox.tiktok.exports import HEADER_2024, HEADER_2025, HEADER_2026


def test_the_us_layouts_are_the_ones_tiktok_writes() -> None:
    assert len(h.US_ORDER_HEADER_2026) == 63
    assert len(h.US_ORDER_HEADER_2025) == 58
    # The importer's constants and the sandbox's (written independently) agree exactly.
    assert h.US_ORDER_HEADER_2026 == HEADER_2026
    assert h.US_ORDER_HEADER_2025 == HEADER_2025
    assert h.US_ORDER_HEADER_2024 == HEADER_2024
    assert h.VIRTUAL_BUNDLE_SELLER_SKU == " Virtual Bundle Seller SKU"
    assert h.CANCELATION_RETURN_TYPE == "Cancelation/Return Type"
    assert h.CANCELLED_TIME == "Cancelled Time"


@pytest.mark.parametrize(
    ("header", "layout"),
    [(HEADER_2026, "us_2026"), (HEADER_2025, "us_2025"), (HEADER_2024, "us_2024")],
)
def test_order_export_layouts(header: tuple[str, ...], layout: str) -> None:
    assert detect(list(header)) == Detection(FileFormat.ORDER_EXPORT, layout, "US")


def test_other_regions_order_exports_are_recognised_by_their_address_block() -> None:
    core = ["Order ID", "Order Status", "Order Substatus", "SKU Subtotal After Discount"]
    assert detect([*core, "Province", "Regency and City", "Districts"]) == Detection(
        FileFormat.ORDER_EXPORT, "id", "ID"
    )
    assert detect([*core, "Province", "District", "Commune"]).region == "VN"
    assert detect([*core, "Region", "Province", "Municipality", "Barangay"]).region == "PH"


def test_headers_match_whatever_their_spacing_case_and_slashes() -> None:
    finance = [
        "Statement date (UTC)",
        "Statement ID",
        "Order\\adjustment ID  ",
        "Total settlement amount ",
    ]
    assert detect(finance) == Detection(FileFormat.FINANCE_TRANSACTIONS, "us_statement", "")
    unsettled = ["Type", "Order/adjustment ID", "Total estimated settlement amount"]
    assert detect(unsettled).layout == "us_unsettled"
    details = ["Order/Adjustment ID", "Type", "Total settlement amount", "Total revenue"]
    assert detect(details).layout == "order_details"


def test_affiliate_and_returns_exports() -> None:
    affiliate = [
        "Order ID",
        "Product ID",
        "Creator Username",
        "Content ID",
        "Standard commission rate",
    ]
    assert detect(affiliate).format == FileFormat.AFFILIATE_ORDERS
    returns = ["Return Order ID", "Order ID", "Return Status", "Return Sub Status"]
    assert detect(returns).format == FileFormat.RETURNS


def test_other_marketplaces_are_named_not_detected() -> None:
    amazon = ["amazon-order-id", "merchant-order-id", "purchase-date", "sku", "quantity"]
    shopify = ["Name", "Email", "Financial Status", "Paid at", "Lineitem name", "Lineitem sku"]
    assert (detect(amazon), foreign_marketplace(amazon)) == (None, "Amazon")
    assert (detect(shopify), foreign_marketplace(shopify)) == (None, "Shopify")
    # "Order ID" alone (e.g. an eBay or home-made sheet) is not an order export.
    assert detect(["Order ID", "Tracking", "Carrier"]) is None
