"""A strict Amazon Selling Partner API sandbox on 127.0.0.1: LWA, Listings Items, Orders v0.

Checks, answered in SP-API's error format (``{"errors": [{"code", "message", "details"}]}``,
channel-apis.md §3), in this order for every SP-API call:

1. the path and method are an operation of Amazon's own model (``contracts/``);
2. injected fault, if any: 429 ``QuotaExceeded``, 500 ``InternalFailure``, or a timeout;
3. ``x-amz-access-token`` is a live LWA access token (403 ``Unauthorized``; an expired one
   says so in ``details``), and the path's ``sellerId`` is the token's seller;
4. the operation's usage plan (rate and burst per seller): 429 ``QuotaExceeded`` with
   ``x-amzn-RateLimit-Limit``;
5. parameters and body validate against the operation's contract (400 ``InvalidInput``), then
   the rules the models state in prose (one of ``CreatedAfter``/``LastUpdatedAfter``, the
   "before" bound at least two minutes in the past, patches on top-level attributes only...).

LWA (``POST /auth/o2/token``, form-encoded ``grant_type=refresh_token``) is never faulted and
issues one-hour access tokens. A ``timeout`` fault applies a write on arrival, holds the answer
past the client's timeout and drops it: writes are ordered by arrival, as on a real server.
"""

from __future__ import annotations

import copy
import re
import secrets
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from aftershow.sandbox.loopback import (
    FaultInjector,
    LoopbackSandbox,
    LoopbackServer,
    Request,
    Response,
)

from .store import MARKETPLACE_US, AmazonStore, Grant, Listing, amazon_time
from .swagger import Contract, Operation, load_contract

TOKEN_PATH = "/auth/o2/token"
LISTINGS = "listingsItems_2021-08-01.json"
ORDERS = "ordersV0.json"
ORDER_ITEMS_PAGE = 10
# "CreatedBefore/LastUpdatedBefore ... must be no later than two minutes before now".
BEFORE_MARGIN = timedelta(minutes=2)
_FULFILLMENT_KEYS = {
    "fulfillment_channel_code",
    "quantity",
    "lead_time_to_ship_max_days",
    "restock_date",
    "is_inventory_available",
}
_ATTRIBUTE_PATH = re.compile(r"/attributes/([a-z0-9_]+)")


class SpApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, details: str = "", **headers: str
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"errors": [{"code": code, "message": message, "details": details}]}
        self.headers = headers


def _invalid(message: str, details: str = "") -> SpApiError:
    return SpApiError(400, "InvalidInput", message, details)


def _parse_time(text: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise _invalid(f"{name} must be an ISO 8601 date-time") from error
    if moment.tzinfo is None:
        raise _invalid(f"{name} must carry a time zone")
    return moment.astimezone(UTC)


class AmazonSandbox(LoopbackSandbox):
    def __init__(
        self,
        client_id: str = "amzn1.application-oa2-client.sandbox",
        client_secret: str = "amzn-sandbox-secret",  # noqa: S107 - a loopback sandbox's own
        *,
        seller_id: str = "A2SANDBOXSELLER",
        seed: int = 0,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.seller_id = seller_id
        self.store = AmazonStore(seed=seed)
        self.faults = FaultInjector()
        self.server = LoopbackServer(self._handle, name="amazon")
        self.contracts = {LISTINGS: load_contract(LISTINGS), ORDERS: load_contract(ORDERS)}
        Handler = Callable[[Grant, dict[str, str], Request, Any], Any]
        self._handlers: dict[str, Handler] = {
            "patchListingsItem": self._patch_listing,
            "getListingsItem": self._get_listing,
            "getOrders": self._get_orders,
            "getOrderItems": self._get_order_items,
        }

    # -- lifecycle -------------------------------------------------------------------------

    # -- helpers for tests and the demo ----------------------------------------------------

    def authorize(self) -> str:
        """The seller's consent: returns the refresh token the app keeps."""
        return self.store.authorize_seller(self.seller_id)

    def add_listing(self, sku: str, **kwargs: Any) -> Listing:
        return self.store.add_listing(self.seller_id, sku, **kwargs)

    def listing(self, sku: str) -> Listing:
        with self.store.lock:
            return copy.deepcopy(self.store.listings[(self.seller_id, sku)])

    def quantity(self, sku: str) -> int | None:
        return self.listing(sku).quantity

    def history(self, sku: str) -> list[int]:
        return self.listing(sku).history

    def timed_history(self, sku: str) -> list[tuple[float, int]]:
        """(time.monotonic() when applied, quantity) per write."""
        listing = self.listing(sku)
        return list(zip(listing.history_at, listing.history, strict=True))

    def create_order(self, *, lines: list[tuple[str, int]], **kwargs: Any) -> dict[str, Any]:
        return self.store.create_order(self.seller_id, lines=lines, **kwargs)

    # -- dispatch --------------------------------------------------------------------------

    def _handle(self, request: Request) -> Response | None:
        request_id = str(uuid.uuid4())
        try:
            if (request.method, request.path) == ("POST", TOKEN_PATH):
                return self._token(request)
            contract, operation, path_params = self._match(request)
            fault = self.faults.draw()
            if fault == "429":
                raise self._quota_exceeded(operation)
            if fault == "500":
                raise SpApiError(
                    500, "InternalFailure", "We encountered an internal error. Please try again."
                )
            grant = self._authenticate(request, path_params)
            if not self.store.bucket(grant.seller_id, operation.operation_id).take():
                raise self._quota_exceeded(operation)
            body = self._validated(contract, operation, path_params, request)
            payload = self._handlers[operation.operation_id](grant, path_params, request, body)
            rate, _ = self.store.rate_limits[operation.operation_id]
            response = Response.json(
                200,
                payload,
                {"x-amzn-RequestId": request_id, "x-amzn-RateLimit-Limit": str(rate)},
            )
            if fault == "timeout":
                self.faults.stall()
                return None
            return response
        except SpApiError as error:
            return Response.json(
                error.status, error.body, {"x-amzn-RequestId": request_id, **error.headers}
            )

    def _match(self, request: Request) -> tuple[Contract, Operation, dict[str, str]]:
        for contract in self.contracts.values():
            found = contract.match(request.method, request.raw_path or request.path)
            if found is not None:
                operation, params = found
                if operation.operation_id not in self._handlers:
                    raise SpApiError(404, "NotFound", f"{operation.operation_id} is not served")
                return contract, operation, params
        raise SpApiError(404, "NotFound", "Resource not found")

    def _quota_exceeded(self, operation: Operation) -> SpApiError:
        rate, _ = self.store.rate_limits[operation.operation_id]
        return SpApiError(
            429,
            "QuotaExceeded",
            "You exceeded your quota for the requested resource.",
            **{"x-amzn-RateLimit-Limit": str(rate)},
        )

    def _authenticate(self, request: Request, path_params: dict[str, str]) -> Grant:
        token = request.headers.get("x-amz-access-token") or ""
        with self.store.lock:
            grant = self.store.grants_by_access.get(token) if token else None
        denied = "Access to requested resource is denied."
        if grant is None:
            details = "The access token you provided is revoked, malformed or invalid."
            raise SpApiError(403, "Unauthorized", denied, details if token else "")
        if grant.access_expires_at <= time.time():
            raise SpApiError(
                403, "Unauthorized", denied, "The access token you provided has expired."
            )
        if "sellerId" in path_params and path_params["sellerId"] != grant.seller_id:
            raise SpApiError(403, "Unauthorized", denied)
        return grant

    def _validated(
        self,
        contract: Contract,
        operation: Operation,
        path_params: dict[str, str],
        request: Request,
    ) -> Any:
        body = None
        if request.body:
            if request.media_type != "application/json":
                raise SpApiError(415, "UnsupportedMediaType", "Send application/json")
            try:
                body = request.json_body()
            except (UnicodeDecodeError, ValueError) as error:
                raise _invalid("The request body is not JSON") from error
        problems = contract.validate_request(
            operation, path_params=path_params, query=request.query, body=body
        )
        if problems:
            raise _invalid("Invalid request", "; ".join(problems))
        return body

    # -- LWA -------------------------------------------------------------------------------

    def _token(self, request: Request) -> Response:
        def lwa_error(status: int, error: str, description: str) -> Response:
            return Response.json(status, {"error": error, "error_description": description})

        if request.media_type != "application/x-www-form-urlencoded":
            return lwa_error(400, "invalid_request", "The request is missing a required parameter")
        form = {key: values[-1] for key, values in parse_qs(request.body.decode()).items()}
        if form.get("client_id") != self.client_id or form.get("client_secret") != (
            self.client_secret
        ):
            return lwa_error(401, "invalid_client", "Client authentication failed")
        if form.get("grant_type") != "refresh_token":
            return lwa_error(400, "unsupported_grant_type", "The grant type is not supported")
        grant = self.store.exchange(form.get("refresh_token", ""))
        if grant is None:
            return lwa_error(
                400, "invalid_grant", "The request has an invalid grant parameter : refresh_token"
            )
        return Response.json(
            200,
            {
                "access_token": grant.access_token,
                "refresh_token": grant.refresh_token,
                "token_type": "bearer",
                "expires_in": int(grant.access_expires_at - time.time()),
            },
        )

    # -- listings --------------------------------------------------------------------------

    @staticmethod
    def _check_marketplaces(request: Request, name: str) -> None:
        marketplaces = (request.param(name) or "").split(",")
        if MARKETPLACE_US not in marketplaces or len(set(marketplaces)) != len(marketplaces):
            raise _invalid(f"{name} must name the seller's marketplace ({MARKETPLACE_US}) once")

    def _listing(self, grant: Grant, sku: str) -> Listing:
        listing = self.store.listings.get((grant.seller_id, sku))
        if listing is None:
            raise SpApiError(
                404, "NOT_FOUND", f"SKU '{sku}' not found in marketplace {MARKETPLACE_US}"
            )
        return listing

    def _patch_listing(
        self, grant: Grant, params: dict[str, str], request: Request, body: Any
    ) -> dict[str, Any]:
        self._check_marketplaces(request, "marketplaceIds")
        submission = {"sku": params["sku"], "submissionId": secrets.token_hex(16)}
        with self.store.lock:
            listing = self._listing(grant, params["sku"])
            availability = copy.deepcopy(listing.fulfillment_availability)
            issues: list[dict[str, Any]] = []
            touched = False
            for patch in body["patches"]:
                attribute = _ATTRIBUTE_PATH.fullmatch(patch["path"])
                if attribute is None:
                    issues.append(_issue("Only top-level attributes can be patched", patch["path"]))
                    continue
                if attribute.group(1) != "fulfillment_availability":
                    continue  # other attributes are accepted and not modelled here
                problem = _fulfillment_problem(patch)
                if problem:
                    issues.append(_issue(problem, "fulfillment_availability"))
                    continue
                availability = _apply(patch["op"], availability, patch.get("value", []))
                touched = True
            if issues:
                return {**submission, "status": "INVALID", "issues": issues}
            if request.param("mode") == "VALIDATION_PREVIEW":
                return {**submission, "status": "VALID", "issues": []}
            if touched:
                listing.fulfillment_availability = availability
                listing.updated_at = datetime.now(UTC)
                if listing.quantity is not None:
                    listing.history.append(listing.quantity)
                    listing.history_at.append(time.monotonic())
        return {**submission, "status": "ACCEPTED", "issues": []}

    def _get_listing(
        self, grant: Grant, params: dict[str, str], request: Request, body: Any
    ) -> dict[str, Any]:
        self._check_marketplaces(request, "marketplaceIds")
        included = (request.param("includedData") or "summaries").split(",")
        with self.store.lock:
            listing = self._listing(grant, params["sku"])
            item: dict[str, Any] = {"sku": listing.sku}
            if "summaries" in included:
                item["summaries"] = [
                    {
                        "marketplaceId": MARKETPLACE_US,
                        "asin": listing.asin,
                        "productType": listing.product_type,
                        "conditionType": "new_new",
                        "status": ["BUYABLE"],
                        "itemName": listing.title,
                        "createdDate": amazon_time(listing.created_at),
                        "lastUpdatedDate": amazon_time(listing.updated_at),
                    }
                ]
            if "attributes" in included:
                item["attributes"] = {
                    "fulfillment_availability": copy.deepcopy(listing.fulfillment_availability)
                }
            if "issues" in included:
                item["issues"] = []
            if "fulfillmentAvailability" in included:
                item["fulfillmentAvailability"] = [
                    {
                        "fulfillmentChannelCode": entry["fulfillment_channel_code"],
                        "quantity": int(entry.get("quantity", 0)),
                    }
                    for entry in listing.fulfillment_availability
                ]
        return item

    # -- orders ----------------------------------------------------------------------------

    def _get_orders(
        self, grant: Grant, params: dict[str, str], request: Request, body: Any
    ) -> dict[str, Any]:
        self._check_marketplaces(request, "MarketplaceIds")
        token = request.param("NextToken")
        with self.store.lock:
            if token:
                if token not in self.store.next_tokens:
                    raise _invalid("Invalid NextToken")
                # The token carries the query it continues, page size included.
                order_ids, offset, bound, size = self.store.next_tokens[token]
            else:
                order_ids, bound = self._search(grant, request)
                offset = 0
                size = int(request.param("MaxResultsPerPage") or 100)
                if not 1 <= size <= 100:
                    raise _invalid("MaxResultsPerPage must be 1 to 100")
            page = order_ids[offset : offset + size]
            payload: dict[str, Any] = {
                "Orders": [copy.deepcopy(self.store.orders[order_id]) for order_id in page],
                bound[0]: bound[1],
            }
            if offset + size < len(order_ids):
                next_token = secrets.token_urlsafe(24)
                self.store.next_tokens[next_token] = (order_ids, offset + size, bound, size)
                payload["NextToken"] = next_token
        return {"payload": payload}

    def _search(self, grant: Grant, request: Request) -> tuple[list[str], tuple[str, str]]:
        created_after = request.param("CreatedAfter")
        updated_after = request.param("LastUpdatedAfter")
        if bool(created_after) == bool(updated_after):
            raise _invalid("Exactly one of CreatedAfter and LastUpdatedAfter is required")
        by_update = updated_after is not None
        field, before_name = (
            ("LastUpdateDate", "LastUpdatedBefore")
            if by_update
            else ("PurchaseDate", "CreatedBefore")
        )
        after = _parse_time(updated_after or created_after or "", "the after date")
        latest = datetime.now(UTC) - BEFORE_MARGIN
        before_text = request.param(before_name)
        before = _parse_time(before_text, before_name) if before_text else latest
        if before > latest + timedelta(seconds=1):
            raise _invalid(f"{before_name} must be at least two minutes before the request time")
        if before < after:
            raise _invalid(f"{before_name} must be after the after date")
        statuses = set((request.param("OrderStatuses") or "").split(",")) - {""}
        channels = set((request.param("FulfillmentChannels") or "").split(",")) - {""}
        matching = [
            order
            for order_id, order in self.store.orders.items()
            if self.store.order_seller[order_id] == grant.seller_id
            and after <= _parse_time(order[field], field) <= before
            and (not statuses or order["OrderStatus"] in statuses)
            and (not channels or order["FulfillmentChannel"] in channels)
        ]
        matching.sort(key=lambda order: (order[field], order["AmazonOrderId"]))
        return [order["AmazonOrderId"] for order in matching], (before_name, amazon_time(before))

    def _get_order_items(
        self, grant: Grant, params: dict[str, str], request: Request, body: Any
    ) -> dict[str, Any]:
        order_id = params["orderId"]
        with self.store.lock:
            if self.store.order_seller.get(order_id) != grant.seller_id:
                raise SpApiError(404, "NotFound", f"Order {order_id} not found")
            items = self.store.order_items[order_id]
            token = request.param("NextToken")
            offset = 0
            if token:
                entry = self.store.next_tokens.get(token)
                if entry is None or entry[0] != [order_id]:
                    raise _invalid("Invalid NextToken")
                offset = entry[1]
            payload: dict[str, Any] = {
                "AmazonOrderId": order_id,
                "OrderItems": copy.deepcopy(items[offset : offset + ORDER_ITEMS_PAGE]),
            }
            if offset + ORDER_ITEMS_PAGE < len(items):
                next_token = secrets.token_urlsafe(24)
                self.store.next_tokens[next_token] = (
                    [order_id],
                    offset + ORDER_ITEMS_PAGE,
                    ("", ""),
                    ORDER_ITEMS_PAGE,
                )
                payload["NextToken"] = next_token
        return {"payload": payload}


def _issue(message: str, attribute: str) -> dict[str, Any]:
    return {
        "code": "INVALID_ATTRIBUTE",
        "message": message,
        "severity": "ERROR",
        "attributeNames": [attribute],
        "categories": ["INVALID_ATTRIBUTE"],
    }


def _fulfillment_problem(patch: dict[str, Any]) -> str:
    """The product type definition's rules for ``fulfillment_availability`` entries."""
    if patch["op"] != "delete" and not patch.get("value"):
        return "fulfillment_availability needs at least one value"
    for entry in patch.get("value", []):
        code = entry.get("fulfillment_channel_code")
        if not isinstance(code, str) or not code:
            return "fulfillment_channel_code must be a non-empty string"
        unknown = set(entry) - _FULFILLMENT_KEYS
        if unknown:
            return f"unknown fulfillment_availability field {sorted(unknown)[0]}"
        quantity = entry.get("quantity", 0)
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
            return "quantity must be a whole number >= 0"
    return ""


def _apply(
    op: str, current: list[dict[str, Any]], value: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """JSON-patch on the attribute: ``replace``/``add`` swap the whole list, ``merge`` updates
    the entries with the same ``fulfillment_channel_code`` and keeps their other fields,
    ``delete`` drops the entries named."""
    if op in ("replace", "add"):
        return copy.deepcopy(value)
    codes = {entry["fulfillment_channel_code"] for entry in value}
    if op == "delete":
        return [entry for entry in current if entry["fulfillment_channel_code"] not in codes]
    merged = [copy.deepcopy(entry) for entry in current]
    for incoming in value:
        for entry in merged:
            if entry["fulfillment_channel_code"] == incoming["fulfillment_channel_code"]:
                entry.update(incoming)
                break
        else:
            merged.append(copy.deepcopy(incoming))
    return merged
