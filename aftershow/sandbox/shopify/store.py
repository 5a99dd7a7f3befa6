"""What the Shopify sandbox knows: access tokens, products with variants and inventory items,
inventory levels per location, orders, idempotency keys and the cost bucket.

Thread-safe behind one lock. Ids are Shopify's global ids (``gid://shopify/ProductVariant/1``).
An order reserves stock as Shopify does: ``available`` falls and ``committed`` rises by each
line's quantity (``on_hand`` stays until fulfilment).
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

SCOPES = frozenset({"read_products", "read_inventory", "write_inventory", "read_orders"})
QUANTITY_NAMES = (
    "available",
    "on_hand",
    "committed",
    "incoming",
    "reserved",
    "damaged",
    "safety_stock",
    "quality_control",
)


def gid(kind: str, number: int) -> str:
    return f"gid://shopify/{kind}/{number}"


def gid_number(value: str, kind: str) -> int | None:
    prefix = f"gid://shopify/{kind}/"
    tail = value[len(prefix) :] if value.startswith(prefix) else ""
    return int(tail) if tail.isdigit() else None


@dataclass
class Variant:
    number: int
    product_number: int
    product_title: str
    sku: str
    title: str
    price: Decimal
    item_number: int


@dataclass
class OrderLine:
    number: int
    variant: Variant
    quantity: int
    discount: Decimal  # for the whole line


@dataclass
class Order:
    number: int
    name: str
    created_at: datetime
    updated_at: datetime
    lines: list[OrderLine]
    customer_number: int
    shipping_address: dict[str, str]
    shipping: Decimal = Decimal("0.00")
    tax: Decimal = Decimal("0.00")
    currency: str = "USD"
    financial_status: str = "PAID"
    fulfillment_status: str = "UNFULFILLED"
    cancelled_at: datetime | None = None

    @property
    def subtotal(self) -> Decimal:
        return sum(
            (line.variant.price * line.quantity - line.discount for line in self.lines), Decimal()
        )

    @property
    def discounts(self) -> Decimal:
        return sum((line.discount for line in self.lines), Decimal())

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.shipping + self.tax


@dataclass
class IdempotencyRecord:
    fingerprint: str
    done: bool = False
    payload: dict[str, Any] | None = None


class CostBucket:
    """Shopify's leaky bucket of query-cost points, per app and store."""

    def __init__(self, maximum: float = 2000.0, restore_rate: float = 100.0) -> None:
        self.maximum = maximum
        self.restore_rate = restore_rate
        self._available = maximum
        self._at = time.monotonic()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = time.monotonic()
        self._available = min(self.maximum, self._available + (now - self._at) * self.restore_rate)
        self._at = now

    def take(self, cost: int) -> bool:
        with self._lock:
            self._refill()
            if cost > self._available:
                return False
            self._available -= cost
            return True

    def refund(self, points: int) -> None:
        with self._lock:
            self._refill()
            self._available = min(self.maximum, self._available + points)

    def drain(self) -> None:
        with self._lock:
            self._refill()
            self._available = 0.0

    def status(self) -> dict[str, float]:
        with self._lock:
            self._refill()
            return {
                "maximumAvailable": self.maximum,
                "currentlyAvailable": int(self._available),
                "restoreRate": self.restore_rate,
            }


@dataclass
class Store:
    shop_domain: str
    lock: threading.RLock = field(default_factory=threading.RLock)
    tokens: dict[str, frozenset[str]] = field(default_factory=dict)
    variants: dict[int, Variant] = field(default_factory=dict)
    location_numbers: dict[int, str] = field(default_factory=lambda: {1: "Main warehouse"})
    # (item number, location number) → quantities by name
    levels: dict[tuple[int, int], dict[str, int]] = field(default_factory=dict)
    # item number → every ``available`` value set through the API, in the order applied
    history: dict[int, list[int]] = field(default_factory=dict)
    # item number → when each of them was applied (time.monotonic()), for latency measurements
    history_at: dict[int, list[float]] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    idempotency: dict[str, IdempotencyRecord] = field(default_factory=dict)
    bucket: CostBucket = field(default_factory=CostBucket)
    webhooks: dict[str, str] = field(default_factory=dict)  # topic → address
    # Writes refused for a stale changeFromQuantity (late or concurrent ones among them).
    stale_refusals: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1001))

    def next_id(self) -> int:
        return next(self._ids)

    def issue_token(self, scopes: frozenset[str] = SCOPES) -> str:
        with self.lock:
            token = f"shpat_{secrets.token_hex(16)}"
            self.tokens[token] = scopes
            return token

    def add_variant(
        self, *, product_title: str, sku: str, title: str, price: str, quantity: int
    ) -> Variant:
        with self.lock:
            variant = Variant(
                number=self.next_id() * 1_000_003,
                product_number=self.next_id() * 7_001,
                product_title=product_title,
                sku=sku,
                title=title,
                price=Decimal(price),
                item_number=self.next_id() * 39_989,
            )
            self.variants[variant.number] = variant
            level = dict.fromkeys(QUANTITY_NAMES, 0)
            level.update(available=quantity, on_hand=quantity)
            self.levels[(variant.item_number, 1)] = level
            self.history[variant.item_number] = []
            self.history_at[variant.item_number] = []
            return variant

    def variant_by_sku(self, sku: str) -> Variant:
        with self.lock:
            return next(v for v in self.variants.values() if v.sku == sku)

    def variant_by_item(self, item_number: int) -> Variant | None:
        return next((v for v in self.variants.values() if v.item_number == item_number), None)

    def create_order(
        self,
        *,
        lines: list[tuple[str, int]],
        created_at: datetime | None = None,
        discount: Decimal = Decimal("0.00"),
        shipping: Decimal = Decimal("0.00"),
    ) -> Order:
        """A paid order; it reserves its units (available falls, committed rises)."""
        with self.lock:
            # Shopify keeps whole seconds: GraphQL and webhook timestamps then agree exactly.
            moment = (created_at or datetime.now(UTC)).replace(microsecond=0)
            number = self.next_id() * 820_982_911
            order_lines = []
            for index, (sku, quantity) in enumerate(lines):
                variant = self.variant_by_sku(sku)
                order_lines.append(
                    OrderLine(
                        number=self.next_id() * 866_550_311,
                        variant=variant,
                        quantity=quantity,
                        discount=discount if index == 0 else Decimal("0.00"),
                    )
                )
                level = self.levels[(variant.item_number, 1)]
                level["available"] -= quantity
                level["committed"] += quantity
            order = Order(
                number=number,
                name=f"#{1000 + len(self.orders) + 1}",
                created_at=moment,
                updated_at=moment,
                lines=order_lines,
                customer_number=self.next_id() * 115_310_627,
                shipping_address={
                    "name": "Jamie Buyer",
                    "address1": "12 Elm St",
                    "address2": "Apt 4",
                    "city": "Springfield",
                    "province": "Ohio",
                    "province_code": "OH",
                    "zip": "45501",
                    "country": "United States",
                    "country_code": "US",
                    "phone": "+15555550100",
                },
                shipping=shipping,
            )
            self.orders[number] = order
            return order

    def cancel_order(self, number: int, *, at: datetime | None = None) -> Order:
        with self.lock:
            order = self.orders[number]
            moment = (at or datetime.now(UTC)).replace(microsecond=0)
            order.cancelled_at = moment
            order.updated_at = moment
            order.financial_status = "VOIDED"
            for line in order.lines:
                level = self.levels[(line.variant.item_number, 1)]
                level["available"] += line.quantity
                level["committed"] -= line.quantity
            return order
