"""TikTok Shop stock on the uniform push interface (``aftershow.integrations.inventory_push``).

Update Inventory (``POST /product/202309/products/{product_id}/inventory/update``) sets each
SKU's quantity per warehouse and must list **every** warehouse assigned to the SKU
(channel-apis.md §1.8). The engine hands one absolute quantity per listing; it goes to the
SKU's sync warehouse (the first of its TikTok warehouses mapped to one of ours through
``ChannelWarehouse``, else its first) and the SKU's other warehouses are listed with 0, since
the quantity already is everything aftershow can sell on this shop.

A SKU's warehouses are read once with Inventory Search and remembered per process; a refusal
naming a warehouse forgets them, so the next try reads them again. All SKUs of one call must
belong to one product, so calls are per product, each SKU once per call. TikTok has no
compare-and-set: the write is an absolute set, ``compare_quantity`` is not used, and the drift
check's read-back is the backstop.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from functools import partial
from typing import Any

from aftershow.catalog.models import ChannelListing
from aftershow.core.http import ChannelError, OutboundHttp
from aftershow.integrations.inventory_push import (
    PushResult,
    PushStatus,
    QuantityUpdate,
    chunked,
    results_for_error,
    unique_chunks,
)
from aftershow.integrations.tiktok.sync import TikTokConnector
from aftershow.inventory.models import ChannelWarehouse
from aftershow.shops.models import Channel, Shop

SEARCH_MAX_SKU_IDS = 600
# No documented maximum of SKUs per call (channel-apis.md §7): stay at a modest batch.
MAX_SKUS_PER_CALL = 50

# (api base url, shop cipher, sku id) → the SKU's warehouse ids, in TikTok's order.
_WAREHOUSES: dict[tuple[str, str, str], tuple[str, ...]] = {}


class TikTokInventory:
    """Push and read stock quantities on one TikTok shop."""

    def __init__(
        self,
        shop: Shop,
        *,
        connector: TikTokConnector | None = None,
        http: OutboundHttp | None = None,
    ) -> None:
        if shop.channel != Channel.TIKTOK:
            raise ValueError(f"{shop} is not a TikTok shop")
        self.shop = shop
        self.connector = connector or TikTokConnector(shop)
        if http is not None:  # the caller's wrapper (the sync engine records the log itself)
            self.connector.client.http = http
        self._mapped: set[str] | None = None

    def _call(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        # The connector refreshes an expired token and repeats the call once.
        return self.connector._authorized(
            partial(self.connector.client.call, method, path, body=body)
        )

    def _key(self, sku_id: str) -> tuple[str, str, str]:
        client = self.connector.client
        return (client.api_base_url, client.shop_cipher, sku_id)

    def _mapped_warehouses(self) -> set[str]:
        if self._mapped is None:
            self._mapped = set(
                ChannelWarehouse.objects.filter(shop=self.shop).values_list(
                    "remote_warehouse_id", flat=True
                )
            )
        return self._mapped

    def _search(self, sku_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for chunk in chunked(list(dict.fromkeys(sku_ids)), SEARCH_MAX_SKU_IDS):
            data = self._call("POST", "/product/202309/inventory/search", {"sku_ids": chunk})
            for product in data.get("inventory") or []:
                for sku in product.get("skus") or []:
                    found[str(sku["id"])] = sku
                    warehouses = tuple(
                        str(row["warehouse_id"]) for row in sku.get("warehouse_inventory") or []
                    )
                    _WAREHOUSES[self._key(str(sku["id"]))] = warehouses
        return found

    def _warehouses(self, sku_ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
        missing = [s for s in sku_ids if self._key(s) not in _WAREHOUSES]
        if missing:
            self._search(missing)
        return {s: _WAREHOUSES[self._key(s)] for s in sku_ids if self._key(s) in _WAREHOUSES}

    def _inventory_rows(self, warehouses: tuple[str, ...], quantity: int) -> list[dict[str, Any]]:
        mapped = self._mapped_warehouses()
        sync_warehouse = next((w for w in warehouses if w in mapped), warehouses[0])
        return [
            {"warehouse_id": w, "quantity": quantity if w == sync_warehouse else 0}
            for w in warehouses
        ]

    # -- the uniform interface -------------------------------------------------------------

    def push_quantities(self, items: Sequence[QuantityUpdate]) -> list[PushResult]:
        results: dict[int, PushResult] = {}
        pending: list[tuple[int, QuantityUpdate]] = []
        for index, update in enumerate(items):
            if update.quantity < 0:
                results[index] = PushResult(
                    update, PushStatus.REJECTED, "INVALID_QUANTITY", "quantity < 0"
                )
            else:
                pending.append((index, update))
        try:
            warehouses = self._warehouses([update.remote_sku_id for _, update in pending])
        except ChannelError as error:
            failed = results_for_error([update for _, update in pending], error)
            results.update(zip([index for index, _ in pending], failed, strict=True))
            return [results[index] for index in range(len(items))]
        by_product: dict[str, list[tuple[int, QuantityUpdate]]] = defaultdict(list)
        for index, update in pending:
            if warehouses.get(update.remote_sku_id):
                by_product[update.remote_product_id].append((index, update))
            else:
                results[index] = PushResult(
                    update, PushStatus.REJECTED, "SKU_NOT_FOUND", "TikTok does not know this SKU"
                )
        for product_id, entries in by_product.items():
            for chunk in unique_chunks(entries, MAX_SKUS_PER_CALL):
                results.update(self._update(product_id, chunk, warehouses))
        return [results[index] for index in range(len(items))]

    def _update(
        self,
        product_id: str,
        chunk: list[tuple[int, QuantityUpdate]],
        warehouses: dict[str, tuple[str, ...]],
    ) -> dict[int, PushResult]:
        body = {
            "skus": [
                {
                    "id": update.remote_sku_id,
                    "inventory": self._inventory_rows(
                        warehouses[update.remote_sku_id], update.quantity
                    ),
                }
                for _, update in chunk
            ]
        }
        updates = [update for _, update in chunk]
        try:
            data = self._call(
                "POST", f"/product/202309/products/{product_id}/inventory/update", body
            )
        except ChannelError as error:
            return dict(
                zip([index for index, _ in chunk], results_for_error(updates, error), strict=True)
            )
        refused = {
            str((problem.get("detail") or {}).get("sku_id", "")): problem
            for problem in data.get("errors") or []
        }
        results = {}
        for index, update in chunk:
            refusal = refused.get(update.remote_sku_id)
            if refusal is None:
                results[index] = PushResult(update, PushStatus.APPLIED)
                continue
            # The SKU's warehouses may have changed: read them again before the next try.
            _WAREHOUSES.pop(self._key(update.remote_sku_id), None)
            results[index] = PushResult(
                update,
                PushStatus.REJECTED,
                str(refusal.get("code", "")),
                str(refusal.get("message", ""))[:500],
            )
        return results

    def read_quantities(self, sku_codes: Sequence[str]) -> dict[str, int]:
        """What TikTok shows as available per master SKU (all warehouses); SKUs not listed on
        this shop, or unknown to TikTok, are left out."""
        listings = dict(
            ChannelListing.objects.filter(shop=self.shop, sku__code__in=list(sku_codes))
            .order_by("pk")
            .values_list("remote_sku_id", "sku__code")
        )
        if not listings:
            return {}
        found = self._search(list(listings))
        return {
            listings[sku_id]: int(sku.get("total_available_quantity") or 0)
            for sku_id, sku in found.items()
            if sku_id in listings
        }
