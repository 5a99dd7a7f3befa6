"""Export files built in the tests, row by row, with TikTok's quirks switched on or off.

Rows are dicts keyed by TikTok's column names; ``write_export`` lays them out in one of the US
layouts through the sandbox's writer (BOM, trailing tabs, description row, ``$`` money), and
the helpers below damage a written file the ways sellers' files get damaged.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from typing import Any

from aftershow.sandbox.tiktok.exports import ExportStyle, write_rows

ORDER_ID = "576325155322950027"
SKU_BLACK = "1732943538931180236"
SKU_WHITE = "1732943538931176615"
PRODUCT_TEE = "1722027977041418518"
PACKAGE_ID = "1154603763412203371"


def order_row(order_id: str = ORDER_ID, **values: Any) -> dict[str, Any]:
    """One SKU row of a seller-shipped US order awaiting shipment; ``values`` override."""
    row: dict[str, Any] = {
        "Order ID": order_id,
        "Order Status": "To ship",
        "Order Substatus": "Awaiting shipment",
        "Cancelation/Return Type": "",
        "Normal or Pre-order": "Normal",
        "SKU ID": SKU_BLACK,
        "Seller SKU": "TEE-BLK-M",
        "Product ID": PRODUCT_TEE,
        "Product Name": "Oversized Logo Tee",
        "Variation": "Black, M",
        "Quantity": "1",
        "Sku Quantity of return": "0",
        "SKU Unit Original Price": Decimal("19.99"),
        "SKU Subtotal Before Discount": Decimal("19.99"),
        "SKU Platform Discount": Decimal("0"),
        "SKU Seller Discount": Decimal("0"),
        "SKU Subtotal After Discount": Decimal("19.99"),
        "Shipping Fee After Discount": Decimal("5.99"),
        "Original Shipping Fee": Decimal("5.99"),
        "Shipping Fee Seller Discount": Decimal("0"),
        "Co-Funded Shipping Fee Discount": Decimal("0"),
        "Shipping Fee Platform Discount": Decimal("0"),
        "Payment platform discount": Decimal("0"),
        "Retail Delivery Fee": Decimal("0"),
        "Taxes": Decimal("1.60"),
        "Order Amount": Decimal("27.58"),
        "Order Refund Amount": Decimal("0"),
        "Created Time": "03/06/2026 11:58:54 AM",
        "Paid Time": "03/06/2026 11:59:15 AM",
        "Fulfillment Type": "Fulfillment by seller",
        "Warehouse Name": "1200 S Alameda St",
        "Delivery Option Type": "Seller Shipping",
        "Delivery Option": "Standard Shipping",
        "Buyer Nickname": "Sunny",
        "Buyer Username": "sunny.days",
        "Recipient": "Olivia Smith",
        "Phone #": "(+1)2125550123",
        "Country": "United States",
        "State": "New Jersey",
        "City": "Newton",
        "Zipcode": "07860",
        "Address Line 1": "12 Main St",
        "Address Line 2": "Apt 4B",
        # The 2024 layout's names for the same two lines.
        "Detail Address": "12 Main St",
        "Additional address information": "Apt 4B",
        "Payment Method": "PayPal",
        "Package ID": PACKAGE_ID,
        "Shipping Information": "Olivia Smith\n(+1)2125550123\nNewton, New Jersey\n07860\n"
        "United States",
        "Order Channel": "LIVE",
        "Creator Handle": "mia.live",
    }
    row.update(values)
    return row


def write_export(
    path: Path, rows: list[dict[str, Any]], *, file_format: str = "csv", **style: Any
) -> Path:
    write_rows(rows, path, style=ExportStyle(**style), file_format=file_format)  # type: ignore[arg-type]
    return path


def write_table(path: Path, header: list[str], rows: list[list[str]], *, bom: bool = True) -> Path:
    """A plain CSV with any header (other marketplaces, affiliate, finance, returns files)."""
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def replace_in_file(path: Path, old: str, new: str, *, count: int = -1) -> Path:
    text = path.read_text(encoding="utf-8-sig")
    assert old in text, old
    path.write_text(text.replace(old, new, count), encoding="utf-8-sig")
    return path
