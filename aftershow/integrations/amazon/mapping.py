"""Amazon SP-API payloads ⇄ aftershow's channel-neutral types.

Field names follow Amazon's own models (``listingsItems_2021-08-01.json``, ``ordersV0.json``;
channel-apis.md §3). Quirks handled here: ``ItemPrice`` and ``PromotionDiscount`` are for all
units of a line, so unit prices are divided back out; an order's items come from a second
call (getOrderItems); without a Restricted Data Token the shipping address carries only city,
state, postal code and country, and there is no buyer id.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from aftershow.core.money import parse_amount
from aftershow.orders.models import PlatformStatus
from aftershow.orders.types import IncomingAddress, IncomingLine, IncomingOrder

# Merchant-fulfilled stock; ``AMAZON_NA`` and friends are FBA, which Amazon counts itself.
MERCHANT_CHANNEL = "DEFAULT"
# The product type for offer-only attributes (price, quantity): it carries
# ``fulfillment_availability`` whatever the listing's catalog product type is.
OFFER_PRODUCT_TYPE = "PRODUCT"


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class LwaToken(_Model):
    access_token: str
    expires_in: int
    token_type: str = ""
    refresh_token: str = ""


# -- listings ---------------------------------------------------------------------------------


class Issue(_Model):
    code: str = ""
    message: str = ""
    severity: str = ""


class SubmissionResponse(_Model):
    sku: str
    status: str
    submissionId: str
    issues: list[Issue] = Field(default_factory=list)


class FulfillmentAvailability(_Model):
    fulfillmentChannelCode: str
    quantity: int = 0


class ListingItem(_Model):
    sku: str
    fulfillmentAvailability: list[FulfillmentAvailability] = Field(default_factory=list)

    @property
    def merchant_quantity(self) -> int | None:
        for entry in self.fulfillmentAvailability:
            if entry.fulfillmentChannelCode == MERCHANT_CHANNEL:
                return entry.quantity
        return None


def quantity_patch(quantity: int) -> dict[str, Any]:
    """A ``ListingsItemPatchRequest`` setting the merchant-fulfilled quantity.

    ``merge`` (since 2025-06-16) rather than ``replace``: it changes ``quantity`` and keeps the
    seller's ``lead_time_to_ship_max_days`` and ``restock_date``, which a replace would drop.
    """
    return {
        "productType": OFFER_PRODUCT_TYPE,
        "patches": [
            {
                "op": "merge",
                "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": MERCHANT_CHANNEL, "quantity": quantity}],
            }
        ],
    }


# -- orders -----------------------------------------------------------------------------------


class Money(_Model):
    CurrencyCode: str = "USD"
    Amount: str = "0"


class Address(_Model):
    Name: str = ""
    AddressLine1: str = ""
    AddressLine2: str = ""
    City: str = ""
    StateOrRegion: str = ""
    PostalCode: str = ""
    CountryCode: str = "US"
    Phone: str = ""


class AmazonOrder(_Model):
    AmazonOrderId: str
    PurchaseDate: str
    LastUpdateDate: str
    OrderStatus: str
    FulfillmentChannel: str = ""
    OrderType: str = ""
    ShipServiceLevel: str = ""
    OrderTotal: Money | None = None
    LatestShipDate: str | None = None
    ShippingAddress: Address | None = None


class OrdersPage(_Model):
    Orders: list[AmazonOrder] = Field(default_factory=list)
    NextToken: str = ""


class OrdersResponse(_Model):
    payload: OrdersPage


class OrderItem(_Model):
    ASIN: str
    OrderItemId: str
    QuantityOrdered: int
    SellerSKU: str = ""
    Title: str = ""
    ItemPrice: Money | None = None
    ItemTax: Money | None = None
    ShippingPrice: Money | None = None
    ShippingTax: Money | None = None
    PromotionDiscount: Money | None = None


class OrderItemsPage(_Model):
    AmazonOrderId: str
    OrderItems: list[OrderItem] = Field(default_factory=list)
    NextToken: str = ""


class OrderItemsResponse(_Model):
    payload: OrderItemsPage


_STATUSES = {
    "Pending": PlatformStatus.UNPAID,  # payment not authorized yet
    "PendingAvailability": PlatformStatus.ON_HOLD,  # a pre-order
    "Unshipped": PlatformStatus.AWAITING_SHIPMENT,
    "InvoiceUnconfirmed": PlatformStatus.AWAITING_SHIPMENT,
    "PartiallyShipped": PlatformStatus.PARTIALLY_SHIPPING,
    "Shipped": PlatformStatus.IN_TRANSIT,
    "Canceled": PlatformStatus.CANCELLED,
    "Unfulfillable": PlatformStatus.ON_HOLD,
}


def amazon_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value).astimezone(UTC)


def _amount(money: Money | None) -> Decimal:
    return parse_amount(money.Amount) if money else Decimal("0.00")


def _per_unit(amount: Decimal, quantity: int) -> Decimal:
    return parse_amount(amount / quantity) if quantity > 0 else amount


def _state_code(value: str) -> str:
    value = value.strip()
    return value.upper() if len(value) <= 3 else ""


def to_incoming_line(item: OrderItem, currency: str) -> IncomingLine:
    original = _per_unit(_amount(item.ItemPrice), item.QuantityOrdered)
    discount = _per_unit(_amount(item.PromotionDiscount), item.QuantityOrdered)
    return IncomingLine(
        remote_line_id=item.OrderItemId,
        remote_product_id=item.ASIN,
        remote_sku_id=item.SellerSKU,
        seller_sku=item.SellerSKU,
        product_name=item.Title[:255],
        sku_name="",
        quantity=item.QuantityOrdered,
        currency=item.ItemPrice.CurrencyCode if item.ItemPrice else currency,
        original_price=original,
        sale_price=original - discount,
        platform_discount=Decimal("0.00"),
        seller_discount=discount,
        display_status="",
    )


def to_incoming_order(order: AmazonOrder, items: list[OrderItem]) -> IncomingOrder:
    placed_at = parse_time(order.PurchaseDate)
    updated_at = parse_time(order.LastUpdateDate) or placed_at
    if placed_at is None or updated_at is None:
        raise ValueError(f"Amazon order {order.AmazonOrderId} has no PurchaseDate")
    status = _STATUSES.get(order.OrderStatus)
    if status is None:
        raise ValueError(f"unknown Amazon order status {order.OrderStatus!r}")
    currency = order.OrderTotal.CurrencyCode if order.OrderTotal else "USD"
    address = order.ShippingAddress or Address()
    shipping = sum((_amount(item.ShippingPrice) for item in items), Decimal("0.00"))
    tax = sum((_amount(item.ItemTax) + _amount(item.ShippingTax) for item in items), Decimal())
    discount = sum((_amount(item.PromotionDiscount) for item in items), Decimal("0.00"))
    return IncomingOrder(
        remote_order_id=order.AmazonOrderId,
        platform_status=status,
        placed_at=placed_at,
        remote_updated_at=updated_at,
        ship_by=parse_time(order.LatestShipDate),
        buyer_user_id="",
        buyer_nickname="",
        address=IncomingAddress(
            name=address.Name,
            phone=address.Phone,
            line1=address.AddressLine1,
            line2=address.AddressLine2,
            city=address.City,
            state=_state_code(address.StateOrRegion),
            postal_code=address.PostalCode,
            country=address.CountryCode or "US",
        ),
        lines=[to_incoming_line(item, currency) for item in items],
        currency=currency,
        subtotal=sum((_amount(item.ItemPrice) for item in items), Decimal("0.00")),
        shipping_fee=shipping,
        tax=tax,
        seller_discount=discount,
        platform_discount=Decimal("0.00"),
        total_amount=_amount(order.OrderTotal),
        shipping_type="SELLER",
        delivery_option_name=order.ShipServiceLevel[:120],
    )
