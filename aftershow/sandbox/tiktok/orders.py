"""TikTok order objects (Get Order Detail / Get Order List 202309 shape) and their transitions.

Shape from the official Node SDK models ``model/order/V202309/GetOrderDetailResponseDataOrders*``
(channel-apis.md §1.6 and §8): one line item per unit, money as strings with two decimals,
Unix-second timestamps, city/state only in ``recipient_address.district_info``, and an empty
recipient while the order is ``ON_HOLD`` in its remorse window. Fields TikTok omits until they
apply (``cancel_time``, ``rts_time``, ``collection_time``, ``delivery_time``) are omitted here too.

Money is computed in integer cents (exact; taxes rounded half up per line) and rendered as
two-decimal strings. Payment arithmetic, per TikTok's field docs:
``sub_total = original_total_product_price - seller_discount - platform_discount``,
``shipping_fee = original_shipping_fee - shipping_fee_seller_discount -
shipping_fee_platform_discount``, ``total_amount = sub_total + shipping_fee + tax``, and each line
``sale_price = original_price - seller_discount - platform_discount``.
"""

from __future__ import annotations

import gc
import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .addresses import Recipient, hidden_recipient

FREE_SHIPPING_THRESHOLD = 3500  # cents
DAY = 86_400

ON_HOLD = "ON_HOLD"
AWAITING_SHIPMENT = "AWAITING_SHIPMENT"
CANCELLED = "CANCELLED"
DELIVERED = "DELIVERED"
ORDER_STATUSES = frozenset(
    {
        "UNPAID",
        ON_HOLD,
        AWAITING_SHIPMENT,
        "PARTIALLY_SHIPPING",
        "AWAITING_COLLECTION",
        "IN_TRANSIT",
        DELIVERED,
        "COMPLETED",
        CANCELLED,
    }
)
SHIPPING_TYPES = frozenset({"SELLER", "TIKTOK"})
BUYER_CANCEL_REASONS = (
    "No longer needed",
    "Ordered by mistake",
    "Found a better price elsewhere",
    "Need to change shipping address",
    "Need to change payment method",
)
PAYMENT_METHODS = ("Credit card", "Credit card", "PayPal", "Apple Pay", "Google Pay", "Klarna")


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while building thousands of small dicts (none of them cyclic).

    Generational collections otherwise rescan the whole growing store again and again, which
    doubles the time to land a 10,000-order stream. Re-enabled on exit if it was on.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def money(cents: int) -> str:
    """``1999`` → ``"19.99"`` (amounts here are never negative)."""
    return f"{cents // 100}.{cents % 100:02d}"


def to_cents(amount: Decimal | str) -> int:
    value = Decimal(str(amount)) * 100
    if value != value.to_integral_value() or value < 0:
        raise ValueError(f"{amount!r} is not a non-negative amount in whole cents")
    return int(value)


class IdFactory:
    """Unique numeric-string ids shaped like TikTok's (increasing, like its snowflake ids)."""

    # kind: (first digits, total length)
    SHAPES = {
        "order": ("576", 18),
        "line_item": ("577", 18),
        "package": ("115", 19),
        "user": ("749", 19),
        "shop": ("749", 19),
        "product": ("172", 19),
        "sku": ("173", 19),
        "warehouse": ("728", 19),
        "notification": ("731", 19),
        "return": ("403", 18),
        "combine_group": ("580", 18),
        "open_id": ("7", 19),
    }

    def __init__(self, rng: random.Random) -> None:
        self._lock = threading.Lock()
        self._next: dict[str, int] = {}
        for kind, (prefix, length) in self.SHAPES.items():
            room = 10 ** (length - len(prefix))
            self._next[kind] = int(prefix) * room + rng.randrange(room // 10, room // 2)
        self._step = random.Random(rng.random())

    def new(self, kind: str) -> str:
        with self._lock:
            value = self._next[kind]
            self._next[kind] = value + 1 + self._step.getrandbits(12)
            return str(value)


@dataclass(frozen=True)
class Buyer:
    user_id: str
    email: str
    nickname: str
    recipient: Recipient


@dataclass(frozen=True)
class LineDraft:
    """One unit; amounts in cents, discounts per unit."""

    product_id: str
    product_name: str
    sku_id: str
    seller_sku: str
    sku_name: str
    original_price: int
    seller_discount: int = 0
    platform_discount: int = 0

    @property
    def sale_price(self) -> int:
        return self.original_price - self.seller_discount - self.platform_discount


@dataclass
class OrderDraft:
    """Everything needed to build the wire object, and the ground truth behind it."""

    order_id: str
    shop_id: str
    warehouse_id: str
    buyer: Buyer
    lines: list[LineDraft]
    line_ids: list[str]
    package_id: str
    create_time: int
    paid_time: int
    shipping_type: str = "SELLER"
    auto_combine_group_id: str = ""
    buyer_message: str = ""
    payment_method_name: str = "Credit card"
    cancel_time: int | None = None  # buyer cancels in the remorse window at this instant
    cancel_reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def payment_of(lines: list[LineDraft], tax_rate_millipercent: int) -> dict[str, str]:
    original_total = sum(line.original_price for line in lines)
    seller_discount = sum(line.seller_discount for line in lines)
    platform_discount = sum(line.platform_discount for line in lines)
    sub_total = original_total - seller_discount - platform_discount
    original_shipping = 599 if len(lines) <= 2 else 799
    # Free shipping over the threshold, funded by the platform (a common US promotion).
    shipping_platform_discount = original_shipping if sub_total >= FREE_SHIPPING_THRESHOLD else 0
    shipping_fee = original_shipping - shipping_platform_discount
    product_tax = sum(line_tax(line, tax_rate_millipercent) for line in lines)
    return {
        "currency": "USD",
        "original_total_product_price": money(original_total),
        "seller_discount": money(seller_discount),
        "platform_discount": money(platform_discount),
        "sub_total": money(sub_total),
        "original_shipping_fee": money(original_shipping),
        "shipping_fee_seller_discount": money(0),
        "shipping_fee_platform_discount": money(shipping_platform_discount),
        "shipping_fee_cofunded_discount": money(0),
        "shipping_fee": money(shipping_fee),
        "product_tax": money(product_tax),
        "shipping_fee_tax": money(0),
        "tax": money(product_tax),
        "retail_delivery_fee": money(0),
        "item_insurance_tax": money(0),
        "handling_fee": money(0),
        "total_amount": money(sub_total + shipping_fee + product_tax),
    }


def line_tax(line: LineDraft, tax_rate_millipercent: int) -> int:
    """Sales tax of one unit in cents, rounded half up (rate 7.25 % = 7250 millipercent)."""
    return (line.sale_price * tax_rate_millipercent + 50_000) // 100_000


def _line_item(
    draft: OrderDraft, index: int, line: LineDraft, display_status: str, package_status: str
) -> dict[str, Any]:
    recipient = draft.buyer.recipient
    return {
        "id": draft.line_ids[index],
        "product_id": line.product_id,
        "product_name": line.product_name,
        "sku_id": line.sku_id,
        "seller_sku": line.seller_sku,
        "sku_name": line.sku_name,
        "sku_image": f"https://p16-oec-va.ibyteimg.com/tos-maliva-i-o3syd03w52-us/{line.sku_id}~tplv-o3syd03w52-origin-jpeg.jpeg",
        "sku_type": "NORMAL",
        "original_price": money(line.original_price),
        "sale_price": money(line.sale_price),
        "platform_discount": money(line.platform_discount),
        "seller_discount": money(line.seller_discount),
        "currency": "USD",
        "item_tax": [
            {
                "tax_type": "SALES_TAX",
                "tax_amount": money(line_tax(line, recipient.tax_rate_millipercent)),
                "tax_rate": recipient.tax_rate_fraction,
            },
        ],
        "display_status": display_status,
        "package_id": draft.package_id,
        "package_status": package_status,
        "tracking_number": "",
        "shipping_provider_id": "",
        "shipping_provider_name": "",
        "is_gift": False,
        "gift_retail_price": money(0),
        "is_dangerous_good": False,
        "cancel_reason": "",
        "cancel_user": "",
    }


def build_order(draft: OrderDraft) -> dict[str, Any]:
    """The order as it looks when it lands: paid, ``ON_HOLD``, recipient hidden."""
    paid = draft.paid_time
    tiktok_shipping = draft.shipping_type == "TIKTOK"
    order: dict[str, Any] = {
        "id": draft.order_id,
        "status": ON_HOLD,
        "create_time": draft.create_time,
        "update_time": paid,
        "paid_time": paid,
        "rts_sla_time": paid + 2 * DAY,
        "tts_sla_time": paid + 3 * DAY,
        "shipping_due_time": paid + 5 * DAY,
        "collection_due_time": paid + 7 * DAY,
        "cancel_order_sla_time": paid + 7 * DAY,
        "delivery_sla_time": paid + 10 * DAY,
        "delivery_due_time": paid + 30 * DAY,
        "user_id": draft.buyer.user_id,
        "buyer_email": draft.buyer.email,
        "buyer_nickname": draft.buyer.nickname,
        "buyer_message": draft.buyer_message,
        "commerce_platform": "TIKTOK_SHOP",
        "shipping_type": draft.shipping_type,
        "fulfillment_type": "FULFILLMENT_BY_SELLER",
        "delivery_type": "HOME_DELIVERY",
        "delivery_option_id": "7359159720562657056" if tiktok_shipping else "7359159720562657057",
        "delivery_option_name": "Standard Shipping" if tiktok_shipping else "Shipped by seller",
        "shipping_provider": "",
        "shipping_provider_id": "",
        "tracking_number": "",
        "warehouse_id": draft.warehouse_id,
        "auto_combine_group_id": draft.auto_combine_group_id,
        "order_type": "NORMAL",
        "is_on_hold_order": True,
        "is_buyer_request_cancel": False,
        "is_sample_order": False,
        "is_cod": False,
        "is_replacement_order": False,
        "is_exchange_order": False,
        "has_updated_recipient_address": False,
        "payment_method_name": draft.payment_method_name,
        "packages": [{"id": draft.package_id}],
        "payment": payment_of(draft.lines, draft.buyer.recipient.tax_rate_millipercent),
        "recipient_address": hidden_recipient(),
        "line_items": [
            _line_item(draft, index, line, AWAITING_SHIPMENT, "TO_FULFILL")
            for index, line in enumerate(draft.lines)
        ],
    }
    return order


def reveal_after_remorse(order: dict[str, Any], recipient: Recipient, at: int) -> None:
    """Remorse window over: ``AWAITING_SHIPMENT`` and the recipient appears."""
    order["status"] = AWAITING_SHIPMENT
    order["update_time"] = at
    order["recipient_address"] = recipient.to_wire(masked=order["shipping_type"] == "TIKTOK")


def cancel(order: dict[str, Any], *, at: int, initiator: str, reason: str) -> None:
    order["status"] = CANCELLED
    order["update_time"] = at
    order["cancel_time"] = at
    order["cancel_reason"] = reason
    order["cancellation_initiator"] = initiator
    order["is_buyer_request_cancel"] = False
    for item in order["line_items"]:
        item["display_status"] = CANCELLED
        item["package_status"] = "CANCELLED"
        item["cancel_reason"] = reason
        item["cancel_user"] = initiator


def build_delivered_order(
    draft: OrderDraft, *, shipped_at: int, delivered_at: int
) -> dict[str, Any]:
    """A past order that went all the way (history of repeat and returning buyers)."""
    order = build_order(draft)
    reveal_after_remorse(order, draft.buyer.recipient, draft.paid_time + 3600)
    tracking = f"9400{int(draft.package_id) % 10**18:018d}"
    order.update(
        {
            "status": DELIVERED,
            "update_time": delivered_at,
            "rts_time": shipped_at,
            "collection_time": shipped_at + 6 * 3600,
            "delivery_time": delivered_at,
            "shipping_provider": "USPS",
            "shipping_provider_id": "7117858858072016686",
            "tracking_number": tracking,
        }
    )
    for item in order["line_items"]:
        item.update(
            {
                "display_status": DELIVERED,
                "package_status": "COMPLETED",
                "rts_time": shipped_at,
                "tracking_number": tracking,
                "shipping_provider_id": "7117858858072016686",
                "shipping_provider_name": "USPS",
            }
        )
    return order


def build_return(
    *, return_id: str, order: dict[str, Any], created_at: int, completed_at: int, reason: str
) -> dict[str, Any]:
    """A completed buyer return (Search Returns 202309 record shape)."""
    item = order["line_items"][0]
    return {
        "return_id": return_id,
        "order_id": order["id"],
        "return_status": "RETURN_OR_REFUND_REQUEST_COMPLETE",
        "return_type": "RETURN_AND_REFUND",
        "role": "BUYER",
        "return_reason": reason,
        "return_reason_text": reason,
        "return_method": "BUYER_SHIPPED",
        "is_combined_return": False,
        "return_line_items": [
            {
                "order_line_item_id": item["id"],
                "product_name": item["product_name"],
                "seller_sku": item["seller_sku"],
                "sku_id": item["sku_id"],
            },
        ],
        "refund_amount": {"currency": "USD", "refund_total": item["sale_price"]},
        "create_time": created_at,
        "update_time": completed_at,
    }
