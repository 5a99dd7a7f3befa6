"""Fulfillment and logistics endpoints of the sandbox, and the carrier's side of a parcel.

Paths and shapes: channel-apis.md §1.7 and Appendix A (official Node SDK, 202309). Behaviour a
client must handle (§8), each answered the way TikTok documents it:

- any fulfilment call during the remorse window (order ``ON_HOLD``) → ``21011044``;
- shipping a cancelled order → ``21011041``; shipping a package twice → ``21011040``;
- shipping an order with a pending buyer cancellation request is rejected → ``21011046``
  (TikTok documents the rejection but no code we could read: the code is the sandbox's own);
- an unknown shipping provider, or a tracking number that does not fit the provider's format
  → ``21011022``; a tracking number already used by another package → ``21011025``;
- Update Package Shipping Info works once (``21011050`` after that), within 72 hours of the
  first upload (``21011051`` after that), measured on the sandbox's virtual clock;
- shipping documents exist only for TikTok Shipping packages → ``11034002`` otherwise.

Every order lands with one package holding all its lines (``packages[0]``, each line's
``package_id``). Ship Package and Batch Ship Packages ship such a package; Mark Package As
Shipped ships the given lines (the same package when they are all of it, else a new package
split off); Create Packages (TikTok Shipping) buys a label and moves the lines into a new
package with a tracking number. After a shipment the order is ``AWAITING_COLLECTION`` (or
``PARTIALLY_SHIPPING``); :meth:`SandboxFulfillment.carrier_scan` makes it ``IN_TRANSIT`` with a
``collection_time`` and :meth:`SandboxFulfillment.deliver` ``DELIVERED``, each with the
``ORDER_STATUS_CHANGE`` webhook the store's other status changes send.

Injected faults (``sandbox.faults``) apply here as on every signed route: before the handler,
so a faulted call changes nothing. :meth:`SandboxFulfillment.lose_responses` adds the other
kind of failure a client must survive: the write is applied, then the answer is lost (HTTP 500).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from . import errors
from .combine import CombiningBook
from .errors import ApiError, invalid_param
from .fulfillment_catalog import (
    SERVICES_BY_ID,
    ShippingService,
    eligible_services,
    providers_for_delivery_option,
    weight_in_pounds,
)
from .fulfillment_state import (
    BATCH_SHIP_MAX_PACKAGES,
    DOCUMENT_TYPES,
    HANDOVER_METHODS,
    NO_SHIPPING_DOCUMENT,
    SHIPPED_TWICE,
    TRACKING_UPDATE_EXPIRED,
    TRACKING_UPDATE_WINDOW,
    TRACKING_UPDATED_ONCE,
    SandboxPackage,
    business_error,
    package_error,
)
from .server import Gateway, Request
from .shipping_documents import LabelContent, render_document
from .store import OrderEvent


class SandboxFulfillment(CombiningBook):
    """The fulfillment and logistics endpoints' operations, on the package book."""

    # -- operations -------------------------------------------------------------------------

    def ship_package(self, shop_id: str, package_id: str, body: dict[str, Any]) -> None:
        """Ship Package (and one entry of Batch Ship Packages)."""
        handover = body.get("handover_method") or "DROP_OFF"
        if handover not in HANDOVER_METHODS:
            raise invalid_param("handover_method must be PICKUP or DROP_OFF")
        events: list[OrderEvent] = []
        with self._lock:
            package = self._find_package(shop_id, package_id)
            self.ship_requests[package_id] += 1
            for other_id in package.combined_order_ids:  # every combined order must be shippable
                self._check_fulfillable(self._order(shop_id, other_id))
            shipped_at: list[int] = []

            def ship(order: dict[str, Any]) -> None:
                self._check_fulfillable(order)
                if package.shipped_at is not None:
                    raise business_error(SHIPPED_TWICE)
                shipment = None
                if package.shipping_type == "TIKTOK":
                    if package.service is None:
                        raise invalid_param(
                            "this TikTok Shipping package has no shipping service: "
                            "create it with Create Packages first"
                        )
                else:
                    shipment = self._self_shipment(body.get("self_shipment"), package.id)
                now = self.clock.timestamp()
                self._apply_ship(order, package, shipment, handover, now)
                if self._roll_up(order, now):
                    events.append(OrderEvent(shop_id, order["id"], order["status"], now))
                shipped_at.append(now)

            def ship_combined(order: dict[str, Any]) -> None:
                self._ship_lines(order, package, shipped_at[0])
                if self._roll_up(order, shipped_at[0]):
                    events.append(OrderEvent(shop_id, order["id"], order["status"], shipped_at[0]))

            self.store.update_order(package.order_id, ship)
            for other_id in package.combined_order_ids:
                self.store.update_order(other_id, ship_combined)
        self._emit(events)

    def batch_ship(self, shop_id: str, body: dict[str, Any]) -> list[dict[str, Any]]:
        entries = body.get("packages")
        if not isinstance(entries, list) or not 1 <= len(entries) <= BATCH_SHIP_MAX_PACKAGES:
            raise invalid_param(f"packages must list 1 to {BATCH_SHIP_MAX_PACKAGES} packages")
        failures = []
        for entry in entries:
            package_id = str(entry.get("id", "")) if isinstance(entry, dict) else ""
            try:
                if not package_id:
                    raise invalid_param("every package needs an id")
                self.ship_package(shop_id, package_id, entry)
            except ApiError as error:
                self.rejections[error.code] += 1
                failures.append(package_error(error, package_id))
        return failures

    def mark_shipped(self, shop_id: str, order_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Mark Package As Shipped: the given lines leave in one seller-shipped package."""
        line_ids = body.get("order_line_item_ids")
        if not isinstance(line_ids, list) or not line_ids:
            raise invalid_param("order_line_item_ids must list at least one line item")
        wanted = [str(line_id) for line_id in line_ids]
        events: list[OrderEvent] = []
        result: dict[str, Any] = {}
        with self._lock:
            snapshot = self._order(shop_id, order_id)
            if snapshot["shipping_type"] != "SELLER":
                raise invalid_param("Mark Package As Shipped is for orders shipped by the seller")
            for package_id in {i["package_id"] for i in snapshot["line_items"]}:
                self._package_of(shop_id, snapshot, package_id)

            def mark(order: dict[str, Any]) -> None:
                lines = {item["id"]: item for item in order["line_items"]}
                unknown = [line_id for line_id in wanted if line_id not in lines]
                if unknown:
                    raise invalid_param(f"line items {unknown} are not in order {order_id}")
                held = {lines[line_id]["package_id"] for line_id in wanted}
                packages = [self._packages[package_id] for package_id in sorted(held)]
                for package in packages:
                    self.ship_requests[package.id] += 1
                self._check_fulfillable(order)
                if any(p.shipped_at is not None for p in packages):
                    raise business_error(SHIPPED_TWICE)
                shipment = self._self_shipment(body, "")
                whole = packages[0] if len(packages) == 1 else None
                if whole is not None and set(whole.line_item_ids) == set(wanted):
                    package = whole
                else:
                    package = self._split(shop_id, order, wanted)
                now = self.clock.timestamp()
                self._apply_ship(order, package, shipment, "DROP_OFF", now)
                if self._roll_up(order, now):
                    events.append(OrderEvent(shop_id, order_id, order["status"], now))
                result.update(order_id=order_id, package_id=package.id, order_line_item_ids=wanted)

            self.store.update_order(order_id, mark)
        self._emit(events)
        return result

    def update_shipping_info(self, shop_id: str, package_id: str, body: dict[str, Any]) -> None:
        with self._lock:
            package = self._find_package(shop_id, package_id)
            if package.shipping_type != "SELLER":
                raise invalid_param("TikTok Shipping tracking numbers cannot be updated")
            if package.shipped_at is None:
                raise invalid_param(f"package {package_id} has not been shipped")
            if package.tracking_updates >= 1:
                raise business_error(TRACKING_UPDATED_ONCE)
            now = self.clock.timestamp()
            if now > package.shipped_at + TRACKING_UPDATE_WINDOW:
                raise business_error(TRACKING_UPDATE_EXPIRED)
            tracking, provider_id, provider_name = self._self_shipment(body, package.id)

            self._tracking_owner.pop(package.tracking_number, None)
            self._tracking_owner[tracking] = package.id
            package.tracking_number, package.shipping_provider_id = tracking, provider_id
            package.shipping_provider_name = provider_name
            package.tracking_updates += 1
            package.update_time = now

            def update(order: dict[str, Any]) -> None:
                for item in order["line_items"]:
                    if item["id"] in package.line_item_ids:
                        item.update(
                            tracking_number=tracking,
                            shipping_provider_id=provider_id,
                            shipping_provider_name=provider_name,
                        )
                order.update(
                    tracking_number=tracking,
                    shipping_provider=provider_name,
                    shipping_provider_id=provider_id,
                    update_time=now,
                )

            for order_id in package.order_ids:
                self.store.update_order(order_id, update)

    def eligible_services(
        self, shop_id: str, order_id: str, body: dict[str, Any]
    ) -> list[ShippingService]:
        order = self._order(shop_id, order_id)
        if order["shipping_type"] != "TIKTOK":
            raise invalid_param("shipping services are only for TikTok Shipping orders")
        self._check_fulfillable(order)
        self._wanted_lines(order, body)
        return eligible_services(self._weight(body))

    @staticmethod
    def _weight(body: dict[str, Any]) -> Decimal:
        weight = body.get("weight")
        if not isinstance(weight, dict):
            raise invalid_param("weight {value, unit} is required")
        try:
            return weight_in_pounds(str(weight.get("value")), str(weight.get("unit")))
        except (InvalidOperation, ValueError) as exc:
            raise invalid_param(f"weight is invalid: {exc}") from exc

    @staticmethod
    def _wanted_lines(order: dict[str, Any], body: dict[str, Any]) -> list[str]:
        lines = {i["id"] for i in order["line_items"] if i["display_status"] != "CANCELLED"}
        raw = body.get("order_line_item_ids") or sorted(lines)
        wanted = [str(line_id) for line_id in raw]
        if not set(wanted) <= lines:
            raise invalid_param(f"order_line_item_ids must be line items of order {order['id']}")
        return wanted

    def create_package(self, shop_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create Packages (TikTok Shipping): buys the label, assigns the tracking number."""
        order_id = str(body.get("order_id") or "")
        with self._lock:
            snapshot = self._order(shop_id, order_id)
            if snapshot["shipping_type"] != "TIKTOK":
                raise invalid_param("Create Packages is only for TikTok Shipping orders")
            wanted = self._wanted_lines(snapshot, body)
            weight = self._weight(body)
            service = SERVICES_BY_ID.get(str(body.get("shipping_service_id") or ""))
            if service is None or service not in eligible_services(weight):
                raise invalid_param("shipping_service_id is not eligible for this package")
            for package_id in {i["package_id"] for i in snapshot["line_items"]}:
                self._package_of(shop_id, snapshot, package_id)
            created: list[SandboxPackage] = []

            def create(order: dict[str, Any]) -> None:
                self._check_fulfillable(order)
                lines = {item["id"]: item for item in order["line_items"]}
                for line_id in wanted:
                    held = self._packages[lines[line_id]["package_id"]]
                    if held.service is not None or held.shipped_at is not None:
                        raise invalid_param(f"line item {line_id} is already in package {held.id}")
                package = self._split(shop_id, order, wanted)
                package.service, package.weight = service, body.get("weight")
                package.dimension = body.get("dimension")
                package.tracking_number = service.tracking_number_for(package.id)
                package.shipping_provider_id = service.provider.id
                package.shipping_provider_name = service.provider.name
                self._tracking_owner[package.tracking_number] = package.id
                for line_id in wanted:
                    lines[line_id].update(
                        package_status="PROCESSING",
                        tracking_number=package.tracking_number,
                        shipping_provider_id=service.provider.id,
                        shipping_provider_name=service.provider.name,
                    )
                order.update(
                    tracking_number=package.tracking_number,
                    shipping_provider=service.provider.name,
                    shipping_provider_id=service.provider.id,
                )
                self.label_purchases[order_id] += 1
                created.append(package)

            self.store.update_order(order_id, create)
        (package,) = created
        return {
            "package_id": package.id,
            "order_id": order_id,
            "order_line_item_ids": wanted,
            "create_time": package.create_time,
            "shipping_service_info": service.to_wire(weight),
            "weight": package.weight,
            "dimension": package.dimension,
        }

    def shipping_document(
        self, shop_id: str, package_id: str, query: dict[str, str]
    ) -> dict[str, str]:
        document_type = query.get("document_type", "")
        if document_type not in DOCUMENT_TYPES:
            raise invalid_param(f"document_type must be one of {sorted(DOCUMENT_TYPES)}")
        if query.get("document_size", "A6") not in ("A6", "A5"):
            raise invalid_param("document_size must be A6 or A5")
        if query.get("document_format", "PDF") != "PDF":
            raise invalid_param("document_format ZPL is only available in the BR and MX markets")
        with self._lock:
            package = self._find_package(shop_id, package_id)
            if package.service is None:
                raise business_error(NO_SHIPPING_DOCUMENT)
            order = self._order(shop_id, package.order_id)
        warehouse = self.store.warehouses(shop_id)[0].address
        recipient = order["recipient_address"]
        skus = Counter(
            i["seller_sku"] for i in order["line_items"] if i["id"] in package.line_item_ids
        )
        content = LabelContent(
            package_id=package.id,
            order_id=package.order_id,
            tracking_number=package.tracking_number,
            provider_name=package.shipping_provider_name,
            service_name=package.service.name,
            ship_from=(
                str(warehouse.get("contact_person", "")),
                str(warehouse.get("address_line1", "")),
                f"{warehouse.get('city', '')}, {warehouse.get('state', '')} "
                f"{warehouse.get('postal_code', '')}",
            ),
            ship_to=(str(recipient.get("name", "")), *_address_lines(recipient)),
            items=tuple(sorted(skus.items())),
        )
        url = self.documents.publish(
            render_document(content, document_type), name=f"{document_type.lower()}_{package.id}"
        )
        return {"doc_url": url, "tracking_number": package.tracking_number}

    def package_detail(self, shop_id: str, package_id: str) -> dict[str, Any]:
        with self._lock:
            package = self._find_package(shop_id, package_id)
            orders = [self._order(shop_id, order_id) for order_id in package.order_ids]
            order = orders[0]
            lines_of = {
                o["id"]: [i for i in o["line_items"] if i["id"] in package.line_item_ids]
                for o in orders
            }
            lines = [line for o in orders for line in lines_of[o["id"]]]
            status = lines[0]["package_status"] if lines else "CANCELLED"
            return {
                "package_id": package.id,
                "package_status": "PROCESSING" if status == "TO_FULFILL" else status,
                "shipping_type": package.shipping_type,
                "tracking_number": package.tracking_number,
                "shipping_provider_id": package.shipping_provider_id,
                "shipping_provider_name": package.shipping_provider_name,
                "delivery_option_id": order["delivery_option_id"],
                "delivery_option_name": order["delivery_option_name"],
                "handover_method": package.handover_method,
                "orders": [
                    {
                        "id": o["id"],
                        "skus": [
                            {"id": sku, "quantity": n}
                            for sku, n in sorted(
                                Counter(line["sku_id"] for line in lines_of[o["id"]]).items()
                            )
                        ],
                    }
                    for o in orders
                ],
                "recipient_address": order["recipient_address"],
                "weight": package.weight,
                "dimension": package.dimension,
                "create_time": package.create_time,
                "update_time": package.update_time,
            }

    def tracking(self, shop_id: str, order_id: str) -> list[dict[str, Any]]:
        with self._lock:
            self._order(shop_id, order_id)
            events: list[tuple[int, str]] = []
            for package in self._packages.values():
                if order_id not in package.order_ids:
                    continue
                if package.service is not None:
                    events.append((package.create_time, "Shipping label created"))
                if package.shipped_at is not None:
                    events.append((package.shipped_at, "Seller shipped the package"))
                if package.collected_at is not None:
                    events.append((package.collected_at, "Package picked up by the carrier"))
                if package.delivered_at is not None:
                    events.append((package.delivered_at, "Package delivered"))
        events.sort(reverse=True)
        return [{"description": text, "update_time_millis": at * 1000} for at, text in events]


def _address_lines(recipient: dict[str, Any]) -> tuple[str, ...]:
    district = {d["address_level_name"].lower(): d for d in recipient.get("district_info", [])}
    city = district.get("city", {}).get("address_name", "")
    state = district.get("state", {}).get("iso_code", "US-").split("-", 1)[-1]
    lines = (recipient.get("address_line1", ""), recipient.get("address_line2", ""))
    return (
        *(str(line) for line in lines if line),
        f"{city}, {state} {recipient.get('postal_code', '')}",
    )


# -- routes ------------------------------------------------------------------------------------


def register_fulfillment(gateway: Gateway) -> SandboxFulfillment:
    """Add the fulfillment and logistics routes; returns their state for tests and the demo."""
    desk = SandboxFulfillment(gateway.store)

    def guarded(
        handler: Callable[[Request], dict[str, Any]], *, write: bool
    ) -> Callable[[Request], dict[str, Any]]:
        def run(request: Request) -> dict[str, Any]:
            try:
                data = handler(request)
            except ApiError as error:
                desk.rejections[error.code] += 1
                raise
            if write and desk.response_lost():
                # Applied, but the answer never makes it back: the client sees a 500.
                raise ApiError(errors.INTERNAL_ERROR, http_status=500)
            return data

        return run

    def package_id(request: Request) -> str:
        return request.path_params["package_id"]

    def order_id(request: Request) -> str:
        return request.path_params["order_id"]

    def ship(request: Request) -> dict[str, Any]:
        desk.ship_package(request.shop_id, package_id(request), request.json_body())
        return {}

    def update_shipping_info(request: Request) -> dict[str, Any]:
        desk.update_shipping_info(request.shop_id, package_id(request), request.json_body())
        return {}

    routes: list[tuple[str, str, Callable[[Request], dict[str, Any]], bool]] = [
        (
            "POST",
            r"/fulfillment/202309/packages/(?P<package_id>\d+)/ship",
            ship,
            True,
        ),
        (
            "POST",
            "/fulfillment/202309/packages/ship",
            lambda r: {"errors": desk.batch_ship(r.shop_id, r.json_body())},
            True,
        ),
        (
            "GET",
            "/fulfillment/202309/combinable_packages/search",
            lambda r: desk.search_combinable(r.shop_id, r.query),
            False,
        ),
        (
            "POST",
            "/fulfillment/202309/packages/combine",
            lambda r: desk.combine_packages(r.shop_id, r.json_body()),
            True,
        ),
        (
            "POST",
            r"/fulfillment/202309/orders/(?P<order_id>\d+)/packages",
            lambda r: desk.mark_shipped(r.shop_id, order_id(r), r.json_body()),
            True,
        ),
        (
            "POST",
            r"/fulfillment/202309/packages/(?P<package_id>\d+)/shipping_info/update",
            update_shipping_info,
            True,
        ),
        (
            "POST",
            r"/fulfillment/202309/orders/(?P<order_id>\d+)/shipping_services/query",
            lambda r: {
                "shipping_services": [
                    service.to_wire(SandboxFulfillment._weight(r.json_body()))
                    for service in desk.eligible_services(r.shop_id, order_id(r), r.json_body())
                ]
            },
            False,
        ),
        (
            "POST",
            "/fulfillment/202309/packages",
            lambda r: desk.create_package(r.shop_id, r.json_body()),
            True,
        ),
        (
            "GET",
            r"/fulfillment/202309/packages/(?P<package_id>\d+)/shipping_documents",
            lambda r: desk.shipping_document(r.shop_id, package_id(r), r.query),
            False,
        ),
        (
            "GET",
            r"/fulfillment/202309/packages/(?P<package_id>\d+)",
            lambda r: desk.package_detail(r.shop_id, package_id(r)),
            False,
        ),
        (
            "GET",
            r"/fulfillment/202309/orders/(?P<order_id>\d+)/tracking",
            lambda r: {"tracking": desk.tracking(r.shop_id, order_id(r))},
            False,
        ),
        (
            "GET",
            r"/logistics/202309/delivery_options/(?P<delivery_option_id>\d+)/shipping_providers",
            lambda r: {
                "shipping_providers": [
                    {"id": p.id, "name": p.name}
                    for p in providers_for_delivery_option(r.path_params["delivery_option_id"])
                ]
            },
            False,
        ),
    ]
    for method, path, handler, write in routes:
        gateway.add_route(method, path, guarded(handler, write=write))
    return desk
