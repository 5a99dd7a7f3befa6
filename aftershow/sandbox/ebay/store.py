"""What the eBay sandbox knows: OAuth grants, inventory items with their offers, and orders.

Thread-safe behind one lock; the HTTP handlers and the tests' helpers both go through it.
Shapes follow the Sell Inventory and Sell Fulfillment APIs (channel-apis.md §4): an inventory
item keyed by the seller's SKU with ``shipToLocationAvailability.quantity``, offers with their
own ``availableQuantity`` (the listing shows the smaller of the two), and Fulfillment ``Order``
objects with money as ``{"value": "19.99", "currency": "USD"}``.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

SCOPE_INVENTORY = "https://api.ebay.com/oauth/api_scope/sell.inventory"
SCOPE_FULFILLMENT = "https://api.ebay.com/oauth/api_scope/sell.fulfillment"
ACCESS_TOKEN_SECONDS = 7200  # a user access token lives about two hours
# "each listing can be revised up to 250 times per calendar day" (bulkUpdatePriceQuantity).
MAX_REVISIONS_PER_DAY = 250


def ebay_time(moment: datetime) -> str:
    """eBay's timestamps: UTC, milliseconds, ``Z``."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def money(amount: Decimal | str, currency: str = "USD") -> dict[str, str]:
    return {"value": str(Decimal(amount).quantize(Decimal("0.01"))), "currency": currency}


@dataclass
class Grant:
    access_token: str
    refresh_token: str
    scopes: frozenset[str]
    access_expires_at: float


@dataclass
class InventoryItem:
    sku: str
    quantity: int
    # Every quantity written, in the order the writes were applied (for no-lost-update checks).
    history: list[int] = field(default_factory=list)
    # When each of them was applied (time.monotonic()), for latency measurements.
    history_at: list[float] = field(default_factory=list)
    revisions: dict[date, int] = field(default_factory=lambda: defaultdict(int))


@dataclass
class Offer:
    offer_id: str
    sku: str
    available_quantity: int
    price: Decimal
    currency: str = "USD"
    published: bool = True


class EbayStore:
    def __init__(self, *, seed: int = 0) -> None:
        self.lock = threading.RLock()
        self.items: dict[str, InventoryItem] = {}
        self.offers: dict[str, Offer] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self._grants_by_access: dict[str, Grant] = {}
        self._grants_by_refresh: dict[str, Grant] = {}
        self._ids = itertools.count(10_000 + seed * 1_000)

    # -- OAuth -----------------------------------------------------------------------------

    def issue_user_token(
        self,
        scopes: frozenset[str] = frozenset({SCOPE_INVENTORY, SCOPE_FULFILLMENT}),
        *,
        lifetime: float = ACCESS_TOKEN_SECONDS,
    ) -> Grant:
        """What the authorization-code grant yields once the seller consented."""
        with self.lock:
            grant = Grant(
                access_token=f"v^1.1#i^1#{secrets.token_urlsafe(24)}",
                refresh_token=f"v^1.1#r^1#{secrets.token_urlsafe(24)}",
                scopes=scopes,
                access_expires_at=time.time() + lifetime,
            )
            self._grants_by_access[grant.access_token] = grant
            self._grants_by_refresh[grant.refresh_token] = grant
            return grant

    def refresh(self, refresh_token: str, scopes: frozenset[str] | None) -> Grant | None:
        """A new access token for the same grant; the refresh token stays (eBay keeps it)."""
        with self.lock:
            grant = self._grants_by_refresh.get(refresh_token)
            if grant is None or (scopes is not None and not scopes <= grant.scopes):
                return None
            self._grants_by_access.pop(grant.access_token, None)
            grant.access_token = f"v^1.1#i^1#{secrets.token_urlsafe(24)}"
            grant.access_expires_at = time.time() + ACCESS_TOKEN_SECONDS
            self._grants_by_access[grant.access_token] = grant
            return grant

    def grant_for(self, access_token: str) -> Grant | None:
        with self.lock:
            grant = self._grants_by_access.get(access_token)
            if grant is None or grant.access_expires_at <= time.time():
                return None
            return grant

    def expire_access_token(self, access_token: str) -> None:
        with self.lock:
            self._grants_by_access[access_token].access_expires_at = time.time() - 1

    def revoke_refresh_token(self, refresh_token: str) -> None:
        with self.lock:
            grant = self._grants_by_refresh.pop(refresh_token)
            self._grants_by_access.pop(grant.access_token, None)

    # -- inventory -------------------------------------------------------------------------

    def add_item(
        self, sku: str, *, quantity: int = 0, price: str = "19.99", with_offer: bool = True
    ) -> str:
        """An inventory item and (by default) one published offer; returns the offer id."""
        with self.lock:
            self.items[sku] = InventoryItem(sku=sku, quantity=quantity)
            if not with_offer:
                return ""
            offer_id = str(next(self._ids) * 7919)
            self.offers[offer_id] = Offer(offer_id, sku, quantity, Decimal(price))
            return offer_id

    def set_quantities(
        self, *, sku: str, quantity: int | None, offers: list[tuple[str, int | None]]
    ) -> None:
        with self.lock:
            item = self.items[sku]
            if quantity is not None:
                item.quantity = quantity
                item.history.append(quantity)
                item.history_at.append(time.monotonic())
            for offer_id, available in offers:
                if available is not None:
                    self.offers[offer_id].available_quantity = available
            item.revisions[datetime.now(UTC).date()] += 1

    def revisions_today(self, sku: str) -> int:
        with self.lock:
            return self.items[sku].revisions[datetime.now(UTC).date()]

    # -- orders ----------------------------------------------------------------------------

    def create_order(
        self,
        *,
        lines: list[tuple[str, int]],
        buyer: str = "live_fan_1",
        created_at: datetime | None = None,
        ship_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A paid, checked-out order (only those appear in getOrders)."""
        with self.lock:
            now = created_at or datetime.now(UTC)
            number = next(self._ids)
            order_id = f"{number % 100:02d}-{number:05d}-{(number * 31) % 100_000:05d}"
            line_items = []
            subtotal = Decimal("0")
            for index, (sku, quantity) in enumerate(lines):
                offer = next((o for o in self.offers.values() if o.sku == sku), None)
                unit = offer.price if offer else Decimal("10.00")
                cost = unit * quantity
                subtotal += cost
                line_items.append(
                    {
                        "lineItemId": f"{number}{index:03d}",
                        "legacyItemId": f"11{number:010d}",
                        "sku": sku,
                        "title": f"Item {sku}",
                        "quantity": quantity,
                        "lineItemCost": money(cost),
                        "total": money(cost),
                        "lineItemFulfillmentStatus": "NOT_STARTED",
                        "lineItemFulfillmentInstructions": {
                            "shipByDate": ebay_time(now + timedelta(days=2)),
                            "guaranteedDelivery": False,
                        },
                    }
                )
            order = {
                "orderId": order_id,
                "legacyOrderId": order_id,
                "creationDate": ebay_time(now),
                "lastModifiedDate": ebay_time(now),
                "orderFulfillmentStatus": "NOT_STARTED",
                "orderPaymentStatus": "PAID",
                "sellerId": "aftershow_seller",
                "buyer": {"username": buyer},
                "pricingSummary": {
                    "priceSubtotal": money(subtotal),
                    "deliveryCost": money("0"),
                    "total": money(subtotal),
                },
                "cancelStatus": {"cancelState": "NONE_REQUESTED", "cancelRequests": []},
                "paymentSummary": {
                    "payments": [{"paymentDate": ebay_time(now), "paymentStatus": "PAID"}],
                    "totalDueSeller": money(subtotal),
                },
                "fulfillmentStartInstructions": [
                    {
                        "fulfillmentInstructionsType": "SHIP_TO",
                        "shippingStep": {
                            "shippingServiceCode": "USPSGroundAdvantage",
                            "shipTo": ship_to
                            or {
                                "fullName": "Jamie Buyer",
                                "contactAddress": {
                                    "addressLine1": "1 Test Way",
                                    "city": "Springfield",
                                    "stateOrProvince": "OH",
                                    "postalCode": "45501",
                                    "countryCode": "US",
                                },
                                "primaryPhone": {"phoneNumber": "5555550100"},
                            },
                        },
                    }
                ],
                "lineItems": line_items,
            }
            self.orders[order_id] = order
            return order

    def update_order(
        self, order_id: str, *, modified_at: datetime | None = None, **changes: Any
    ) -> dict[str, Any]:
        with self.lock:
            order = self.orders[order_id]
            order.update(changes)
            order["lastModifiedDate"] = ebay_time(modified_at or datetime.now(UTC))
            return order

    def cancel_order(self, order_id: str, *, modified_at: datetime | None = None) -> dict[str, Any]:
        moment = modified_at or datetime.now(UTC)
        return self.update_order(
            order_id,
            modified_at=moment,
            cancelStatus={
                "cancelState": "CANCELED",
                "cancelledDate": ebay_time(moment),
                "cancelRequests": [],
            },
        )
