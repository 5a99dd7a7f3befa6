"""Orchestration for TikTok Shop: tokens, order pulls, pending fetches, webhook registration.

Calls the signed client, maps payloads at the edge, and hands typed orders to the order
services. Progress is saved in the database after every committed step (cursor, pending
fetches), so a worker killed midway resumes where it stopped and nothing is lost.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Min, Q

from aftershow.audit.models import AuditAction, AuditEvent
from aftershow.core.http import ChannelError, Exchange, OutboundHttp
from aftershow.core.timeutils import from_unix, to_unix, utcnow
from aftershow.integrations.models import PendingOrderFetch, SyncCursor
from aftershow.integrations.services import integration_log_record
from aftershow.integrations.tiktok.client import (
    ORDER_DETAIL_MAX_IDS,
    TikTokClient,
    TokenExpiredError,
)
from aftershow.integrations.tiktok.mapping import TikTokOrder, TokenPair, to_incoming_order
from aftershow.orders.models import ChangeSource
from aftershow.orders.services import UpsertResult, orders_upsert
from aftershow.shops.models import Channel, Shop

T = TypeVar("T")

ORDER_CURSOR = "tiktok.orders"
# Orders keep changing for a moment after TikTok stamps update_time; stay this far behind now.
PULL_LAG = timedelta(seconds=30)
# Re-read this much before the watermark on every window: clock skew between TikTok's servers.
PULL_OVERLAP = timedelta(minutes=2)
# A first pull reaches this far back.
INITIAL_LOOKBACK = timedelta(days=30)
# Refresh the access token this long before it expires.
TOKEN_REFRESH_MARGIN = timedelta(hours=1)
# A claim on pending fetches lapses after this, so a killed worker's claim is taken over.
FETCH_LEASE = timedelta(minutes=2)
# A drain waits this long for a full batch to gather: during a burst, webhooks arrive a few
# milliseconds apart, and one call for 50 orders beats 25 calls for two.
FETCH_SETTLE = timedelta(milliseconds=250)
# A pending fetch whose order TikTok keeps not returning is dropped after this many tries,
# each a little later than the one before.
FETCH_MAX_ATTEMPTS = 5
MISSING_ORDER_BACKOFF = timedelta(minutes=1)

ORDER_WEBHOOK_EVENTS = (
    "ORDER_STATUS_CHANGE",
    "RECIPIENT_ADDRESS_UPDATE",
    "CANCELLATION_STATUS_CHANGE",
    "RETURN_STATUS_CHANGE",
)


@dataclass
class PullReport:
    pages: int = 0
    orders_seen: int = 0
    result: UpsertResult | None = None


def _recorder(shop: Shop | None) -> Callable[[Exchange], None]:
    return lambda exchange: integration_log_record(shop=shop, exchange=exchange)


def _client(
    *,
    app_key: str,
    app_secret: str,
    api_base_url: str,
    auth_base_url: str,
    shop: Shop | None = None,
    access_token: str = "",
    shop_cipher: str = "",
) -> TikTokClient:
    return TikTokClient(
        http=OutboundHttp(channel=Channel.TIKTOK, recorder=_recorder(shop)),
        app_key=app_key,
        app_secret=app_secret,
        api_base_url=api_base_url or settings.TIKTOK_API_BASE_URL,
        auth_base_url=auth_base_url or settings.TIKTOK_AUTH_BASE_URL,
        access_token=access_token,
        shop_cipher=shop_cipher,
    )


def _store_tokens(shop: Shop, tokens: TokenPair) -> None:
    shop.credentials = {
        **(shop.credentials or {}),
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
    }
    shop.access_token_expires_at = from_unix(tokens.access_token_expire_in)
    shop.refresh_token_expires_at = from_unix(tokens.refresh_token_expire_in)


def shop_connect(
    *,
    app_key: str,
    app_secret: str,
    auth_code: str,
    api_base_url: str = "",
    auth_base_url: str = "",
) -> list[Shop]:
    """Exchange a seller's authorization code and record every shop it authorizes."""
    client = _client(
        app_key=app_key,
        app_secret=app_secret,
        api_base_url=api_base_url,
        auth_base_url=auth_base_url,
    )
    tokens = client.get_token(auth_code=auth_code)
    client.access_token = tokens.access_token
    shops = []
    with transaction.atomic():
        for remote in client.get_authorized_shops():
            shop, _ = Shop.objects.update_or_create(
                channel=Channel.TIKTOK,
                remote_shop_id=remote.id,
                defaults={
                    "name": remote.name or remote.id,
                    "shop_cipher": remote.cipher,
                    "region": remote.region or "US",
                    "api_base_url": api_base_url,
                    "auth_base_url": auth_base_url,
                },
            )
            shop.credentials = {"app_key": app_key, "app_secret": app_secret}
            _store_tokens(shop, tokens)
            shop.save()
            AuditEvent.objects.create(
                action=AuditAction.SHOP_CONNECTED,
                object_type="shop",
                object_id=str(shop.pk),
                message=f"TikTok shop {remote.name} ({remote.id}) connected",
            )
            shops.append(shop)
    return shops


class TikTokConnector:
    """Everything aftershow does with one TikTok shop."""

    def __init__(self, shop: Shop) -> None:
        if shop.channel != Channel.TIKTOK:
            raise ValueError(f"{shop} is not a TikTok shop")
        self.shop = shop
        credentials = shop.credentials or {}
        self.client = _client(
            shop=shop,
            app_key=credentials.get("app_key", ""),
            app_secret=credentials.get("app_secret", ""),
            api_base_url=shop.api_base_url,
            auth_base_url=shop.auth_base_url,
            access_token=credentials.get("access_token", ""),
            shop_cipher=shop.shop_cipher,
        )

    # -- tokens ----------------------------------------------------------------------------

    def refresh_access_token(self, *, force: bool = False) -> None:
        """Refresh under a lock on the shop: a refresh kills the old pair, so two workers
        refreshing at once would leave one of them holding dead tokens."""
        with transaction.atomic():
            shop = Shop.objects.select_for_update().get(pk=self.shop.pk)
            expires_at = shop.access_token_expires_at
            still_fresh = expires_at is not None and expires_at > utcnow() + TOKEN_REFRESH_MARGIN
            stored = (shop.credentials or {}).get("access_token", "")
            # Another worker refreshed while we waited for the lock: use its pair.
            if stored != self.client.access_token or (still_fresh and not force):
                self.shop = shop
                self.client.access_token = stored
                return
            tokens = self.client.refresh_token(
                refresh_token=(shop.credentials or {}).get("refresh_token", "")
            )
            _store_tokens(shop, tokens)
            shop.save(
                update_fields=["credentials", "access_token_expires_at", "refresh_token_expires_at"]
            )
            AuditEvent.objects.create(
                action=AuditAction.TOKEN_REFRESHED, object_type="shop", object_id=str(shop.pk)
            )
        self.shop = shop
        self.client.access_token = tokens.access_token

    def _authorized(self, call: Callable[[], T]) -> T:
        expires_at = self.shop.access_token_expires_at
        if expires_at is not None and expires_at <= utcnow() + TOKEN_REFRESH_MARGIN:
            self.refresh_access_token()
        try:
            return call()
        except TokenExpiredError:
            self.refresh_access_token(force=True)
            return call()

    # -- webhooks --------------------------------------------------------------------------

    def register_webhooks(self, *, address: str) -> None:
        for event_type in ORDER_WEBHOOK_EVENTS:
            self._authorized(
                partial(self.client.register_webhook, event_type=event_type, address=address)
            )

    # -- pulling ---------------------------------------------------------------------------

    def _upsert(self, orders: list[TikTokOrder], source: ChangeSource) -> UpsertResult:
        return orders_upsert(
            shop=self.shop, incoming=[to_incoming_order(order) for order in orders], source=source
        )

    def pull_orders(self, *, until: datetime | None = None) -> PullReport:
        """Pull every order updated since the last pull (the reconciliation poll).

        Windows on update time, sorted ascending, cursor-paged. The page token is saved in the
        same transaction as the page's orders, so a pull that fails midway (429s past the retry
        budget, a killed worker) resumes at the page it was on and loses no order.
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
        filters = {
            "update_time_ge": to_unix(cursor.window_start),
            "update_time_lt": to_unix(cursor.window_end),
        }
        while True:
            page = self._authorized(
                lambda: self.client.search_orders(filters=filters, page_token=cursor.page_token)
            )
            with transaction.atomic():
                report.result += self._upsert(page.orders, ChangeSource.POLL)  # type: ignore[operator]
                report.pages += 1
                report.orders_seen += len(page.orders)
                if page.next_page_token:
                    cursor.page_token = page.next_page_token
                else:
                    cursor.watermark = cursor.window_end
                    cursor.window_start = cursor.window_end = None
                    cursor.page_token = ""
                cursor.save()
            if not page.next_page_token:
                return report

    def _settle(self) -> None:
        """Wait (briefly) until a full batch is pending or the oldest request is settled."""
        deadline = time.monotonic() + FETCH_SETTLE.total_seconds()
        while time.monotonic() < deadline:
            now = utcnow()
            claimable = PendingOrderFetch.objects.filter(
                Q(claimed_until__isnull=True) | Q(claimed_until__lt=now), shop=self.shop
            )
            oldest = claimable.aggregate(oldest=Min("requested_at"))["oldest"]
            if oldest is None or oldest <= now - FETCH_SETTLE:
                return
            if claimable.count() >= ORDER_DETAIL_MAX_IDS:
                return
            time.sleep(0.02)

    def _claim_pending(self) -> tuple[datetime, list[PendingOrderFetch]]:
        now = utcnow()
        claimable = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
        with transaction.atomic():
            candidates = PendingOrderFetch.objects.filter(claimable, shop=self.shop).order_by(
                "requested_at", "id"
            )
            if connection.features.has_select_for_update_skip_locked:
                candidates = candidates.select_for_update(skip_locked=True)
            ids = list(candidates.values_list("id", flat=True)[:ORDER_DETAIL_MAX_IDS])
            PendingOrderFetch.objects.filter(claimable, id__in=ids).update(
                claimed_until=now + FETCH_LEASE
            )
            return now, list(PendingOrderFetch.objects.filter(id__in=ids, claimed_until__gt=now))

    def fetch_pending(self, *, max_batches: int | None = None) -> UpsertResult:
        """Fetch pending orders' detail, 50 ids a call, until none are left."""
        total = UpsertResult()
        batches = 0
        while max_batches is None or batches < max_batches:
            self._settle()
            claimed_at, claimed = self._claim_pending()
            if not claimed:
                break
            batches += 1
            ids = [pending.remote_order_id for pending in claimed]
            try:
                detail = self._authorized(partial(self.client.get_order_detail, ids))
            except ChannelError as error:
                PendingOrderFetch.objects.filter(id__in=[p.id for p in claimed]).update(
                    claimed_until=None, last_error=str(error)[:500]
                )
                raise
            returned = {order.id for order in detail.orders}
            with transaction.atomic():
                total += self._upsert(detail.orders, ChangeSource.WEBHOOK)
                fetched = [p.id for p in claimed if p.remote_order_id in returned]
                PendingOrderFetch.objects.filter(
                    id__in=fetched, requested_at__lte=claimed_at
                ).delete()
                # Requested again while we fetched (a newer webhook): fetch again next round.
                PendingOrderFetch.objects.filter(id__in=fetched).update(claimed_until=None)
                self._note_missing([p for p in claimed if p.remote_order_id not in returned])
        return total

    def _note_missing(self, missing: list[PendingOrderFetch]) -> None:
        for pending in missing:
            if pending.attempts + 1 >= FETCH_MAX_ATTEMPTS:
                pending.delete()
                continue
            pending.attempts += 1
            # Not again in this drain: TikTok may be a moment behind its own webhook.
            pending.claimed_until = utcnow() + MISSING_ORDER_BACKOFF * pending.attempts
            pending.last_error = "TikTok did not return this order"
            pending.save(update_fields=["attempts", "claimed_until", "last_error"])
