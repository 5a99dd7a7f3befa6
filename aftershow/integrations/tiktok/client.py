"""Signed HTTP to the TikTok Shop Partner API (202309 paths). Nothing else lives here.

Every call goes through :class:`aftershow.core.http.OutboundHttp`; this module adds the
signature, the ``x-tts-access-token`` header, the shop cipher, and the mapping of TikTok's
envelope codes to retryable and terminal errors. TikTok reports errors in the envelope's
``code``, often with HTTP 200, so the envelope decides, not the HTTP status.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

import httpx

from aftershow.core.http import (
    OutboundHttp,
    RetryableChannelError,
    TerminalChannelError,
    parse_retry_after,
)
from aftershow.integrations.tiktok.mapping import (
    AuthorizedShop,
    OrderDetail,
    OrderSearchPage,
    TokenPair,
)
from aftershow.integrations.tiktok.signing import request_signature

# Envelope codes (docv2 error table as collected in channel-apis.md §1.2 and §8).
THROTTLED = 36009002
RETRYABLE_CODES = frozenset({THROTTLED, 36009003, 36009007, 12001000})
EXPIRED_TOKEN = 105002
ORDER_DETAIL_MAX_IDS = 50
ORDER_SEARCH_MAX_PAGE_SIZE = 100


class TokenExpiredError(TerminalChannelError):
    """The access token expired (105002): refresh it, then repeat the call once."""


def _classify(response: httpx.Response) -> None:
    try:
        envelope = response.json()
    except ValueError:
        envelope = None
    if not isinstance(envelope, dict) or "code" not in envelope:
        if response.status_code == 429 or response.status_code >= 500:
            raise RetryableChannelError(
                f"HTTP {response.status_code} without a TikTok envelope",
                status_code=response.status_code,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        raise TerminalChannelError(
            f"HTTP {response.status_code}: not a TikTok response", status_code=response.status_code
        )
    code = int(envelope.get("code") or 0)
    if code == 0 and response.status_code < 400:
        return
    message = f"TikTok {code}: {envelope.get('message', '')}"
    details = {
        "code": str(code),
        "status_code": response.status_code,
        "request_id": str(envelope.get("request_id", "")),
    }
    if code in RETRYABLE_CODES or (code == 0 and response.status_code >= 500):
        raise RetryableChannelError(
            message,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            **details,  # type: ignore[arg-type]
        )
    if code == EXPIRED_TOKEN:
        raise TokenExpiredError(message, **details)  # type: ignore[arg-type]
    raise TerminalChannelError(message, **details)  # type: ignore[arg-type]


class TikTokClient:
    def __init__(
        self,
        *,
        http: OutboundHttp,
        app_key: str,
        app_secret: str,
        api_base_url: str,
        auth_base_url: str,
        access_token: str = "",
        shop_cipher: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.http = http
        self.app_key = app_key
        self.app_secret = app_secret
        self.api_base_url = api_base_url.rstrip("/")
        self.auth_base_url = auth_base_url.rstrip("/")
        self.access_token = access_token
        self.shop_cipher = shop_cipher
        self.clock = clock

    # -- transport -------------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str | int] | None = None,
        body: Mapping[str, Any] | None = None,
        shop_scoped: bool = True,
    ) -> dict[str, Any]:
        """One signed call; returns the envelope's ``data``."""
        params = {key: str(value) for key, value in (query or {}).items() if value != ""}
        if shop_scoped:
            params["shop_cipher"] = self.shop_cipher
        # Serialise once: the signature covers exactly these bytes.
        content = json.dumps(body, separators=(",", ":")).encode() if body is not None else b""

        def build() -> httpx.Request:
            signed = {**params, "app_key": self.app_key, "timestamp": str(int(self.clock()))}
            signed["sign"] = request_signature(
                app_secret=self.app_secret,
                path=path,
                query=signed,
                body=content,
                content_type="application/json",
            )
            return httpx.Request(
                method,
                f"{self.api_base_url}{path}?{urlencode(signed)}",
                content=content or None,
                headers={
                    "content-type": "application/json",
                    "x-tts-access-token": self.access_token,
                },
            )

        response = self.http.send(build, classify=_classify)
        data = response.json().get("data")
        return data if isinstance(data, dict) else {}

    def _auth_call(self, path: str, query: Mapping[str, str]) -> TokenPair:
        params = {"app_key": self.app_key, "app_secret": self.app_secret, **query}

        def build() -> httpx.Request:
            return httpx.Request("GET", f"{self.auth_base_url}{path}?{urlencode(params)}")

        response = self.http.send(build, classify=_classify)
        return TokenPair.model_validate(response.json()["data"])

    # -- auth ------------------------------------------------------------------------------

    def get_token(self, *, auth_code: str) -> TokenPair:
        return self._auth_call(
            "/api/v2/token/get", {"auth_code": auth_code, "grant_type": "authorized_code"}
        )

    def refresh_token(self, *, refresh_token: str) -> TokenPair:
        return self._auth_call(
            "/api/v2/token/refresh",
            {"refresh_token": refresh_token, "grant_type": "refresh_token"},
        )

    def get_authorized_shops(self) -> list[AuthorizedShop]:
        data = self.call("GET", "/authorization/202309/shops", shop_scoped=False)
        return [AuthorizedShop.model_validate(shop) for shop in data.get("shops", [])]

    # -- orders ----------------------------------------------------------------------------

    def search_orders(
        self,
        *,
        filters: Mapping[str, Any],
        page_token: str = "",
        page_size: int = ORDER_SEARCH_MAX_PAGE_SIZE,
        sort_field: str = "update_time",
        sort_order: str = "ASC",
    ) -> OrderSearchPage:
        data = self.call(
            "POST",
            "/order/202309/orders/search",
            query={
                "page_size": page_size,
                "page_token": page_token,
                "sort_field": sort_field,
                "sort_order": sort_order,
            },
            body=dict(filters),
        )
        return OrderSearchPage.model_validate(data)

    def get_order_detail(self, order_ids: Sequence[str]) -> OrderDetail:
        if not 1 <= len(order_ids) <= ORDER_DETAIL_MAX_IDS:
            raise ValueError(f"Get Order Detail takes 1 to {ORDER_DETAIL_MAX_IDS} ids")
        data = self.call("GET", "/order/202309/orders", query={"ids": ",".join(order_ids)})
        return OrderDetail.model_validate(data)

    # -- webhooks --------------------------------------------------------------------------

    def register_webhook(self, *, event_type: str, address: str) -> None:
        self.call(
            "PUT", "/event/202309/webhooks", body={"event_type": event_type, "address": address}
        )

    def list_webhooks(self) -> list[dict[str, Any]]:
        return list(self.call("GET", "/event/202309/webhooks").get("webhooks", []))
