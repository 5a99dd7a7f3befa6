"""Orchestration for Shopify: stock pushes with compare-and-set, read-backs, the order pull.

``shop.remote_shop_id`` is the store's ``*.myshopify.com`` domain. Credentials in
``shop.credentials``: ``access_token`` (an offline Admin API token), ``client_secret`` (the
app's secret, which signs webhooks) and ``location_id`` (the location whose ``available`` the
sync sets). A listing's ``remote_sku_id`` is the product variant's global id, the id order
lines carry; the variant's inventory item is looked up once and remembered.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction

from aftershow.catalog.models import ChannelListing
from aftershow.core.http import ChannelError, Exchange, OutboundHttp
from aftershow.core.timeutils import utcnow
from aftershow.integrations.inventory_push import (
    PushResult,
    PushStatus,
    QuantityUpdate,
    batch_idempotency_key,
    chunked,
    results_for_error,
    unique_chunks,
)
from aftershow.integrations.models import SyncCursor
from aftershow.integrations.services import integration_log_record
from aftershow.integrations.shopify.client import (
    INVENTORY_ITEMS_QUERY,
    ORDER_LINES_QUERY,
    ORDERS_QUERY,
    SET_QUANTITIES_MUTATION,
    ShopifyClient,
    classify_set_quantities,
)
from aftershow.integrations.shopify.mapping import (
    LineItemConnection,
    LineItemNode,
    OrderConnection,
    OrderNode,
    SetQuantitiesPayload,
    VariantNode,
    order_from_graphql,
    quantity_input,
)
from aftershow.orders.models import ChangeSource
from aftershow.orders.services import UpsertResult, orders_upsert
from aftershow.shops.models import Channel, Shop

ORDER_CURSOR = "shopify.orders"
ORDERS_PAGE_SIZE = 10  # with 10 lines each, a page stays well under the 1,000-point query cap
PULL_LAG = timedelta(seconds=30)
PULL_OVERLAP = timedelta(minutes=2)
INITIAL_LOOKBACK = timedelta(days=30)
MAX_QUANTITIES_PER_CALL = 250  # input arrays hold at most 250 items
NODES_PER_QUERY = 50
# Estimated query costs (points) for pacing; the bucket mirror corrects itself from answers.
MUTATION_COST = 13
ORDERS_COST = 860
ORDER_LINES_COST = 360
STALE = "CHANGE_FROM_QUANTITY_STALE"

# Variant → inventory item never changes: remembered per process, per store.
_INVENTORY_ITEMS: dict[tuple[str, str], str] = {}


@dataclass
class PullReport:
    pages: int = 0
    orders_seen: int = 0
    result: UpsertResult | None = None


def _recorder(shop: Shop) -> Callable[[Exchange], None]:
    return lambda exchange: integration_log_record(shop=shop, exchange=exchange)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ShopifyConnector:
    """Everything aftershow does with one Shopify store."""

    def __init__(self, shop: Shop, *, http: OutboundHttp | None = None) -> None:
        if shop.channel != Channel.SHOPIFY:
            raise ValueError(f"{shop} is not a Shopify shop")
        self.shop = shop
        credentials = shop.credentials or {}
        self.location_id = str(credentials.get("location_id", ""))
        self.client = ShopifyClient(
            http=http or OutboundHttp(channel=Channel.SHOPIFY, recorder=_recorder(shop)),
            base_url=shop.api_base_url or f"https://{shop.remote_shop_id}",
            access_token=credentials.get("access_token", ""),
        )

    # -- variants --------------------------------------------------------------------------

    def _variants(self, variant_ids: Sequence[str]) -> dict[str, VariantNode]:
        """The variants Shopify knows, with their inventory item and ``available`` here."""
        found: dict[str, VariantNode] = {}
        for chunk in chunked(list(dict.fromkeys(variant_ids)), NODES_PER_QUERY):
            answer = self.client.graphql(
                INVENTORY_ITEMS_QUERY,
                {"ids": chunk, "locationId": self.location_id},
                estimated_cost=4 * len(chunk),
            )
            for node in answer.data.get("nodes") or []:
                if node and "inventoryItem" in node:
                    variant = VariantNode.model_validate(node)
                    found[variant.id] = variant
                    _INVENTORY_ITEMS[(self.client.base_url, variant.id)] = variant.inventoryItem.id
        return found

    def _inventory_items(self, variant_ids: Sequence[str]) -> dict[str, str]:
        base = self.client.base_url
        missing = [v for v in variant_ids if (base, v) not in _INVENTORY_ITEMS]
        if missing:
            self._variants(missing)
        return {
            v: _INVENTORY_ITEMS[(base, v)] for v in variant_ids if (base, v) in _INVENTORY_ITEMS
        }

    # -- stock -----------------------------------------------------------------------------

    def push_quantities(self, items: Sequence[QuantityUpdate]) -> list[PushResult]:
        """``inventorySetQuantities`` on ``available``, up to 250 quantities a call.

        Each call carries an idempotency key derived from its updates (a resent call is
        recognised as a retry) and each quantity its ``changeFromQuantity`` (the update's
        ``compare_quantity``; None skips the check). The mutation applies all of its quantities
        or none: quantities refused alone are answered, the others are sent again without them.
        A stale compare is checked against what Shopify holds: already there is ``APPLIED``,
        else ``STALE`` with the quantity Shopify holds, for the engine to recompute from.
        """
        results: dict[int, PushResult] = {}
        pending: list[tuple[int, QuantityUpdate]] = []
        for index, update in enumerate(items):
            if update.quantity < 0:
                results[index] = PushResult(
                    update, PushStatus.REJECTED, "INVALID_QUANTITY_NEGATIVE", "quantity < 0"
                )
            else:
                pending.append((index, update))
        try:
            item_ids = self._inventory_items([update.remote_sku_id for _, update in pending])
        except ChannelError as error:
            failed = results_for_error([update for _, update in pending], error)
            results.update(zip([index for index, _ in pending], failed, strict=True))
            return [results[index] for index in range(len(items))]
        known = []
        for index, update in pending:
            if update.remote_sku_id in item_ids:
                known.append((index, update))
            else:
                results[index] = PushResult(
                    update, PushStatus.REJECTED, "INVALID_INVENTORY_ITEM", "no such variant"
                )
        for chunk in unique_chunks(known, MAX_QUANTITIES_PER_CALL):
            results.update(self._set_chunk(chunk, item_ids))
        return [results[index] for index in range(len(items))]

    def _set_chunk(
        self, chunk: list[tuple[int, QuantityUpdate]], item_ids: dict[str, str]
    ) -> dict[int, PushResult]:
        results: dict[int, PushResult] = {}
        stale: list[tuple[int, QuantityUpdate]] = []
        remaining = chunk
        while remaining:
            updates = [update for _, update in remaining]
            key = batch_idempotency_key(updates)
            variables = {
                "key": key,
                "input": {
                    "name": "available",
                    "reason": "correction",
                    "referenceDocumentUri": f"gid://aftershow/InventorySync/{key}",
                    "quantities": [
                        quantity_input(
                            update,
                            inventory_item_id=item_ids[update.remote_sku_id],
                            location_id=self.location_id,
                        )
                        for update in updates
                    ],
                },
            }
            try:
                answer = self.client.graphql(
                    SET_QUANTITIES_MUTATION,
                    variables,
                    estimated_cost=MUTATION_COST,
                    classify_answer=classify_set_quantities,
                )
            except ChannelError as error:
                failed = results_for_error(updates, error)
                results.update(zip([index for index, _ in remaining], failed, strict=True))
                break
            payload = SetQuantitiesPayload.model_validate(answer.data["inventorySetQuantities"])
            errors = {user_error.index: user_error for user_error in payload.userErrors}
            general = [
                e
                for position, e in errors.items()
                if position is None or position >= len(remaining)
            ]
            if general:
                for index, update in remaining:
                    code = general[0].code or "USER_ERROR"
                    results[index] = PushResult(
                        update, PushStatus.REJECTED, code, general[0].message
                    )
                break
            again = []
            for position, (index, update) in enumerate(remaining):
                refusal = errors.get(position)
                if refusal is None and not errors:
                    results[index] = PushResult(update, PushStatus.APPLIED)
                elif refusal is None:
                    again.append((index, update))  # refused with the others: not applied
                elif refusal.code == STALE:
                    stale.append((index, update))
                else:
                    results[index] = PushResult(
                        update, PushStatus.REJECTED, refusal.code or "USER_ERROR", refusal.message
                    )
            remaining = again
        if stale:
            results.update(self._resolve_stale(stale))
        return results

    def _resolve_stale(self, stale: list[tuple[int, QuantityUpdate]]) -> dict[int, PushResult]:
        try:
            current = {
                variant_id: node.available
                for variant_id, node in self._variants([u.remote_sku_id for _, u in stale]).items()
            }
        except ChannelError:
            current = {}  # unknown: the engine reads before it tries again
        results = {}
        for index, update in stale:
            remote = current.get(update.remote_sku_id)
            if remote == update.quantity:
                results[index] = PushResult(update, PushStatus.APPLIED)
            else:
                results[index] = PushResult(
                    update,
                    PushStatus.STALE,
                    STALE,
                    f"Shopify holds {remote if remote is not None else 'an unknown quantity'}",
                    remote_quantity=remote,
                )
        return results

    def read_quantities(self, sku_codes: Sequence[str]) -> dict[str, int]:
        """``available`` at the sync location per master SKU; unknown SKUs are left out."""
        listings: dict[str, str] = {}
        for code, variant_id in (
            ChannelListing.objects.filter(shop=self.shop, sku__code__in=list(sku_codes))
            .order_by("pk")
            .values_list("sku__code", "remote_sku_id")
        ):
            listings.setdefault(code, variant_id)
        variants = self._variants(list(listings.values()))
        return {
            code: available
            for code, variant_id in listings.items()
            if variant_id in variants and (available := variants[variant_id].available) is not None
        }

    # -- orders ----------------------------------------------------------------------------

    def _all_lines(self, node: OrderNode) -> list[LineItemNode]:
        lines = list(node.lineItems.nodes)
        page = node.lineItems.pageInfo
        while page.hasNextPage:
            answer = self.client.graphql(
                ORDER_LINES_QUERY,
                {"id": node.id, "after": page.endCursor},
                estimated_cost=ORDER_LINES_COST,
            )
            more = LineItemConnection.model_validate(answer.data["order"]["lineItems"])
            lines += more.nodes
            page = more.pageInfo
        return lines

    def pull_orders(self, *, until: datetime | None = None) -> PullReport:
        """Pull every order updated since the last pull (the safety net under webhooks).

        Windows on ``updated_at``, sorted by it, cursor-paged; the cursor is saved with each
        page's orders in one transaction, so a failed pull resumes on the page it was on.
        """
        report = PullReport(result=UpsertResult())
        cursor, _ = SyncCursor.objects.get_or_create(shop=self.shop, kind=ORDER_CURSOR)
        if cursor.window_end is None:
            window_end = until or utcnow() - PULL_LAG
            watermark = cursor.watermark or window_end - INITIAL_LOOKBACK
            cursor.window_start = watermark - PULL_OVERLAP
            cursor.window_end = window_end
            cursor.page_token = ""
            cursor.save()
        assert cursor.window_start is not None and cursor.window_end is not None
        start, end = _iso(cursor.window_start), _iso(cursor.window_end)
        search = f"updated_at:>='{start}' AND updated_at:<'{end}'"
        while True:
            answer = self.client.graphql(
                ORDERS_QUERY,
                {"first": ORDERS_PAGE_SIZE, "after": cursor.page_token or None, "search": search},
                estimated_cost=ORDERS_COST,
            )
            page = OrderConnection.model_validate(answer.data["orders"])
            incoming = [order_from_graphql(node, self._all_lines(node)) for node in page.nodes]
            with transaction.atomic():
                report.result += orders_upsert(  # type: ignore[operator]
                    shop=self.shop, incoming=incoming, source=ChangeSource.POLL
                )
                report.pages += 1
                report.orders_seen += len(page.nodes)
                more = page.pageInfo.hasNextPage and page.pageInfo.endCursor
                if more:
                    cursor.page_token = page.pageInfo.endCursor or ""
                else:
                    cursor.watermark = cursor.window_end
                    cursor.window_start = cursor.window_end = None
                    cursor.page_token = ""
                cursor.save()
            if not more:
                return report
