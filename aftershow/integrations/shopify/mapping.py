"""Shopify payloads ⇄ aftershow's channel-neutral types.

Orders arrive two ways and must map to the same :class:`IncomingOrder`, so a webhook followed
by a poll of the same order changes nothing: as Admin GraphQL ``Order`` nodes (the poll;
UTC timestamps, global ids, money bags) and as the REST order JSON of the ``orders/*``
webhooks (shop-time offsets, numeric ids, money strings). Ids are global ids throughout
(``gid://shopify/ProductVariant/…``); a line's ``remote_sku_id`` is its variant, which is what
``ChannelListing.remote_sku_id`` holds for Shopify. Line quantities above one are kept as
they are; prices are per unit, a line's discount is spread over its units.
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


def gid(kind: str, number: int | str) -> str:
    return f"gid://shopify/{kind}/{number}"


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value).astimezone(UTC) if value else None


def _state_code(value: str | None) -> str:
    value = (value or "").strip()
    return value.upper() if len(value) <= 3 else ""


def platform_status(*, financial: str, fulfillment: str, cancelled: bool) -> str:
    """One rule for both shapes; statuses are compared upper-case (REST sends lower-case)."""
    financial, fulfillment = financial.upper(), fulfillment.upper()
    if cancelled or financial in ("VOIDED", "REFUNDED"):
        return PlatformStatus.CANCELLED
    if fulfillment == "FULFILLED":
        return PlatformStatus.IN_TRANSIT
    if fulfillment in ("PARTIALLY_FULFILLED", "PARTIAL"):
        return PlatformStatus.PARTIALLY_SHIPPING
    if fulfillment == "ON_HOLD":
        return PlatformStatus.ON_HOLD
    if financial in ("PENDING", "EXPIRED"):
        return PlatformStatus.UNPAID
    return PlatformStatus.AWAITING_SHIPMENT


def _line(
    *,
    line_id: str,
    product_id: str,
    variant_id: str,
    sku: str,
    title: str,
    variant_title: str,
    quantity: int,
    currency: str,
    unit_price: str,
    line_discount: str,
) -> IncomingLine:
    original = parse_amount(unit_price)
    discount = parse_amount(Decimal(line_discount or "0") / quantity) if quantity else Decimal()
    return IncomingLine(
        remote_line_id=line_id,
        remote_product_id=product_id,
        remote_sku_id=variant_id,
        seller_sku=sku,
        product_name=title[:255],
        sku_name=variant_title if variant_title != "Default Title" else "",
        quantity=quantity,
        currency=currency,
        original_price=original,
        sale_price=original - discount,
        platform_discount=Decimal("0.00"),
        seller_discount=discount,
        display_status="",
    )


# -- inventory --------------------------------------------------------------------------------


def quantity_input(
    update: QuantityUpdate, *, inventory_item_id: str, location_id: str
) -> dict[str, object]:
    """An ``InventoryQuantityInput``: ``changeFromQuantity`` is always sent (mandatory since
    2026-04); null opts out of the compare-and-set."""
    return {
        "inventoryItemId": inventory_item_id,
        "locationId": location_id,
        "quantity": update.quantity,
        "changeFromQuantity": update.compare_quantity,
    }


class InventoryQuantity(_Model):
    name: str
    quantity: int


class InventoryLevel(_Model):
    quantities: list[InventoryQuantity] = Field(default_factory=list)


class InventoryItem(_Model):
    id: str
    inventoryLevel: InventoryLevel | None = None


class VariantNode(_Model):
    id: str
    sku: str | None = None
    inventoryItem: InventoryItem

    @property
    def available(self) -> int | None:
        level = self.inventoryItem.inventoryLevel
        if level is None:
            return None
        return next((q.quantity for q in level.quantities if q.name == "available"), None)


class UserError(_Model):
    code: str | None = None
    field: list[str] | None = None
    message: str = ""

    @property
    def index(self) -> int | None:
        """The position in ``input.quantities`` this error is about, if any."""
        parts = self.field or []
        if len(parts) >= 3 and parts[:2] == ["input", "quantities"] and parts[2].isdigit():
            return int(parts[2])
        return None


class SetQuantitiesPayload(_Model):
    userErrors: list[UserError] = Field(default_factory=list)


# -- orders: GraphQL --------------------------------------------------------------------------


class Money(_Model):
    amount: str = "0"
    currencyCode: str = "USD"


class MoneyBag(_Model):
    shopMoney: Money = Field(default_factory=Money)


class Ref(_Model):
    id: str


class MailingAddress(_Model):
    name: str | None = None
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    provinceCode: str | None = None
    zip: str | None = None
    countryCodeV2: str | None = None
    phone: str | None = None


class LineItemNode(_Model):
    id: str
    title: str = ""
    variantTitle: str | None = None
    sku: str | None = None
    quantity: int
    variant: Ref | None = None
    product: Ref | None = None
    originalUnitPriceSet: MoneyBag = Field(default_factory=MoneyBag)
    totalDiscountSet: MoneyBag = Field(default_factory=MoneyBag)


class PageInfo(_Model):
    hasNextPage: bool = False
    endCursor: str | None = None


class LineItemConnection(_Model):
    nodes: list[LineItemNode] = Field(default_factory=list)
    pageInfo: PageInfo = Field(default_factory=PageInfo)


class OrderNode(_Model):
    id: str
    name: str = ""
    createdAt: str
    updatedAt: str
    cancelledAt: str | None = None
    displayFinancialStatus: str | None = None
    displayFulfillmentStatus: str = "UNFULFILLED"
    currencyCode: str = "USD"
    subtotalPriceSet: MoneyBag | None = None
    totalPriceSet: MoneyBag = Field(default_factory=MoneyBag)
    totalTaxSet: MoneyBag | None = None
    totalShippingPriceSet: MoneyBag = Field(default_factory=MoneyBag)
    totalDiscountsSet: MoneyBag | None = None
    customer: Ref | None = None
    shippingAddress: MailingAddress | None = None
    lineItems: LineItemConnection = Field(default_factory=LineItemConnection)


class OrderConnection(_Model):
    nodes: list[OrderNode] = Field(default_factory=list)
    pageInfo: PageInfo = Field(default_factory=PageInfo)


def _bag(value: MoneyBag | None) -> Decimal:
    return parse_amount(value.shopMoney.amount) if value else Decimal("0.00")


def order_from_graphql(node: OrderNode, lines: list[LineItemNode]) -> IncomingOrder:
    """``lines``: every line of the order (the node's first page and any further pages)."""
    placed_at, updated_at = parse_time(node.createdAt), parse_time(node.updatedAt)
    assert placed_at is not None and updated_at is not None
    address = node.shippingAddress or MailingAddress()
    return IncomingOrder(
        remote_order_id=node.id,
        platform_status=platform_status(
            financial=node.displayFinancialStatus or "",
            fulfillment=node.displayFulfillmentStatus,
            cancelled=node.cancelledAt is not None,
        ),
        placed_at=placed_at,
        remote_updated_at=updated_at,
        cancelled_at=parse_time(node.cancelledAt),
        buyer_user_id=node.customer.id if node.customer else "",
        buyer_nickname="",
        address=IncomingAddress(
            name=address.name or "",
            phone=address.phone or "",
            line1=address.address1 or "",
            line2=address.address2 or "",
            city=address.city or "",
            state=_state_code(address.provinceCode),
            postal_code=address.zip or "",
            country=address.countryCodeV2 or "US",
        ),
        lines=[
            _line(
                line_id=line.id,
                product_id=line.product.id if line.product else "",
                variant_id=line.variant.id if line.variant else "",
                sku=line.sku or "",
                title=line.title,
                variant_title=line.variantTitle or "",
                quantity=line.quantity,
                currency=line.originalUnitPriceSet.shopMoney.currencyCode,
                unit_price=line.originalUnitPriceSet.shopMoney.amount,
                line_discount=line.totalDiscountSet.shopMoney.amount,
            )
            for line in lines
        ],
        currency=node.currencyCode,
        subtotal=_bag(node.subtotalPriceSet),
        shipping_fee=_bag(node.totalShippingPriceSet),
        tax=_bag(node.totalTaxSet),
        seller_discount=_bag(node.totalDiscountsSet),
        platform_discount=Decimal("0.00"),
        total_amount=_bag(node.totalPriceSet),
        shipping_type="SELLER",
    )


# -- orders: REST webhook ---------------------------------------------------------------------


class RestMoney(_Model):
    amount: str = "0"


class RestMoneySet(_Model):
    shop_money: RestMoney = Field(default_factory=RestMoney)


class RestCustomer(_Model):
    id: int


class RestAddress(_Model):
    name: str | None = None
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    province_code: str | None = None
    zip: str | None = None
    country_code: str | None = None
    phone: str | None = None


class RestLineItem(_Model):
    id: int
    variant_id: int | None = None
    product_id: int | None = None
    sku: str | None = None
    title: str = ""
    variant_title: str | None = None
    quantity: int
    price: str = "0"
    total_discount: str = "0"


class WebhookOrder(_Model):
    id: int
    name: str = ""
    created_at: str
    updated_at: str
    cancelled_at: str | None = None
    financial_status: str | None = None
    fulfillment_status: str | None = None
    currency: str = "USD"
    subtotal_price: str = "0"
    total_price: str = "0"
    total_tax: str = "0"
    total_discounts: str = "0"
    total_shipping_price_set: RestMoneySet = Field(default_factory=RestMoneySet)
    customer: RestCustomer | None = None
    shipping_address: RestAddress | None = None
    line_items: list[RestLineItem] = Field(default_factory=list)


def order_from_webhook(order: WebhookOrder) -> IncomingOrder:
    placed_at, updated_at = parse_time(order.created_at), parse_time(order.updated_at)
    assert placed_at is not None and updated_at is not None
    address = order.shipping_address or RestAddress()
    return IncomingOrder(
        remote_order_id=gid("Order", order.id),
        platform_status=platform_status(
            financial=order.financial_status or "",
            fulfillment=order.fulfillment_status or "UNFULFILLED",
            cancelled=order.cancelled_at is not None,
        ),
        placed_at=placed_at,
        remote_updated_at=updated_at,
        cancelled_at=parse_time(order.cancelled_at),
        buyer_user_id=gid("Customer", order.customer.id) if order.customer else "",
        buyer_nickname="",
        address=IncomingAddress(
            name=address.name or "",
            phone=address.phone or "",
            line1=address.address1 or "",
            line2=address.address2 or "",
            city=address.city or "",
            state=_state_code(address.province_code),
            postal_code=address.zip or "",
            country=address.country_code or "US",
        ),
        lines=[
            _line(
                line_id=gid("LineItem", line.id),
                product_id=gid("Product", line.product_id) if line.product_id else "",
                variant_id=gid("ProductVariant", line.variant_id) if line.variant_id else "",
                sku=line.sku or "",
                title=line.title,
                variant_title=line.variant_title or "",
                quantity=line.quantity,
                currency=order.currency,
                unit_price=line.price,
                line_discount=line.total_discount,
            )
            for line in order.line_items
        ],
        currency=order.currency,
        subtotal=parse_amount(order.subtotal_price),
        shipping_fee=parse_amount(order.total_shipping_price_set.shop_money.amount),
        tax=parse_amount(order.total_tax),
        seller_discount=parse_amount(order.total_discounts),
        platform_discount=Decimal("0.00"),
        total_amount=parse_amount(order.total_price),
        shipping_type="SELLER",
    )
