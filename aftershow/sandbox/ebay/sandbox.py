"""A strict eBay Sell API sandbox on 127.0.0.1: OAuth, Inventory (bulk price/quantity) and
Fulfillment getOrders.

Checks, each answered in eBay's error format (``{"errors": [{"errorId", "domain",
"category", "message", "longMessage"}]}``, channel-apis.md §4):

- token endpoint: form-encoded body, ``Authorization: Basic base64(client_id:client_secret)``
  (``invalid_client``), a known refresh token (``invalid_grant``), scopes within the grant;
- API calls: ``Authorization: Bearer <user token>``, live and unexpired (401, errorId 1001),
  with the scope the call needs (403, errorId 1100); JSON bodies with ``Content-Type:
  application/json`` (415);
- ``bulk_update_price_quantity``: 1 to 25 requests (more → 400, errorId 25709), unique SKUs,
  known fields only, quantities non-negative integers, offers belonging to their SKU, at most
  250 revisions per listing per day; per-item ``statusCode`` in ``responses`` (HTTP 207 when
  any item failed);
- ``getOrders``: ``filter`` on ``creationdate``/``lastmodifieddate`` ranges and
  ``orderfulfillmentstatus``, ``limit`` 1-200, ``offset`` ≥ 0, ``orderIds`` up to 50.

Faults hit API calls (never the token endpoint) before authentication. A ``timeout`` fault
applies the call's writes on arrival, then holds the answer past the client's timeout and
drops it: writes are ordered by arrival, as on a real server. (A write that a server applies
late, after newer ones, cannot be ordered by any client of an API without compare-and-set;
the drift check is the backstop for that.)
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from aftershow.sandbox.loopback import (
    FaultInjector,
    LoopbackSandbox,
    LoopbackServer,
    Request,
    Response,
)

from .store import SCOPE_FULFILLMENT, SCOPE_INVENTORY, EbayStore, Grant

TOKEN_PATH = "/identity/v1/oauth2/token"
BULK_UPDATE_PATH = "/sell/inventory/v1/bulk_update_price_quantity"
BULK_GET_PATH = "/sell/inventory/v1/bulk_get_inventory_item"
ORDERS_PATH = "/sell/fulfillment/v1/order"
MAX_BULK_REQUESTS = 25
MAX_ORDERS_LIMIT = 200
DEFAULT_ORDERS_LIMIT = 50
MAX_ORDER_IDS = 50
_REQUEST_FIELDS = {"sku", "shipToLocationAvailability", "offers"}
_OFFER_FIELDS = {"offerId", "availableQuantity", "price"}
_FILTER_RANGE = re.compile(r"^(creationdate|lastmodifieddate):\[([^\]]*)\]$")
_FILTER_STATUS = re.compile(r"^orderfulfillmentstatus:\{([A-Z_|]+)\}$")
_EBAY_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
_FULFILLMENT_STATUSES = {"NOT_STARTED", "IN_PROGRESS", "FULFILLED"}


class EbayError(Exception):
    def __init__(
        self,
        status: int,
        error_id: int,
        message: str,
        long_message: str = "",
        *,
        domain: str = "API_INVENTORY",
        category: str = "REQUEST",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = {
            "errors": [
                {
                    "errorId": error_id,
                    "domain": domain,
                    "category": category,
                    "message": message,
                    "longMessage": long_message or message,
                }
            ]
        }


def _invalid(field: str, detail: str = "") -> EbayError:
    return EbayError(400, 25709, f"Invalid value for {field}. {detail}".strip())


def _is_quantity(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _bad_filter(detail: str) -> EbayError:
    return EbayError(400, 30800, f"Invalid filter: {detail}", domain="API_FULFILLMENT")


def _parse_time(text: str) -> datetime:
    if not _EBAY_TIME.match(text):
        raise _bad_filter(f"date {text!r}")
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


class EbaySandbox(LoopbackSandbox):
    def __init__(
        self,
        client_id: str = "aftershow-sandbox-ebay",
        client_secret: str = "ebay-sandbox-secret",  # noqa: S107 - a loopback sandbox's own
        *,
        seed: int = 0,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.store = EbayStore(seed=seed)
        self.faults = FaultInjector()
        self.server = LoopbackServer(self._handle, name="ebay")
        self._routes: dict[tuple[str, str], tuple[Callable[[Request], Response], str]] = {
            ("POST", BULK_UPDATE_PATH): (self._bulk_update, SCOPE_INVENTORY),
            ("POST", BULK_GET_PATH): (self._bulk_get, SCOPE_INVENTORY),
            ("GET", ORDERS_PATH): (self._get_orders, SCOPE_FULFILLMENT),
        }

    # -- lifecycle -------------------------------------------------------------------------

    # -- helpers for tests and the demo ----------------------------------------------------

    def issue_user_token(self) -> Grant:
        return self.store.issue_user_token()

    def add_item(self, sku: str, *, quantity: int = 0, price: str = "19.99") -> str:
        return self.store.add_item(sku, quantity=quantity, price=price)

    def quantity(self, sku: str) -> int:
        with self.store.lock:
            return self.store.items[sku].quantity

    def offer_quantity(self, offer_id: str) -> int:
        with self.store.lock:
            return self.store.offers[offer_id].available_quantity

    def history(self, sku: str) -> list[int]:
        with self.store.lock:
            return list(self.store.items[sku].history)

    def timed_history(self, sku: str) -> list[tuple[float, int]]:
        """(time.monotonic() when applied, quantity) per write."""
        with self.store.lock:
            item = self.store.items[sku]
            return list(zip(item.history_at, item.history, strict=True))

    def create_order(self, *, lines: list[tuple[str, int]], **kwargs: Any) -> dict[str, Any]:
        return self.store.create_order(lines=lines, **kwargs)

    # -- dispatch --------------------------------------------------------------------------

    def _handle(self, request: Request) -> Response | None:
        try:
            if (request.method, request.path) == ("POST", TOKEN_PATH):
                return self._token(request)
            route = self._routes.get((request.method, request.path))
            if route is None:
                raise EbayError(404, 2002, "Resource not found", domain="ACCESS")
            handler, scope = route
            fault = self.faults.draw()
            if fault == "429":
                raise EbayError(
                    429,
                    2001,
                    "Too many requests",
                    "The request limit has been reached for the resource.",
                    domain="ACCESS",
                )
            if fault == "500":
                raise EbayError(500, 25001, "A system error has occurred.", category="APPLICATION")
            self._authorize(request, scope)
            response = handler(request)
            if fault == "timeout":
                self.faults.stall()
                return None
            return response
        except EbayError as error:
            return Response.json(error.status, error.body)

    def _authorize(self, request: Request, scope: str) -> Grant:
        header = request.headers.get("Authorization") or ""
        token = header[len("Bearer ") :] if header.startswith("Bearer ") else ""
        grant = self.store.grant_for(token) if token else None
        if grant is None:
            raise EbayError(
                401,
                1001,
                "Invalid access token",
                "Invalid access token. Check the value of the Authorization HTTP request header.",
                domain="OAuth",
            )
        if scope not in grant.scopes:
            raise EbayError(
                403,
                1100,
                "Access denied",
                "Insufficient permissions to fulfill the request.",
                domain="ACCESS",
            )
        return grant

    @staticmethod
    def _json(request: Request) -> dict[str, Any]:
        if request.media_type != "application/json":
            raise EbayError(415, 2004, "Unsupported media type: send application/json")
        try:
            body = request.json_body()
        except (UnicodeDecodeError, ValueError) as error:
            raise EbayError(400, 2004, "Invalid request: the body is not JSON") from error
        if not isinstance(body, dict):
            raise EbayError(400, 2004, "Invalid request: the body must be a JSON object")
        return body

    # -- OAuth -----------------------------------------------------------------------------

    def _token(self, request: Request) -> Response:
        def oauth_error(status: int, error: str, description: str) -> Response:
            return Response.json(status, {"error": error, "error_description": description})

        if request.media_type != "application/x-www-form-urlencoded":
            return oauth_error(400, "invalid_request", "request is missing a required parameter")
        header = request.headers.get("Authorization") or ""
        try:
            decoded = base64.b64decode(header.removeprefix("Basic "), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        if not header.startswith("Basic ") or decoded != f"{self.client_id}:{self.client_secret}":
            return oauth_error(401, "invalid_client", "client authentication failed")
        form = {key: values[-1] for key, values in parse_qs(request.body.decode()).items()}
        if form.get("grant_type") != "refresh_token":
            return oauth_error(400, "unsupported_grant_type", "grant type not supported")
        scopes = frozenset(form["scope"].split()) if form.get("scope") else None
        grant = self.store.refresh(form.get("refresh_token", ""), scopes)
        if grant is None:
            return oauth_error(
                400, "invalid_grant", "the provided authorization refresh token is invalid"
            )
        return Response.json(
            200,
            {
                "access_token": grant.access_token,
                "expires_in": int(grant.access_expires_at - datetime.now(UTC).timestamp()),
                "token_type": "User Access Token",
            },
        )

    # -- inventory -------------------------------------------------------------------------

    def _requests(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        requests = body.get("requests")
        if set(body) != {"requests"} or not isinstance(requests, list):
            raise _invalid("requests", 'The body must be {"requests": [...]}.')
        if not 1 <= len(requests) <= MAX_BULK_REQUESTS:
            raise _invalid("requests", f"Send between 1 and {MAX_BULK_REQUESTS} requests per call.")
        skus = [entry.get("sku") if isinstance(entry, dict) else None for entry in requests]
        if any(not isinstance(sku, str) or not 1 <= len(sku) <= 50 for sku in skus):
            raise _invalid("sku", "Each request needs a SKU of 1 to 50 characters.")
        if len(set(skus)) != len(skus):
            raise _invalid("sku", "SKUs must be unique in the request.")
        return requests

    def _bulk_update(self, request: Request) -> Response:
        requests = self._requests(self._json(request))
        for entry in requests:
            self._check_update_shape(entry)
        responses = [self._apply_update(entry) for entry in requests]
        failed = any(item["statusCode"] != 200 for item in responses)
        return Response.json(207 if failed else 200, {"responses": responses})

    @staticmethod
    def _check_update_shape(entry: dict[str, Any]) -> None:
        unknown = set(entry) - _REQUEST_FIELDS
        if unknown:
            raise _invalid(sorted(unknown)[0], "Unknown field.")
        availability = entry.get("shipToLocationAvailability")
        offers = entry.get("offers")
        if availability is None and offers is None:
            raise _invalid("requests", "Send shipToLocationAvailability, offers or both.")
        if availability is not None and (
            not isinstance(availability, dict)
            or set(availability) != {"quantity"}
            or not _is_quantity(availability["quantity"])
        ):
            raise _invalid("shipToLocationAvailability.quantity", "A whole number >= 0.")
        if offers is not None:
            if not isinstance(offers, list) or not offers:
                raise _invalid("offers")
            for offer in offers:
                if not isinstance(offer, dict) or set(offer) - _OFFER_FIELDS:
                    raise _invalid("offers", "Unknown field in an offer.")
                if not isinstance(offer.get("offerId"), str) or not offer["offerId"]:
                    raise _invalid("offers.offerId")
                if "availableQuantity" in offer and not _is_quantity(offer["availableQuantity"]):
                    raise _invalid("offers.availableQuantity", "A whole number >= 0.")

    def _apply_update(self, entry: dict[str, Any]) -> dict[str, Any]:
        sku = entry["sku"]
        offers = [
            (offer["offerId"], offer.get("availableQuantity")) for offer in entry.get("offers", [])
        ]
        result: dict[str, Any] = {"sku": sku, "statusCode": 200}
        if offers:
            result["offerId"] = offers[0][0]
        with self.store.lock:
            item = self.store.items.get(sku)
            if item is None:
                return {**result, "statusCode": 400, "errors": [_item_error(25702, sku)]}
            for offer_id, _ in offers:
                offer = self.store.offers.get(offer_id)
                if offer is None or offer.sku != sku or not offer.published:
                    return {**result, "statusCode": 400, "errors": [_item_error(25713, offer_id)]}
            if self.store.revisions_today(sku) >= 250:
                return {**result, "statusCode": 400, "errors": [_item_error(25019, sku)]}
            quantity = entry.get("shipToLocationAvailability", {}).get("quantity")
            self.store.set_quantities(sku=sku, quantity=quantity, offers=offers)
        return result

    def _bulk_get(self, request: Request) -> Response:
        requests = self._requests(self._json(request))
        if any(set(entry) != {"sku"} for entry in requests):
            raise _invalid("requests", "Each request carries only a sku.")
        responses = []
        with self.store.lock:
            for entry in requests:
                item = self.store.items.get(entry["sku"])
                if item is None:
                    responses.append(
                        {"sku": entry["sku"], "statusCode": 404, "errors": [_item_error(25710, "")]}
                    )
                    continue
                responses.append(
                    {
                        "sku": item.sku,
                        "statusCode": 200,
                        "inventoryItem": {
                            "sku": item.sku,
                            "availability": {
                                "shipToLocationAvailability": {"quantity": item.quantity}
                            },
                        },
                    }
                )
        failed = any(item["statusCode"] != 200 for item in responses)
        return Response.json(207 if failed else 200, {"responses": responses})

    # -- orders ----------------------------------------------------------------------------

    def _get_orders(self, request: Request) -> Response:
        limit_text = request.param("limit") or str(DEFAULT_ORDERS_LIMIT)
        offset_text = request.param("offset") or "0"
        if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_ORDERS_LIMIT:
            raise EbayError(400, 30700, "Invalid limit: 1 to 200", domain="API_FULFILLMENT")
        if not offset_text.isdigit():
            raise EbayError(400, 30700, "Invalid offset", domain="API_FULFILLMENT")
        limit, offset = int(limit_text), int(offset_text)
        with self.store.lock:
            orders = list(self.store.orders.values())
            order_ids = request.param("orderIds")
            if order_ids:
                wanted = order_ids.split(",")
                if len(wanted) > MAX_ORDER_IDS:
                    raise EbayError(400, 30700, "Up to 50 orderIds", domain="API_FULFILLMENT")
                orders = [order for order in orders if order["orderId"] in wanted]
            else:
                orders = [o for o in orders if self._matches(o, request.param("filter") or "")]
            # Newest first, like eBay's own listing; ties by id so pages are stable.
            orders.sort(key=lambda o: (o["creationDate"], o["orderId"]), reverse=True)
            page = [dict(order) for order in orders[offset : offset + limit]]
        payload: dict[str, Any] = {
            "href": f"{ORDERS_PATH}?limit={limit}&offset={offset}",
            "total": len(orders),
            "limit": limit,
            "offset": offset,
            "orders": page,
        }
        if offset + limit < len(orders):
            payload["next"] = f"{ORDERS_PATH}?limit={limit}&offset={offset + limit}"
        return Response.json(200, payload)

    @staticmethod
    def _matches(order: dict[str, Any], filter_text: str) -> bool:
        # Split on commas outside brackets and braces: "a:[x..y],b:{P|Q}".
        parts = [p for p in re.split(r",(?![^\[\{]*[\]\}])", filter_text) if p]
        for part in parts:
            ranged = _FILTER_RANGE.match(part)
            status = _FILTER_STATUS.match(part)
            if ranged:
                field = "creationDate" if ranged.group(1) == "creationdate" else "lastModifiedDate"
                start_text, separator, end_text = ranged.group(2).partition("..")
                if not separator or not start_text:
                    raise EbayError(
                        400, 30800, f"Invalid filter {part!r}", domain="API_FULFILLMENT"
                    )
                moment = _parse_time(order[field])
                if moment < _parse_time(start_text):
                    return False
                if end_text and moment > _parse_time(end_text):
                    return False
            elif status:
                wanted = set(status.group(1).split("|"))
                if not wanted <= _FULFILLMENT_STATUSES:
                    raise EbayError(
                        400, 30800, f"Invalid filter {part!r}", domain="API_FULFILLMENT"
                    )
                if order["orderFulfillmentStatus"] not in wanted:
                    return False
            else:
                raise _bad_filter(repr(part))
        return True


def _item_error(error_id: int, subject: str) -> dict[str, Any]:
    messages = {
        25702: f"SKU {subject} is not available in the system",
        25713: f"This Offer is not available : {subject}.",
        25019: "Cannot revise listing. The listing reached 250 revisions today.",
        25710: "We didn't find the resource/entity you are requesting. Please verify the request",
    }
    return {
        "errorId": error_id,
        "domain": "API_INVENTORY",
        "category": "REQUEST",
        "message": messages[error_id],
    }
