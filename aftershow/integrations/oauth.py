"""Short-lived access tokens minted from a long-lived refresh token (Amazon LWA, eBay OAuth).

Both platforms hand out an access token that lives minutes to hours; every call needs a fresh
one. The connectors share the refresh here: one refresh at a time under a lock on the shop
row (a second worker that waited for the lock reuses the token the first one stored), and a
call the platform refuses for a stale token is retried once after a forced refresh.

TikTok is not folded in: its refresh rotates the refresh token too, so it stores a pair.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import ClassVar, Protocol, TypeVar

from django.db import transaction

from aftershow.audit.models import AuditAction, AuditEvent
from aftershow.core.http import ChannelError
from aftershow.core.timeutils import utcnow
from aftershow.shops.models import Shop

T = TypeVar("T")

# Refresh this long before the platform's expiry, so a call never starts with a dying token.
TOKEN_REFRESH_MARGIN = timedelta(minutes=5)


class IssuedToken(Protocol):
    @property
    def access_token(self) -> str: ...

    @property
    def expires_in(self) -> int: ...


class TokenHolder(Protocol):
    access_token: str


class RefreshTokenConnector:
    """Mixed into a connector that has ``shop`` and a ``client`` holding ``access_token``."""

    shop: Shop
    client: TokenHolder
    # The client's error for a call the platform refused because of the access token.
    token_rejected_error: ClassVar[type[Exception]]

    def exchange_refresh_token(self, refresh_token: str) -> IssuedToken:
        raise NotImplementedError

    def refresh_access_token(self, *, force: bool = False) -> None:
        """Refresh under a lock on the shop row, so two workers do not both refresh."""
        with transaction.atomic():
            shop = Shop.objects.select_for_update().get(pk=self.shop.pk)
            credentials = shop.credentials or {}
            stored = credentials.get("access_token", "")
            expires_at = shop.access_token_expires_at
            still_fresh = expires_at is not None and expires_at > utcnow() + TOKEN_REFRESH_MARGIN
            # Another worker refreshed while we waited for the lock: use its token.
            if stored and (stored != self.client.access_token or (still_fresh and not force)):
                self.shop = shop
                self.client.access_token = stored
                return
            failure: ChannelError | None = None
            try:
                token = self.exchange_refresh_token(credentials.get("refresh_token", ""))
            except ChannelError as error:
                # Leave the block normally so the integration log keeps the failed attempt.
                failure = error
            else:
                shop.credentials = {**credentials, "access_token": token.access_token}
                shop.access_token_expires_at = utcnow() + timedelta(seconds=token.expires_in)
                shop.save(update_fields=["credentials", "access_token_expires_at"])
                AuditEvent.objects.create(
                    action=AuditAction.TOKEN_REFRESHED, object_type="shop", object_id=str(shop.pk)
                )
        if failure is not None:
            raise failure
        self.shop = shop
        self.client.access_token = token.access_token

    def _authorized(self, call: Callable[[], T]) -> T:
        expires_at = self.shop.access_token_expires_at
        if not self.client.access_token or (
            expires_at is not None and expires_at <= utcnow() + TOKEN_REFRESH_MARGIN
        ):
            self.refresh_access_token()
        try:
            return call()
        except self.token_rejected_error:
            self.refresh_access_token(force=True)
            return call()
