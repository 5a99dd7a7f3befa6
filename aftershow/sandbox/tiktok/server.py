"""HTTP front of the sandbox: a route table, TikTok's gateway checks, and the JSON envelope.

Checks run in this order for every signed (API host) route, each answering like TikTok
(channel-apis.md §1.2-§1.4 and §8):

1. injected fault, if any (429 + ``Retry-After`` / 500 / dropped connection);
2. ``Content-Type`` must be ``application/json``, GET included → ``36009022``;
3. ``app_key`` must be the app's → ``36009004``;
4. ``sign`` must be present → ``36009004``;
5. ``timestamp`` within [real now - 5 min, real now + 30 s] → ``36009004``;
6. ``sign`` must match, computed over the decoded query and the exact body bytes → ``106001``;
7. ``x-tts-access-token`` must be a live token → ``36009004``; expired → ``105002``;
8. ``shop_cipher``: forbidden on authorization/seller routes → ``36009004``; missing where
   required → ``106013``; unknown or not covered by the token → ``101000``.

Routes are ``(method, path regex) → handler``; a handler gets a :class:`Request` and returns the
envelope's ``data`` (a dict, or bytes already encoded as a JSON object).
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from aftershow.integrations.tiktok.signing import request_signature
from aftershow.sandbox.loopback import ConnectionTrackingServer, LoopbackHandler

from . import errors
from .clock import Timeline, VirtualClock
from .credentials import TokenGrant
from .errors import ApiError
from .faults import FaultInjector
from .store import SandboxStore, Shop

logger = logging.getLogger(__name__)

TIMESTAMP_MAX_AGE = 300  # "must not be earlier than 5 minutes before the current time"
TIMESTAMP_MAX_LEAD = 30  # "must not exceed the current time by more than 30 seconds"
CipherRule = Literal["required", "forbidden"]


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: bytes
    headers: Message
    path_params: dict[str, str] = field(default_factory=dict)
    grant: TokenGrant | None = None
    shop: Shop | None = None

    @property
    def content_type(self) -> str | None:
        return self.headers.get("Content-Type")

    def json_body(self) -> dict[str, Any]:
        if not self.body.strip():
            return {}
        try:
            parsed = json.loads(self.body)
        except ValueError as exc:
            raise errors.invalid_param("the request body is not valid JSON") from exc
        if not isinstance(parsed, dict):
            raise errors.invalid_param("the request body must be a JSON object")
        return parsed

    @property
    def shop_id(self) -> str:
        assert self.shop is not None, "route is not shop-scoped"
        return self.shop.id


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Callable[[Request], dict[str, Any] | bytes]
    shop_cipher: CipherRule = "required"
    signed: bool = True


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def new_request_id() -> str:
    return f"{datetime.now(UTC):%Y%m%d%H%M%S}{secrets.token_hex(9).upper()}"


def envelope(
    code: int, message: str, request_id: str, data: dict[str, Any] | bytes | None
) -> bytes:
    head = json.dumps({"code": code, "message": message, "request_id": request_id})[:-1]
    if data is None:
        return (head + "}").encode()
    encoded = data if isinstance(data, bytes) else json.dumps(data, separators=(",", ":")).encode()
    return head.encode() + b',"data":' + encoded + b"}"


class Gateway:
    def __init__(
        self,
        *,
        app_key: str,
        app_secret: str,
        store: SandboxStore,
        faults: FaultInjector,
        clock: VirtualClock,
        timeline: Timeline,
    ) -> None:
        self.app_key = app_key
        self.app_secret = app_secret
        self.store = store
        self.faults = faults
        self.clock = clock
        self.timeline = timeline
        self.routes: list[Route] = []

    def add_route(
        self,
        method: str,
        path: str,
        handler: Callable[[Request], dict[str, Any] | bytes],
        *,
        shop_cipher: CipherRule = "required",
        signed: bool = True,
    ) -> None:
        """``path`` is a regex matched against the whole path; named groups become params."""
        self.routes.append(Route(method, re.compile(path), handler, shop_cipher, signed))

    # -- dispatch --------------------------------------------------------------------------

    def handle(self, request: Request) -> Response | None:
        """The response, or None to drop the connection (the ``reset`` fault)."""
        request_id = new_request_id()
        try:
            # Apply every change that is due first, so reads see the virtual present.
            self.timeline.run_due(self.clock.epoch())
            route = self._match(request)
            if route.signed:
                fault = self.faults.draw()
                if fault == "reset":
                    return None
                if fault == "429":
                    retry_after = str(self.faults.retry_after)
                    raise ApiError(
                        errors.THROTTLED, http_status=429, headers={"Retry-After": retry_after}
                    )
                if fault == "500":
                    raise ApiError(errors.INTERNAL_ERROR, http_status=500)
                self._authenticate(request, route)
            data = route.handler(request)
        except ApiError as error:
            body = envelope(error.code, error.message, request_id, None)
            return Response(error.http_status, body, {**error.headers, "X-Tt-Logid": request_id})
        except Exception:  # the HTTP boundary: answer like TikTok's internal error, keep serving
            logger.exception("sandbox handler failed for %s %s", request.method, request.path)
            body = envelope(
                errors.INTERNAL_ERROR, errors.MESSAGES[errors.INTERNAL_ERROR], request_id, None
            )
            return Response(500, body, {"X-Tt-Logid": request_id})
        return Response(200, envelope(0, "Success", request_id, data), {"X-Tt-Logid": request_id})

    def _match(self, request: Request) -> Route:
        path_matched = False
        for route in self.routes:
            found = route.pattern.fullmatch(request.path)
            if found is None:
                continue
            path_matched = True
            if route.method == request.method:
                request.path_params = found.groupdict()
                return route
        raise ApiError(errors.INVALID_METHOD if path_matched else errors.INVALID_PATH)

    def _authenticate(self, request: Request, route: Route) -> None:
        query = request.query
        media_type = (request.content_type or "").split(";", 1)[0].strip().lower()
        if media_type != "application/json":
            raise ApiError(errors.INVALID_CONTENT_TYPE)
        if query.get("app_key") != self.app_key:
            raise ApiError(errors.GATEWAY_INVALID, errors.MSG_BAD_APP_KEY)
        sign = query.get("sign", "")
        if not sign:
            raise ApiError(errors.GATEWAY_INVALID, errors.MSG_MISSING_SIGN)
        self._check_timestamp(query.get("timestamp", ""))
        expected = request_signature(
            app_secret=self.app_secret,
            path=request.path,
            query=query,
            body=request.body,
            content_type=request.content_type,
        )
        if not hmac.compare_digest(expected, sign.lower()):
            raise ApiError(errors.INVALID_SIGN)
        token = request.headers.get("x-tts-access-token", "")
        grant = self.store.grant_for_access_token(token) if token else None
        if grant is None:
            raise ApiError(errors.GATEWAY_INVALID, errors.MSG_BAD_TOKEN)
        if grant.access_token_expire_in <= time.time():
            raise ApiError(errors.EXPIRED_TOKEN)
        request.grant = grant
        cipher = query.get("shop_cipher", "")
        if route.shop_cipher == "forbidden":
            if cipher:
                raise ApiError(errors.GATEWAY_INVALID, errors.MSG_UNEXPECTED_CIPHER)
            return
        if not cipher:
            raise ApiError(errors.MISSING_SHOP_CIPHER)
        shop = self.store.shop_by_cipher(cipher)
        if shop is None or not grant.covers(shop.id):
            raise ApiError(errors.INVALID_SHOP)
        request.shop = shop

    @staticmethod
    def _check_timestamp(raw: str) -> None:
        # Real wall time, never the virtual clock: the client signs with its own real clock.
        if not raw.isdigit():
            raise ApiError(errors.GATEWAY_INVALID, errors.MSG_STALE_TIMESTAMP)
        now = time.time()
        stamp = int(raw)
        if stamp < now - TIMESTAMP_MAX_AGE:
            raise ApiError(errors.GATEWAY_INVALID, errors.MSG_STALE_TIMESTAMP)
        if stamp > now + TIMESTAMP_MAX_LEAD:
            raise ApiError(errors.GATEWAY_INVALID, errors.MSG_FUTURE_TIMESTAMP)


class SandboxHTTPServer(ConnectionTrackingServer):
    def __init__(self, address: tuple[str, int], gateway: Gateway) -> None:
        self.gateway = gateway
        super().__init__(address, _RequestHandler)


class _RequestHandler(LoopbackHandler):
    server: SandboxHTTPServer

    def _dispatch(self) -> None:
        body = self._read_body()
        split = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=unquote(split.path),
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            body=body,
            headers=self.headers,
        )
        response = self.server.gateway.handle(request)
        if response is None:
            self._drop_connection()
            return
        self._answer(response.status, "application/json", response.headers, response.body)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s - %s", self.address_string(), format % args)
