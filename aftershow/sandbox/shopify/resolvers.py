"""How the sandbox answers: the query root (nodes, orders) and ``inventorySetQuantities``.

Values are plain dicts for :func:`.schema.execute`; object fields that point elsewhere are
callables, so nothing is built that the query does not select.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aftershow.sandbox.loopback import FaultInjector

from .graphql import Field, Operation, substitute
from .schema import GraphQLError, connection
from .store import QUANTITY_NAMES, IdempotencyRecord, Order, Store, Variant, gid, gid_number

# InventorySetQuantitiesInput.reason values (shopify.dev inventory state reasons).
REASONS = {
    "correction",
    "cycle_count_available",
    "damaged",
    "movement_created",
    "movement_updated",
    "movement_received",
    "movement_canceled",
    "other",
    "promotion",
    "quality_control",
    "received",
    "reservation_created",
    "reservation_deleted",
    "reservation_updated",
    "restock",
    "safety_stock",
    "shrinkage",
}
# InventorySetQuantitiesUserErrorCode values and their messages (shopify.dev enum page).
USER_ERRORS = {
    "INVALID_NAME": "The quantity name must be either 'available' or 'on_hand'.",
    "INVALID_REASON": "The specified reason is invalid.",
    "INVALID_REFERENCE_DOCUMENT": "The specified reference document is invalid.",
    "INVALID_INVENTORY_ITEM": "The specified inventory item could not be found.",
    "INVALID_LOCATION": "The specified location could not be found.",
    "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR": (
        "The combination of inventoryItemId and locationId must be unique."
    ),
    "ITEM_NOT_STOCKED_AT_LOCATION": "The specified inventory item is not stocked at the location.",
    "INVALID_QUANTITY_NEGATIVE": "The quantity can't be negative.",
    "INVALID_QUANTITY_TOO_HIGH": "The total quantity can't be higher than 1,000,000,000.",
    "CHANGE_FROM_QUANTITY_STALE": "The changeFromQuantity value does not match persisted value.",
    "IDEMPOTENCY_KEY_PARAMETER_MISMATCH": (
        "The same idempotency key cannot be used with different operation parameters."
    ),
    "IDEMPOTENCY_CONCURRENT_REQUEST": "This request is currently in progress, please try again.",
}
_SEARCH_TERM = re.compile(r"(created_at|updated_at):(>=|<=|>|<)'([^']+)'")


def shopify_time(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _money_bag(amount: Decimal, currency: str = "USD") -> dict[str, Any]:
    money = {"amount": str(amount.quantize(Decimal("0.01"))), "currencyCode": currency}
    return {"shopMoney": money, "presentmentMoney": money}


def _user_error(code: str, field: list[str]) -> dict[str, Any]:
    return {"code": code, "message": USER_ERRORS[code], "field": field}


class Resolvers:
    def __init__(self, store: Store, faults: FaultInjector) -> None:
        self.store = store
        self.faults = faults

    # -- query root ------------------------------------------------------------------------

    def query_root(self) -> dict[str, Any]:
        return {
            "nodes": lambda args: [self._node(node_id) for node_id in args["ids"]],
            "order": lambda args: self._node(args["id"]) if "/Order/" in args["id"] else None,
            "orders": self._orders,
            "shop": {
                "id": gid("Shop", 1),
                "name": "Aftershow sandbox",
                "myshopifyDomain": self.store.shop_domain,
            },
        }

    def _node(self, node_id: str) -> dict[str, Any] | None:
        with self.store.lock:
            if (number := gid_number(node_id, "ProductVariant")) is not None:
                variant = self.store.variants.get(number)
                return self._variant_node(variant) if variant else None
            if (number := gid_number(node_id, "InventoryItem")) is not None:
                variant = self.store.variant_by_item(number)
                return self._item_node(variant) if variant else None
            if (number := gid_number(node_id, "Order")) is not None:
                order = self.store.orders.get(number)
                return self._order_node(order) if order else None
            if (number := gid_number(node_id, "Location")) is not None:
                name = self.store.location_numbers.get(number)
                return {"__typename": "Location", "id": node_id, "name": name} if name else None
        return None

    def _variant_node(self, variant: Variant) -> dict[str, Any]:
        return {
            "__typename": "ProductVariant",
            "id": gid("ProductVariant", variant.number),
            "sku": variant.sku,
            "title": variant.title,
            "inventoryItem": lambda args: self._item_node(variant),
            "product": {
                "__typename": "Product",
                "id": gid("Product", variant.product_number),
                "title": variant.product_title,
            },
        }

    def _item_node(self, variant: Variant) -> dict[str, Any]:
        def level(args: dict[str, Any]) -> dict[str, Any] | None:
            location = gid_number(args["locationId"], "Location")
            with self.store.lock:
                quantities = self.store.levels.get((variant.item_number, location or 0))
                snapshot = dict(quantities) if quantities else None
            if snapshot is None:
                return None

            def named(arguments: dict[str, Any]) -> list[dict[str, Any]]:
                unknown = set(arguments["names"]) - set(QUANTITY_NAMES)
                if unknown:
                    raise GraphQLError(
                        f"Invalid quantity name {sorted(unknown)[0]!r}", "BAD_REQUEST"
                    )
                return [{"name": name, "quantity": snapshot[name]} for name in arguments["names"]]

            return {
                "id": f"gid://shopify/InventoryLevel/{variant.item_number}?inventory_item_id={location}",
                "location": {"id": args["locationId"], "name": "Main warehouse"},
                "quantities": named,
            }

        return {
            "__typename": "InventoryItem",
            "id": gid("InventoryItem", variant.item_number),
            "sku": variant.sku,
            "tracked": True,
            "variant": lambda args: self._variant_node(variant),
            "inventoryLevel": level,
        }

    def _orders(self, args: dict[str, Any]) -> dict[str, Any]:
        sort_key = args.get("sortKey") or "ID"
        terms = _SEARCH_TERM.findall(args.get("query") or "")
        leftover = _SEARCH_TERM.sub("", args.get("query") or "").replace("AND", "").strip()
        if leftover:
            raise GraphQLError(f"The sandbox cannot search on {leftover!r}", "BAD_REQUEST")
        with self.store.lock:
            orders = list(self.store.orders.values())
        for field_name, operator, text in terms:
            bound = datetime.fromisoformat(text).astimezone(UTC)
            orders = [o for o in orders if _compare(getattr(o, field_name), operator, bound)]

        def key(node: dict[str, Any]) -> Any:
            if sort_key == "UPDATED_AT":
                return [node["updatedAt"], node["_number"]]
            if sort_key == "CREATED_AT":
                return [node["createdAt"], node["_number"]]
            return node["_number"]

        nodes = sorted(
            (self._order_node(order) for order in orders),
            key=key,
            reverse=bool(args.get("reverse")),
        )
        return connection(nodes, args, key)

    def _order_node(self, order: Order) -> dict[str, Any]:
        lines = [
            {
                "_position": index,
                "__typename": "LineItem",
                "id": gid("LineItem", line.number),
                "name": f"{line.variant.product_title} - {line.variant.title}",
                "title": line.variant.product_title,
                "variantTitle": line.variant.title,
                "sku": line.variant.sku,
                "quantity": line.quantity,
                "variant": self._variant_node(line.variant),
                "product": {
                    "id": gid("Product", line.variant.product_number),
                    "title": line.variant.product_title,
                },
                "originalUnitPriceSet": _money_bag(line.variant.price),
                "totalDiscountSet": _money_bag(line.discount),
            }
            for index, line in enumerate(order.lines)
        ]
        return {
            "_number": order.number,
            "__typename": "Order",
            "id": gid("Order", order.number),
            "name": order.name,
            "createdAt": shopify_time(order.created_at),
            "updatedAt": shopify_time(order.updated_at),
            "processedAt": shopify_time(order.created_at),
            "cancelledAt": shopify_time(order.cancelled_at),
            "closed": False,
            "displayFinancialStatus": order.financial_status,
            "displayFulfillmentStatus": order.fulfillment_status,
            "currencyCode": order.currency,
            "subtotalPriceSet": _money_bag(order.subtotal),
            "totalPriceSet": _money_bag(order.total),
            "totalTaxSet": _money_bag(order.tax),
            "totalShippingPriceSet": _money_bag(order.shipping),
            "totalDiscountsSet": _money_bag(order.discounts),
            "customer": {
                "id": gid("Customer", order.customer_number),
                "displayName": "Jamie Buyer",
            },
            "shippingAddress": {
                "name": order.shipping_address["name"],
                "address1": order.shipping_address["address1"],
                "address2": order.shipping_address["address2"],
                "city": order.shipping_address["city"],
                "provinceCode": order.shipping_address["province_code"],
                "zip": order.shipping_address["zip"],
                "countryCodeV2": order.shipping_address["country_code"],
                "phone": order.shipping_address["phone"],
            },
            "lineItems": lambda args: connection(lines, args, lambda node: node["_position"]),
        }

    # -- mutation root ---------------------------------------------------------------------

    def mutation_root(
        self, operation: Operation, variables: dict[str, Any], stall: bool
    ) -> dict[str, Any]:
        (selection,) = operation.selections
        assert isinstance(selection, Field)
        (directive,) = [d for d in selection.directives if d.name == "idempotent"]
        key = str(substitute(directive.arguments["key"], variables))
        return {
            "inventorySetQuantities": lambda args: self._set_quantities(key, args["input"], stall)
        }

    def _set_quantities(self, key: str, data: dict[str, Any], stall: bool) -> dict[str, Any]:
        fingerprint = json.dumps(data, sort_keys=True)
        with self.store.lock:
            record = self.store.idempotency.get(key)
            if record is not None:
                if record.fingerprint != fingerprint:
                    return _failed("IDEMPOTENCY_KEY_PARAMETER_MISMATCH")
                if not record.done:
                    return _failed("IDEMPOTENCY_CONCURRENT_REQUEST")
                assert record.payload is not None
                return record.payload
            record = self.store.idempotency[key] = IdempotencyRecord(fingerprint)
        if stall:
            self.faults.stall()
        with self.store.lock:
            payload = self._apply(data)
            record.payload, record.done = payload, True
        return payload

    def _apply(self, data: dict[str, Any]) -> dict[str, Any]:
        name = data["name"]
        errors = []
        if name not in ("available", "on_hand"):
            errors.append(
                _user_error(
                    "INVALID_NAME",
                    ["input", "name"],
                )
            )
        if data["reason"] not in REASONS:
            errors.append(_user_error("INVALID_REASON", ["input", "reason"]))
        uri = data.get("referenceDocumentUri")
        if uri is not None and "://" not in uri:
            errors.append(
                _user_error(
                    "INVALID_REFERENCE_DOCUMENT",
                    ["input", "referenceDocumentUri"],
                )
            )
        seen: set[tuple[int, int]] = set()
        changes = []
        for index, quantity in enumerate(data["quantities"]):
            where = ["input", "quantities", str(index)]
            item = gid_number(str(quantity["inventoryItemId"]), "InventoryItem")
            location = gid_number(str(quantity["locationId"]), "Location")
            if item is None or self.store.variant_by_item(item) is None:
                errors.append(
                    _user_error(
                        "INVALID_INVENTORY_ITEM",
                        [*where, "inventoryItemId"],
                    )
                )
                continue
            if location is None or location not in self.store.location_numbers:
                errors.append(
                    _user_error(
                        "INVALID_LOCATION",
                        [*where, "locationId"],
                    )
                )
                continue
            if (item, location) in seen:
                errors.append(
                    _user_error(
                        "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
                        where,
                    )
                )
                continue
            seen.add((item, location))
            level = self.store.levels.get((item, location))
            if level is None:
                errors.append(
                    _user_error(
                        "ITEM_NOT_STOCKED_AT_LOCATION",
                        where,
                    )
                )
                continue
            new = quantity["quantity"]
            if new < 0:
                errors.append(
                    _user_error(
                        "INVALID_QUANTITY_NEGATIVE",
                        [*where, "quantity"],
                    )
                )
                continue
            if new > 1_000_000_000:
                errors.append(
                    _user_error(
                        "INVALID_QUANTITY_TOO_HIGH",
                        [*where, "quantity"],
                    )
                )
                continue
            expected = quantity["changeFromQuantity"]
            if expected is not None and expected != level[name]:
                self.store.stale_refusals += 1
                errors.append(
                    _user_error(
                        "CHANGE_FROM_QUANTITY_STALE",
                        [*where, "changeFromQuantity"],
                    )
                )
                continue
            changes.append((item, location, level, new))
        if errors:
            return {"inventoryAdjustmentGroup": None, "userErrors": errors}
        recorded = []
        for item, location, level, new in changes:
            delta = new - level[name]
            level[name] = new
            other = "on_hand" if name == "available" else "available"
            level[other] += delta
            if name == "available":
                self.store.history[item].append(new)
                self.store.history_at[item].append(time.monotonic())
            variant = self.store.variant_by_item(item)
            assert variant is not None
            for changed in (name, other):
                recorded.append(
                    {
                        "name": changed,
                        "delta": delta,
                        "quantityAfterChange": level[changed],
                        "item": self._item_node(variant),
                        "location": {
                            "id": gid("Location", location),
                            "name": self.store.location_numbers[location],
                        },
                    }
                )
        return {
            "inventoryAdjustmentGroup": {
                "id": gid("InventoryAdjustmentGroup", self.store.next_id()),
                "createdAt": shopify_time(datetime.now(UTC)),
                "reason": data["reason"],
                "referenceDocumentUri": uri,
                "changes": lambda args: recorded,
            },
            "userErrors": [],
        }


def _failed(code: str) -> dict[str, Any]:
    return {"inventoryAdjustmentGroup": None, "userErrors": [_user_error(code, ["input"])]}


def _compare(value: datetime, operator: str, bound: datetime) -> bool:
    checks: dict[str, Callable[[datetime, datetime], bool]] = {
        ">=": lambda a, b: a >= b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        "<": lambda a, b: a < b,
    }
    return checks[operator](value, bound)
