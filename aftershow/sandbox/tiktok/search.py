"""Order search filters and stable cursor paging.

A first search call snapshots the ids that match, in sort order, under a random key; page
tokens encode that key and an offset. Walking a snapshot means an order whose ``update_time``
changes while a client pages (and so moves in the sort order) can make the client neither skip
nor repeat other orders. Snapshots live an hour (or until 512 newer ones exist).
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import invalid_param
from .orders import ORDER_STATUSES, SHIPPING_TYPES

SNAPSHOT_TTL_SECONDS = 3600.0
SNAPSHOT_CAPACITY = 512


@dataclass
class _Snapshot:
    shop_id: str
    kind: str
    ids: list[str]
    created: float = field(default_factory=time.monotonic)


class Snapshots:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snapshots: OrderedDict[bytes, _Snapshot] = OrderedDict()

    def remember(self, shop_id: str, kind: str, ids: list[str]) -> bytes:
        now = time.monotonic()
        with self._lock:
            while self._snapshots:
                oldest_key, oldest = next(iter(self._snapshots.items()))
                if (
                    len(self._snapshots) < SNAPSHOT_CAPACITY
                    and now - oldest.created < SNAPSHOT_TTL_SECONDS
                ):
                    break
                del self._snapshots[oldest_key]
            key = secrets.token_bytes(12)
            self._snapshots[key] = _Snapshot(shop_id, kind, ids)
            return key

    def page(
        self, shop_id: str, kind: str, key: bytes, offset: int, size: int
    ) -> tuple[list[str], str, int]:
        """(ids on this page, next page token or "", total count)."""
        with self._lock:
            snapshot = self._snapshots.get(key)
            if snapshot is None or snapshot.shop_id != shop_id or snapshot.kind != kind:
                raise invalid_param("page_token is invalid or expired")
            ids = snapshot.ids[offset : offset + size]
            following = offset + size
            token = encode_page_token(key, following) if following < len(snapshot.ids) else ""
            return ids, token, len(snapshot.ids)


def order_predicate(filters: Mapping[str, Any], *, now: int) -> Callable[[dict[str, Any]], bool]:
    """The Get Order List body filters as one predicate; raises on malformed filters."""
    checks: list[Callable[[dict[str, Any]], bool]] = []
    status = filters.get("order_status")
    if status is not None:
        if status not in ORDER_STATUSES:
            raise invalid_param(f"order_status {status!r} is not a valid status")
        checks.append(lambda o: o["status"] == status)
    shipping_type = filters.get("shipping_type")
    if shipping_type is not None:
        if shipping_type not in SHIPPING_TYPES:
            raise invalid_param(f"shipping_type {shipping_type!r} must be TIKTOK or SELLER")
        checks.append(lambda o: o["shipping_type"] == shipping_type)
    buyer = filters.get("buyer_user_id")
    if buyer is not None:
        checks.append(lambda o: o["user_id"] == str(buyer))
    cancel_request = filters.get("is_buyer_request_cancel")
    if cancel_request is not None:
        if not isinstance(cancel_request, bool):
            raise invalid_param("is_buyer_request_cancel must be a boolean")
        checks.append(lambda o: o["is_buyer_request_cancel"] is cancel_request)
    warehouses = filters.get("warehouse_ids")
    if warehouses is not None:
        if not isinstance(warehouses, list) or len(warehouses) > 100:
            raise invalid_param("warehouse_ids must be a list of at most 100 ids")
        wanted = frozenset(str(w) for w in warehouses)
        checks.append(lambda o: o["warehouse_id"] in wanted)
    for name in ("create_time", "update_time"):
        low, high = filters.get(f"{name}_ge"), filters.get(f"{name}_lt")
        if low is None and high is None:
            continue
        for value in (low, high):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise invalid_param(f"{name}_ge/{name}_lt must be Unix seconds (integers)")
        # Docs: a missing _lt defaults to now (we include the current second), a missing
        # _ge to the shop's earliest time.
        checks.append(
            _within(
                name,
                0 if low is None else low,
                now + 1 if high is None else high,
            )
        )

    def matches(order: dict[str, Any]) -> bool:
        return all(check(order) for check in checks)

    return matches


def _within(field_name: str, low: int, high: int) -> Callable[[dict[str, Any]], bool]:
    def check(order: dict[str, Any]) -> bool:
        return bool(low <= order[field_name] < high)

    return check


def encode_page_token(key: bytes, offset: int) -> str:
    # Standard base64 on purpose: like TikTok's tokens it carries '+', '/' and '=' padding, so
    # a client that signs the encoded value instead of the decoded one fails loudly.
    return base64.b64encode(key + offset.to_bytes(4, "big")).decode()


def decode_page_token(token: str) -> tuple[bytes, int]:
    try:
        raw = base64.b64decode(token, validate=True)
    except ValueError as exc:
        raise invalid_param("page_token is invalid or expired") from exc
    if len(raw) != 16:
        raise invalid_param("page_token is invalid or expired")
    return raw[:12], int.from_bytes(raw[12:], "big")
