"""A parsed file order meets what aftershow already has, and becomes an ``IncomingOrder``.

Line identity. TikTok's API sends one line per *unit*, each with its own id; the export has one
row per *SKU* with a quantity and no line id. So a file order is stored the API's way, one line
per unit, and each unit gets:

- the id of a line aftershow already has for that order and SKU (an order first seen through the
  API keeps its API line ids, so the file updates those lines and adds none), or else
- a provisional id ``file:<SKU ID>:<n>`` (n = 1…quantity), stable across re-imports.

A provisional line is adopted by the API line of the same order and SKU when the API later sends
the order (``orders_upsert``, oldest provisional line first): one line per unit either way.

Fields the export lacks (ship-by and collect-by deadlines, warehouse id, combine group, flags)
keep what aftershow has; a file-only order gets an estimated ship-by deadline.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any

from aftershow.imports.models import ReturnSource
from aftershow.imports.orders import FileOrder, SkuRow
from aftershow.imports.values import ZERO, split_cents
from aftershow.orders.models import Order, OrderLine, PlatformStatus
from aftershow.orders.services import PROVISIONAL_LINE_PREFIX
from aftershow.orders.types import IncomingLine, IncomingOrder

__all__ = [
    "PROVISIONAL_LINE_PREFIX",
    "line_values",
    "order_returns",
    "order_values",
    "stored_state",
    "to_incoming",
]
# Buyers known only by their TikTok username (the export has no user id): a separate key space.
BUYER_USERNAME_PREFIX = "username:"
# The export has no ship-by deadline; a file-only order gets TikTok US's default handling time
# after payment (the API's rts_sla_time replaces it as soon as the API sees the order).
FILE_SHIP_BY_AFTER_PAYMENT = timedelta(days=2)
# Fields the export does not carry (or carries in other words than the API): an order that
# aftershow already has keeps its own values for them.
CARRIED_OVER = (
    "ship_by",
    "collect_by",
    "shipping_due_at",
    "remote_warehouse_id",
    "auto_combine_group_id",
    "order_type",
    "is_on_hold_order",
    "is_buyer_request_cancel",
    "is_sample_order",
    "buyer_ip",
)
# Times the export may leave blank that the API may know: a blank cell keeps the stored value.
KEPT_WHEN_BLANK = ("collected_at", "delivered_at", "cancelled_at", "paid_at")


def stored_state(
    shop_id: int, order_ids: Sequence[str]
) -> tuple[dict[str, dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """What aftershow already has of these orders: carried-over fields, and their lines."""
    orders = {
        values["remote_order_id"]: values
        for values in Order.objects.filter(shop_id=shop_id, remote_order_id__in=order_ids).values(
            "id", "remote_order_id", *CARRIED_OVER, *KEPT_WHEN_BLANK, "delivery_option_name",
            "shipping_type", "fulfillment_type",
        )
    }  # fmt: skip
    lines: dict[str, list[dict[str, Any]]] = defaultdict(list)
    remote_ids = {values["id"]: remote_id for remote_id, values in orders.items()}
    for line in OrderLine.objects.filter(order_id__in=remote_ids).values(
        "order_id", "remote_line_id", "remote_sku_id", "seller_sku", "remote_product_id",
        "product_name", "sku_name", "original_price", "platform_discount", "seller_discount",
    ):  # fmt: skip
        lines[remote_ids[line["order_id"]]].append(dict(line))
    return orders, lines


def _display_status(status: str) -> str:
    # The API shows an order's lines as awaiting shipment while the order is on hold.
    return PlatformStatus.AWAITING_SHIPMENT if status == PlatformStatus.ON_HOLD else status


# Line fields a re-imported file may leave blank: the stored line keeps its value.
_KEPT_WHEN_BLANK = ("remote_product_id", "remote_sku_id", "seller_sku", "product_name", "sku_name")


def _new_unit(
    order: FileOrder,
    sku: SkuRow,
    line_id: str,
    platform_discount: Decimal,
    seller_discount: Decimal,
    display_status: str,
) -> dict[str, Any]:
    # A unit aftershow has not stored yet: everything comes from the file.
    return {
        "remote_line_id": line_id,
        "remote_product_id": sku.product_id,
        "remote_sku_id": sku.sku_id,
        "seller_sku": sku.seller_sku,
        "product_name": sku.product_name,
        "sku_name": sku.variation,
        "quantity": 1,
        "currency": order.currency,
        "original_price": sku.unit_price,
        "sale_price": sku.unit_price - platform_discount - seller_discount,
        "platform_discount": platform_discount,
        "seller_discount": seller_discount,
        "display_status": display_status,
    }


def line_values(order: FileOrder, stored: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``IncomingLine`` fields of the order's units, given the lines aftershow has."""
    by_sku: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in stored:
        key = line["remote_sku_id"] or f"sku:{line['seller_sku']}"
        by_sku[key].append(line)
    for candidates in by_sku.values():
        # API lines first (they are the real ones), then provisional ones in unit order.
        candidates.sort(
            key=lambda line: (
                line["remote_line_id"].startswith(PROVISIONAL_LINE_PREFIX),
                len(line["remote_line_id"]),
                line["remote_line_id"],
            )
        )
    taken = {line["remote_line_id"] for line in stored}
    display_status = _display_status(order.platform_status)
    lines: list[dict[str, Any]] = []
    for sku in order.skus:
        candidates = by_sku.pop(sku.key, [])[: sku.quantity] if by_sku else []
        reused = candidates if len(candidates) == sku.quantity else []
        keep_money = bool(reused) and (
            all(line["original_price"] == sku.unit_price for line in reused)
            and sum((line["platform_discount"] for line in reused), ZERO) == sku.platform_discount
            and sum((line["seller_discount"] for line in reused), ZERO) == sku.seller_discount
        )
        platform_discounts = split_cents(sku.platform_discount, sku.quantity)
        seller_discounts = split_cents(sku.seller_discount, sku.quantity)
        unit_number = 0
        for index in range(sku.quantity):
            existing = candidates[index] if index < len(candidates) else None
            if existing is None:
                while True:
                    unit_number += 1
                    line_id = f"{PROVISIONAL_LINE_PREFIX}{sku.key}:{unit_number}"[:64]
                    if line_id not in taken:
                        break
                taken.add(line_id)
                # The common case, kept free of the look-ups below.
                lines.append(
                    _new_unit(
                        order,
                        sku,
                        line_id,
                        platform_discounts[index],
                        seller_discounts[index],
                        display_status,
                    )
                )
                continue
            if keep_money:
                platform_discount = existing["platform_discount"]
                seller_discount = existing["seller_discount"]
            else:
                platform_discount, seller_discount = (
                    platform_discounts[index],
                    seller_discounts[index],
                )
            unit = _new_unit(
                order,
                sku,
                existing["remote_line_id"],
                platform_discount,
                seller_discount,
                display_status,
            )
            for name in _KEPT_WHEN_BLANK:
                unit[name] = unit[name] or existing.get(name, "")
            lines.append(unit)
    return lines


def order_values(order: FileOrder, stored: dict[str, Any] | None) -> dict[str, Any]:
    """The ``IncomingOrder`` fields of the order but its address and lines, given the stored
    order's values (``stored_state``) or None for an order aftershow does not have."""
    kept = stored or {}
    values: dict[str, Any] = {
        "ship_by": order.paid_at + FILE_SHIP_BY_AFTER_PAYMENT if order.paid_at else None,
        "collect_by": None,
        "shipping_due_at": None,
        "remote_warehouse_id": "",
        "auto_combine_group_id": "",
        "order_type": "",
        "is_on_hold_order": order.platform_status == PlatformStatus.ON_HOLD,
        "is_buyer_request_cancel": False,
        "is_sample_order": order.is_sample,
        "buyer_ip": None,
    }
    if stored is not None:
        values.update({name: stored[name] for name in CARRIED_OVER})
    times: dict[str, Any] = {
        "paid_at": order.paid_at,
        "collected_at": order.shipped_at,
        "delivered_at": order.delivered_at,
        "cancelled_at": order.cancelled_at,
    }
    for name in KEPT_WHEN_BLANK:
        if times[name] is None and kept.get(name) is not None:
            times[name] = kept[name]
    seller_discount = platform_discount = subtotal = ZERO
    for sku in order.skus:
        subtotal += sku.subtotal_after
        seller_discount += sku.seller_discount
        platform_discount += sku.platform_discount
    return {
        "remote_order_id": order.order_id,
        "platform_status": order.platform_status,
        "placed_at": order.placed_at,
        "remote_updated_at": order.remote_updated_at,
        "buyer_user_id": f"{BUYER_USERNAME_PREFIX}{order.buyer_username}"
        if order.buyer_username
        else "",
        "buyer_nickname": order.buyer_nickname,
        "currency": order.currency,
        "subtotal": subtotal,
        "shipping_fee": order.shipping_fee,
        "tax": order.tax,
        "seller_discount": seller_discount,
        "platform_discount": platform_discount,
        "total_amount": order.total_amount,
        "shipping_type": order.shipping_type or kept.get("shipping_type", ""),
        "fulfillment_type": order.fulfillment_type or kept.get("fulfillment_type", ""),
        "delivery_option_name": kept.get("delivery_option_name") or order.delivery_option_name,
        "buyer_message": order.buyer_message,
        **times,
        **values,
    }


def to_incoming(
    order: FileOrder, stored: dict[str, Any] | None, stored_lines: list[dict[str, Any]]
) -> IncomingOrder:
    """The file order in the shape every channel hands to ``orders_upsert``."""
    return IncomingOrder(
        **order_values(order, stored),
        address=order.address,
        lines=[IncomingLine(**values) for values in line_values(order, stored_lines)],
    )


def order_returns(order: FileOrder) -> list[dict[str, Any]]:
    """The export's own return columns (§1e), as return records of the order's SKUs."""
    returned: dict[str, tuple[SkuRow, int]] = {}
    for sku in order.skus:
        if sku.returned_quantity:
            previous = returned.get(sku.key)
            returned[sku.key] = (sku, sku.returned_quantity + (previous[1] if previous else 0))
    return [
        {
            "return_key": f"order|{order.order_id}|{key}"[:200],
            "source": ReturnSource.ORDER_EXPORT,
            "remote_order_id": order.order_id,
            "remote_sku_id": sku.sku_id,
            "seller_sku": sku.seller_sku,
            "product_name": sku.product_name,
            "return_type": order.return_type,
            "quantity": quantity,
            "currency": order.currency,
            "unit_price": sku.unit_price,
            "remote_updated_at": order.remote_updated_at,
        }
        for key, (sku, quantity) in returned.items()
    ]
