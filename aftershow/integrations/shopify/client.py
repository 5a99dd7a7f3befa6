"""Authorized HTTP to the Shopify Admin GraphQL API (2026-04). Nothing else.

Every call goes through :class:`aftershow.core.http.OutboundHttp`. This module adds the
``X-Shopify-Access-Token`` header, keeps each call inside the cost-based rate limit, and maps
Shopify's answers to retryable and terminal errors: GraphQL errors come with HTTP 200, so the
body decides (``THROTTLED`` and ``INTERNAL_SERVER_ERROR`` are worth another try, the rest is
not); HTTP 429 and 5xx are retried honouring ``Retry-After`` (which Shopify sends as "2.0").

The cost limit (channel-apis.md §2.2) is a leaky bucket per app and store; every answer tells
its state in ``extensions.cost.throttleStatus``. A process-wide mirror per store tracks it:
before a call of estimated cost C, if fewer than C points are left it waits for them to
restore, so a burst of pushes slows down instead of bouncing off ``THROTTLED``; a call that is
throttled anyway waits exactly until its requested cost is available again.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from aftershow.core.http import OutboundHttp, RetryableChannelError, TerminalChannelError

API_VERSION = "2026-04"
RETRYABLE_ERROR_CODES = frozenset({"THROTTLED", "INTERNAL_SERVER_ERROR"})
# A retry of a key Shopify is still working on: try again in a moment.
CONCURRENT_REQUEST = "IDEMPOTENCY_CONCURRENT_REQUEST"

INVENTORY_ITEMS_QUERY = """
query AftershowInventoryItems($ids: [ID!]!, $locationId: ID!) {
  nodes(ids: $ids) {
    id
    ... on ProductVariant {
      sku
      inventoryItem {
        id
        inventoryLevel(locationId: $locationId) {
          quantities(names: ["available"]) { name quantity }
        }
      }
    }
  }
}
"""
SET_QUANTITIES_MUTATION = """
mutation AftershowSetQuantities($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id }
    userErrors { code field message }
  }
}
"""
_ORDER_FIELDS = """
    id name createdAt updatedAt cancelledAt displayFinancialStatus displayFulfillmentStatus
    currencyCode
    subtotalPriceSet { shopMoney { amount currencyCode } }
    totalPriceSet { shopMoney { amount currencyCode } }
    totalTaxSet { shopMoney { amount currencyCode } }
    totalShippingPriceSet { shopMoney { amount currencyCode } }
    totalDiscountsSet { shopMoney { amount currencyCode } }
    customer { id }
    shippingAddress { name address1 address2 city provinceCode zip countryCodeV2 phone }
"""
_LINE_FIELDS = """
      id title variantTitle sku quantity
      variant { id }
      product { id }
      originalUnitPriceSet { shopMoney { amount currencyCode } }
      totalDiscountSet { shopMoney { amount currencyCode } }
"""
ORDERS_QUERY = f"""
query AftershowOrders($first: Int!, $after: String, $search: String!) {{
  orders(first: $first, after: $after, query: $search, sortKey: UPDATED_AT) {{
    nodes {{
      {_ORDER_FIELDS}
      lineItems(first: 10) {{
        nodes {{ {_LINE_FIELDS} }}
        pageInfo {{ hasNextPage endCursor }}
      }}
    }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}
"""
ORDER_LINES_QUERY = f"""
query AftershowOrderLines($id: ID!, $after: String) {{
  order(id: $id) {{
    lineItems(first: 50, after: $after) {{
      nodes {{ {_LINE_FIELDS} }}
      pageInfo {{ hasNextPage endCursor }}
    }}
  }}
}}
"""


@dataclass
class _Bucket:
    available: float
    maximum: float
    restore_rate: float
    observed_at: float


class CostThrottle:
    """The process's view of each store's cost bucket; ``acquire`` waits for enough points."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}

    def acquire(self, store: str, cost: int, sleep: Callable[[float], None]) -> float:
        """Reserve ``cost`` points, sleeping until they are restored; answers the wait."""
        with self._lock:
            bucket = self._buckets.get(store)
            if bucket is None:  # nothing known yet: the first answer will tell
                return 0.0
            now = time.monotonic()
            current = min(
                bucket.maximum, bucket.available + (now - bucket.observed_at) * bucket.restore_rate
            )
            wait = max(0.0, (cost - current) / bucket.restore_rate)
            bucket.available, bucket.observed_at = current - cost, now
        if wait > 0:
            sleep(wait)
        return wait

    def observe(self, store: str, status: Mapping[str, Any]) -> None:
        try:
            bucket = _Bucket(
                available=float(status["currentlyAvailable"]),
                maximum=float(status["maximumAvailable"]),
                restore_rate=float(status["restoreRate"]),
                observed_at=time.monotonic(),
            )
        except (KeyError, TypeError, ValueError):
            return
        if bucket.restore_rate > 0:
            with self._lock:
                self._buckets[store] = bucket


THROTTLE = CostThrottle()


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None


def _throttled_wait(cost: Mapping[str, Any]) -> float | None:
    """Seconds until the requested cost is restored, from a THROTTLED answer's extensions."""
    try:
        status = cost["throttleStatus"]
        missing = float(cost["requestedQueryCost"]) - float(status["currentlyAvailable"])
        return max(0.0, missing / float(status["restoreRate"]))
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None


def classify(response: httpx.Response) -> None:
    status = response.status_code
    if status == 429 or status >= 500:
        raise RetryableChannelError(
            f"Shopify HTTP {status}", status_code=status, retry_after=_retry_after(response)
        )
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if status >= 400 or not isinstance(payload, dict):
        errors = payload.get("errors") if isinstance(payload, dict) else response.text[:200]
        raise TerminalChannelError(
            f"Shopify HTTP {status}: {errors}", status_code=status, code=str(status)
        )
    errors = payload.get("errors")
    if errors:
        first = errors[0] if isinstance(errors, list) and isinstance(errors[0], dict) else {}
        first = first or {"message": str(errors)}
        code = str((first.get("extensions") or {}).get("code", ""))
        message = f"Shopify {code or 'GraphQL error'}: {first.get('message', '')}"
        if code in RETRYABLE_ERROR_CODES:
            cost = (payload.get("extensions") or {}).get("cost") or {}
            raise RetryableChannelError(
                message, code=code, status_code=status, retry_after=_throttled_wait(cost)
            )
        raise TerminalChannelError(message, code=code, status_code=status)


def classify_set_quantities(response: httpx.Response) -> None:
    """Also retry a key Shopify is still working on (a retry that overtook its original)."""
    classify(response)
    payload = response.json()["data"]["inventorySetQuantities"] or {}
    codes = {error.get("code") for error in payload.get("userErrors") or []}
    if CONCURRENT_REQUEST in codes:
        raise RetryableChannelError(
            "Shopify: the same idempotency key is still in progress",
            code=CONCURRENT_REQUEST,
            status_code=response.status_code,
        )


@dataclass(frozen=True)
class GraphQLAnswer:
    data: dict[str, Any]
    requested_cost: int | None


class ShopifyClient:
    def __init__(
        self,
        *,
        http: OutboundHttp,
        base_url: str,
        access_token: str,
        throttle: CostThrottle | None = None,
    ) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.access_token = access_token
        self.throttle = throttle or THROTTLE
        self.url = f"{self.base_url}/admin/api/{API_VERSION}/graphql.json"

    def graphql(
        self,
        query: str,
        variables: Mapping[str, Any],
        *,
        estimated_cost: int,
        classify_answer: Callable[[httpx.Response], None] = classify,
    ) -> GraphQLAnswer:
        content = json.dumps({"query": query, "variables": dict(variables)}).encode()

        def build() -> httpx.Request:
            self.throttle.acquire(self.base_url, estimated_cost, self.http.sleep)
            return httpx.Request(
                "POST",
                self.url,
                content=content,
                headers={
                    "X-Shopify-Access-Token": self.access_token,
                    "Content-Type": "application/json",
                    "Accept": "application/json",
                },
            )

        def observe_and_classify(response: httpx.Response) -> None:
            try:
                cost = (response.json().get("extensions") or {}).get("cost") or {}
            except (ValueError, AttributeError):
                cost = {}
            if cost.get("throttleStatus"):
                self.throttle.observe(self.base_url, cost["throttleStatus"])
            classify_answer(response)

        response = self.http.send(build, classify=observe_and_classify)
        payload = response.json()
        cost = (payload.get("extensions") or {}).get("cost") or {}
        return GraphQLAnswer(
            data=payload.get("data") or {}, requested_cost=cost.get("requestedQueryCost")
        )
