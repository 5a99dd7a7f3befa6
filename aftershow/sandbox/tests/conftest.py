"""Fixtures: a running sandbox on 127.0.0.1 with a frozen virtual clock, and a signed client.

The client signs with the project's own ``signing.py`` (the functions the connector uses), so
these tests prove the sandbox accepts exactly what a correct client sends.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from aftershow.integrations.tiktok.signing import request_signature
from aftershow.sandbox.tiktok import Shop, TikTokSandbox, TokenGrant, VirtualClock

APP_KEY = "test_app_key"
APP_SECRET = "test_app_secret"
STREAM_START = datetime(2026, 3, 6, 19, 0, tzinfo=UTC)
UNSET: Any = object()


class SignedClient:
    """Builds requests exactly like the connector; every part can be overridden to break it."""

    def __init__(self, base_url: str, *, access_token: str, shop_cipher: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=10)
        self.access_token = access_token
        self.shop_cipher = shop_cipher

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str | int] | None = None,
        body: Any = None,
        raw_body: bytes | None = None,
        shop_cipher: str | None = UNSET,
        access_token: str | None = UNSET,
        app_key: str = APP_KEY,
        app_secret: str = APP_SECRET,
        timestamp: int | None = None,
        content_type: str | None = "application/json",
        sign: str | None = UNSET,
        send_body: bytes | None = None,
    ) -> httpx.Response:
        params = {key: str(value) for key, value in (query or {}).items()}
        params["app_key"] = app_key
        params["timestamp"] = str(timestamp if timestamp is not None else int(time.time()))
        cipher = self.shop_cipher if shop_cipher is UNSET else shop_cipher
        if cipher:
            params["shop_cipher"] = cipher
        content = (
            raw_body
            if raw_body is not None
            else (json.dumps(body, separators=(",", ":")).encode() if body is not None else b"")
        )
        signature = (
            request_signature(
                app_secret=app_secret,
                path=path,
                query=params,
                body=content,
                content_type=content_type,
            )
            if sign is UNSET
            else sign
        )
        if signature is not None:
            params["sign"] = signature
        headers = {}
        if content_type is not None:
            headers["Content-Type"] = content_type
        token = self.access_token if access_token is UNSET else access_token
        if token is not None:
            headers["x-tts-access-token"] = token
        payload = send_body if send_body is not None else content
        return self.http.request(
            method, path, params=params, content=payload or None, headers=headers
        )

    def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """The envelope of a call expected to succeed at the HTTP level."""
        response = self.request(method, path, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def sandbox() -> Iterator[TikTokSandbox]:
    sb = TikTokSandbox(
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        seed=7,
        clock=VirtualClock(STREAM_START, speed=0),  # frozen: tests move time with advance()
    )
    sb.start()
    yield sb
    sb.stop()


@pytest.fixture
def shop(sandbox: TikTokSandbox) -> Shop:
    shop = sandbox.store.create_shop(name="Demo Shop", region="US")
    sandbox.store.add_product(
        shop.id,
        "Oversized Logo Tee",
        skus=[
            {"seller_sku": "TEE-BLK-M", "price": "19.99", "weight_oz": 6.2},
            {"seller_sku": "TEE-WHT-L", "price": "21.50", "weight_oz": 6.8},
        ],
    )
    sandbox.store.add_product(
        shop.id,
        "Cozy Hoodie",
        skus=[
            {"seller_sku": "HOOD-GRY-M", "price": "44.00", "weight_oz": 18.5},
        ],
    )
    sandbox.store.add_product(
        shop.id, "Live Mug", skus=[{"seller_sku": "MUG-LIVE", "price": "14.00"}]
    )
    return shop


@pytest.fixture
def tokens(sandbox: TikTokSandbox, shop: Shop) -> TokenGrant:
    return sandbox.store.issue_tokens(shop_ids=[shop.id])


@pytest.fixture
def api(sandbox: TikTokSandbox, shop: Shop, tokens: TokenGrant) -> Iterator[SignedClient]:
    client = SignedClient(
        sandbox.base_url, access_token=tokens.access_token, shop_cipher=shop.cipher
    )
    yield client
    client.close()


class WebhookReceiver:
    """A loopback endpoint recording every delivery; answers with queued statuses, then 200."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        self.received = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.received:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.deliveries.append((dict(self.headers.items()), body))
                    receiver.received.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/tiktok/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[tuple[dict[str, str], bytes]]:
        deadline = time.monotonic() + timeout
        with self.received:
            while len(self.deliveries) < count:
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"got {len(self.deliveries)} deliveries, wanted {count}"
                self.received.wait(remaining)
            return list(self.deliveries)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver()
    yield server
    server.close()
