"""PayPal Payouts API client: OAuth2 client credentials, create a batch, read a batch.

Signed nothing, but idempotent by ``sender_batch_id``: a create call that timed out or got a
5xx is retried with the same body (``OutboundHttp`` retries network errors, 5xx and 429), and
PayPal answers a repeat with 400 ``USER_BUSINESS_ERROR`` and a link to the original batch
(developer.paypal.com ``payments.payouts-batch/v1/payouts-post``), which this client follows.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from typing import Any

import httpx

from aftershow.core.http import (
    OutboundHttp,
    Recorder,
    TerminalChannelError,
    default_classifier,
)

CHANNEL = "paypal"
LIVE_BASE_URL = "https://api-m.paypal.com"
SANDBOX_BASE_URL = "https://api-m.sandbox.paypal.com"


class PayPalError(TerminalChannelError):
    """PayPal refused the call; ``name`` is PayPal's error name, ``details`` its list."""

    def __init__(self, message: str, *, name: str, details: list[dict[str, Any]],
                 links: list[dict[str, Any]], status_code: int | None) -> None:  # fmt: skip
        super().__init__(message, code=name, status_code=status_code)
        self.name = name
        self.details = details
        self.links = links


def _classify(response: httpx.Response) -> None:
    if response.status_code < 400 or response.status_code == 429 or response.status_code >= 500:
        default_classifier(response)
        return
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    name = str(payload.get("name") or payload.get("error") or f"HTTP {response.status_code}")
    message = str(payload.get("message") or payload.get("error_description") or name)
    raise PayPalError(
        f"PayPal {response.status_code} {name}: {message}",
        name=name,
        details=list(payload.get("details") or []),
        links=list(payload.get("links") or []),
        status_code=response.status_code,
    )


def is_duplicate_batch(error: PayPalError) -> bool:
    return error.name == "USER_BUSINESS_ERROR" and any(
        str(detail.get("field", "")).upper() == "SENDER_BATCH_ID" for detail in error.details
    )


@dataclass(frozen=True)
class PayPalSettings:
    base_url: str
    client_id: str
    client_secret: str

    @classmethod
    def from_environment(cls) -> PayPalSettings | None:
        client_id = os.environ.get("AFTERSHOW_PAYPAL_CLIENT_ID", "")
        secret = os.environ.get("AFTERSHOW_PAYPAL_CLIENT_SECRET", "")
        if not (client_id and secret):
            return None
        base_url = os.environ.get("AFTERSHOW_PAYPAL_BASE_URL", SANDBOX_BASE_URL)
        return cls(base_url=base_url, client_id=client_id, client_secret=secret)


class PayPalClient:
    def __init__(
        self,
        settings: PayPalSettings,
        *,
        timeout: float | None = None,
        max_attempts: int | None = None,
        recorder: Recorder | None = None,
    ) -> None:
        self.settings = settings
        self.http = OutboundHttp(
            channel=CHANNEL, recorder=recorder, timeout=timeout, max_attempts=max_attempts
        )
        self._token: str | None = None

    def close(self) -> None:
        self.http.close()

    def _url(self, path: str) -> str:
        return self.settings.base_url.rstrip("/") + path

    def _basic(self) -> str:
        pair = f"{self.settings.client_id}:{self.settings.client_secret}".encode()
        return "Basic " + base64.b64encode(pair).decode()

    def access_token(self) -> str:
        if self._token is None:
            response = self.http.send(
                lambda: httpx.Request(
                    "POST",
                    self._url("/v1/oauth2/token"),
                    headers={"Accept": "application/json", "Authorization": self._basic()},
                    data={"grant_type": "client_credentials"},
                ),
                classify=_classify,
            )
            self._token = str(response.json()["access_token"])
        return self._token

    def _json(self, method: str, url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        token = self.access_token()
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        response = self.http.send(
            lambda: httpx.Request(method, url, headers=headers, json=body), classify=_classify
        )
        payload: dict[str, Any] = response.json()
        return payload

    def payout_create(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a batch; a repeat of an earlier ``sender_batch_id`` returns that batch."""
        try:
            return self._json("POST", self._url("/v1/payments/payouts"), body)
        except PayPalError as error:
            if not is_duplicate_batch(error):
                raise
            link = next((link["href"] for link in error.links if link.get("method") == "GET"), "")
            if not link:
                raise
            return self._json("GET", link)

    def payout_get(self, payout_batch_id: str) -> dict[str, Any]:
        return self._json("GET", self._url(f"/v1/payments/payouts/{payout_batch_id}"))
