"""Column names spelt exactly as TikTok writes them, and format detection from them.

Everything here follows ``shared/reference/seller-center-files.md`` (the section is named on each
block). TikTok's own spellings are kept on purpose, odd ones included: ``Cancelation/Return Type``
(one l) beside ``Cancelled Time`` (two), ``Sku Quantity of return``, lower-case ``Payment platform
discount``, ``Weight(kg)`` and the leading space of `` Virtual Bundle Seller SKU``. Headers are
*compared* after :func:`normalise` (trim, collapse spaces, case-fold, ``\\`` → ``/``), which
absorbs the trailing spaces of finance headers and the ``Order\\adjustment ID`` drift.

Detection looks at the header only, never at the file name (§6.1): names vary and get "(1)"
suffixes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from aftershow.imports.models import FileFormat

# -- §1 order export ---------------------------------------------------------------------------

ORDER_ID = "Order ID"
ORDER_STATUS = "Order Status"
ORDER_SUBSTATUS = "Order Substatus"
CANCELATION_RETURN_TYPE = "Cancelation/Return Type"
NORMAL_OR_PREORDER = "Normal or Pre-order"
SKU_ID = "SKU ID"
SELLER_SKU = "Seller SKU"
PRODUCT_ID = "Product ID"
PRODUCT_NAME = "Product Name"
VARIATION = "Variation"
VIRTUAL_BUNDLE_SELLER_SKU = " Virtual Bundle Seller SKU"
QUANTITY = "Quantity"
SKU_QUANTITY_OF_RETURN = "Sku Quantity of return"
SKU_UNIT_ORIGINAL_PRICE = "SKU Unit Original Price"
SKU_SUBTOTAL_BEFORE_DISCOUNT = "SKU Subtotal Before Discount"
SKU_PLATFORM_DISCOUNT = "SKU Platform Discount"
SKU_SELLER_DISCOUNT = "SKU Seller Discount"
SKU_SUBTOTAL_AFTER_DISCOUNT = "SKU Subtotal After Discount"
SHIPPING_FEE_AFTER_DISCOUNT = "Shipping Fee After Discount"
ORIGINAL_SHIPPING_FEE = "Original Shipping Fee"
SHIPPING_FEE_SELLER_DISCOUNT = "Shipping Fee Seller Discount"
COFUNDED_SHIPPING_FEE_DISCOUNT = "Co-Funded Shipping Fee Discount"
SHIPPING_FEE_PLATFORM_DISCOUNT = "Shipping Fee Platform Discount"
PAYMENT_PLATFORM_DISCOUNT = "Payment platform discount"
RETAIL_DELIVERY_FEE = "Retail Delivery Fee"
TAXES = "Taxes"
ORDER_AMOUNT = "Order Amount"
ORDER_REFUND_AMOUNT = "Order Refund Amount"
CREATED_TIME = "Created Time"
PAID_TIME = "Paid Time"
RTS_TIME = "RTS Time"
SHIPPED_TIME = "Shipped Time"
DELIVERED_TIME = "Delivered Time"
CANCELLED_TIME = "Cancelled Time"
CANCEL_BY = "Cancel By"
CANCEL_REASON = "Cancel Reason"
FULFILLMENT_TYPE = "Fulfillment Type"
WAREHOUSE_NAME = "Warehouse Name"
TRACKING_ID = "Tracking ID"
DELIVERY_OPTION_TYPE = "Delivery Option Type"
DELIVERY_OPTION = "Delivery Option"
SHIPPING_PROVIDER_NAME = "Shipping Provider Name"
BUYER_MESSAGE = "Buyer Message"
BUYER_NICKNAME = "Buyer Nickname"
BUYER_USERNAME = "Buyer Username"
RECIPIENT = "Recipient"
PHONE = "Phone #"
COUNTRY = "Country"
STATE = "State"
CITY = "City"
ZIPCODE = "Zipcode"
ADDRESS_LINE_1 = "Address Line 1"
ADDRESS_LINE_2 = "Address Line 2"
DETAIL_ADDRESS = "Detail Address"
ADDITIONAL_ADDRESS_INFORMATION = "Additional address information"
HOUSE_NAME_OR_NUMBER = "House Name or Number"
DELIVERY_INSTRUCTION = "Delivery Instruction"
PAYMENT_METHOD = "Payment Method"
WEIGHT_KG = "Weight(kg)"
PRODUCT_CATEGORY = "Product Category"
PACKAGE_ID = "Package ID"
SELLER_NOTE = "Seller Note"
SHIPPING_INFORMATION = "Shipping Information"
COMBINED_LISTING = "Combined Listing"
ORDER_CHANNEL = "Order Channel"
CREATOR_HANDLE = "Creator Handle"

# §1a: the current US layout, 63 columns in this order (real files, 2026).
US_ORDER_HEADER_2026: tuple[str, ...] = (
    ORDER_ID, ORDER_STATUS, ORDER_SUBSTATUS, CANCELATION_RETURN_TYPE, NORMAL_OR_PREORDER,
    SKU_ID, SELLER_SKU, PRODUCT_ID, PRODUCT_NAME, VARIATION, VIRTUAL_BUNDLE_SELLER_SKU, QUANTITY,
    SKU_QUANTITY_OF_RETURN, SKU_UNIT_ORIGINAL_PRICE, SKU_SUBTOTAL_BEFORE_DISCOUNT,
    SKU_PLATFORM_DISCOUNT, SKU_SELLER_DISCOUNT, SKU_SUBTOTAL_AFTER_DISCOUNT,
    SHIPPING_FEE_AFTER_DISCOUNT, ORIGINAL_SHIPPING_FEE, SHIPPING_FEE_SELLER_DISCOUNT,
    COFUNDED_SHIPPING_FEE_DISCOUNT, SHIPPING_FEE_PLATFORM_DISCOUNT, PAYMENT_PLATFORM_DISCOUNT,
    RETAIL_DELIVERY_FEE, TAXES, ORDER_AMOUNT, ORDER_REFUND_AMOUNT, CREATED_TIME, PAID_TIME,
    RTS_TIME, SHIPPED_TIME, DELIVERED_TIME, CANCELLED_TIME, CANCEL_BY, CANCEL_REASON,
    FULFILLMENT_TYPE, WAREHOUSE_NAME, TRACKING_ID, DELIVERY_OPTION_TYPE, DELIVERY_OPTION,
    SHIPPING_PROVIDER_NAME, BUYER_MESSAGE, BUYER_NICKNAME, BUYER_USERNAME, RECIPIENT, PHONE,
    COUNTRY, STATE, CITY, ZIPCODE, ADDRESS_LINE_1, ADDRESS_LINE_2, DELIVERY_INSTRUCTION,
    PAYMENT_METHOD, WEIGHT_KG, PRODUCT_CATEGORY, PACKAGE_ID, SELLER_NOTE, SHIPPING_INFORMATION,
    COMBINED_LISTING, ORDER_CHANNEL, CREATOR_HANDLE,
)  # fmt: skip

# §1b: the Sept 2025 "To ship" file, 58 columns: 1a without these five.
_ADDED_IN_2026 = (
    PRODUCT_ID,
    VIRTUAL_BUNDLE_SELLER_SKU,
    BUYER_NICKNAME,
    ORDER_CHANNEL,
    CREATOR_HANDLE,
)
US_ORDER_HEADER_2025: tuple[str, ...] = tuple(
    name for name in US_ORDER_HEADER_2026 if name not in _ADDED_IN_2026
)

# §1c: the 2024 "Completed" tab layout: no Co-Funded column, the older address block.
US_ORDER_HEADER_2024: tuple[str, ...] = (
    ORDER_ID, ORDER_STATUS, ORDER_SUBSTATUS, CANCELATION_RETURN_TYPE, NORMAL_OR_PREORDER,
    SKU_ID, SELLER_SKU, PRODUCT_NAME, VARIATION, QUANTITY, SKU_QUANTITY_OF_RETURN,
    SKU_UNIT_ORIGINAL_PRICE, SKU_SUBTOTAL_BEFORE_DISCOUNT, SKU_PLATFORM_DISCOUNT,
    SKU_SELLER_DISCOUNT, SKU_SUBTOTAL_AFTER_DISCOUNT, SHIPPING_FEE_AFTER_DISCOUNT,
    ORIGINAL_SHIPPING_FEE, SHIPPING_FEE_SELLER_DISCOUNT, SHIPPING_FEE_PLATFORM_DISCOUNT,
    PAYMENT_PLATFORM_DISCOUNT, RETAIL_DELIVERY_FEE, TAXES, ORDER_AMOUNT, ORDER_REFUND_AMOUNT,
    CREATED_TIME, PAID_TIME, RTS_TIME, SHIPPED_TIME, DELIVERED_TIME, CANCELLED_TIME, CANCEL_BY,
    CANCEL_REASON, FULFILLMENT_TYPE, WAREHOUSE_NAME, TRACKING_ID, DELIVERY_OPTION_TYPE,
    DELIVERY_OPTION, SHIPPING_PROVIDER_NAME, BUYER_MESSAGE, BUYER_USERNAME, RECIPIENT, PHONE,
    COUNTRY, STATE, CITY, ZIPCODE, DETAIL_ADDRESS, ADDITIONAL_ADDRESS_INFORMATION,
    HOUSE_NAME_OR_NUMBER, DELIVERY_INSTRUCTION, PAYMENT_METHOD, WEIGHT_KG, PRODUCT_CATEGORY,
    PACKAGE_ID, SELLER_NOTE, SHIPPING_INFORMATION,
)  # fmt: skip

# Without these the order export cannot be imported at all (§6.4: fail loudly on missing keys).
ORDER_REQUIRED = (
    ORDER_ID,
    ORDER_STATUS,
    SKU_ID,
    SELLER_SKU,
    QUANTITY,
    SKU_UNIT_ORIGINAL_PRICE,
    SKU_SUBTOTAL_AFTER_DISCOUNT,
    ORDER_AMOUNT,
    CREATED_TIME,
    PAID_TIME,
)
# The optional second row of field descriptions starts with this (§0).
DESCRIPTION_ROW_MARKER = "Platform unique order ID."

# -- §3a affiliate orders ----------------------------------------------------------------------

CREATOR_USERNAME = "Creator Username"
CONTENT_TYPE = "Content Type"
CONTENT_ID = "Content ID"
STANDARD_COMMISSION_RATE = "Standard commission rate"
EST_COMMISSION_BASE = "Est. Commission Base"
ACTUAL_COMMISSION_PAYMENT = "Actual Commission Payment"

# -- §4 finance --------------------------------------------------------------------------------

ORDER_ADJUSTMENT_ID = "Order/adjustment ID"
TOTAL_SETTLEMENT_AMOUNT = "Total settlement amount"
TOTAL_ESTIMATED_SETTLEMENT_AMOUNT = "Total estimated settlement amount"
STATEMENT_ID = "Statement ID"

# -- §5 returns --------------------------------------------------------------------------------

RETURN_ORDER_ID = "Return Order ID"
RETURN_STATUS = "Return Status"
RETURN_SUB_STATUS = "Return Sub Status"


def normalise(header: str) -> str:
    """How headers are compared: no BOM, ``\\`` as ``/``, single spaces, case-folded."""
    text = header.replace("\ufeff", "").replace("\\", "/")
    return " ".join(text.split()).casefold()


@dataclass(frozen=True)
class Detection:
    format: FileFormat
    layout: str
    region: str  # ISO country of the layout; "" when the file does not say


# §1f: sub-layout by the address block. Regions other than the US are recognised so the
# message can say what the file is, but only US layouts are imported.
_ORDER_REGION_MARKERS = (
    ("regency and city", "id", "ID"),
    ("commune", "vn", "VN"),
    ("barangay", "ph", "PH"),
    ("post town", "my", "MY"),
    ("request tax invoice", "th", "TH"),
)

# Headers of other marketplaces' order reports, to say what a wrong file is (§6.1).
FOREIGN_SIGNATURES = (
    ("Amazon", {"amazon-order-id", "purchase-date"}),
    ("Amazon", {"order-id", "order-item-id", "purchase-date"}),
    ("Shopify", {"name", "financial status", "lineitem name"}),
    ("eBay", {"sales record number", "order number"}),
    ("Walmart", {"po#", "order#"}),
    ("Etsy", {"sale date", "order id", "buyer user id"}),
)


def _at_least(names: set[str], wanted: Iterable[str], count: int) -> bool:
    return sum(normalise(name) in names for name in wanted) >= count


def detect(header: Sequence[str]) -> Detection | None:
    """The format and layout a header row belongs to, or None if it is not a TikTok export."""
    names = {normalise(cell) for cell in header if cell}
    first = normalise(header[0]) if header else ""
    if first == normalise(ORDER_ID) and _at_least(
        names,
        (
            ORDER_SUBSTATUS,
            SKU_SUBTOTAL_AFTER_DISCOUNT,
            CANCELATION_RETURN_TYPE,
            SKU_QUANTITY_OF_RETURN,
        ),
        2,
    ):
        for marker, layout, region in _ORDER_REGION_MARKERS:
            if marker in names:
                return Detection(FileFormat.ORDER_EXPORT, layout, region)
        if normalise(ADDRESS_LINE_1) in names:
            layout = "us_2026" if normalise(PRODUCT_ID) in names else "us_2025"
            return Detection(FileFormat.ORDER_EXPORT, layout, "US")
        if {normalise(DETAIL_ADDRESS), normalise(STATE)} <= names:
            return Detection(FileFormat.ORDER_EXPORT, "us_2024", "US")
        return Detection(FileFormat.ORDER_EXPORT, "unknown", "")
    if normalise(CREATOR_USERNAME) in names and _at_least(
        names,
        (STANDARD_COMMISSION_RATE, CONTENT_ID, EST_COMMISSION_BASE, ACTUAL_COMMISSION_PAYMENT),
        2,
    ):
        return Detection(FileFormat.AFFILIATE_ORDERS, "affiliate_orders", "")
    if normalise(ORDER_ADJUSTMENT_ID) in names and (
        normalise(TOTAL_SETTLEMENT_AMOUNT) in names
        or normalise(TOTAL_ESTIMATED_SETTLEMENT_AMOUNT) in names
    ):
        if normalise(STATEMENT_ID) in names:
            layout = "us_statement"
        elif normalise(TOTAL_ESTIMATED_SETTLEMENT_AMOUNT) in names:
            layout = "us_unsettled"
        else:
            layout = "order_details"
        return Detection(FileFormat.FINANCE_TRANSACTIONS, layout, "")
    if {normalise(RETURN_ORDER_ID), normalise(RETURN_STATUS), normalise(RETURN_SUB_STATUS)} <= (
        names
    ):
        return Detection(FileFormat.RETURNS, "returns", "")
    return None


def foreign_marketplace(header: Sequence[str]) -> str:
    """The other marketplace whose report this header looks like, or ""."""
    names = {normalise(cell) for cell in header if cell}
    for marketplace, signature in FOREIGN_SIGNATURES:
        if signature <= names:
            return marketplace
    return ""


class ColumnIndex:
    """Positions of the columns of one file's header, looked up by TikTok's spelling."""

    def __init__(self, header: Sequence[str]) -> None:
        self.header = list(header)
        self._positions: dict[str, int] = {}
        for position, cell in enumerate(header):
            self._positions.setdefault(normalise(cell), position)

    def get(self, *names: str) -> int | None:
        """The first of ``names`` (aliases, in order of preference) that the file has."""
        for name in names:
            position = self._positions.get(normalise(name))
            if position is not None:
                return position
        return None

    def has(self, name: str) -> bool:
        return normalise(name) in self._positions

    def missing(self, names: Iterable[str]) -> list[str]:
        return [name for name in names if not self.has(name)]

    def unknown_money_columns(self, known: Iterable[str]) -> list[tuple[str, int]]:
        known_names = {normalise(name) for name in known}
        return [
            (cell.strip(), position)
            for position, cell in enumerate(self.header)
            if cell.strip() and normalise(cell) not in known_names
        ]
