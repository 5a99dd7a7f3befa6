"""What the sync engine hands a channel connector to set stock, and what it gets back.

Channel-neutral, so one engine drives every channel: each connector class offers
``push_quantities`` and ``read_quantities`` (:class:`InventoryChannel`). Quantities are
absolute: the channel's "available" for the listing after the channel buffer, never a delta,
so repeating a push is harmless.

``push_quantities`` answers one :class:`PushResult` per update, in the order given, and never
raises for a failed call: a call that failed after the HTTP wrapper's retries becomes results
for each of its items (``FAILED`` when worth retrying later, ``REJECTED`` when not), so a
batch half sent still reports the half that landed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, TypeVar

from aftershow.core.http import ChannelError, RetryableChannelError

T = TypeVar("T")


@dataclass(frozen=True)
class QuantityUpdate:
    """Set ``quantity`` on one listing.

    ``compare_quantity`` is what the engine believes the channel holds now (None: skip the
    check); channels with a compare-and-set (Shopify) refuse the write when it is stale, the
    others ignore it. ``idempotency_key`` names this one intended value: reuse it only to
    retry the same quantity, never for a new one.
    """

    sku_code: str
    remote_product_id: str
    remote_sku_id: str
    quantity: int
    compare_quantity: int | None
    idempotency_key: str


class PushStatus(StrEnum):
    APPLIED = "applied"  # the channel holds ``quantity`` now
    STALE = "stale"  # the compare quantity did not match: recompute from ``remote_quantity``
    REJECTED = "rejected"  # the channel refused it; repeating it unchanged cannot succeed
    FAILED = "failed"  # throttled, server error or timeout after every retry: try again later


@dataclass(frozen=True)
class PushResult:
    update: QuantityUpdate
    status: PushStatus
    error_code: str = ""
    message: str = ""
    # Seconds the channel asked to wait before the next try (FAILED), when it said.
    retry_after: float | None = None
    # What the channel holds, when known (STALE answers carry it).
    remote_quantity: int | None = None

    @property
    def is_applied(self) -> bool:
        return self.status == PushStatus.APPLIED


class InventoryChannel(Protocol):
    def push_quantities(self, items: Sequence[QuantityUpdate]) -> list[PushResult]: ...

    def read_quantities(self, sku_codes: Sequence[str]) -> dict[str, int]: ...


def chunked(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def unique_chunks(
    items: Sequence[tuple[int, QuantityUpdate]], size: int
) -> list[list[tuple[int, QuantityUpdate]]]:
    """Chunks of at most ``size`` (position, update) pairs naming each listing once, as bulk
    endpoints require; a listing named again starts the next chunk, so a later value for it is
    still written after the earlier one."""
    chunks: list[list[tuple[int, QuantityUpdate]]] = [[]]
    for entry in items:
        current = chunks[-1]
        repeated = any(update.remote_sku_id == entry[1].remote_sku_id for _, update in current)
        if len(current) == size or repeated:
            chunks.append(current := [])
        current.append(entry)
    return [chunk for chunk in chunks if chunk]


def results_for_error(items: Sequence[QuantityUpdate], error: ChannelError) -> list[PushResult]:
    """A whole call failed: every item in it gets the call's outcome."""
    if isinstance(error, RetryableChannelError):
        return [
            PushResult(
                update=item,
                status=PushStatus.FAILED,
                error_code=error.code or str(error.status_code or ""),
                message=str(error)[:500],
                retry_after=error.retry_after,
            )
            for item in items
        ]
    return [
        PushResult(
            update=item,
            status=PushStatus.REJECTED,
            error_code=error.code or str(error.status_code or ""),
            message=str(error)[:500],
        )
        for item in items
    ]


def new_idempotency_key() -> str:
    return str(uuid.uuid4())


def batch_idempotency_key(items: Sequence[QuantityUpdate]) -> str:
    """One key for a call carrying several updates, derived from everything the call sends:
    resending the same updates is recognised as a retry, and any change (another item, another
    compare quantity) makes a new key, so one key never covers two different requests."""
    joined = "\n".join(
        f"{item.idempotency_key}|{item.remote_sku_id}|{item.quantity}|{item.compare_quantity}"
        for item in items
    )
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"aftershow:inventory-push:{joined}"))
