"""What the Amazon sandbox knows: LWA grants, listings with their fulfillment availability, orders
with their items, and the per-operation rate limiters.

Thread-safe behind one lock. Orders and items are kept in the ordersV0 shapes (``Order``,
``OrderItem``; money as ``{"CurrencyCode": "USD", "Amount": "19.99"}``, ISO 8601 dates).
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

ACCESS_TOKEN_SECONDS = 3600  # "access token lasts 1 hour"
MARKETPLACE_US = "ATVPDKIKX0DER"
# Usage plans from the models' descriptions (channel-apis.md §3.3, §3.4): rate/s, burst.
DEFAULT_RATE_LIMITS: dict[str, tuple[float, int]] = {
    "patchListingsItem": (5.0, 5),
    "getListingsItem": (5.0, 10),
    "getOrders": (0.0167, 20),
    "getOrderItems": (0.5, 30),
}


def amazon_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def money(amount: Decimal | str, currency: str = "USD") -> dict[str, str]:
    return {"CurrencyCode": currency, "Amount": str(Decimal(amount).quantize(Decimal("0.01")))}


@dataclass
class Grant:
    seller_id: str
    refresh_token: str
    access_token: str = ""
    access_expires_at: float = 0.0


@dataclass
class Listing:
    sku: str
    asin: str
    product_type: str
    title: str
    price: Decimal
    # The ``fulfillment_availability`` attribute, as the seller's patches left it.
    fulfillment_availability: list[dict[str, Any]] = field(default_factory=list)
    # Every DEFAULT (merchant-fulfilled) quantity written, in the order writes were applied.
    history: list[int] = field(default_factory=list)
    # When each of them was applied (time.monotonic()), for latency measurements.
    history_at: list[float] = field(default_factory=list)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def quantity(self) -> int | None:
        for entry in self.fulfillment_availability:
            if entry.get("fulfillment_channel_code") == "DEFAULT":
                return int(entry.get("quantity", 0))
        return None


class TokenBucket:
    """Amazon's usage plan: ``rate`` requests per second, up to ``burst`` at once. The bucket
    starts full, refills continuously, and a request finding less than one token is refused
    (and takes none)."""

    def __init__(
        self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._at = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
            self._at = now
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True


class AmazonStore:
    def __init__(self, *, seed: int = 0) -> None:
        self.lock = threading.RLock()
        self.grants_by_refresh: dict[str, Grant] = {}
        self.grants_by_access: dict[str, Grant] = {}
        self.listings: dict[tuple[str, str], Listing] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self.order_items: dict[str, list[dict[str, Any]]] = {}
        self.order_seller: dict[str, str] = {}
        # token → (ids of the query's results, offset of the next page, the "before" bound
        # echoed in answers, page size)
        self.next_tokens: dict[str, tuple[list[str], int, tuple[str, str], int]] = {}
        self.rate_limits = dict(DEFAULT_RATE_LIMITS)
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._ids = itertools.count(1_000_000 + seed * 10_000)

    # -- LWA -------------------------------------------------------------------------------

    def authorize_seller(self, seller_id: str) -> str:
        """What the seller's consent yields: a long-lived refresh token for the app."""
        with self.lock:
            grant = Grant(seller_id=seller_id, refresh_token=f"Atzr|{secrets.token_urlsafe(32)}")
            self.grants_by_refresh[grant.refresh_token] = grant
            return grant.refresh_token

    def exchange(self, refresh_token: str) -> Grant | None:
        with self.lock:
            grant = self.grants_by_refresh.get(refresh_token)
            if grant is None:
                return None
            self.grants_by_access.pop(grant.access_token, None)
            grant.access_token = f"Atza|{secrets.token_urlsafe(32)}"
            grant.access_expires_at = time.time() + ACCESS_TOKEN_SECONDS
            self.grants_by_access[grant.access_token] = grant
            return grant

    def expire_access_token(self, access_token: str) -> None:
        with self.lock:
            self.grants_by_access[access_token].access_expires_at = time.time() - 1

    def revoke(self, refresh_token: str) -> None:
        with self.lock:
            grant = self.grants_by_refresh.pop(refresh_token)
            self.grants_by_access.pop(grant.access_token, None)

    # -- rate limits -----------------------------------------------------------------------

    def bucket(self, seller_id: str, operation: str) -> TokenBucket:
        with self.lock:
            key = (seller_id, operation)
            if key not in self._buckets:
                self._buckets[key] = TokenBucket(*self.rate_limits[operation])
            return self._buckets[key]

    def set_rate_limit(self, operation: str, rate: float, burst: int) -> None:
        with self.lock:
            self.rate_limits[operation] = (rate, burst)
            for (_, name), bucket in list(self._buckets.items()):
                if name == operation:
                    bucket.rate, bucket.burst = rate, burst

    # -- listings --------------------------------------------------------------------------

    def add_listing(
        self,
        seller_id: str,
        sku: str,
        *,
        quantity: int = 0,
        price: str = "19.99",
        product_type: str = "SHIRT",
        lead_time_days: int | None = 2,
    ) -> Listing:
        with self.lock:
            entry: dict[str, Any] = {"fulfillment_channel_code": "DEFAULT", "quantity": quantity}
            if lead_time_days is not None:
                entry["lead_time_to_ship_max_days"] = lead_time_days
            listing = Listing(
                sku=sku,
                asin=f"B0{next(self._ids):08X}",
                product_type=product_type,
                title=f"Item {sku}",
                price=Decimal(price),
                fulfillment_availability=[entry],
            )
            self.listings[(seller_id, sku)] = listing
            return listing

    # -- orders ----------------------------------------------------------------------------

    def create_order(
        self,
        seller_id: str,
        *,
        lines: list[tuple[str, int]],
        status: str = "Unshipped",
        purchased_at: datetime | None = None,
        ship_to: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        with self.lock:
            now = purchased_at or datetime.now(UTC)
            number = next(self._ids)
            order_id = f"11{number % 10}-{number:07d}-{(number * 7919) % 10_000_000:07d}"
            items = []
            total = Decimal("0")
            for index, (sku, quantity) in enumerate(lines):
                listing = self.listings.get((seller_id, sku))
                unit = listing.price if listing else Decimal("10.00")
                total += unit * quantity
                items.append(
                    {
                        "ASIN": listing.asin if listing else "B000000000",
                        "SellerSKU": sku,
                        "OrderItemId": f"{number:08d}{index:06d}",
                        "Title": listing.title if listing else sku,
                        "QuantityOrdered": quantity,
                        "QuantityShipped": 0,
                        "ItemPrice": money(unit * quantity),
                        "ItemTax": money("0"),
                        "PromotionDiscount": money("0"),
                        "IsGift": "false",
                    }
                )
            order = {
                "AmazonOrderId": order_id,
                "PurchaseDate": amazon_time(now),
                "LastUpdateDate": amazon_time(now),
                "OrderStatus": status,
                "FulfillmentChannel": "MFN",
                "SalesChannel": "Amazon.com",
                "ShipServiceLevel": "Std US D2D Dom",
                "OrderTotal": money(total),
                "NumberOfItemsShipped": 0,
                "NumberOfItemsUnshipped": sum(quantity for _, quantity in lines),
                "PaymentMethod": "Other",
                "MarketplaceId": MARKETPLACE_US,
                "ShipmentServiceLevelCategory": "Standard",
                "OrderType": "StandardOrder",
                "EarliestShipDate": amazon_time(now),
                "LatestShipDate": amazon_time(now + timedelta(days=2)),
                "IsBusinessOrder": False,
                "IsPrime": False,
                "IsPremiumOrder": False,
                "IsGlobalExpressEnabled": False,
                "IsReplacementOrder": False,
                "IsSoldByAB": False,
                "IsISPU": False,
                "IsAccessPointOrder": False,
                "HasRegulatedItems": False,
                # Without a Restricted Data Token only these address parts are returned.
                "ShippingAddress": ship_to
                or {
                    "City": "SEATTLE",
                    "StateOrRegion": "WA",
                    "PostalCode": "98109-5210",
                    "CountryCode": "US",
                },
            }
            self.orders[order_id] = order
            self.order_items[order_id] = items
            self.order_seller[order_id] = seller_id
            return order

    def update_order(
        self, order_id: str, *, modified_at: datetime | None = None, **changes: Any
    ) -> dict[str, Any]:
        with self.lock:
            order = self.orders[order_id]
            order.update(changes)
            order["LastUpdateDate"] = amazon_time(modified_at or datetime.now(UTC))
            return order
