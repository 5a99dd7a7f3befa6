"""In-memory state of the sandbox: shops, products, credentials, orders, webhooks.

One re-entrant lock guards everything; order status changes are collected under the lock and
handed to the event listener (the webhook dispatcher) after it is released, so no HTTP happens
while the lock is held. Orders are kept as their wire dicts with a cached JSON encoding, which
makes a 100-order page a join of cached byte strings.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

from .addresses import AddressKind, Recipient, anonymized_email, make_recipient
from .clock import Timeline, VirtualClock
from .credentials import Credentials, TokenGrant
from .errors import invalid_param
from .orders import (
    BUYER_CANCEL_REASONS,
    CANCELLED,
    ON_HOLD,
    Buyer,
    IdFactory,
    LineDraft,
    OrderDraft,
    build_order,
    cancel,
    reveal_after_remorse,
    to_cents,
)
from .search import Snapshots, order_predicate

REMORSE_WINDOW = timedelta(hours=1)
WEBHOOK_EVENT_TYPES = frozenset(
    {
        "ORDER_STATUS_CHANGE",
        "RECIPIENT_ADDRESS_UPDATE",
        "PACKAGE_UPDATE",
        "PRODUCT_STATUS_CHANGE",
        "SELLER_DEAUTHORIZATION",
        "UPCOMING_AUTHORIZATION_EXPIRATION",
        "CANCELLATION_STATUS_CHANGE",
        "RETURN_STATUS_CHANGE",
        "NEW_CONVERSATION",
        "NEW_MESSAGE",
        "PRODUCT_INFORMATION_CHANGE",
        "PRODUCT_CREATION",
        "PRODUCT_CATEGORY_CHANGE",
        "NEW_MESSAGE_LISTENER",
        "INVOICE_STATUS_CHANGE",
        "PRODUCT_AUDIT_STATUS_CHANGE",
    }
)

T = TypeVar("T")


@dataclass
class Shop:
    id: str
    cipher: str
    name: str
    region: str
    code: str
    seller_type: str = "LOCAL"
    default_warehouse_id: str = ""

    def to_wire(self) -> dict[str, str]:
        return {
            "cipher": self.cipher,
            "code": self.code,
            "id": self.id,
            "name": self.name,
            "region": self.region,
            "seller_type": self.seller_type,
        }


@dataclass
class Warehouse:
    id: str
    shop_id: str
    name: str
    is_default: bool
    address: dict[str, Any]


@dataclass
class Sku:
    id: str
    seller_sku: str
    name: str
    price: Decimal
    weight_oz: Decimal | None
    quantity: int


@dataclass
class Product:
    id: str
    shop_id: str
    title: str
    skus: list[Sku]
    create_time: int
    update_time: int
    status: str = "ACTIVATE"


@dataclass
class StoredOrder:
    shop_id: str
    data: dict[str, Any]
    recipient: Recipient
    cached_json: bytes | None = None


@dataclass(frozen=True)
class OrderEvent:
    """An order status change, the source of an ORDER_STATUS_CHANGE webhook."""

    shop_id: str
    order_id: str
    status: str
    update_time: int


class SandboxStore:
    def __init__(self, *, clock: VirtualClock, timeline: Timeline, seed: int = 0) -> None:
        self.clock = clock
        self.timeline = timeline
        self.rng = random.Random(seed)
        self.ids = IdFactory(random.Random(seed * 7919 + 1))
        self.remorse_window = REMORSE_WINDOW
        self.on_order_event: Callable[[OrderEvent], None] | None = None
        self.credentials = Credentials(self.ids)
        self._lock = threading.RLock()
        self._shops: dict[str, Shop] = {}
        self._shops_by_cipher: dict[str, Shop] = {}
        self._warehouses: dict[str, list[Warehouse]] = {}
        self._products: dict[str, Product] = {}
        self._orders: dict[str, StoredOrder] = {}
        self._orders_by_shop: dict[str, list[str]] = {}
        self._returns: list[dict[str, Any]] = []
        self._webhooks: dict[str, dict[str, dict[str, Any]]] = {}
        self.snapshots = Snapshots()

    # -- shops, warehouses, products ------------------------------------------------------

    def create_shop(self, name: str = "Sandbox Shop", region: str = "US") -> Shop:
        with self._lock:
            alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
            cipher = "ROW_" + "".join(self.rng.choice(alphabet) for _ in range(27))
            code = f"{region}LC" + "".join(self.rng.choice(alphabet[:26]) for _ in range(6))
            shop = Shop(self.ids.new("shop"), cipher, name, region, code)
            warehouse = Warehouse(
                id=self.ids.new("warehouse"),
                shop_id=shop.id,
                name=f"{name} Warehouse",
                is_default=True,
                address={
                    "region": "United States",
                    "region_code": "US",
                    "state": "California",
                    "city": "Los Angeles",
                    "postal_code": "90021",
                    "contact_person": name,
                    "address_line1": "1200 S Alameda St",
                    "full_address": (
                        "1200 S Alameda St, Los Angeles, California, 90021, United States"
                    ),
                },
            )
            shop.default_warehouse_id = warehouse.id
            self._shops[shop.id] = shop
            self._shops_by_cipher[cipher] = shop
            self._warehouses[shop.id] = [warehouse]
            self._orders_by_shop[shop.id] = []
            self._webhooks[shop.id] = {}
            return shop

    def get_shop(self, shop_id: str) -> Shop:
        with self._lock:
            return self._shops[shop_id]

    def shops(self) -> list[Shop]:
        with self._lock:
            return list(self._shops.values())

    def shop_by_cipher(self, cipher: str) -> Shop | None:
        with self._lock:
            return self._shops_by_cipher.get(cipher)

    def warehouses(self, shop_id: str) -> list[Warehouse]:
        with self._lock:
            return list(self._warehouses[shop_id])

    def add_product(self, shop_id: str, title: str, skus: Iterable[Mapping[str, Any]]) -> Product:
        """``skus``: dicts with ``seller_sku``, ``price`` and optional ``name``, ``weight_oz``,
        ``quantity`` (default 1000)."""
        with self._lock:
            if shop_id not in self._shops:
                raise KeyError(f"unknown shop {shop_id}")
            now = self.clock.timestamp()
            product = Product(self.ids.new("product"), shop_id, title, [], now, now)
            for spec in skus:
                seller_sku = str(spec["seller_sku"])
                if self._find_sku(shop_id, seller_sku) is not None:
                    raise ValueError(f"seller_sku {seller_sku!r} already exists in shop {shop_id}")
                weight = spec.get("weight_oz")
                to_cents(str(spec["price"]))  # whole cents, not negative
                product.skus.append(
                    Sku(
                        id=self.ids.new("sku"),
                        seller_sku=seller_sku,
                        name=str(spec.get("name") or seller_sku),
                        price=Decimal(str(spec["price"])),
                        weight_oz=Decimal(str(weight)) if weight is not None else None,
                        quantity=int(spec.get("quantity", 1000)),
                    )
                )
            if not product.skus:
                raise ValueError("a product needs at least one SKU")
            self._products[product.id] = product
            return product

    def products(self, shop_id: str) -> list[Product]:
        with self._lock:
            return [p for p in self._products.values() if p.shop_id == shop_id]

    def _find_sku(self, shop_id: str, seller_sku: str) -> tuple[Product, Sku] | None:
        for product in self._products.values():
            if product.shop_id != shop_id:
                continue
            for sku in product.skus:
                if sku.seller_sku == seller_sku:
                    return product, sku
        return None

    def find_sku(self, shop_id: str, seller_sku: str) -> tuple[Product, Sku]:
        with self._lock:
            found = self._find_sku(shop_id, seller_sku)
        if found is None:
            raise KeyError(f"no SKU {seller_sku!r} in shop {shop_id}")
        return found

    # -- credentials (see credentials.py; real time, not virtual) ------------------------

    def issue_auth_code(self, shop_ids: Iterable[str] | None = None) -> str:
        """A single-use code valid 30 minutes, as the seller's authorization redirect gives."""
        return self.credentials.issue_auth_code(shop_ids)

    def issue_tokens(self, shop_ids: Iterable[str] | None = None) -> TokenGrant:
        """A fresh token pair authorized for ``shop_ids`` (None: every shop, also later ones)."""
        return self.credentials.issue_tokens(shop_ids)

    def exchange_auth_code(self, code: str) -> TokenGrant:
        return self.credentials.exchange_auth_code(code)

    def refresh(self, refresh_token: str) -> TokenGrant:
        return self.credentials.refresh(refresh_token)

    def grant_for_access_token(self, token: str) -> TokenGrant | None:
        return self.credentials.grant_for_access_token(token)

    def expire_access_token(self, token: str) -> None:
        self.credentials.expire_access_token(token)

    def expire_refresh_token(self, token: str) -> None:
        self.credentials.expire_refresh_token(token)

    # -- webhook subscriptions -------------------------------------------------------------

    def set_webhook_address(
        self, shop_id: str, address: str, event_type: str = "ORDER_STATUS_CHANGE"
    ) -> None:
        if event_type not in WEBHOOK_EVENT_TYPES:
            raise invalid_param(f"event_type {event_type!r} is not supported")
        if not address or len(address) > 255:
            raise invalid_param("address must be 1 to 255 characters")
        with self._lock:
            now = self.clock.timestamp()
            current = self._webhooks[shop_id].get(event_type)
            self._webhooks[shop_id][event_type] = {
                "address": address,
                "create_time": current["create_time"] if current else now,
                "event_type": event_type,
                "update_time": now,
            }

    def delete_webhook(self, shop_id: str, event_type: str) -> None:
        with self._lock:
            self._webhooks[shop_id].pop(event_type, None)

    def webhooks(self, shop_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(hook) for hook in self._webhooks[shop_id].values()]

    def webhook_address(self, shop_id: str, event_type: str) -> str | None:
        with self._lock:
            hook = self._webhooks.get(shop_id, {}).get(event_type)
            return hook["address"] if hook else None

    # -- orders: writes --------------------------------------------------------------------

    def insert_orders(self, drafts: Iterable[OrderDraft]) -> list[str]:
        """Land paid orders (``ON_HOLD``), schedule their remorse end and any buyer cancel."""
        events: list[OrderEvent] = []
        remorse = int(self.remorse_window.total_seconds())
        inserted: list[str] = []
        with self._lock:
            for draft in drafts:
                if draft.order_id in self._orders:
                    raise ValueError(f"order {draft.order_id} already exists")
                data = build_order(draft)
                self._orders[draft.order_id] = StoredOrder(
                    draft.shop_id, data, draft.buyer.recipient
                )
                self._orders_by_shop[draft.shop_id].append(draft.order_id)
                inserted.append(draft.order_id)
                events.append(
                    OrderEvent(draft.shop_id, draft.order_id, ON_HOLD, data["update_time"])
                )
                self.timeline.schedule(
                    draft.paid_time + remorse, partial(self._remorse_due, draft.order_id)
                )
                if draft.cancel_time is not None:
                    reason = draft.cancel_reason or BUYER_CANCEL_REASONS[0]
                    self.timeline.schedule(
                        draft.cancel_time, partial(self._buyer_cancel_due, draft.order_id, reason)
                    )
        self._emit(events)
        return inserted

    def _remorse_due(self, order_id: str, due: float) -> None:
        self.end_remorse(order_id, due)

    def _buyer_cancel_due(self, order_id: str, reason: str, due: float) -> None:
        self.cancel_order(order_id, at=due, initiator="BUYER", reason=reason)

    def insert_history(
        self,
        orders: Iterable[tuple[dict[str, Any], Recipient]],
        returns: Iterable[dict[str, Any]] = (),
    ) -> None:
        """Past orders (already delivered) and their returns; no webhooks: that was long ago."""
        with self._lock:
            for data, recipient in orders:
                if data["id"] in self._orders:
                    raise ValueError(f"order {data['id']} already exists")
                shop_id = self._shop_of_warehouse(data["warehouse_id"])
                self._orders[data["id"]] = StoredOrder(shop_id, data, recipient)
                self._orders_by_shop[shop_id].append(data["id"])
            self._returns.extend(returns)

    def _shop_of_warehouse(self, warehouse_id: str) -> str:
        for shop_id, warehouses in self._warehouses.items():
            if any(w.id == warehouse_id for w in warehouses):
                return shop_id
        raise KeyError(f"unknown warehouse {warehouse_id}")

    def end_remorse(self, order_id: str, at: float) -> bool:
        with self._lock:
            stored = self._orders[order_id]
            if stored.data["status"] != ON_HOLD:
                return False
            reveal_after_remorse(stored.data, stored.recipient, int(at))
            stored.cached_json = None
            event = OrderEvent(stored.shop_id, order_id, stored.data["status"], int(at))
        self._emit([event])
        return True

    def cancel_order(
        self,
        order_id: str,
        *,
        at: float | None = None,
        initiator: str = "BUYER",
        reason: str = BUYER_CANCEL_REASONS[0],
    ) -> bool:
        """Cancel unless already cancelled or shipped; returns whether it changed anything."""
        with self._lock:
            stored = self._orders[order_id]
            if stored.data["status"] not in (ON_HOLD, "AWAITING_SHIPMENT", "UNPAID"):
                return False
            when = int(at if at is not None else self.clock.epoch())
            cancel(stored.data, at=when, initiator=initiator, reason=reason)
            stored.cached_json = None
            event = OrderEvent(stored.shop_id, order_id, CANCELLED, when)
        self._emit([event])
        return True

    def update_order(self, order_id: str, mutate: Callable[[dict[str, Any]], None]) -> None:
        """Apply ``mutate`` to the wire dict under the lock (for future endpoints and tests)."""
        with self._lock:
            stored = self._orders[order_id]
            mutate(stored.data)
            stored.cached_json = None

    def create_order(
        self,
        shop_id: str,
        items: Mapping[str, int],
        *,
        at: datetime | None = None,
        address_kind: AddressKind = AddressKind.VALID,
        shipping_type: str = "SELLER",
        cancel_after: timedelta | None = None,
    ) -> str:
        """One paid order for ``items`` (seller_sku → quantity), outside any live stream."""
        with self._lock:
            shop = self._shops[shop_id]
            create_time = int(at.timestamp() if at else self.clock.epoch())
            lines: list[LineDraft] = []
            for seller_sku, quantity in items.items():
                product, sku = self.find_sku(shop_id, seller_sku)
                line = LineDraft(
                    product.id, product.title, sku.id, sku.seller_sku, sku.name, to_cents(sku.price)
                )
                lines.extend([line] * quantity)
            buyer = Buyer(
                user_id=self.ids.new("user"),
                email=anonymized_email(self.rng),
                nickname=f"buyer{self.rng.randrange(10**6):06d}",
                recipient=make_recipient(self.rng, address_kind),
            )
            draft = OrderDraft(
                order_id=self.ids.new("order"),
                shop_id=shop_id,
                warehouse_id=shop.default_warehouse_id,
                buyer=buyer,
                lines=lines,
                line_ids=[self.ids.new("line_item") for _ in lines],
                package_id=self.ids.new("package"),
                create_time=create_time,
                paid_time=create_time,
                shipping_type=shipping_type,
                cancel_time=(create_time + int(cancel_after.total_seconds()))
                if cancel_after is not None
                else None,
            )
        self.insert_orders([draft])
        return draft.order_id

    def _emit(self, events: list[OrderEvent]) -> None:
        listener = self.on_order_event
        if listener is None:
            return
        for event in events:
            listener(event)

    # -- orders: reads ---------------------------------------------------------------------

    def get_order(self, order_id: str) -> dict[str, Any]:
        """A deep copy of the wire object (tests and the demo read it without HTTP)."""
        with self._lock:
            order: dict[str, Any] = json.loads(self._wire(self._orders[order_id]))
            return order

    def order_count(self, shop_id: str | None = None) -> int:
        with self._lock:
            if shop_id is None:
                return len(self._orders)
            return len(self._orders_by_shop[shop_id])

    def returns(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(record) for record in self._returns]

    @staticmethod
    def _wire(stored: StoredOrder) -> bytes:
        if stored.cached_json is None:
            stored.cached_json = json.dumps(stored.data, separators=(",", ":")).encode()
        return stored.cached_json

    def orders_json(self, shop_id: str, order_ids: Iterable[str]) -> list[bytes]:
        """Encoded orders of ``shop_id`` among ``order_ids``, in request order; others absent."""
        with self._lock:
            found = []
            for order_id in order_ids:
                stored = self._orders.get(order_id)
                if stored is not None and stored.shop_id == shop_id:
                    found.append(self._wire(stored))
            return found

    def read_orders(
        self, shop_id: str, status: str, read: Callable[[dict[str, Any]], T]
    ) -> list[T]:
        """``read`` of every order of ``shop_id`` in ``status``, oldest first, under the lock and
        without copies (``read`` must neither change nor keep the order it is given)."""
        with self._lock:
            return [
                read(self._orders[order_id].data)
                for order_id in self._orders_by_shop[shop_id]
                if self._orders[order_id].data["status"] == status
            ]

    def search_orders(
        self, shop_id: str, filters: Mapping[str, Any], *, sort_field: str, descending: bool
    ) -> bytes:
        """Snapshot the ids matching ``filters`` in sort order; returns the snapshot key.

        Paging walks the snapshot, so orders that change (or move in the sort order) while a
        client pages cannot make it skip or repeat others. The orders themselves are served
        as they are when each page is read.
        """
        predicate = order_predicate(filters, now=self.clock.timestamp())
        with self._lock:
            matching = []
            for order_id in self._orders_by_shop[shop_id]:
                data = self._orders[order_id].data
                if predicate(data):
                    matching.append((data[sort_field], order_id))
        matching.sort(reverse=descending)
        return self.snapshots.remember(shop_id, "orders", [order_id for _, order_id in matching])

    def page(
        self, shop_id: str, kind: str, key: bytes, offset: int, size: int
    ) -> tuple[list[str], str, int]:
        """(ids on this page, next page token or "", total count) of a remembered search."""
        return self.snapshots.page(shop_id, kind, key, offset, size)

    def search_products(self, shop_id: str, *, seller_skus: list[str] | None = None) -> bytes:
        with self._lock:
            wanted = frozenset(seller_skus or ())
            ids = sorted(
                (
                    p.id
                    for p in self._products.values()
                    if p.shop_id == shop_id
                    and (not wanted or any(s.seller_sku in wanted for s in p.skus))
                ),
                reverse=True,
            )
        return self.snapshots.remember(shop_id, "products", ids)

    def search_returns(self, shop_id: str, filters: Mapping[str, Any]) -> bytes:
        order_ids = filters.get("order_ids")
        with self._lock:
            records = [
                r
                for r in self._returns
                if self._orders[r["order_id"]].shop_id == shop_id
                and (not order_ids or r["order_id"] in order_ids)
                and all(
                    (filters.get(f"{name}_ge") is None or r[name] >= filters[f"{name}_ge"])
                    and (filters.get(f"{name}_lt") is None or r[name] < filters[f"{name}_lt"])
                    for name in ("create_time", "update_time")
                )
            ]
            records.sort(key=lambda r: (r["create_time"], r["return_id"]))
        return self.snapshots.remember(shop_id, "returns", [r["return_id"] for r in records])

    def return_records(self, return_ids: Iterable[str]) -> list[dict[str, Any]]:
        with self._lock:
            by_id = {r["return_id"]: r for r in self._returns}
            return [json.loads(json.dumps(by_id[i])) for i in return_ids if i in by_id]

    def product(self, product_id: str) -> Product:
        with self._lock:
            return self._products[product_id]
