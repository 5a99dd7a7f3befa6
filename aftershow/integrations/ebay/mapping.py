"""eBay Sell API payloads ⇄ aftershow's channel-neutral types.

Field names follow the Sell Inventory and Sell Fulfillment v1 contracts (channel-apis.md §4).
Quirks handled here: money is ``{"value": "19.99", "currency": "USD"}``; a line's
``lineItemCost`` is the price of all its units, so unit prices are divided back out; the
ship-by date lives on each line, not on the order; a cancelled order is told by
``cancelStatus.cancelState``, not by the fulfilment status.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from aftershow.core.money import parse_amount
from aftershow.integrations.inventory_push import QuantityUpdate
from aftershow.orders.models import PlatformStatus
from aftershow.orders.types import IncomingAddress, IncomingLine, IncomingOrder


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


# -- OAuth ------------------------------------------------------------------------------------


class AccessToken(_Model):
    access_token: str
    expires_in: int
    token_type: str = ""


# -- inventory --------------------------------------------------------------------------------


class ItemError(_Model):
    errorId: int = 0
    message: str = ""


class PriceQuantityResponse(_Model):
    sku: str
    statusCode: int
    offerId: str = ""
    errors: list[ItemError] = Field(default_factory=list)


class BulkPriceQuantityResponse(_Model):
    responses: list[PriceQuantityResponse] = Field(default_factory=list)


class ShipToLocationAvailability(_Model):
    quantity: int = 0


class Availability(_Model):
    shipToLocationAvailability: ShipToLocationAvailability = Field(
        default_factory=ShipToLocationAvailability
    )


class InventoryItem(_Model):
    sku: str
    availability: Availability = Field(default_factory=Availability)


class GetInventoryItemResponse(_Model):
    sku: str
    statusCode: int
    inventoryItem: InventoryItem | None = None


class BulkGetInventoryItemResponse(_Model):
    responses: list[GetInventoryItemResponse] = Field(default_factory=list)


def to_price_quantity(update: QuantityUpdate) -> dict[str, object]:
    """One ``requests[]`` entry: the item's total and, when we know the offer, the offer's own
    quantity too (eBay shows the smaller of the two, so both must move)."""
    entry: dict[str, object] = {
        "sku": update.remote_sku_id,
        "shipToLocationAvailability": {"quantity": update.quantity},
    }
    if update.remote_product_id:
        entry["offers"] = [
            {"offerId": update.remote_product_id, "availableQuantity": update.quantity}
        ]
    return entry


# -- orders -----------------------------------------------------------------------------------


class Amount(_Model):
    value: str = "0"
    currency: str = "USD"


class ContactAddress(_Model):
    addressLine1: str = ""
    addressLine2: str = ""
    city: str = ""
    stateOrProvince: str = ""
    postalCode: str = ""
    countryCode: str = "US"


class Phone(_Model):
    phoneNumber: str = ""


class ShipTo(_Model):
    fullName: str = ""
    contactAddress: ContactAddress = Field(default_factory=ContactAddress)
    primaryPhone: Phone = Field(default_factory=Phone)


class ShippingStep(_Model):
    shipTo: ShipTo | None = None
    shippingServiceCode: str = ""


class FulfillmentStartInstruction(_Model):
    shippingStep: ShippingStep | None = None


class LineFulfillmentInstructions(_Model):
    shipByDate: str | None = None


class AppliedPromotion(_Model):
    discountAmount: Amount = Field(default_factory=Amount)


class LineItem(_Model):
    lineItemId: str
    legacyItemId: str = ""
    sku: str = ""
    title: str = ""
    quantity: int = 1
    lineItemCost: Amount = Field(default_factory=Amount)
    lineItemFulfillmentStatus: str = ""
    lineItemFulfillmentInstructions: LineFulfillmentInstructions | None = None
    appliedPromotions: list[AppliedPromotion] = Field(default_factory=list)


class PricingSummary(_Model):
    priceSubtotal: Amount | None = None
    deliveryCost: Amount | None = None
    priceDiscount: Amount | None = None
    tax: Amount | None = None
    total: Amount | None = None


class CancelStatus(_Model):
    cancelState: str = "NONE_REQUESTED"
    cancelledDate: str | None = None


class Payment(_Model):
    paymentDate: str | None = None


class PaymentSummary(_Model):
    payments: list[Payment] = Field(default_factory=list)


class Buyer(_Model):
    username: str = ""


class EbayOrder(_Model):
    orderId: str
    creationDate: str
    lastModifiedDate: str
    orderFulfillmentStatus: str = "NOT_STARTED"
    orderPaymentStatus: str = "PAID"
    buyer: Buyer = Field(default_factory=Buyer)
    pricingSummary: PricingSummary = Field(default_factory=PricingSummary)
    cancelStatus: CancelStatus = Field(default_factory=CancelStatus)
    paymentSummary: PaymentSummary = Field(default_factory=PaymentSummary)
    fulfillmentStartInstructions: list[FulfillmentStartInstruction] = Field(default_factory=list)
    lineItems: list[LineItem] = Field(default_factory=list)


class OrderPage(_Model):
    total: int = 0
    limit: int = 0
    offset: int = 0
    orders: list[EbayOrder] = Field(default_factory=list)
    next: str = ""


def ebay_time(moment: datetime) -> str:
    """eBay's filter timestamps: UTC with milliseconds and ``Z``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value).astimezone(UTC)


def _state_code(value: str) -> str:
    """US states come as codes; anything longer is kept only in the full address."""
    value = value.strip()
    return value.upper() if len(value) <= 3 else ""


def platform_status(order: EbayOrder) -> str:
    if order.cancelStatus.cancelState == "CANCELED":
        return PlatformStatus.CANCELLED
    if order.orderPaymentStatus == "FULLY_REFUNDED" and order.orderFulfillmentStatus == (
        "NOT_STARTED"
    ):
        return PlatformStatus.CANCELLED
    if order.orderPaymentStatus in ("PENDING", "FAILED"):
        return PlatformStatus.UNPAID
    return {
        "IN_PROGRESS": PlatformStatus.PARTIALLY_SHIPPING,
        "FULFILLED": PlatformStatus.IN_TRANSIT,
    }.get(order.orderFulfillmentStatus, PlatformStatus.AWAITING_SHIPMENT)


def _per_unit(amount: Decimal, quantity: int) -> Decimal:
    return parse_amount(amount / quantity) if quantity > 0 else amount


def _address(order: EbayOrder) -> IncomingAddress:
    for instruction in order.fulfillmentStartInstructions:
        step = instruction.shippingStep
        if step is None or step.shipTo is None:
            continue
        ship_to = step.shipTo
        contact = ship_to.contactAddress
        return IncomingAddress(
            name=ship_to.fullName,
            phone=ship_to.primaryPhone.phoneNumber,
            line1=contact.addressLine1,
            line2=contact.addressLine2,
            city=contact.city,
            state=_state_code(contact.stateOrProvince),
            postal_code=contact.postalCode,
            country=contact.countryCode or "US",
            full_address=", ".join(
                part
                for part in (
                    contact.addressLine1,
                    contact.addressLine2,
                    contact.city,
                    contact.stateOrProvince,
                    contact.postalCode,
                )
                if part
            ),
        )
    return IncomingAddress()


def _amount(value: Amount | None) -> Decimal:
    return abs(parse_amount(value.value)) if value else Decimal("0.00")


def to_incoming_line(item: LineItem, currency: str) -> IncomingLine:
    original = _per_unit(parse_amount(item.lineItemCost.value), item.quantity)
    discount = _per_unit(
        sum((abs(parse_amount(p.discountAmount.value)) for p in item.appliedPromotions), Decimal()),
        item.quantity,
    )
    return IncomingLine(
        remote_line_id=item.lineItemId,
        remote_product_id=item.legacyItemId,
        remote_sku_id=item.sku,
        seller_sku=item.sku,
        product_name=item.title[:255],
        sku_name="",
        quantity=item.quantity,
        currency=item.lineItemCost.currency or currency,
        original_price=original,
        sale_price=original - discount,
        platform_discount=Decimal("0.00"),
        seller_discount=discount,
        display_status=item.lineItemFulfillmentStatus,
    )


def to_incoming_order(order: EbayOrder) -> IncomingOrder:
    placed_at = parse_time(order.creationDate)
    updated_at = parse_time(order.lastModifiedDate) or placed_at
    if placed_at is None or updated_at is None:
        raise ValueError(f"eBay order {order.orderId} has no creationDate")
    summary = order.pricingSummary
    currency = summary.total.currency if summary.total else "USD"
    ship_by_dates = [
        moment
        for item in order.lineItems
        if item.lineItemFulfillmentInstructions
        and (moment := parse_time(item.lineItemFulfillmentInstructions.shipByDate))
    ]
    payments = [p.paymentDate for p in order.paymentSummary.payments if p.paymentDate]
    return IncomingOrder(
        remote_order_id=order.orderId,
        platform_status=platform_status(order),
        placed_at=placed_at,
        remote_updated_at=updated_at,
        paid_at=parse_time(payments[0]) if payments else None,
        ship_by=min(ship_by_dates) if ship_by_dates else None,
        cancelled_at=parse_time(order.cancelStatus.cancelledDate),
        buyer_user_id=order.buyer.username,
        buyer_nickname=order.buyer.username[:120],
        address=_address(order),
        lines=[to_incoming_line(item, currency) for item in order.lineItems],
        currency=currency,
        subtotal=_amount(summary.priceSubtotal),
        shipping_fee=_amount(summary.deliveryCost),
        tax=_amount(summary.tax),
        seller_discount=_amount(summary.priceDiscount),
        platform_discount=Decimal("0.00"),
        total_amount=_amount(summary.total),
        shipping_type="SELLER",
    )
