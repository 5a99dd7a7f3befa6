"""Authorized HTTP to eBay's Sell APIs: OAuth refresh, Inventory, Fulfillment. Nothing else.

Every call goes through :class:`aftershow.core.http.OutboundHttp`; this module adds the
``Authorization`` header (Basic for the token endpoint, Bearer for the APIs) and maps eBay's
error shapes to retryable and terminal errors: ``{"errors": [{"errorId", "message", ...}]}``
on the APIs, ``{"error", "error_description"}`` on the token endpoint. ``bulkUpdatePriceQuantity``
answers 200 or 207 with a status per item; the per-item outcome is the caller's business.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

import httpx

from aftershow.core.http import (
    OutboundHttp,
    RetryableChannelError,
    TerminalChannelError,
    parse_retry_after,
)
from aftershow.integrations.ebay.mapping import (
    AccessToken,
    BulkGetInventoryItemResponse,
    BulkPriceQuantityResponse,
    OrderPage,
)

PRODUCTION_BASE_URL = "https://api.ebay.com"
TOKEN_PATH = "/identity/v1/oauth2/token"
INVENTORY_PATH = "/sell/inventory/v1"
FULFILLMENT_PATH = "/sell/fulfillment/v1"
SCOPES = (
    "https://api.ebay.com/oauth/api_scope/sell.inventory",
    "https://api.ebay.com/oauth/api_scope/sell.fulfillment",
)
# "up to 25" inventory items per bulk call (types/slr:BulkPriceQuantity, bulk-updates guide).
BULK_MAX_ITEMS = 25
ORDERS_MAX_LIMIT = 200
INVALID_ACCESS_TOKEN = 1001


class AccessTokenInvalidError(TerminalChannelError):
    """401, errorId 1001: the user token expired or was revoked. Refresh, then repeat once."""


def _error_details(response: httpx.Response) -> tuple[str, str]:
    try:
        payload = response.json()
    except ValueError:
        return "", response.text[:200]
    errors = payload.get("errors") if isinstance(payload, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        return str(first.get("errorId", "")), str(first.get("longMessage") or first.get("message"))
    if isinstance(payload, dict) and "error" in payload:  # the OAuth endpoint's shape
        return str(payload["error"]), str(payload.get("error_description", ""))
    return "", response.text[:200]


def classify(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    code, message = _error_details(response)
    text = f"eBay HTTP {response.status_code} {code}: {message}"
    if response.status_code == 429 or response.status_code >= 500:
        raise RetryableChannelError(
            text,
            code=code,
            status_code=response.status_code,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )
    if response.status_code == 401 and code == str(INVALID_ACCESS_TOKEN):
        raise AccessTokenInvalidError(text, code=code, status_code=response.status_code)
    raise TerminalChannelError(text, code=code, status_code=response.status_code)


class EbayClient:
    def __init__(
        self,
        *,
        http: OutboundHttp,
        api_base_url: str,
        auth_base_url: str,
        client_id: str,
        client_secret: str,
        access_token: str = "",
    ) -> None:
        self.http = http
        self.api_base_url = api_base_url.rstrip("/")
        self.auth_base_url = auth_base_url.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.access_token = access_token

    def _call(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str | int] | None = None,
        body: Any = None,
    ) -> httpx.Response:
        content = json.dumps(body, separators=(",", ":")).encode() if body is not None else None
        url = f"{self.api_base_url}{path}"
        if query:
            url = f"{url}?{urlencode(query)}"

        def build() -> httpx.Request:
            headers = {"Authorization": f"Bearer {self.access_token}", "Accept": "application/json"}
            if content is not None:
                headers["Content-Type"] = "application/json"
            return httpx.Request(method, url, content=content, headers=headers)

        return self.http.send(build, classify=classify)

    # -- OAuth -----------------------------------------------------------------------------

    def refresh_access_token(self, *, refresh_token: str) -> AccessToken:
        credentials = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        form = urlencode(
            {
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "scope": " ".join(SCOPES),
            }
        )

        def build() -> httpx.Request:
            return httpx.Request(
                "POST",
                f"{self.auth_base_url}{TOKEN_PATH}",
                content=form.encode(),
                headers={
                    "Authorization": f"Basic {credentials}",
                    "Content-Type": "application/x-www-form-urlencoded",
                },
            )

        response = self.http.send(build, classify=classify)
        return AccessToken.model_validate(response.json())

    # -- inventory -------------------------------------------------------------------------

    def bulk_update_price_quantity(
        self, requests: Sequence[Mapping[str, object]]
    ) -> BulkPriceQuantityResponse:
        if not 1 <= len(requests) <= BULK_MAX_ITEMS:
            raise ValueError(f"bulkUpdatePriceQuantity takes 1 to {BULK_MAX_ITEMS} items")
        response = self._call(
            "POST", f"{INVENTORY_PATH}/bulk_update_price_quantity", body={"requests": requests}
        )
        return BulkPriceQuantityResponse.model_validate(response.json())

    def bulk_get_inventory_items(self, skus: Sequence[str]) -> BulkGetInventoryItemResponse:
        if not 1 <= len(skus) <= BULK_MAX_ITEMS:
            raise ValueError(f"bulkGetInventoryItem takes 1 to {BULK_MAX_ITEMS} SKUs")
        response = self._call(
            "POST",
            f"{INVENTORY_PATH}/bulk_get_inventory_item",
            body={"requests": [{"sku": sku} for sku in skus]},
        )
        return BulkGetInventoryItemResponse.model_validate(response.json())

    # -- orders ----------------------------------------------------------------------------

    def get_orders(self, *, order_filter: str, limit: int, offset: int) -> OrderPage:
        if not 1 <= limit <= ORDERS_MAX_LIMIT:
            raise ValueError(f"getOrders takes a limit of 1 to {ORDERS_MAX_LIMIT}")
        response = self._call(
            "GET",
            f"{FULFILLMENT_PATH}/order",
            query={"filter": order_filter, "limit": limit, "offset": offset},
        )
        return OrderPage.model_validate(response.json())
