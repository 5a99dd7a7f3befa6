"""TikTok Shop payloads ⇄ aftershow's channel-neutral types.

Field names follow the 202309 Order API models (official Node SDK
`model/order/V202309/GetOrderDetailResponseDataOrders*.ts`). Quirks handled here:
one line item per unit, city and state only in ``district_info``, money as strings, Unix-second
timestamps where 0 means unset, and ``CANCEL`` in webhooks for what the API calls ``CANCELLED``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from aftershow.core.money import parse_amount
from aftershow.core.timeutils import from_unix
from aftershow.orders.models import PlatformStatus
from aftershow.orders.types import IncomingAddress, IncomingLine, IncomingOrder


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class DistrictInfo(_Model):
    address_level: str = ""
    address_level_name: str = ""
    address_name: str = ""
    iso_code: str = ""


class RecipientAddress(_Model):
    name: str = ""
    first_name: str = ""
    last_name: str = ""
    phone_number: str = ""
    address_line1: str = ""
    address_line2: str = ""
    address_detail: str = ""
    full_address: str = ""
    postal_code: str = ""
    region_code: str = ""
    district_info: list[DistrictInfo] = Field(default_factory=list)


class Payment(_Model):
    currency: str = "USD"
    sub_total: str = "0"
    shipping_fee: str = "0"
    seller_discount: str = "0"
    platform_discount: str = "0"
    tax: str = "0"
    total_amount: str = "0"


class LineItem(_Model):
    id: str
    product_id: str = ""
    product_name: str = ""
    sku_id: str = ""
    seller_sku: str = ""
    sku_name: str = ""
    currency: str = "USD"
    original_price: str = "0"
    sale_price: str = "0"
    platform_discount: str = "0"
    seller_discount: str = "0"
    display_status: str = ""


class TikTokOrder(_Model):
    id: str
    status: str
    create_time: int
    update_time: int
    paid_time: int | None = None
    rts_sla_time: int | None = None
    tts_sla_time: int | None = None
    shipping_due_time: int | None = None
    cancel_time: int | None = None
    collection_time: int | None = None
    delivery_time: int | None = None
    user_id: str = ""
    buyer_nickname: str = ""
    buyer_message: str = ""
    shipping_type: str = ""
    fulfillment_type: str = ""
    delivery_option_name: str = ""
    warehouse_id: str = ""
    auto_combine_group_id: str = ""
    order_type: str = ""
    is_on_hold_order: bool = False
    is_buyer_request_cancel: bool = False
    is_sample_order: bool = False
    payment: Payment = Field(default_factory=Payment)
    recipient_address: RecipientAddress | None = None
    line_items: list[LineItem] = Field(default_factory=list)


class OrderSearchPage(_Model):
    orders: list[TikTokOrder] = Field(default_factory=list)
    next_page_token: str = ""
    total_count: int = 0


class OrderDetail(_Model):
    orders: list[TikTokOrder] = Field(default_factory=list)


class AuthorizedShop(_Model):
    id: str
    cipher: str
    name: str = ""
    region: str = ""
    code: str = ""
    seller_type: str = ""


class TokenPair(_Model):
    access_token: str
    access_token_expire_in: int
    refresh_token: str
    refresh_token_expire_in: int
    open_id: str = ""
    seller_name: str = ""


class WebhookOrderData(_Model):
    order_id: str
    order_status: str = ""
    update_time: int | None = None


class WebhookEnvelope(_Model):
    type: int
    tts_notification_id: str = Field(min_length=1)
    shop_id: str = Field(min_length=1)
    timestamp: int
    data: dict[str, object]


# Webhook ``type`` numbers whose ``data.order_id`` means "this order changed: fetch it again".
ORDER_EVENT_TYPES = {
    1: "ORDER_STATUS_CHANGE",
    3: "RECIPIENT_ADDRESS_UPDATE",
    11: "CANCELLATION_STATUS_CHANGE",
    12: "RETURN_STATUS_CHANGE",
}
WEBHOOK_TYPE_NAMES = {
    **ORDER_EVENT_TYPES,
    2: "REVERSE_ORDER_STATUS_UPDATE",
    4: "PACKAGE_UPDATE",
    5: "PRODUCT_STATUS_CHANGE",
    6: "SELLER_DEAUTHORIZATION",
    7: "UPCOMING_AUTHORIZATION_EXPIRATION",
    15: "PRODUCT_INFORMATION_CHANGE",
    16: "PRODUCT_CREATION",
    37: "PRODUCT_AUDIT_STATUS_CHANGE",
}

_WEBHOOK_STATUS_ALIASES = {"CANCEL": PlatformStatus.CANCELLED}


def platform_status(value: str) -> str:
    """The API's status set; webhooks say ``CANCEL`` where the API says ``CANCELLED``."""
    status = _WEBHOOK_STATUS_ALIASES.get(value, value)
    if status not in PlatformStatus.values:
        raise ValueError(f"unknown TikTok order status {value!r}")
    return status


def _district(address: RecipientAddress, level_name: str) -> DistrictInfo | None:
    for entry in address.district_info:
        if entry.address_level_name.lower() == level_name:
            return entry
    return None


def _state_code(address: RecipientAddress) -> str:
    state = _district(address, "state")
    if state is None:
        return ""
    # iso_code is "US-CA"; fall back to the name when TikTok omits the code.
    if state.iso_code and "-" in state.iso_code:
        return state.iso_code.split("-", 1)[1]
    return state.address_name


def to_incoming_address(address: RecipientAddress | None) -> IncomingAddress:
    if address is None:
        return IncomingAddress()
    city = _district(address, "city")
    name = address.name or " ".join(p for p in (address.first_name, address.last_name) if p)
    return IncomingAddress(
        name=name,
        phone=address.phone_number,
        line1=address.address_line1,
        line2=address.address_line2,
        city=city.address_name if city else "",
        state=_state_code(address),
        postal_code=address.postal_code,
        country=address.region_code or "US",
        full_address=address.full_address,
    )


def to_incoming_order(order: TikTokOrder) -> IncomingOrder:
    placed_at = from_unix(order.create_time)
    updated_at = from_unix(order.update_time) or placed_at
    if placed_at is None or updated_at is None:
        raise ValueError(f"order {order.id} has no create_time")
    return IncomingOrder(
        remote_order_id=order.id,
        platform_status=platform_status(order.status),
        placed_at=placed_at,
        remote_updated_at=updated_at,
        paid_at=from_unix(order.paid_time),
        ship_by=from_unix(order.rts_sla_time),
        collect_by=from_unix(order.tts_sla_time),
        shipping_due_at=from_unix(order.shipping_due_time),
        cancelled_at=from_unix(order.cancel_time),
        collected_at=from_unix(order.collection_time),
        delivered_at=from_unix(order.delivery_time),
        buyer_user_id=order.user_id,
        buyer_nickname=order.buyer_nickname,
        address=to_incoming_address(order.recipient_address),
        lines=[
            IncomingLine(
                remote_line_id=item.id,
                remote_product_id=item.product_id,
                remote_sku_id=item.sku_id,
                seller_sku=item.seller_sku,
                product_name=item.product_name,
                sku_name=item.sku_name,
                quantity=1,
                currency=item.currency or order.payment.currency,
                original_price=parse_amount(item.original_price),
                sale_price=parse_amount(item.sale_price),
                platform_discount=parse_amount(item.platform_discount),
                seller_discount=parse_amount(item.seller_discount),
                display_status=item.display_status,
            )
            for item in order.line_items
        ],
        currency=order.payment.currency or "USD",
        subtotal=parse_amount(order.payment.sub_total),
        shipping_fee=parse_amount(order.payment.shipping_fee),
        tax=parse_amount(order.payment.tax),
        seller_discount=parse_amount(order.payment.seller_discount),
        platform_discount=parse_amount(order.payment.platform_discount),
        total_amount=parse_amount(order.payment.total_amount),
        shipping_type=order.shipping_type,
        fulfillment_type=order.fulfillment_type,
        delivery_option_name=order.delivery_option_name,
        remote_warehouse_id=order.warehouse_id,
        auto_combine_group_id=order.auto_combine_group_id,
        order_type=order.order_type,
        is_on_hold_order=order.is_on_hold_order,
        is_buyer_request_cancel=order.is_buyer_request_cancel,
        is_sample_order=order.is_sample_order,
        buyer_message=order.buyer_message,
    )
