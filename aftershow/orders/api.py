"""Orders over HTTP: the list page's filters and order as JSON, and one order with its history.

Mounted at ``/api/orders/``; authentication is the Django session (see ``aftershow.api``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema

from aftershow.orders.forms import SEARCH_MAX_LENGTH
from aftershow.orders.models import (
    Order,
    OrderLine,
    OrderState,
    OrderStatusChange,
    PlatformStatus,
)
from aftershow.orders.selectors import line_summary, order_detail_queryset, order_list_queryset

router = Router(tags=["orders"])

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class OrderListQuery(Schema):
    status: PlatformStatus | None = Field(None, description="TikTok platform status")
    shop: int | None = Field(None, description="Shop id")
    creator: int | None = Field(None, description="Creator id")
    q: str = Field(
        "",
        max_length=SEARCH_MAX_LENGTH,
        description="Exact order id, buyer nickname (any case) or seller SKU",
    )
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0)


class ShopOut(Schema):
    id: int
    name: str


class SkuCountOut(Schema):
    seller_sku: str
    quantity: int


class OrderSummaryOut(Schema):
    id: int
    remote_order_id: str
    shop: ShopOut
    platform_status: PlatformStatus
    state: OrderState
    placed_at: datetime
    ship_by: datetime | None = Field(description="Latest dispatch time; null when not set")
    buyer_nickname: str
    items_count: int
    skus: list[SkuCountOut]
    currency: str
    total_amount: Decimal
    creator: str | None = Field(description="Creator @handle credited with the order")

    @staticmethod
    def resolve_buyer_nickname(order: Order) -> str:
        return order.buyer.nickname if order.buyer else ""

    @staticmethod
    def resolve_items_count(order: Order) -> int:
        return line_summary(order.lines.all()).items

    @staticmethod
    def resolve_skus(order: Order) -> list[SkuCountOut]:
        return [
            SkuCountOut(seller_sku=sku.seller_sku, quantity=sku.quantity)
            for sku in line_summary(order.lines.all()).skus
        ]

    @staticmethod
    def resolve_creator(order: Order) -> str | None:
        return order.creator.handle if order.creator else None


class OrderPageOut(Schema):
    count: int = Field(description="Orders matching the filters, on all pages")
    limit: int
    offset: int
    items: list[OrderSummaryOut]


class AddressOut(Schema):
    name: str
    phone: str
    line1: str
    line2: str
    city: str
    state: str
    postal_code: str
    country: str


class OrderLineOut(Schema):
    id: int
    remote_line_id: str
    seller_sku: str
    product_name: str
    sku_name: str
    quantity: int
    currency: str
    original_price: Decimal
    sale_price: Decimal
    display_status: str
    creator: str | None
    commission_rate: Decimal | None = Field(description="Percent, e.g. 15.00 for 15 %")

    @staticmethod
    def resolve_creator(line: OrderLine) -> str | None:
        return line.creator.handle if line.creator else None


class StatusChangeOut(Schema):
    at: datetime
    source: str
    from_status: str
    to_status: str
    from_state: str
    to_state: str
    reason: str
    actor: str | None = Field(description="Username, when a person made the change")

    @staticmethod
    def resolve_actor(change: OrderStatusChange) -> str | None:
        return change.actor.username if change.actor else None


class OrderDetailOut(OrderSummaryOut):
    hold_reason: str
    hold_until: datetime | None
    paid_at: datetime | None
    buyer_message: str
    shipping_address: AddressOut | None
    subtotal: Decimal
    shipping_fee: Decimal
    tax: Decimal
    seller_discount: Decimal
    platform_discount: Decimal
    lines: list[OrderLineOut]
    history: list[StatusChangeOut] = Field(description="Newest first")

    @staticmethod
    def resolve_history(order: Order) -> list[OrderStatusChange]:
        return list(order.status_changes.all())


@router.get("/", response=OrderPageOut, summary="List orders, soonest ship-by deadline first")
def list_orders(request: HttpRequest, filters: Query[OrderListQuery]) -> dict[str, object]:
    orders = order_list_queryset(
        status=filters.status or "",
        shop_id=filters.shop,
        creator_id=filters.creator,
        search=filters.q,
    )
    return {
        "count": orders.count(),
        "limit": filters.limit,
        "offset": filters.offset,
        "items": list(orders[filters.offset : filters.offset + filters.limit]),
    }


@router.get("/{order_id}", response=OrderDetailOut, summary="One order with lines and history")
def get_order(request: HttpRequest, order_id: int) -> Order:
    return get_object_or_404(order_detail_queryset(), pk=order_id)
