"""Credentials: single-use auth codes and access/refresh token pairs.

Lifetimes use real time (the connector only has a real clock): access tokens live 7 days
(TikTok's documented default), refresh tokens a year, auth codes 30 minutes and are single-use.
``*_expire_in`` values are absolute Unix timestamps, as TikTok returns them. A refresh returns a
new pair and kills the old one (channel-apis.md §8: "treat the old pair as dead").
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from . import errors
from .errors import ApiError
from .orders import IdFactory

ACCESS_TOKEN_LIFETIME = timedelta(days=7)
REFRESH_TOKEN_LIFETIME = timedelta(days=365)
AUTH_CODE_LIFETIME = timedelta(minutes=30)


@dataclass
class TokenGrant:
    access_token: str
    refresh_token: str
    access_token_expire_in: int  # absolute Unix seconds, as TikTok returns it
    refresh_token_expire_in: int
    open_id: str
    seller_name: str
    shop_ids: frozenset[str] | None  # None: every shop of the sandbox, present and future
    alive: bool = True

    def to_wire(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "access_token_expire_in": self.access_token_expire_in,
            "refresh_token": self.refresh_token,
            "refresh_token_expire_in": self.refresh_token_expire_in,
            "open_id": self.open_id,
            "seller_name": self.seller_name,
            "seller_base_region": "US",
            "user_type": 0,
            "granted_scopes": [
                "seller.authorization.info",
                "seller.order.info",
                "seller.product.basic",
                "seller.logistics",
            ],
        }

    def covers(self, shop_id: str) -> bool:
        return self.shop_ids is None or shop_id in self.shop_ids


@dataclass
class _AuthCode:
    expires_at: float
    shop_ids: frozenset[str] | None
    used: bool = False


def _random_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


class Credentials:
    def __init__(self, ids: IdFactory) -> None:
        self.ids = ids
        self._lock = threading.Lock()
        self._auth_codes: dict[str, _AuthCode] = {}
        self._grants_by_access: dict[str, TokenGrant] = {}
        self._grants_by_refresh: dict[str, TokenGrant] = {}

    def issue_auth_code(self, shop_ids: Iterable[str] | None = None) -> str:
        """A single-use code valid 30 minutes, as the seller's authorization redirect gives."""
        with self._lock:
            code = _random_token("TTP_code_")
            scope = frozenset(shop_ids) if shop_ids is not None else None
            self._auth_codes[code] = _AuthCode(
                time.time() + AUTH_CODE_LIFETIME.total_seconds(), scope
            )
            return code

    def issue_tokens(self, shop_ids: Iterable[str] | None = None) -> TokenGrant:
        """A fresh token pair authorized for ``shop_ids`` (None: every shop, also later ones)."""
        with self._lock:
            return self._grant(frozenset(shop_ids) if shop_ids is not None else None)

    def _grant(self, shop_ids: frozenset[str] | None) -> TokenGrant:
        now = time.time()
        grant = TokenGrant(
            access_token=_random_token("TTP_"),
            refresh_token=_random_token("TTP_r_"),
            access_token_expire_in=int(now + ACCESS_TOKEN_LIFETIME.total_seconds()),
            refresh_token_expire_in=int(now + REFRESH_TOKEN_LIFETIME.total_seconds()),
            open_id=self.ids.new("open_id"),
            seller_name="Sandbox Seller",
            shop_ids=shop_ids,
        )
        self._grants_by_access[grant.access_token] = grant
        self._grants_by_refresh[grant.refresh_token] = grant
        return grant

    def exchange_auth_code(self, code: str) -> TokenGrant:
        with self._lock:
            entry = self._auth_codes.get(code)
            if entry is None or entry.used or entry.expires_at < time.time():
                raise ApiError(errors.INVALID_AUTH_CODE)
            entry.used = True
            return self._grant(entry.shop_ids)

    def refresh(self, refresh_token: str) -> TokenGrant:
        """A new pair; the old access and refresh tokens stop working at once."""
        with self._lock:
            old = self._grants_by_refresh.get(refresh_token)
            if old is None or not old.alive or old.refresh_token_expire_in < time.time():
                raise ApiError(errors.GATEWAY_INVALID, "Invalid refresh_token.")
            old.alive = False
            new = self._grant(old.shop_ids)
            new.open_id = old.open_id
            return new

    def grant_for_access_token(self, token: str) -> TokenGrant | None:
        with self._lock:
            grant = self._grants_by_access.get(token)
            return grant if grant is not None and grant.alive else None

    def expire_access_token(self, token: str) -> None:
        with self._lock:
            self._grants_by_access[token].access_token_expire_in = int(time.time()) - 1

    def expire_refresh_token(self, token: str) -> None:
        with self._lock:
            self._grants_by_refresh[token].refresh_token_expire_in = int(time.time()) - 1
