"""Update Inventory and Inventory Search, strict (channel-apis.md §1.8).

``POST /product/202309/products/{product_id}/inventory/update`` with
``{"skus":[{"id", "inventory":[{"warehouse_id", "quantity"}]}]}``:

- the product must belong to the shop of the ``shop_cipher`` and not be frozen or deleted;
- every SKU must belong to that product, each named once;
- each SKU must list **every** warehouse assigned to it, and no other; ``warehouse_id`` may be
  left out only when the shop has a single warehouse;
- ``quantity`` must be an integer within [0, 99,999]. TikTok's text says [1, 99,999]; whether
  0 (sold out) is refused is unconfirmed, and a stock sync must be able to sell out, so the
  sandbox accepts 0 (see docs/decisions-channels.md).

Problems with one SKU are answered per SKU in ``data.errors[]`` (``detail.sku_id``, with
``extra_errors[]`` naming the warehouse) while the other SKUs are applied, as TikTok does;
problems with the whole request (unknown product, empty or malformed body) fail the call.
The error codes are the sandbox's own: the material we could read publishes none for this
endpoint, so clients must not key on them beyond "this SKU was refused".

``POST /product/202309/inventory/search`` with ``sku_ids[]`` (max 600) or ``product_ids[]``
(max 100) answers what each SKU holds per warehouse. Every applied write is kept with its
(monotonic) time for the tests and the benchmark.
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError, invalid_param
from .server import Gateway, Request
from .store import SandboxStore

MAX_QUANTITY = 99_999
SEARCH_MAX_SKU_IDS = 600
SEARCH_MAX_PRODUCT_IDS = 100
# Sandbox-own codes (see the module docstring).
PRODUCT_NOT_FOUND = 12052001
PRODUCT_NOT_EDITABLE = 12052002
SKU_NOT_IN_PRODUCT = 12052003
WAREHOUSE_MISSING = 12052004
WAREHOUSE_NOT_ASSIGNED = 12052005
QUANTITY_OUT_OF_RANGE = 12052006
FROZEN_STATUSES = frozenset({"FREEZE", "DELETED"})


@dataclass
class Write:
    at: float  # time.monotonic() when applied
    quantities: dict[str, int]


@dataclass
class SkuStock:
    warehouses: list[str]
    quantities: dict[str, int]
    writes: list[Write] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.quantities.values())


class InventoryBook:
    """Per SKU: its warehouses and what each holds. Starts from the SKU's catalogue quantity
    in the shop's default warehouse."""

    def __init__(self, store: SandboxStore) -> None:
        self.store = store
        self.lock = threading.Lock()
        self._stock: dict[str, SkuStock] = {}
        self._extra_warehouses: dict[str, list[str]] = {}

    def _sku(self, shop_id: str, sku_id: str, initial: int) -> SkuStock:
        stock = self._stock.get(sku_id)
        if stock is None:
            default = self.store.get_shop(shop_id).default_warehouse_id
            stock = SkuStock(warehouses=[default], quantities={default: initial})
            self._stock[sku_id] = stock
        return stock

    def stock(self, shop_id: str, sku_id: str) -> SkuStock:
        for product in self.store.products(shop_id):
            for sku in product.skus:
                if sku.id == sku_id:
                    with self.lock:
                        return self._sku(shop_id, sku_id, sku.quantity)
        raise KeyError(f"no SKU {sku_id} in shop {shop_id}")

    def add_warehouse(self, shop_id: str) -> str:
        """Another warehouse of the shop (tests give a SKU several)."""
        warehouse_id = self.store.ids.new("warehouse")
        with self.lock:
            self._extra_warehouses.setdefault(shop_id, []).append(warehouse_id)
        return warehouse_id

    def shop_warehouses(self, shop_id: str) -> list[str]:
        with self.lock:
            extra = list(self._extra_warehouses.get(shop_id, []))
        return [w.id for w in self.store.warehouses(shop_id)] + extra

    def assign(self, shop_id: str, sku_id: str, quantities: dict[str, int]) -> None:
        """Set the SKU's warehouses and their quantities (a test's or the demo's setup)."""
        known = set(self.shop_warehouses(shop_id))
        if not set(quantities) <= known:
            raise ValueError(f"unknown warehouses {sorted(set(quantities) - known)}")
        stock = self.stock(shop_id, sku_id)
        with self.lock:
            stock.warehouses = list(quantities)
            stock.quantities = dict(quantities)

    def quantity(self, shop_id: str, seller_sku: str) -> int:
        _, sku = self.store.find_sku(shop_id, seller_sku)
        return self.stock(shop_id, sku.id).total

    def history(self, shop_id: str, seller_sku: str) -> list[int]:
        """Every total applied by Update Inventory, in order."""
        _, sku = self.store.find_sku(shop_id, seller_sku)
        stock = self.stock(shop_id, sku.id)
        with self.lock:
            return [sum(write.quantities.values()) for write in stock.writes]

    def timed_history(self, shop_id: str, seller_sku: str) -> list[tuple[float, int]]:
        _, sku = self.store.find_sku(shop_id, seller_sku)
        stock = self.stock(shop_id, sku.id)
        with self.lock:
            return [(write.at, sum(write.quantities.values())) for write in stock.writes]


_BOOKS: weakref.WeakKeyDictionary[SandboxStore, InventoryBook] = weakref.WeakKeyDictionary()
_BOOKS_LOCK = threading.Lock()


def inventory_book(store: SandboxStore) -> InventoryBook:
    with _BOOKS_LOCK:
        book = _BOOKS.get(store)
        if book is None:
            book = _BOOKS[store] = InventoryBook(store)
        return book


def _sku_error(code: int, message: str, sku_id: Any, warehouse_id: str = "") -> dict[str, Any]:
    detail: dict[str, Any] = {"sku_id": str(sku_id)}
    if warehouse_id:
        detail["extra_errors"] = [{"code": code, "message": message, "warehouse_id": warehouse_id}]
    return {"code": code, "message": message, "detail": detail}


def register_inventory(gateway: Gateway) -> None:
    store = gateway.store
    book = inventory_book(store)

    def update(request: Request) -> dict[str, Any]:
        product_id = request.path_params["product_id"]
        product = next((p for p in store.products(request.shop_id) if p.id == product_id), None)
        if product is None:
            raise ApiError(PRODUCT_NOT_FOUND, f"Product {product_id} does not exist in this shop.")
        if product.status in FROZEN_STATUSES:
            raise ApiError(
                PRODUCT_NOT_EDITABLE, f"Product status {product.status} is not editable."
            )
        skus = request.json_body().get("skus")
        if not isinstance(skus, list) or not skus:
            raise invalid_param("skus is required and must be a non-empty array")
        by_id = {sku.id: sku for sku in product.skus}
        shop_warehouses = book.shop_warehouses(request.shop_id)
        seen: set[str] = set()
        planned: list[tuple[str, dict[str, int]]] = []
        problems: list[dict[str, Any]] = []
        for entry in skus:
            if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
                raise invalid_param("each sku needs a string id")
            sku_id = entry["id"]
            if sku_id in seen:
                raise invalid_param(f"sku {sku_id} is listed twice")
            seen.add(sku_id)
            inventory = entry.get("inventory")
            if not isinstance(inventory, list) or not inventory:
                raise invalid_param(f"sku {sku_id}: inventory is required")
            if sku_id not in by_id:
                problems.append(
                    _sku_error(
                        SKU_NOT_IN_PRODUCT, "The SKU does not belong to the product.", sku_id
                    )
                )
                continue
            stock = book.stock(request.shop_id, sku_id)
            quantities: dict[str, int] = {}
            problem = None
            for row in inventory:
                if not isinstance(row, dict):
                    raise invalid_param(f"sku {sku_id}: inventory rows must be objects")
                quantity = row.get("quantity")
                warehouse_id = row.get("warehouse_id")
                if warehouse_id is None and len(shop_warehouses) == 1:
                    warehouse_id = shop_warehouses[0]
                if not isinstance(warehouse_id, str):
                    problem = _sku_error(
                        WAREHOUSE_MISSING, "warehouse_id is required: the shop has several.", sku_id
                    )
                    break
                if (
                    not isinstance(quantity, int)
                    or isinstance(quantity, bool)
                    or not 0 <= quantity <= MAX_QUANTITY
                ):
                    problem = _sku_error(
                        QUANTITY_OUT_OF_RANGE,
                        f"quantity must be an integer within [0, {MAX_QUANTITY}].",
                        sku_id,
                        warehouse_id,
                    )
                    break
                if warehouse_id not in stock.warehouses or warehouse_id in quantities:
                    problem = _sku_error(
                        WAREHOUSE_NOT_ASSIGNED,
                        "The warehouse is not assigned to this SKU (or listed twice).",
                        sku_id,
                        warehouse_id,
                    )
                    break
                quantities[warehouse_id] = quantity
            if problem is None and set(quantities) != set(stock.warehouses):
                missing = next(w for w in stock.warehouses if w not in quantities)
                problem = _sku_error(
                    WAREHOUSE_MISSING,
                    "Every warehouse assigned to the SKU must be listed with its quantity.",
                    sku_id,
                    missing,
                )
            if problem is not None:
                problems.append(problem)
            else:
                planned.append((sku_id, quantities))
        now = time.monotonic()
        for sku_id, quantities in planned:
            stock = book.stock(request.shop_id, sku_id)
            with book.lock:
                stock.quantities = dict(quantities)
                stock.writes.append(Write(now, dict(quantities)))
            # Search Products shows the SKU's total too.
            by_id[sku_id].quantity = sum(quantities.values())
        return {"errors": problems} if problems else {}

    def search(request: Request) -> dict[str, Any]:
        body = request.json_body()
        sku_ids = body.get("sku_ids")
        product_ids = body.get("product_ids")
        if sku_ids is None and product_ids is None:
            raise invalid_param("sku_ids or product_ids is required")
        if sku_ids is not None and (
            not isinstance(sku_ids, list) or not 1 <= len(sku_ids) <= SEARCH_MAX_SKU_IDS
        ):
            raise invalid_param(f"sku_ids takes 1 to {SEARCH_MAX_SKU_IDS} ids")
        if sku_ids is None and (
            not isinstance(product_ids, list) or not 1 <= len(product_ids) <= SEARCH_MAX_PRODUCT_IDS
        ):
            raise invalid_param(f"product_ids takes 1 to {SEARCH_MAX_PRODUCT_IDS} ids")
        wanted_skus = set(sku_ids) if sku_ids is not None else None
        wanted_products = set(product_ids or [])
        found = []
        for product in store.products(request.shop_id):
            if wanted_skus is None and product.id not in wanted_products:
                continue
            rows = []
            for sku in product.skus:
                if wanted_skus is not None and sku.id not in wanted_skus:
                    continue
                stock = book.stock(request.shop_id, sku.id)
                with book.lock:
                    held = dict(stock.quantities)
                per_warehouse = [
                    {"warehouse_id": w, "available_quantity": q, "committed_quantity": 0}
                    for w, q in held.items()
                ]
                total = sum(held.values())
                rows.append(
                    {
                        "id": sku.id,
                        "seller_sku": sku.seller_sku,
                        "total_available_quantity": total,
                        "total_committed_quantity": 0,
                        "warehouse_inventory": per_warehouse,
                    }
                )
            if rows:
                found.append({"product_id": product.id, "skus": rows})
        return {"inventory": found}

    gateway.add_route(
        "POST", r"/product/202309/products/(?P<product_id>\d+)/inventory/update", update
    )
    gateway.add_route("POST", "/product/202309/inventory/search", search)
