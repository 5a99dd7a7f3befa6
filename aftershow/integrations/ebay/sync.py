"""Orchestration for eBay: user-token refresh, stock pushes and read-backs, the order pull.

Credentials in ``shop.credentials``: ``client_id``, ``client_secret`` (the app's keyset),
``refresh_token`` (from the seller's consent) and the current ``access_token``; its expiry is
``shop.access_token_expires_at``. ``ChannelListing.remote_sku_id`` is the seller SKU of the
eBay inventory item and ``remote_product_id`` its published offer id (blank: item level only).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

from django.db import transaction

from aftershow.catalog.models import ChannelListing
from aftershow.core.http import ChannelError, Exchange, OutboundHttp
from aftershow.core.timeutils import utcnow
from aftershow.integrations.ebay.client import (
    BULK_MAX_ITEMS,
    PRODUCTION_BASE_URL,
    AccessTokenInvalidError,
    EbayClient,
)
from aftershow.integrations.ebay.mapping import (
    AccessToken,
    PriceQuantityResponse,
    ebay_time,
    to_incoming_order,
    to_price_quantity,
)
from aftershow.integrations.inventory_push import (
    PushResult,
    PushStatus,
    QuantityUpdate,
    chunked,
    results_for_error,
    unique_chunks,
)
from aftershow.integrations.models import SyncCursor
from aftershow.integrations.oauth import RefreshTokenConnector
from aftershow.integrations.services import integration_log_record
from aftershow.orders.models import ChangeSource
from aftershow.orders.services import UpsertResult, orders_upsert
from aftershow.shops.models import Channel, Shop

T = TypeVar("T")

ORDER_CURSOR = "ebay.orders"
ORDERS_PAGE_SIZE = 100
# Orders settle for a moment after eBay stamps lastModifiedDate; stay this far behind now.
PULL_LAG = timedelta(seconds=30)
# Re-read this much before the watermark on every window: clock skew between eBay's servers.
PULL_OVERLAP = timedelta(minutes=2)
INITIAL_LOOKBACK = timedelta(days=30)


@dataclass
class PullReport:
    pages: int = 0
    orders_seen: int = 0
    rereads: int = 0
    result: UpsertResult | None = None


def _recorder(shop: Shop) -> Callable[[Exchange], None]:
    return lambda exchange: integration_log_record(shop=shop, exchange=exchange)


def _item_result(update: QuantityUpdate, response: PriceQuantityResponse | None) -> PushResult:
    if response is None:
        return PushResult(update, PushStatus.FAILED, message="eBay did not answer for this SKU")
    if response.statusCode == 200:
        return PushResult(update, PushStatus.APPLIED)
    error = response.errors[0] if response.errors else None
    code = str(error.errorId) if error else str(response.statusCode)
    message = error.message if error else f"status {response.statusCode}"
    status = PushStatus.FAILED if response.statusCode >= 500 else PushStatus.REJECTED
    return PushResult(update, status, error_code=code, message=message)


class EbayConnector(RefreshTokenConnector):
    """Everything aftershow does with one eBay seller account."""

    client: EbayClient
    token_rejected_error = AccessTokenInvalidError

    def __init__(self, shop: Shop, *, http: OutboundHttp | None = None) -> None:
        if shop.channel != Channel.EBAY:
            raise ValueError(f"{shop} is not an eBay shop")
        self.shop = shop
        credentials = shop.credentials or {}
        base_url = shop.api_base_url or PRODUCTION_BASE_URL
        self.client = EbayClient(
            http=http or OutboundHttp(channel=Channel.EBAY, recorder=_recorder(shop)),
            api_base_url=base_url,
            auth_base_url=shop.auth_base_url or base_url,
            client_id=credentials.get("client_id", ""),
            client_secret=credentials.get("client_secret", ""),
            access_token=credentials.get("access_token", ""),
        )

    # -- tokens (refresh and retry-once live in integrations.oauth) -----------------------

    def exchange_refresh_token(self, refresh_token: str) -> AccessToken:
        return self.client.refresh_access_token(refresh_token=refresh_token)

    # -- stock -----------------------------------------------------------------------------

    def push_quantities(self, items: Sequence[QuantityUpdate]) -> list[PushResult]:
        """``bulkUpdatePriceQuantity``, 25 SKUs a call, item and offer quantity together.

        eBay has no compare-and-set and no idempotency key here: the write is an absolute set,
        so a retry is harmless and ``compare_quantity`` is not used.
        """
        results: dict[int, PushResult] = {}
        valid: list[tuple[int, QuantityUpdate]] = []
        for index, update in enumerate(items):
            if update.quantity < 0:
                results[index] = PushResult(
                    update, PushStatus.REJECTED, "invalid_quantity", "quantity must be >= 0"
                )
            else:
                valid.append((index, update))
        for chunk in unique_chunks(valid, BULK_MAX_ITEMS):
            updates = [update for _, update in chunk]
            requests = [to_price_quantity(update) for update in updates]
            try:
                response = self._authorized(
                    partial(self.client.bulk_update_price_quantity, requests)
                )
            except ChannelError as error:
                for (index, _), result in zip(
                    chunk, results_for_error(updates, error), strict=True
                ):
                    results[index] = result
                continue
            by_sku = {answer.sku: answer for answer in response.responses}
            for index, update in chunk:
                results[index] = _item_result(update, by_sku.get(update.remote_sku_id))
        return [results[index] for index in range(len(items))]

    def _listings(self, sku_codes: Sequence[str]) -> dict[str, str]:
        """Master SKU code → eBay SKU, the oldest listing when a SKU is listed twice."""
        listings: dict[str, str] = {}
        for code, remote_sku in (
            ChannelListing.objects.filter(shop=self.shop, sku__code__in=list(sku_codes))
            .order_by("pk")
            .values_list("sku__code", "remote_sku_id")
        ):
            listings.setdefault(code, remote_sku)
        return listings

    def read_quantities(self, sku_codes: Sequence[str]) -> dict[str, int]:
        """What eBay holds per master SKU (item level), 25 a call; unknown SKUs are left out."""
        quantities: dict[str, int] = {}
        for chunk in chunked(list(self._listings(sku_codes).items()), BULK_MAX_ITEMS):
            response = self._authorized(
                partial(self.client.bulk_get_inventory_items, [remote for _, remote in chunk])
            )
            found = {
                answer.sku: answer.inventoryItem
                for answer in response.responses
                if answer.statusCode == 200 and answer.inventoryItem is not None
            }
            for code, remote in chunk:
                item = found.get(remote)
                if item is not None:
                    quantities[code] = item.availability.shipToLocationAvailability.quantity
        return quantities

    # -- orders ----------------------------------------------------------------------------

    def pull_orders(self, *, until: datetime | None = None) -> PullReport:
        """Pull every order modified since the last pull (getOrders, offset-paged).

        The window's end is in the past, so no order can enter it while it is paged; an order
        modified again meanwhile leaves it, which shifts every later one up a place. ``total``
        shows it: the next page then starts that many places earlier, so none is skipped. The
        offset is saved with each page's orders in one transaction, so a failed pull resumes.
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
        order_filter = (
            f"lastmodifieddate:[{ebay_time(cursor.window_start)}..{ebay_time(cursor.window_end)}]"
        )
        while True:
            offset, expected_total = _parse_page_token(cursor.page_token)
            page = self._authorized(
                partial(
                    self.client.get_orders,
                    order_filter=order_filter,
                    limit=ORDERS_PAGE_SIZE,
                    offset=offset,
                )
            )
            with transaction.atomic():
                report.result += orders_upsert(  # type: ignore[operator]
                    shop=self.shop,
                    incoming=[to_incoming_order(order) for order in page.orders],
                    source=ChangeSource.POLL,
                )
                report.pages += 1
                report.orders_seen += len(page.orders)
                done = False
                if expected_total is not None and page.total != expected_total:
                    # Orders left the window since the last page: step back as many places
                    # (or start over if it grew, which a past window should never do).
                    left = expected_total - page.total
                    next_offset = max(0, offset - left) if left > 0 else 0
                    cursor.page_token = f"{next_offset}:{page.total}"
                    report.rereads += 1
                elif page.orders and offset + len(page.orders) < page.total:
                    cursor.page_token = f"{offset + len(page.orders)}:{page.total}"
                else:
                    cursor.watermark = cursor.window_end
                    cursor.window_start = cursor.window_end = None
                    cursor.page_token = ""
                    done = True
                cursor.save()
            if done:
                return report


def _parse_page_token(token: str) -> tuple[int, int | None]:
    """``"<offset>:<total seen>"``; empty at the start of a window."""
    if not token:
        return 0, None
    offset, _, total = token.partition(":")
    return int(offset), int(total) if total else None
