"""Package state of the sandbox's fulfillment endpoints, and the carrier's side of a parcel.

:class:`PackageBook` holds every package the fulfillment endpoints have touched, knows which
order holds each package, applies shipments, scans and deliveries to the order objects (lines
first, then the order's status rolled up from its lines) and publishes the resulting
``ORDER_STATUS_CHANGE`` webhooks. The endpoints themselves are in :mod:`.fulfillment`.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from .errors import ApiError, invalid_param
from .fulfillment_catalog import (
    PROVIDERS_BY_ID,
    SELLER_DELIVERY_OPTION,
    ShippingService,
    providers_for_delivery_option,
)
from .shipping_documents import DocumentHost
from .store import OrderEvent, SandboxStore

INVALID_TRACKING = 21011022
DUPLICATE_TRACKING = 21011025
SHIPPED_TWICE = 21011040
ORDER_CANCELLED = 21011041
REMORSE_WINDOW = 21011044
BUYER_CANCEL_PENDING = 21011046  # the sandbox's own code (see the docstring of .fulfillment)
TRACKING_UPDATED_ONCE = 21011050
TRACKING_UPDATE_EXPIRED = 21011051
NO_SHIPPING_DOCUMENT = 11034002

MESSAGES = {
    INVALID_TRACKING: "The shipping provider or tracking number is invalid.",
    DUPLICATE_TRACKING: "The tracking number is already used by another package.",
    SHIPPED_TWICE: "The package has already been shipped.",
    ORDER_CANCELLED: "The order has been cancelled and cannot be shipped.",
    REMORSE_WINDOW: (
        "The order is in its cancellation (remorse) window. Fulfil it after the window ends."
    ),
    BUYER_CANCEL_PENDING: "The buyer has requested cancellation. Handle the request first.",
    TRACKING_UPDATED_ONCE: "The tracking information of this package can only be updated once.",
    TRACKING_UPDATE_EXPIRED: (
        "The tracking information can only be updated within 72 hours of the first upload."
    ),
    NO_SHIPPING_DOCUMENT: "Shipping documents are only available for TikTok Shipping packages.",
}
TRACKING_UPDATE_WINDOW = 72 * 3600
BATCH_SHIP_MAX_PACKAGES = 50  # TikTok publishes no maximum (channel-apis.md §7): our choice
HANDOVER_METHODS = frozenset({"PICKUP", "DROP_OFF"})
DOCUMENT_TYPES = frozenset({"SHIPPING_LABEL", "PACKING_SLIP", "SHIPPING_LABEL_AND_PACKING_SLIP"})
# Line display statuses once the line has left the seller.
SHIPPED = ("AWAITING_COLLECTION", "IN_TRANSIT", "DELIVERED", "COMPLETED")


def business_error(code: int) -> ApiError:
    return ApiError(code, MESSAGES[code])


def package_error(error: ApiError, package_id: str) -> dict[str, Any]:
    """One entry of a batch answer's ``errors`` (Batch Ship, Combine Package)."""
    return {"code": error.code, "message": error.message, "detail": {"package_id": package_id}}


@dataclass
class SandboxPackage:
    id: str
    shop_id: str
    order_id: str
    line_item_ids: list[str]
    shipping_type: str
    create_time: int
    update_time: int
    tracking_number: str = ""
    shipping_provider_id: str = ""
    shipping_provider_name: str = ""
    service: ShippingService | None = None  # a TikTok Shipping label was bought
    weight: dict[str, Any] | None = None
    dimension: dict[str, Any] | None = None
    handover_method: str = ""
    shipped_at: int | None = None  # first tracking upload / handover
    collected_at: int | None = None
    delivered_at: int | None = None
    tracking_updates: int = 0
    accepted_ships: int = 0  # ship operations applied (a correct client: exactly one)
    # Orders combined into this package (Combine Package) besides ``order_id``.
    combined_order_ids: list[str] = field(default_factory=list)

    @property
    def order_ids(self) -> list[str]:
        return [self.order_id, *self.combined_order_ids]


class _LostResponses:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rate = 0.0
        self._queued = 0
        self._rng = random.Random(0)

    def configure(self, *, rate: float, next_count: int, seed: int) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be within [0, 1]")
        with self._lock:
            self._rate, self._queued, self._rng = rate, next_count, random.Random(seed)

    def draw(self) -> bool:
        with self._lock:
            if self._queued:
                self._queued -= 1
                return True
            return bool(self._rate) and self._rng.random() < self._rate


class PackageBook:
    """Packages, their orders, the carrier's scans and deliveries.

    One lock guards the packages; it is always taken before the store's (never the other way
    round), and webhooks are published after both are released.
    """

    def __init__(self, store: SandboxStore) -> None:
        self.store = store
        self.clock = store.clock
        self.documents = DocumentHost(store.clock)
        self._lock = threading.RLock()
        self._packages: dict[str, SandboxPackage] = {}
        self._order_of_package: dict[str, str] = {}
        self._tracking_owner: dict[str, str] = {}
        self._lost = _LostResponses()
        self._auto_scan_after: timedelta | None = None
        self.ship_requests: Counter[str] = Counter()  # per package, accepted or not
        self.label_purchases: Counter[str] = Counter()  # per order
        self.rejections: Counter[int] = Counter()  # per error code

    # -- test and demo helpers -------------------------------------------------------------

    def lose_responses(self, *, rate: float = 0.0, next_count: int = 0, seed: int = 0) -> None:
        """Apply writes but answer HTTP 500: the next ``next_count``, then a ``rate`` of them."""
        self._lost.configure(rate=rate, next_count=next_count, seed=seed)

    def schedule_carrier_scans(self, after: timedelta | None) -> None:
        """Have the carrier scan every package shipped from now on ``after`` it ships."""
        self._auto_scan_after = after

    def response_lost(self) -> bool:
        """Whether the answer to the write just applied is to be lost (see lose_responses)."""
        return self._lost.draw()

    def package(self, package_id: str) -> SandboxPackage:
        with self._lock:
            return self._packages[package_id]

    def packages(self) -> list[SandboxPackage]:
        with self._lock:
            return list(self._packages.values())

    def carrier_scan(self, order_or_package_id: str, *, at: datetime | None = None) -> list[str]:
        """The carrier's first scan of every shipped package of an order (or of one package)."""
        return self._carrier_event(order_or_package_id, at, deliver=False)

    def deliver(self, order_or_package_id: str, *, at: datetime | None = None) -> list[str]:
        """Delivery of every shipped package of an order (or of one package); scans first."""
        return self._carrier_event(order_or_package_id, at, deliver=True)

    def close(self) -> None:
        self.documents.close()

    # -- lookups (callers hold the lock) ----------------------------------------------------

    def _order(self, shop_id: str, order_id: str) -> dict[str, Any]:
        found = self.store.orders_json(shop_id, [order_id])
        if not found:
            raise invalid_param(f"order {order_id} does not exist in this shop")
        order: dict[str, Any] = json.loads(found[0])
        return order

    def _index(self, shop_id: str) -> None:
        """Learn which order holds each package id (once per miss: packages rarely miss)."""
        total = self.store.order_count(shop_id)
        key = self.store.search_orders(shop_id, {}, sort_field="create_time", descending=False)
        ids, _, _ = self.store.page(shop_id, "orders", key, 0, total + 1)
        for raw in self.store.orders_json(shop_id, ids):
            order = json.loads(raw)
            for item in order["line_items"]:
                self._order_of_package.setdefault(item["package_id"], order["id"])

    def _package_of(self, shop_id: str, order: dict[str, Any], package_id: str) -> SandboxPackage:
        package = self._packages.get(package_id)
        if package is not None:
            return package
        lines = [item["id"] for item in order["line_items"] if item["package_id"] == package_id]
        if not lines:
            raise invalid_param(f"package {package_id} does not exist")
        created = order.get("paid_time") or order["create_time"]
        package = SandboxPackage(
            package_id, shop_id, order["id"], lines, order["shipping_type"], created, created
        )
        self._packages[package_id] = package
        self._order_of_package[package_id] = order["id"]
        return package

    def _find_package(self, shop_id: str, package_id: str) -> SandboxPackage:
        package = self._packages.get(package_id)
        if package is None:
            if package_id not in self._order_of_package:
                self._index(shop_id)
            order_id = self._order_of_package.get(package_id)
            if order_id is None:
                raise invalid_param(f"package {package_id} does not exist")
            package = self._package_of(shop_id, self._order(shop_id, order_id), package_id)
        if package.shop_id != shop_id:
            raise invalid_param(f"package {package_id} does not exist")
        return package

    # -- rules ------------------------------------------------------------------------------

    @staticmethod
    def _check_fulfillable(order: dict[str, Any]) -> None:
        if order["status"] == "ON_HOLD":
            raise business_error(REMORSE_WINDOW)
        if order["status"] == "CANCELLED":
            raise business_error(ORDER_CANCELLED)
        if order.get("is_buyer_request_cancel"):
            raise business_error(BUYER_CANCEL_PENDING)
        if order["status"] == "UNPAID":
            raise invalid_param(f"order {order['id']} is not paid")

    def _self_shipment(self, raw: Any, package_id: str) -> tuple[str, str, str]:
        """(tracking number, provider id, provider name) of a valid, unused tracking number."""
        if not isinstance(raw, dict):
            raise invalid_param("self_shipment is required for packages shipped by the seller")
        tracking, provider_id = raw.get("tracking_number"), raw.get("shipping_provider_id")
        if not isinstance(tracking, str) or not isinstance(provider_id, str):
            raise invalid_param("self_shipment needs tracking_number and shipping_provider_id")
        provider = PROVIDERS_BY_ID.get(provider_id)
        seller_ids = {p.id for p in providers_for_delivery_option(SELLER_DELIVERY_OPTION)}
        if provider is None or provider_id not in seller_ids:
            raise business_error(INVALID_TRACKING)
        if not provider.tracking_format.fullmatch(tracking):
            raise business_error(INVALID_TRACKING)
        if self._tracking_owner.get(tracking, package_id) != package_id:
            raise business_error(DUPLICATE_TRACKING)
        return tracking, provider.id, provider.name

    # -- applying changes (under both locks; nothing here raises) --------------------------

    def _apply_ship(
        self,
        order: dict[str, Any],
        package: SandboxPackage,
        shipment: tuple[str, str, str] | None,
        handover_method: str,
        now: int,
    ) -> None:
        self._ship_package_state(package, shipment, handover_method, now)
        self._ship_lines(order, package, now)

    def _ship_package_state(
        self,
        package: SandboxPackage,
        shipment: tuple[str, str, str] | None,
        handover_method: str,
        now: int,
    ) -> None:
        if shipment is not None:
            package.tracking_number, package.shipping_provider_id = shipment[0], shipment[1]
            package.shipping_provider_name = shipment[2]
            self._tracking_owner[shipment[0]] = package.id
        package.handover_method = handover_method
        package.shipped_at = package.update_time = now
        package.accepted_ships += 1
        if self._auto_scan_after is not None:
            due = now + self._auto_scan_after.total_seconds()
            self.store.timeline.schedule(due, partial(self._auto_scan, package.id))

    @staticmethod
    def _ship_lines(order: dict[str, Any], package: SandboxPackage, now: int) -> None:
        """One order's side of a shipped package (a combined package ships several orders)."""
        for item in order["line_items"]:
            if item["id"] in package.line_item_ids:
                item.update(
                    display_status="AWAITING_COLLECTION",
                    package_status="FULFILLING",
                    tracking_number=package.tracking_number,
                    shipping_provider_id=package.shipping_provider_id,
                    shipping_provider_name=package.shipping_provider_name,
                    rts_time=now,
                )
        order.update(
            tracking_number=package.tracking_number,
            shipping_provider=package.shipping_provider_name,
            shipping_provider_id=package.shipping_provider_id,
            rts_time=order.get("rts_time") or now,
        )

    @staticmethod
    def _roll_up(order: dict[str, Any], now: int) -> bool:
        """Set the order's status from its lines'; True when it changed."""
        statuses = {
            item["display_status"]
            for item in order["line_items"]
            if item["display_status"] != "CANCELLED"
        }
        if not statuses:
            return False
        if statuses <= {"DELIVERED", "COMPLETED"}:
            status = "DELIVERED"
        elif statuses <= {"IN_TRANSIT", "DELIVERED", "COMPLETED"}:
            status = "IN_TRANSIT"
        elif statuses <= set(SHIPPED):
            status = "AWAITING_COLLECTION"
        elif statuses & set(SHIPPED):
            status = "PARTIALLY_SHIPPING"
        else:
            return False
        if status == order["status"]:
            return False
        order["status"] = status
        order["update_time"] = now
        if status == "IN_TRANSIT":
            order.setdefault("collection_time", now)
        if status == "DELIVERED":
            order.setdefault("collection_time", now)
            order["delivery_time"] = now
        return True

    def _emit(self, events: list[OrderEvent]) -> None:
        listener = self.store.on_order_event
        if listener is not None:
            for event in events:
                listener(event)

    def _split(self, shop_id: str, order: dict[str, Any], line_ids: list[str]) -> SandboxPackage:
        """Move ``line_ids`` into a new package of their own."""
        now = self.clock.timestamp()
        package = SandboxPackage(
            self.store.ids.new("package"),
            shop_id,
            order["id"],
            list(line_ids),
            order["shipping_type"],
            now,
            now,
        )
        for item in order["line_items"]:
            if item["id"] in line_ids:
                old = self._packages[item["package_id"]]
                old.line_item_ids.remove(item["id"])
                item["package_id"] = package.id
        order["packages"] = [
            entry
            for entry in order["packages"]
            if self._packages.get(entry["id"]) is None or self._packages[entry["id"]].line_item_ids
        ] + [{"id": package.id}]
        self._packages[package.id] = package
        self._order_of_package[package.id] = order["id"]
        return package

    # -- the carrier ----------------------------------------------------------------------

    def _auto_scan(self, package_id: str, due: float) -> None:
        self._carrier_event(package_id, None, deliver=False, at_epoch=int(due))

    def _carrier_event(
        self,
        target: str,
        at: datetime | None,
        *,
        deliver: bool,
        at_epoch: int | None = None,
    ) -> list[str]:
        when = (
            at_epoch if at_epoch is not None else int(at.timestamp() if at else self.clock.epoch())
        )
        events: list[OrderEvent] = []
        with self._lock:
            if target in self._packages:
                chosen = [self._packages[target]]
            else:
                chosen = [p for p in self._packages.values() if target in p.order_ids]
            chosen = [p for p in chosen if p.shipped_at is not None]
            if not chosen:
                raise ValueError(f"{target} is neither a shipped package nor an order with one")
            by_order: dict[str, list[SandboxPackage]] = {}
            for package in chosen:
                for order_id in package.order_ids:
                    by_order.setdefault(order_id, []).append(package)
            for order_id, packages in by_order.items():
                self.store.update_order(
                    order_id, partial(self._scan_order, packages, when, deliver, events)
                )
        self._emit(events)
        return [package.id for package in chosen]

    def _scan_order(
        self,
        packages: list[SandboxPackage],
        when: int,
        deliver: bool,
        events: list[OrderEvent],
        order: dict[str, Any],
    ) -> None:
        for package in packages:
            if package.collected_at is None:
                package.collected_at = when
            if deliver and package.delivered_at is None:
                package.delivered_at = when
            display = "DELIVERED" if package.delivered_at is not None else "IN_TRANSIT"
            for item in order["line_items"]:
                if item["id"] in package.line_item_ids:
                    item["display_status"] = display
                    item["package_status"] = "COMPLETED" if deliver else "FULFILLING"
        if self._roll_up(order, when):
            shop_id = packages[0].shop_id
            events.append(OrderEvent(shop_id, order["id"], order["status"], when))
