"""What a connector hands to the order services: channel-neutral, validated, typed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class IncomingAddress:
    name: str = ""
    phone: str = ""
    line1: str = ""
    line2: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = "US"
    full_address: str = ""

    @property
    def is_empty(self) -> bool:
        return not (self.line1 or self.city or self.postal_code or self.full_address)


@dataclass(frozen=True)
class IncomingLine:
    remote_line_id: str
    remote_product_id: str
    remote_sku_id: str
    seller_sku: str
    product_name: str
    sku_name: str
    quantity: int
    currency: str
    original_price: Decimal
    sale_price: Decimal
    platform_discount: Decimal
    seller_discount: Decimal
    display_status: str


@dataclass(frozen=True)
class IncomingOrder:
    remote_order_id: str
    platform_status: str
    placed_at: datetime
    remote_updated_at: datetime
    buyer_user_id: str
    buyer_nickname: str
    address: IncomingAddress
    lines: list[IncomingLine]
    currency: str
    subtotal: Decimal
    shipping_fee: Decimal
    tax: Decimal
    seller_discount: Decimal
    platform_discount: Decimal
    total_amount: Decimal
    paid_at: datetime | None = None
    ship_by: datetime | None = None
    collect_by: datetime | None = None
    shipping_due_at: datetime | None = None
    cancelled_at: datetime | None = None
    collected_at: datetime | None = None
    delivered_at: datetime | None = None
    shipping_type: str = ""
    fulfillment_type: str = ""
    delivery_option_name: str = ""
    remote_warehouse_id: str = ""
    auto_combine_group_id: str = ""
    order_type: str = ""
    is_on_hold_order: bool = False
    is_buyer_request_cancel: bool = False
    is_sample_order: bool = False
    buyer_message: str = ""
    buyer_ip: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
