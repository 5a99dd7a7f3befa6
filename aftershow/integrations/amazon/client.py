"""Authorized HTTP to Amazon's Selling Partner API and its LWA token endpoint. Nothing else.

Every call goes through :class:`aftershow.core.http.OutboundHttp`. This module adds the
``x-amz-access-token`` header (no SigV4: not required since 2023-10-02), paces each operation
to its usage plan before sending, and maps SP-API's ``{"errors": [{"code", "message",
"details"}]}`` to retryable and terminal errors.

Pacing: a token bucket per host, seller and operation, shared by the process, modelling Amazon's
own exactly: the documented rate and burst, the rate adopted from ``x-amzn-RateLimit-Limit``
(a seller's plan can be higher than the default), no margin off the rate. Every attempt takes
a token, retries too, so a retry storm cannot outrun the plan. A 429 empties our bucket (Amazon
had less than a token), so the retry waits one token's worth (``1 / rate``), or ``Retry-After``
if sent.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from aftershow.core.http import (
    OutboundHttp,
    RetryableChannelError,
    TerminalChannelError,
    parse_retry_after,
)
from aftershow.integrations.amazon.mapping import (
    ListingItem,
    LwaToken,
    OrderItemsResponse,
    OrdersResponse,
    SubmissionResponse,
)

PRODUCTION_API_BASE_URL = "https://sellingpartnerapi-na.amazon.com"
PRODUCTION_AUTH_BASE_URL = "https://api.amazon.com"
LWA_PATH = "/auth/o2/token"
LISTINGS_PATH = "/listings/2021-08-01/items"
ORDERS_PATH = "/orders/v0/orders"
# Default usage plans (rate per second, burst), from the models (channel-apis.md §3.3-§3.4).
USAGE_PLANS: dict[str, tuple[float, int]] = {
    "patchListingsItem": (5.0, 5),
    "getListingsItem": (5.0, 10),
    "getOrders": (0.0167, 20),
    "getOrderItems": (0.5, 30),
}


class AccessTokenRejectedError(TerminalChannelError):
    """403 ``Unauthorized`` about the access token (expired or revoked): get a new one from
    LWA, then repeat the call once."""


# Amazon's bucket starts draining when our first request after an idle spell *arrives*, ours
# when it is sent: a later request that travels faster than that first one would find Amazon's
# bucket a little emptier than ours. So a full bucket starts refilling this much after the
# request that took from it. Only the first request after idle pays it; in steady state the
# requests go out at exactly the plan's rate (arrivals later than sends are always conforming).
CAP_GUARD_SECONDS = 0.02


@dataclass
class _Bucket:
    tokens: float
    at: float  # monotonic time the tokens were counted (may be ahead of now: see the guard)
    rate: float
    burst: float

    def refill(self, now: float) -> None:
        if now > self.at:
            self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
            self.at = now


class UsagePlanPacer:
    """Client-side token buckets; ``acquire`` reserves a token and sleeps until it is due."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, ...], _Bucket] = {}
        self._clock = clock

    def _bucket(self, key: tuple[str, ...], operation: str) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            rate, burst = USAGE_PLANS[operation]
            bucket = self._buckets[key] = _Bucket(float(burst), self._clock(), rate, burst)
        return bucket

    def acquire(self, key: tuple[str, ...], operation: str, sleep: Callable[[float], None]) -> None:
        with self._lock:
            bucket = self._bucket(key, operation)
            now = self._clock()
            bucket.refill(now)
            if bucket.tokens >= bucket.burst:  # full: Amazon's may start draining a bit later
                bucket.at = max(bucket.at, now + CAP_GUARD_SECONDS)
            bucket.tokens -= 1
            # Tokens are counted at bucket.at (after now while the guard runs).
            wait = bucket.at - now - bucket.tokens / bucket.rate if bucket.tokens < 0 else 0.0
        if wait > 0:
            sleep(wait)

    def ready_in(self, key: tuple[str, ...], operation: str) -> float:
        """Seconds until ``acquire`` would not sleep (0 when a token is there now)."""
        with self._lock:
            bucket = self._bucket(key, operation)
            now = self._clock()
            bucket.refill(now)
            missing = 1.0 - bucket.tokens
            return max(0.0, bucket.at - now) + missing / bucket.rate if missing > 0 else 0.0

    def throttled(self, key: tuple[str, ...]) -> None:
        """Amazon answered 429: its bucket held less than a token, so ours holds none."""
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is not None:
                now = self._clock()
                bucket.refill(now)
                bucket.tokens = min(bucket.tokens, 0.0)

    def learn(self, key: tuple[str, ...], rate: float) -> None:
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is not None and rate > 0:
                bucket.refill(self._clock())
                bucket.rate = rate

    def rate(self, key: tuple[str, ...]) -> float | None:
        with self._lock:
            bucket = self._buckets.get(key)
            return bucket.rate if bucket else None


PACER = UsagePlanPacer()


def _stated_rate(response: httpx.Response) -> float | None:
    try:
        return float(response.headers.get("x-amzn-RateLimit-Limit", ""))
    except ValueError:
        return None


def classify(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        payload = {}
    errors = payload.get("errors")
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    # SP-API's shape, or LWA's {"error", "error_description"}.
    code = str(first.get("code") or payload.get("error") or "")
    message = str(first.get("message") or payload.get("error_description") or "")
    details = str(first.get("details") or "")
    text = f"Amazon HTTP {response.status_code} {code}: {message} {details}".strip()
    request_id = response.headers.get("x-amzn-RequestId", "")
    if response.status_code == 429 or response.status_code >= 500:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        rate = _stated_rate(response)
        if retry_after is None and rate:
            retry_after = 1 / rate
        raise RetryableChannelError(
            text,
            code=code,
            status_code=response.status_code,
            request_id=request_id,
            retry_after=retry_after,
        )
    if response.status_code == 403 and code == "Unauthorized" and "access token" in details:
        raise AccessTokenRejectedError(
            text, code=code, status_code=response.status_code, request_id=request_id
        )
    raise TerminalChannelError(
        text, code=code, status_code=response.status_code, request_id=request_id
    )


class AmazonClient:
    def __init__(
        self,
        *,
        http: OutboundHttp,
        api_base_url: str,
        auth_base_url: str,
        client_id: str,
        client_secret: str,
        seller_id: str,
        marketplace_id: str,
        access_token: str = "",
        pacer: UsagePlanPacer | None = None,
    ) -> None:
        self.http = http
        self.api_base_url = api_base_url.rstrip("/")
        self.auth_base_url = auth_base_url.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.seller_id = seller_id
        self.marketplace_id = marketplace_id
        self.access_token = access_token
        self.pacer = pacer or PACER

    def _call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        query: Mapping[str, str | int] | None = None,
        body: Any = None,
    ) -> httpx.Response:
        content = json.dumps(body, separators=(",", ":")).encode() if body is not None else None
        url = f"{self.api_base_url}{path}"
        if query:
            url = f"{url}?{urlencode(query, safe=',')}"
        key = (self.api_base_url, self.seller_id, operation)

        def build() -> httpx.Request:
            self.pacer.acquire(key, operation, self.http.sleep)
            headers = {"x-amz-access-token": self.access_token, "Accept": "application/json"}
            if content is not None:
                headers["Content-Type"] = "application/json"
            return httpx.Request(method, url, content=content, headers=headers)

        def classify_and_learn(response: httpx.Response) -> None:
            rate = _stated_rate(response)
            if rate:
                self.pacer.learn(key, rate)
            if response.status_code == 429:
                self.pacer.throttled(key)
            try:
                classify(response)
            except RetryableChannelError as error:
                if response.status_code == 429 and "Retry-After" not in response.headers:
                    error.retry_after = 0.0  # the emptied bucket makes the retry wait a token
                raise

        return self.http.send(build, classify=classify_and_learn)

    def ready_in(self, operation: str) -> float:
        """Seconds until the operation's next call can go out without waiting for a token."""
        return self.pacer.ready_in((self.api_base_url, self.seller_id, operation), operation)

    # -- LWA -------------------------------------------------------------------------------

    def exchange_refresh_token(self, *, refresh_token: str) -> LwaToken:
        form = urlencode(
            {
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": self.client_id,
                "client_secret": self.client_secret,
            }
        ).encode()

        def build() -> httpx.Request:
            return httpx.Request(
                "POST",
                f"{self.auth_base_url}{LWA_PATH}",
                content=form,
                headers={"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"},
            )

        response = self.http.send(build, classify=classify)
        return LwaToken.model_validate(response.json())

    # -- listings --------------------------------------------------------------------------

    def _listing_path(self, sku: str) -> str:
        # SKUs may hold "/" and spaces: encode every reserved character.
        return f"{LISTINGS_PATH}/{quote(self.seller_id, safe='')}/{quote(sku, safe='')}"

    def patch_listing(self, sku: str, body: Mapping[str, Any]) -> SubmissionResponse:
        response = self._call(
            "patchListingsItem",
            "PATCH",
            self._listing_path(sku),
            query={"marketplaceIds": self.marketplace_id, "includedData": "issues"},
            body=body,
        )
        return SubmissionResponse.model_validate(response.json())

    def get_listing(self, sku: str, *, included_data: Sequence[str]) -> ListingItem:
        response = self._call(
            "getListingsItem",
            "GET",
            self._listing_path(sku),
            query={"marketplaceIds": self.marketplace_id, "includedData": ",".join(included_data)},
        )
        return ListingItem.model_validate(response.json())

    # -- orders ----------------------------------------------------------------------------

    def get_orders(self, query: Mapping[str, str | int]) -> OrdersResponse:
        response = self._call(
            "getOrders",
            "GET",
            ORDERS_PATH,
            query={"MarketplaceIds": self.marketplace_id, **query},
        )
        return OrdersResponse.model_validate(response.json())

    def get_order_items(self, order_id: str, *, next_token: str = "") -> OrderItemsResponse:
        response = self._call(
            "getOrderItems",
            "GET",
            f"{ORDERS_PATH}/{quote(order_id, safe='')}/orderItems",
            query={"NextToken": next_token} if next_token else None,
        )
        return OrderItemsResponse.model_validate(response.json())
