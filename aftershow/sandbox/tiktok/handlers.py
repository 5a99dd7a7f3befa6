"""Endpoint handlers: auth host, authorization, orders, logistics, products, events, returns.

Each ``register_*`` function adds one API area's routes to a :class:`Gateway`; later areas
(fulfillment, inventory, affiliate, finance) get their own module with the same shape.
Paths and shapes: channel-apis.md §1.2-§1.9 and Appendix A (official Node SDK).
"""

from __future__ import annotations

import json
from typing import Any

from . import errors
from .errors import ApiError, invalid_param
from .inventory import register_inventory
from .search import decode_page_token
from .server import Gateway, Request
from .store import SandboxStore

ORDER_SEARCH_MAX_PAGE_SIZE = 100
ORDER_DETAIL_MAX_IDS = 50
PRODUCT_SEARCH_MAX_PAGE_SIZE = 100
RETURN_SEARCH_MAX_PAGE_SIZE = 50
SORT_FIELDS = frozenset({"create_time", "update_time"})


def page_size_of(request: Request, maximum: int) -> int:
    raw = request.query.get("page_size", "")
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise invalid_param(f"page_size must be an integer within [1, {maximum}], got {raw!r}")
    return int(raw)


def paged_data(
    store: SandboxStore, request: Request, kind: str, key: bytes | None, size: int
) -> tuple[list[str], str, int]:
    token = request.query.get("page_token", "")
    if token:
        key, offset = decode_page_token(token)
    else:
        offset = 0
    assert key is not None
    return store.page(request.shop_id, kind, key, offset, size)


# -- auth host (unsigned) --------------------------------------------------------------------


def register_auth(gateway: Gateway) -> None:
    store = gateway.store

    def check_app(request: Request, grant_type: str) -> None:
        if request.query.get("app_key") != gateway.app_key:
            raise ApiError(errors.GATEWAY_INVALID, errors.MSG_BAD_APP_KEY)
        if request.query.get("app_secret") != gateway.app_secret:
            raise ApiError(errors.GATEWAY_INVALID, "Invalid credentials. Invalid `app_secret`.")
        if request.query.get("grant_type") != grant_type:
            raise invalid_param(f"grant_type must be {grant_type}")

    def token_get(request: Request) -> dict[str, Any]:
        check_app(request, "authorized_code")
        return store.exchange_auth_code(request.query.get("auth_code", "")).to_wire()

    def token_refresh(request: Request) -> dict[str, Any]:
        check_app(request, "refresh_token")
        return store.refresh(request.query.get("refresh_token", "")).to_wire()

    gateway.add_route("GET", "/api/v2/token/get", token_get, signed=False)
    gateway.add_route("GET", "/api/v2/token/refresh", token_refresh, signed=False)


# -- authorization / seller ------------------------------------------------------------------


def register_authorization(gateway: Gateway) -> None:
    store = gateway.store

    def authorized_shops(request: Request) -> dict[str, Any]:
        assert request.grant is not None
        return {
            "shops": [shop.to_wire() for shop in store.shops() if request.grant.covers(shop.id)]
        }

    def active_shops(request: Request) -> dict[str, Any]:
        assert request.grant is not None
        return {
            "shops": [
                {"id": shop.id, "region": shop.region}
                for shop in store.shops()
                if request.grant.covers(shop.id)
            ]
        }

    gateway.add_route(
        "GET", r"/authorization/\d{6}/shops", authorized_shops, shop_cipher="forbidden"
    )
    gateway.add_route("GET", r"/seller/\d{6}/shops", active_shops, shop_cipher="forbidden")


# -- orders ------------------------------------------------------------------------------------


def register_orders(gateway: Gateway) -> None:
    store = gateway.store

    def search(request: Request) -> bytes:
        size = page_size_of(request, ORDER_SEARCH_MAX_PAGE_SIZE)
        sort_field = request.query.get("sort_field") or "create_time"
        sort_order = request.query.get("sort_order") or "DESC"
        if sort_field not in SORT_FIELDS:
            raise invalid_param("sort_field must be create_time or update_time")
        if sort_order not in ("ASC", "DESC"):
            raise invalid_param("sort_order must be ASC or DESC")
        key = None
        if not request.query.get("page_token"):
            key = store.search_orders(
                request.shop_id,
                request.json_body(),
                sort_field=sort_field,
                descending=sort_order == "DESC",
            )
        ids, next_token, total = paged_data(store, request, "orders", key, size)
        orders = store.orders_json(request.shop_id, ids)
        return (
            b'{"next_page_token":'
            + json.dumps(next_token).encode()
            + b',"orders":['
            + b",".join(orders)
            + b'],"total_count":'
            + str(total).encode()
            + b"}"
        )

    def detail(request: Request) -> bytes:
        ids = [part for part in request.query.get("ids", "").split(",") if part]
        if not ids:
            raise invalid_param("ids is required")
        if len(ids) > ORDER_DETAIL_MAX_IDS:
            raise invalid_param(f"ids accepts at most {ORDER_DETAIL_MAX_IDS} order ids")
        return b'{"orders":[' + b",".join(store.orders_json(request.shop_id, ids)) + b"]}"

    gateway.add_route("POST", "/order/202309/orders/search", search)
    gateway.add_route("GET", "/order/(?:202309|202507)/orders", detail)


# -- logistics -----------------------------------------------------------------------------


def register_logistics(gateway: Gateway) -> None:
    store = gateway.store

    def warehouses(request: Request) -> dict[str, Any]:
        return {
            "warehouses": [
                {
                    "id": w.id,
                    "name": w.name,
                    "effect_status": "ENABLED",
                    "type": "SALES_WAREHOUSE",
                    "sub_type": "DOMESTIC_WAREHOUSE",
                    "is_default": w.is_default,
                    "address": w.address,
                }
                for w in store.warehouses(request.shop_id)
            ]
        }

    gateway.add_route("GET", "/logistics/202309/warehouses", warehouses)


# -- products (minimal Search Products) ------------------------------------------------------


def register_products(gateway: Gateway) -> None:
    store = gateway.store

    def search(request: Request) -> dict[str, Any]:
        size = page_size_of(request, PRODUCT_SEARCH_MAX_PAGE_SIZE)
        body = request.json_body()
        seller_skus = body.get("seller_skus")
        if seller_skus is not None and (not isinstance(seller_skus, list) or len(seller_skus) > 10):
            raise ApiError(
                12019027, "The maximum count of “seller_skus” in the search filter is 10."
            )
        key = None
        if not request.query.get("page_token"):
            key = store.search_products(request.shop_id, seller_skus=seller_skus)
        ids, next_token, total = paged_data(store, request, "products", key, size)
        products = []
        for product_id in ids:
            product = store.product(product_id)
            warehouse_id = store.get_shop(request.shop_id).default_warehouse_id
            products.append(
                {
                    "id": product.id,
                    "title": product.title,
                    "status": product.status,
                    "sales_regions": ["US"],
                    "create_time": product.create_time,
                    "update_time": product.update_time,
                    "skus": [
                        {
                            "id": sku.id,
                            "seller_sku": sku.seller_sku,
                            "price": {
                                "currency": "USD",
                                "sale_price": str(sku.price),
                                "tax_exclusive_price": str(sku.price),
                            },
                            "inventory": [{"warehouse_id": warehouse_id, "quantity": sku.quantity}],
                        }
                        for sku in product.skus
                    ],
                }
            )
        return {"products": products, "next_page_token": next_token, "total_count": total}

    gateway.add_route("POST", "/product/(?:202309|202312|202502)/products/search", search)


# -- events (webhook registration) ---------------------------------------------------------


def register_events(gateway: Gateway) -> None:
    store = gateway.store

    def get_webhooks(request: Request) -> dict[str, Any]:
        hooks = store.webhooks(request.shop_id)
        return {"webhooks": hooks, "total_count": len(hooks)}

    def put_webhook(request: Request) -> dict[str, Any]:
        body = request.json_body()
        address, event_type = body.get("address"), body.get("event_type")
        if not isinstance(address, str) or not isinstance(event_type, str):
            raise invalid_param("address and event_type are required strings")
        store.set_webhook_address(request.shop_id, address, event_type)
        return {}

    def delete_webhook(request: Request) -> dict[str, Any]:
        event_type = request.json_body().get("event_type")
        if not isinstance(event_type, str):
            raise invalid_param("event_type is required")
        store.delete_webhook(request.shop_id, event_type)
        return {}

    gateway.add_route("GET", "/event/202309/webhooks", get_webhooks)
    gateway.add_route("PUT", "/event/202309/webhooks", put_webhook)
    gateway.add_route("DELETE", "/event/202309/webhooks", delete_webhook)


# -- returns (minimal Search Returns, for buyers' return history) ----------------------------


def register_returns(gateway: Gateway) -> None:
    store = gateway.store

    def search(request: Request) -> dict[str, Any]:
        size = page_size_of(request, RETURN_SEARCH_MAX_PAGE_SIZE)
        key = None
        if not request.query.get("page_token"):
            key = store.search_returns(request.shop_id, request.json_body())
        ids, next_token, total = paged_data(store, request, "returns", key, size)
        records = store.return_records(ids)
        return {"return_orders": records, "next_page_token": next_token, "total_count": total}

    gateway.add_route("POST", "/return_refund/202309/returns/search", search)


def register_all(gateway: Gateway) -> None:
    for register in (
        register_auth,
        register_authorization,
        register_orders,
        register_logistics,
        register_products,
        register_events,
        register_returns,
        register_inventory,
    ):
        register(gateway)
