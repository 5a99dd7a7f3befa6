"""Combine Package before a parcel holding several TikTok orders is shipped.

aftershow packs a buyer's orders to one address into one parcel (``fulfillment.packing``).
TikTok keeps one package per order until the seller combines them, and refuses one tracking
number on two packages, so before such a parcel's tracking is pushed its orders are combined on
TikTok (Search Combinable Packages, then Combine Package with the parcel's orders): TikTok then
holds one package with every line of the parcel, which ships with Batch Ship Packages like any
other. TikTok decides what may combine (same buyer, address and delivery option, awaiting
shipment, no cancel request, at most 20 orders); when it will not, the parcel's push is refused
with TikTok's reason for a person to act on (ship the orders separately).

Combining twice is harmless: a retry after a lost answer reads the orders again and finds them
in one package already, so it asks for nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aftershow.integrations.tiktok.fulfillment import (
    CombinablePackage,
    OrderPackages,
    TikTokFulfillmentApi,
)

T = TypeVar("T")
# TikTok publishes no maximum per Combine Package call; the search's page size is ours.
COMBINE_PER_CALL = 50
NOT_OFFERED = (
    "TikTok does not offer these orders for combining (another buyer, address or delivery "
    "option, TikTok Shipping, or an order shipped, cancelled, split or on hold)"
)


@dataclass
class CombineOutcome:
    combined: set[str] = field(default_factory=set)  # order ids now in one package: read again
    refusals: dict[tuple[str, ...], str] = field(default_factory=dict)  # order ids → why not


def orders_to_combine(
    parcels: Iterable[Sequence[str]], orders: dict[str, OrderPackages]
) -> list[tuple[str, ...]]:
    """The parcels (as sorted order ids) whose orders TikTok holds in more than one package."""
    wanted = []
    for order_ids in parcels:
        if len(order_ids) < 2 or any(order_id not in orders for order_id in order_ids):
            continue
        packages = {
            line.package_id
            for order_id in order_ids
            for line in orders[order_id].line_items
            if line.display_status != "CANCELLED"
        }
        if len(packages) > 1 and all(orders[o].shipping_type != "TIKTOK" for o in order_ids):
            wanted.append(tuple(order_ids))
    return sorted(set(wanted))


def _covered(order_ids: tuple[str, ...], offered: Sequence[CombinablePackage]) -> bool:
    return any(set(order_ids) <= set(group.order_ids) for group in offered)


def combine_orders(
    api: TikTokFulfillmentApi,
    call: Callable[..., Any],
    wanted: Sequence[tuple[str, ...]],
    *,
    offered: list[CombinablePackage] | None = None,
) -> tuple[CombineOutcome, list[CombinablePackage] | None]:
    """Ask TikTok to combine each group of ``wanted``; ``call`` wraps every API call (token
    refresh). Channel errors propagate: nothing is recorded here, the caller retries later.

    ``offered`` is an earlier search's answer, searched again only when it does not cover every
    group (a burst's push batches would otherwise repeat the search, which walks every order
    awaiting shipment); returned for the next call."""
    outcome = CombineOutcome()
    if not wanted:
        return outcome, offered
    if offered is None or not all(_covered(order_ids, offered) for order_ids in wanted):
        offered = call(api.search_combinable_packages)
    entries = []
    for order_ids in wanted:
        group = next((g for g in offered if set(order_ids) <= set(g.order_ids)), None)
        if group is None:
            outcome.refusals[order_ids] = NOT_OFFERED
        else:
            entries.append(CombinablePackage(id=group.id, order_ids=list(order_ids)))
    for start in range(0, len(entries), COMBINE_PER_CALL):
        chunk = entries[start : start + COMBINE_PER_CALL]
        result = call(api.combine_packages, chunk)
        refused = {error.detail.package_id: error.message for error in result.errors}
        for entry in chunk:
            if entry.id in refused:
                outcome.refusals[tuple(entry.order_ids)] = refused[entry.id] or NOT_OFFERED
            else:
                outcome.combined.update(entry.order_ids)
    return outcome, offered
