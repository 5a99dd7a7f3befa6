"""Orchestration for Amazon: LWA tokens, stock pushes and read-backs, the order pull.

``shop.remote_shop_id`` is the selling partner id (``sellerId``). Credentials in
``shop.credentials``: ``client_id`` and ``client_secret`` (the app's LWA keys), the seller's
``refresh_token``, the current ``access_token`` (one hour; expiry in
``shop.access_token_expires_at``) and ``marketplace_id`` (default: US). A listing's
``remote_sku_id`` is the seller SKU on Amazon and ``remote_product_id`` its ASIN.

Merchant-fulfilled only: pushes set the ``DEFAULT`` channel, and the pull asks for MFN orders.
FBA stock sits in Amazon's warehouses and its orders never touch the master stock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

from django.db import transaction

from aftershow.catalog.models import ChannelListing
from aftershow.core.http import ChannelError, Exchange, OutboundHttp, TerminalChannelError
from aftershow.core.timeutils import utcnow
from aftershow.integrations.amazon.client import (
    PRODUCTION_API_BASE_URL,
    PRODUCTION_AUTH_BASE_URL,
    AccessTokenRejectedError,
    AmazonClient,
)
from aftershow.integrations.amazon.mapping import (
    AmazonOrder,
    LwaToken,
    OrderItem,
    SubmissionResponse,
    amazon_time,
    quantity_patch,
    to_incoming_order,
)
from aftershow.integrations.inventory_push import (
    PushResult,
    PushStatus,
    QuantityUpdate,
    results_for_error,
)
from aftershow.integrations.models import SyncCursor
from aftershow.integrations.oauth import RefreshTokenConnector
from aftershow.integrations.services import integration_log_record
from aftershow.orders.models import ChangeSource
from aftershow.orders.services import UpsertResult, orders_upsert
from aftershow.shops.models import Channel, Shop

T = TypeVar("T")

MARKETPLACE_US = "ATVPDKIKX0DER"
ORDER_CURSOR = "amazon.orders"
ORDERS_PAGE_SIZE = 100
# getOrders refuses a LastUpdatedBefore later than two minutes before now; keep a margin.
PULL_LAG = timedelta(minutes=3)
PULL_OVERLAP = timedelta(minutes=2)
INITIAL_LOOKBACK = timedelta(days=30)


@dataclass
class PullReport:
    pages: int = 0
    orders_seen: int = 0
    result: UpsertResult | None = None


def _recorder(shop: Shop) -> Callable[[Exchange], None]:
    return lambda exchange: integration_log_record(shop=shop, exchange=exchange)


def _submission_result(update: QuantityUpdate, response: SubmissionResponse) -> PushResult:
    if response.status == "ACCEPTED":
        return PushResult(update, PushStatus.APPLIED)
    errors = [issue for issue in response.issues if issue.severity == "ERROR"] or response.issues
    first = errors[0] if errors else None
    return PushResult(
        update,
        PushStatus.REJECTED,
        error_code=first.code if first else response.status,
        message=first.message if first else f"submission {response.status}",
    )


class AmazonConnector(RefreshTokenConnector):
    """Everything aftershow does with one Amazon selling partner account."""

    client: AmazonClient
    token_rejected_error = AccessTokenRejectedError

    def __init__(self, shop: Shop, *, http: OutboundHttp | None = None) -> None:
        if shop.channel != Channel.AMAZON:
            raise ValueError(f"{shop} is not an Amazon shop")
        self.shop = shop
        credentials = shop.credentials or {}
        self.client = AmazonClient(
            http=http or OutboundHttp(channel=Channel.AMAZON, recorder=_recorder(shop)),
            api_base_url=shop.api_base_url or PRODUCTION_API_BASE_URL,
            auth_base_url=shop.auth_base_url or PRODUCTION_AUTH_BASE_URL,
            client_id=credentials.get("client_id", ""),
            client_secret=credentials.get("client_secret", ""),
            seller_id=shop.remote_shop_id,
            marketplace_id=credentials.get("marketplace_id", MARKETPLACE_US),
            access_token=credentials.get("access_token", ""),
        )

    # -- tokens (refresh and retry-once live in integrations.oauth) -----------------------

    def exchange_refresh_token(self, refresh_token: str) -> LwaToken:
        return self.client.exchange_refresh_token(refresh_token=refresh_token)

    # -- stock -----------------------------------------------------------------------------

    def push_quantities(self, items: Sequence[QuantityUpdate]) -> list[PushResult]:
        """One Listings Items PATCH per SKU (the API has no batch; the Feeds API would),
        paced to the operation's usage plan. No compare-and-set exists: the quantity is an
        absolute set, a retry is harmless, and ``compare_quantity`` is not used."""
        results = []
        for update in items:
            if update.quantity < 0:
                results.append(
                    PushResult(update, PushStatus.REJECTED, "invalid_quantity", "quantity < 0")
                )
                continue
            try:
                response = self._authorized(
                    partial(
                        self.client.patch_listing,
                        update.remote_sku_id,
                        quantity_patch(update.quantity),
                    )
                )
            except ChannelError as error:
                results += results_for_error([update], error)
                continue
            results.append(_submission_result(update, response))
        return results

    def push_ready_in(self) -> float:
        """Seconds until the next PATCH can go out without waiting for a token: the engine
        waits this long *before* it reads the quantity to send, so the value is not read and
        then held while the pacer sleeps."""
        return self.client.ready_in("patchListingsItem")

    def read_quantities(self, sku_codes: Sequence[str]) -> dict[str, int]:
        """The merchant-fulfilled quantity Amazon holds per master SKU; unknown SKUs (not
        listed here, or 404 on Amazon) are left out."""
        listings: dict[str, str] = {}
        for code, remote_sku in (
            ChannelListing.objects.filter(shop=self.shop, sku__code__in=list(sku_codes))
            .order_by("pk")
            .values_list("sku__code", "remote_sku_id")
        ):
            listings.setdefault(code, remote_sku)
        quantities = {}
        for code, remote_sku in listings.items():
            try:
                item = self._authorized(
                    partial(
                        self.client.get_listing,
                        remote_sku,
                        included_data=("fulfillmentAvailability",),
                    )
                )
            except TerminalChannelError as error:
                if error.status_code == 404:
                    continue
                raise
            if item.merchant_quantity is not None:
                quantities[code] = item.merchant_quantity
        return quantities

    # -- orders ----------------------------------------------------------------------------

    def _order_items(self, order: AmazonOrder) -> list[OrderItem]:
        items: list[OrderItem] = []
        next_token = ""
        while True:
            page = self._authorized(
                partial(self.client.get_order_items, order.AmazonOrderId, next_token=next_token)
            ).payload
            items += page.OrderItems
            if not page.NextToken:
                return items
            next_token = page.NextToken

    def pull_orders(self, *, until: datetime | None = None) -> PullReport:
        """Pull every merchant-fulfilled order updated since the last pull.

        getOrders windows on ``LastUpdatedAfter``/``LastUpdatedBefore`` and pages with
        ``NextToken``; each order's lines come from getOrderItems. The token is saved with
        each page's orders in one transaction, so a failed pull resumes on the page it was on.
        getOrders allows one call a minute after a burst of 20: Amazon's ``ORDER_CHANGE``
        notifications, not faster polling, are the way to see orders sooner.
        """
        report = PullReport(result=UpsertResult())
        cursor, _ = SyncCursor.objects.get_or_create(shop=self.shop, kind=ORDER_CURSOR)
        if cursor.window_end is None:
            latest = utcnow() - PULL_LAG
            window_end = min(until, latest) if until else latest
            watermark = cursor.watermark or window_end - INITIAL_LOOKBACK
            cursor.window_start = watermark - PULL_OVERLAP
            cursor.window_end = window_end
            cursor.page_token = ""
            cursor.save()
        assert cursor.window_start is not None and cursor.window_end is not None
        window: dict[str, str | int] = {
            "LastUpdatedAfter": amazon_time(cursor.window_start),
            "LastUpdatedBefore": amazon_time(cursor.window_end),
            "FulfillmentChannels": "MFN",
            "MaxResultsPerPage": ORDERS_PAGE_SIZE,
        }
        while True:
            query: dict[str, str | int] = (
                {"NextToken": cursor.page_token} if cursor.page_token else window
            )
            page = self._authorized(partial(self.client.get_orders, query)).payload
            incoming = [to_incoming_order(order, self._order_items(order)) for order in page.Orders]
            with transaction.atomic():
                report.result += orders_upsert(  # type: ignore[operator]
                    shop=self.shop, incoming=incoming, source=ChangeSource.POLL
                )
                report.pages += 1
                report.orders_seen += len(page.Orders)
                if page.NextToken:
                    cursor.page_token = page.NextToken
                else:
                    cursor.watermark = cursor.window_end
                    cursor.window_start = cursor.window_end = None
                    cursor.page_token = ""
                cursor.save()
            if not page.NextToken:
                return report
