"""Seller Center "Manage orders → Export" files of the sandbox's orders, quirks and all.

What a seller without Partner API access downloads, built from the same order objects the API
serves (so a file order and an API order are the same order). Layouts and quirks follow
``shared/reference/seller-center-files.md`` §0 and §1: the 63-column 2026 US header (or the 58-
column 2025 and the 2024 layouts), UTF-8 with BOM, a trailing tab after every id, ZIP and time,
US times ``MM/DD/YYYY h:mm:ss AM/PM`` in Pacific time, one row per SKU with the order-level
amounts repeated on each, a multi-line quoted ``Shipping Information`` cell, newest order first,
and optionally the row of field descriptions and ``$``-prefixed money with thousands separators.

The column names are spelt here independently of the importer (this module plays TikTok), so a
drift between the two shows up in the tests.

Pure Python like the rest of the sandbox (openpyxl for XLSX); no Django.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from openpyxl import Workbook  # type: ignore[import-untyped]  # no stubs, none added

from .addresses import STATES, AddressKind, make_recipient
from .orders import money

PACIFIC = ZoneInfo("America/Los_Angeles")

HEADER_2026 = (
    "Order ID", "Order Status", "Order Substatus", "Cancelation/Return Type",
    "Normal or Pre-order", "SKU ID", "Seller SKU", "Product ID", "Product Name", "Variation",
    " Virtual Bundle Seller SKU", "Quantity", "Sku Quantity of return", "SKU Unit Original Price",
    "SKU Subtotal Before Discount", "SKU Platform Discount", "SKU Seller Discount",
    "SKU Subtotal After Discount", "Shipping Fee After Discount", "Original Shipping Fee",
    "Shipping Fee Seller Discount", "Co-Funded Shipping Fee Discount",
    "Shipping Fee Platform Discount", "Payment platform discount", "Retail Delivery Fee", "Taxes",
    "Order Amount", "Order Refund Amount", "Created Time", "Paid Time", "RTS Time",
    "Shipped Time", "Delivered Time", "Cancelled Time", "Cancel By", "Cancel Reason",
    "Fulfillment Type", "Warehouse Name", "Tracking ID", "Delivery Option Type",
    "Delivery Option", "Shipping Provider Name", "Buyer Message", "Buyer Nickname",
    "Buyer Username", "Recipient", "Phone #", "Country", "State", "City", "Zipcode",
    "Address Line 1", "Address Line 2", "Delivery Instruction", "Payment Method", "Weight(kg)",
    "Product Category", "Package ID", "Seller Note", "Shipping Information", "Combined Listing",
    "Order Channel", "Creator Handle",
)  # fmt: skip
HEADER_2025 = tuple(
    name
    for name in HEADER_2026
    if name
    not in (
        "Product ID",
        " Virtual Bundle Seller SKU",
        "Buyer Nickname",
        "Order Channel",
        "Creator Handle",
    )
)
HEADER_2024 = tuple(
    replacement
    for name in HEADER_2025
    if name not in ("Co-Funded Shipping Fee Discount", "Combined Listing")
    for replacement in (
        ("Detail Address", "Additional address information", "House Name or Number")
        if name == "Address Line 1"
        else ()
        if name == "Address Line 2"
        else (name,)
    )
)
LAYOUTS = {"us_2026": HEADER_2026, "us_2025": HEADER_2025, "us_2024": HEADER_2024}
# Columns whose values TikTok ends with a tab (§0).
TABBED = frozenset(
    {"Order ID", "SKU ID", "Product ID", "Package ID", "Zipcode", "Created Time", "Paid Time",
     "RTS Time", "Shipped Time", "Delivered Time", "Cancelled Time"}
)  # fmt: skip
DESCRIPTIONS = {
    "Order ID": "Platform unique order ID.",
    "Seller SKU": "Seller sku input by the seller in the product system.",
    "SKU Subtotal Before Discount": "It equals to SKU Unit Original Price * Sku Quantity.",
    "SKU Platform Discount": "Total platform discount in this SKU ID.",
}
MONEY_COLUMNS = frozenset(
    {"SKU Unit Original Price", "SKU Subtotal Before Discount", "SKU Platform Discount",
     "SKU Seller Discount", "SKU Subtotal After Discount", "Shipping Fee After Discount",
     "Original Shipping Fee", "Shipping Fee Seller Discount", "Co-Funded Shipping Fee Discount",
     "Shipping Fee Platform Discount", "Payment platform discount", "Retail Delivery Fee",
     "Taxes", "Order Amount", "Order Refund Amount"}
)  # fmt: skip
# API status → Seller Center's Order Status / Order Substatus (§1e; "On hold" UNCONFIRMED).
STATUS_TEXT = {
    "UNPAID": ("Unpaid", "Unpaid"),
    "ON_HOLD": ("On hold", "On hold"),
    "AWAITING_SHIPMENT": ("To ship", "Awaiting shipment"),
    "PARTIALLY_SHIPPING": ("To ship", "Partially shipped"),
    "AWAITING_COLLECTION": ("To ship", "Awaiting collection"),
    "IN_TRANSIT": ("Shipped", "In transit"),
    "DELIVERED": ("Shipped", "Delivered"),
    "COMPLETED": ("Completed", "Completed"),
    "CANCELLED": ("Canceled", "Canceled"),
}


@dataclass(frozen=True)
class ExportStyle:
    layout: Literal["us_2026", "us_2025", "us_2024"] = "us_2026"
    byte_order_mark: bool = True
    trailing_tabs: bool = True
    description_row: bool = False
    dollar_signs: bool = False  # "$1,022.25" rather than "1022.25"


def us_time(epoch: int | None) -> str:
    """Unix seconds → ``09/15/2025 7:44:26 AM`` in Pacific time, as the US export writes it."""
    if not epoch:
        return ""
    local = datetime.fromtimestamp(epoch, UTC).astimezone(PACIFIC)
    hour = local.hour % 12 or 12
    meridiem = "AM" if local.hour < 12 else "PM"
    return f"{local:%m/%d/%Y} {hour}:{local:%M:%S} {meridiem}"


def _money_text(amount: Decimal, style: ExportStyle) -> str:
    if not style.dollar_signs:
        return money(int(amount * 100))
    return f"-${-amount:,.2f}" if amount < 0 else f"${amount:,.2f}"


def _district(address: dict[str, Any], level_name: str) -> str:
    for entry in address.get("district_info", []):
        if entry["address_level_name"] == level_name:
            return str(entry["address_name"])
    return ""


def order_rows(
    order: dict[str, Any], *, warehouse_name: str = "", creator_handle: str = ""
) -> list[dict[str, Any]]:
    """One export row per SKU of a wire order (Get Order Detail shape), keyed by column name."""
    by_sku: dict[str, list[dict[str, Any]]] = {}
    for item in order["line_items"]:
        by_sku.setdefault(item["sku_id"], []).append(item)
    payment = order["payment"]
    address = order.get("recipient_address") or {}
    status, substatus = STATUS_TEXT[order["status"]]
    state_name, city = _district(address, "State"), _district(address, "City")
    country = "United States" if address.get("postal_code") or address.get("name") else ""
    recipient = address.get("name", "")
    shipping_information = "\n".join(
        part
        for part in (
            recipient,
            address.get("phone_number", ""),
            ", ".join(p for p in (city, state_name) if p),
            address.get("postal_code", ""),
            country,
        )
        if part
    )
    cancelled = order["status"] == "CANCELLED"
    common: dict[str, Any] = {
        "Order ID": order["id"],
        "Order Status": status,
        "Order Substatus": substatus,
        "Cancelation/Return Type": "Cancel" if cancelled else "",
        "Normal or Pre-order": "Normal",
        "Shipping Fee After Discount": Decimal(payment["shipping_fee"]),
        "Original Shipping Fee": Decimal(payment["original_shipping_fee"]),
        "Shipping Fee Seller Discount": Decimal(payment["shipping_fee_seller_discount"]),
        "Co-Funded Shipping Fee Discount": Decimal(payment["shipping_fee_cofunded_discount"]),
        "Shipping Fee Platform Discount": Decimal(payment["shipping_fee_platform_discount"]),
        "Payment platform discount": Decimal("0"),
        "Retail Delivery Fee": Decimal(payment["retail_delivery_fee"]),
        "Taxes": Decimal(payment["tax"]),
        "Order Amount": Decimal(payment["total_amount"]),
        "Order Refund Amount": Decimal(payment["total_amount"]) if cancelled else Decimal("0"),
        "Created Time": us_time(order.get("create_time")),
        "Paid Time": us_time(order.get("paid_time")),
        "RTS Time": us_time(order.get("rts_time")),
        "Shipped Time": us_time(order.get("collection_time")),
        "Delivered Time": us_time(order.get("delivery_time")),
        "Cancelled Time": us_time(order.get("cancel_time")),
        "Cancel By": (order.get("cancellation_initiator") or "").title() if cancelled else "",
        "Cancel Reason": order.get("cancel_reason", "") if cancelled else "",
        "Fulfillment Type": "Fulfillment by seller"
        if order.get("fulfillment_type") == "FULFILLMENT_BY_SELLER"
        else "Fulfillment by TikTok",
        "Warehouse Name": warehouse_name,
        "Tracking ID": order.get("tracking_number", ""),
        "Delivery Option Type": "Seller Shipping"
        if order.get("shipping_type") == "SELLER"
        else "TikTok Shipping",
        "Delivery Option": order.get("delivery_option_name", ""),
        "Shipping Provider Name": order.get("shipping_provider", ""),
        "Buyer Message": order.get("buyer_message", ""),
        "Buyer Nickname": order.get("buyer_nickname", ""),
        "Buyer Username": order.get("buyer_nickname", ""),
        "Recipient": recipient,
        "Phone #": address.get("phone_number", ""),
        "Country": country,
        "State": state_name,
        "City": city,
        "Zipcode": address.get("postal_code", ""),
        "Address Line 1": address.get("address_line1", ""),
        "Address Line 2": address.get("address_line2", ""),
        "Detail Address": address.get("address_line1", ""),
        "Additional address information": address.get("address_line2", ""),
        "House Name or Number": "",
        "Delivery Instruction": "",
        "Payment Method": order.get("payment_method_name", ""),
        "Weight(kg)": "",
        "Product Category": "",
        "Package ID": (order.get("packages") or [{}])[0].get("id", ""),
        "Seller Note": "",
        "Shipping Information": shipping_information,
        "Combined Listing": "",
        "Order Channel": "LIVE" if creator_handle else "",
        "Creator Handle": creator_handle,
    }
    rows = []
    for sku_id, items in by_sku.items():
        first = items[0]
        unit = Decimal(first["original_price"])
        before = unit * len(items)
        platform = sum((Decimal(item["platform_discount"]) for item in items), Decimal("0"))
        seller = sum((Decimal(item["seller_discount"]) for item in items), Decimal("0"))
        rows.append(
            {
                **common,
                "SKU ID": sku_id,
                "Seller SKU": first["seller_sku"],
                "Product ID": first["product_id"],
                "Product Name": first["product_name"],
                "Variation": first["sku_name"],
                " Virtual Bundle Seller SKU": "",
                "Quantity": str(len(items)),
                "Sku Quantity of return": "0",
                "SKU Unit Original Price": unit,
                "SKU Subtotal Before Discount": before,
                "SKU Platform Discount": platform,
                "SKU Seller Discount": seller,
                "SKU Subtotal After Discount": before - platform - seller,
            }
        )
    return rows


def _cells(row: dict[str, Any], header: tuple[str, ...], style: ExportStyle) -> list[str]:
    cells = []
    for name in header:
        value = row.get(name, "")
        text = _money_text(value, style) if isinstance(value, Decimal) else str(value)
        if style.trailing_tabs and name in TABBED:
            text += "\t"  # an empty time cell is a lone tab (§0)
        cells.append(text)
    return cells


def write_rows(
    rows: Iterable[dict[str, Any]],
    path: Path,
    *,
    style: ExportStyle = ExportStyle(),
    file_format: Literal["csv", "xlsx"] = "csv",
) -> int:
    """Write export rows (from :func:`order_rows`) as TikTok would; returns the data rows."""
    header = LAYOUTS[style.layout]
    written = 0
    if file_format == "xlsx":
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("OrderSKUList")
        sheet.append(list(header))
        if style.description_row:
            sheet.append([DESCRIPTIONS.get(name, "") for name in header])
        for row in rows:
            sheet.append(_cells(row, header, style))
            written += 1
        workbook.save(path)
        return written
    encoding = "utf-8-sig" if style.byte_order_mark else "utf-8"
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header)
        if style.description_row:
            writer.writerow([DESCRIPTIONS.get(name, "") for name in header])
        for row in rows:
            writer.writerow(_cells(row, header, style))
            written += 1
    return written


def store_rows(
    store: Any, order_ids: Iterable[str], *, creator_handle: str = ""
) -> Iterator[dict[str, Any]]:
    """Rows of these sandbox orders as they are now, newest order first (§0)."""
    orders = sorted(
        (store.get_order(order_id) for order_id in order_ids),
        key=lambda order: (order["create_time"], order["id"]),
        reverse=True,
    )
    warehouse_names: dict[str, str] = {}
    for shop in store.shops():
        for warehouse in store.warehouses(shop.id):
            warehouse_names[warehouse.id] = warehouse.address.get("address_line1", "")
    for order in orders:
        yield from order_rows(
            order,
            warehouse_name=warehouse_names.get(order.get("warehouse_id", ""), ""),
            creator_handle=creator_handle,
        )


def write_order_export(
    store: Any,
    order_ids: Iterable[str],
    path: Path,
    *,
    style: ExportStyle = ExportStyle(),
    file_format: Literal["csv", "xlsx"] = "csv",
    creator_handle: str = "",
) -> int:
    """The order export of ``order_ids`` (as the sandbox has them now) at ``path``."""
    rows = store_rows(store, order_ids, creator_handle=creator_handle)
    return write_rows(rows, path, style=style, file_format=file_format)


def write_stream_export(
    sandbox: Any,
    plan: Any,
    path: Path,
    *,
    style: ExportStyle = ExportStyle(),
    file_format: Literal["csv", "xlsx"] = "csv",
) -> int:
    """A stream's orders, as the "All" tab exports them after (or during) the stream."""
    landed = [order.order_id for order in plan.orders]
    return write_order_export(
        sandbox.store,
        landed,
        path,
        style=style,
        file_format=file_format,
        creator_handle=plan.spec.creator_handle,
    )


# -- big files without a store -----------------------------------------------------------------

_ID_RNG = random.Random(20260306)
_CATALOG = tuple(
    (
        f"173{_ID_RNG.randrange(10**15, 10**16)}",
        f"172{_ID_RNG.randrange(10**15, 10**16)}",
        f"SKU-{index:03d}",
        Decimal(price),
    )
    for index, price in enumerate(
        ("19.99", "21.50", "44.00", "14.00", "9.99", "29.00", "12.50", "35.00", "7.25", "59.90")
    )
)
# Ids that look like TikTok's (18-19 digits, no run of zeros at the end), unique per number.
_ORDER_ID_BASE, _PACKAGE_ID_BASE, _ID_STEP = (
    576_418_230_967_115_239,
    1_154_730_912_337_486_121,
    7_919,
)


def synthetic_rows(
    orders: int, *, seed: int = 0, start: datetime | None = None
) -> Iterator[dict[str, Any]]:
    """``orders`` plausible awaiting-shipment orders (1-3 SKUs, 1-2 units each), made up on the
    fly, newest first, for files far bigger than a sandbox run: benchmarks and memory tests."""
    rng = random.Random(seed)
    first = start or datetime(2026, 3, 6, 19, 0, tzinfo=UTC)
    base = int(first.timestamp()) + orders * 2
    for number in range(orders):
        created = base - number * 2
        recipient = make_recipient(rng, AddressKind.VALID)
        items = []
        for sku_id, product_id, seller_sku, price in rng.sample(_CATALOG, rng.randint(1, 3)):
            for _ in range(rng.randint(1, 2)):
                items.append(
                    {
                        "sku_id": sku_id,
                        "product_id": product_id,
                        "seller_sku": seller_sku,
                        "product_name": f"Live deal {seller_sku}",
                        "sku_name": "Default",
                        "original_price": str(price),
                        "platform_discount": "0.00",
                        "seller_discount": "0.00",
                    }
                )
        subtotal = sum((Decimal(item["original_price"]) for item in items), Decimal("0"))
        rate = STATES[recipient.state][1]
        tax = (subtotal * rate / 100).quantize(Decimal("0.01"))
        wire = recipient.to_wire()
        order = {
            "id": str(_ORDER_ID_BASE + number * _ID_STEP),
            "status": "AWAITING_SHIPMENT",
            "create_time": created,
            "paid_time": created + 20,
            "fulfillment_type": "FULFILLMENT_BY_SELLER",
            "shipping_type": "SELLER",
            "delivery_option_name": "Standard Shipping",
            "buyer_nickname": f"buyer{number}",
            "payment_method_name": "PayPal",
            "packages": [{"id": str(_PACKAGE_ID_BASE + number * _ID_STEP)}],
            "payment": {
                "shipping_fee": "5.99",
                "original_shipping_fee": "5.99",
                "shipping_fee_seller_discount": "0.00",
                "shipping_fee_cofunded_discount": "0.00",
                "shipping_fee_platform_discount": "0.00",
                "retail_delivery_fee": "0.00",
                "tax": str(tax),
                "total_amount": str(subtotal + Decimal("5.99") + tax),
            },
            "recipient_address": wire,
            "line_items": items,
        }
        yield from order_rows(order, warehouse_name="1200 S Alameda St")


def write_synthetic_export(
    path: Path,
    *,
    orders: int,
    seed: int = 0,
    style: ExportStyle = ExportStyle(),
    file_format: Literal["csv", "xlsx"] = "csv",
) -> int:
    """A large order export written row by row (memory stays flat); returns the data rows."""
    return write_rows(synthetic_rows(orders, seed=seed), path, style=style, file_format=file_format)


__all__ = [
    "HEADER_2024",
    "HEADER_2025",
    "HEADER_2026",
    "ExportStyle",
    "order_rows",
    "store_rows",
    "synthetic_rows",
    "us_time",
    "write_order_export",
    "write_rows",
    "write_stream_export",
    "write_synthetic_export",
]
