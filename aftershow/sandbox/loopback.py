"""A small HTTP/1.1 server on 127.0.0.1 and a fault injector, for the marketplace sandboxes.

Shared by the Shopify, Amazon and eBay sandboxes, which bring their own routes and checks:
stdlib only (no Django), keep-alive with Nagle off (headers and body leave in one write),
every call recorded for tests, and open connections cut when the sandbox stops.

A handler gets a :class:`Request` and returns a :class:`Response`, or None to close the
connection without answering (what a client sees after its own timeout).

Faults (``faults.configure(rate=0.2, kinds=("429", "500", "timeout"), seed=3)``): each
sandbox draws one per API call and decides how it shows, in its platform's error format; a
``timeout`` makes the server hold the call for ``timeout_seconds`` (set it past the client's
timeout) and then drop it. Whether the write in a timed-out call is applied, and when, is the
sandbox's choice, documented there.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import socket
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, unquote, urlsplit

logger = logging.getLogger(__name__)

FAULT_KINDS = frozenset({"429", "500", "timeout"})


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes
    # The path as sent, still percent-encoded (``path`` is decoded): for ids that may hold "/".
    raw_path: str = ""

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def json_body(self) -> Any:
        """The parsed body; raises ValueError when it is not JSON."""
        return json.loads(self.body.decode("utf-8"))

    @property
    def media_type(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
        body = json.dumps(payload, separators=(",", ":")).encode()
        return cls(status, body, dict(headers or {}))


@dataclass(frozen=True)
class RecordedCall:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    status: int | None  # None: dropped without an answer
    response_body: bytes = b""
    raw_path: str = ""

    def json_body(self) -> Any:
        return json.loads(self.body) if self.body else None

    def json_response(self) -> Any:
        return json.loads(self.response_body) if self.response_body else None


Handler = Callable[[Request], Response | None]


class FaultInjector:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rate = 0.0
        self._kinds: tuple[str, ...] = ("429",)
        self._rng = random.Random(0)
        self._queued: deque[str] = deque()
        self._released = threading.Event()
        self.retry_after = 1
        self.timeout_seconds = 1.0
        self.injected: Counter[str] = Counter()

    def configure(
        self,
        rate: float = 0.0,
        kinds: Iterable[str] = ("429", "500", "timeout"),
        seed: int = 0,
        *,
        timeout_seconds: float | None = None,
        retry_after: int | None = None,
    ) -> None:
        """``rate=0`` turns random faults off (queued ones from :meth:`fail_next` stay)."""
        chosen = tuple(kinds)
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be within [0, 1]")
        unknown = set(chosen) - FAULT_KINDS
        if unknown or not chosen:
            raise ValueError(f"kinds must be a non-empty subset of {sorted(FAULT_KINDS)}")
        with self._lock:
            self._rate = rate
            self._kinds = chosen
            self._rng = random.Random(seed)
            if timeout_seconds is not None:
                self.timeout_seconds = timeout_seconds
            if retry_after is not None:
                self.retry_after = retry_after

    def fail_next(self, count: int = 1, kind: str = "429", *, after: int = 0) -> None:
        """Fail exactly ``count`` calls with ``kind``, once ``after`` more calls were served."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {sorted(FAULT_KINDS)}")
        with self._lock:
            self._queued.extend([""] * after + [kind] * count)

    def clear(self) -> None:
        with self._lock:
            self._rate = 0.0
            self._queued.clear()

    def draw(self) -> str | None:
        """The fault for this call, or None to serve it normally."""
        with self._lock:
            if self._queued:
                kind = self._queued.popleft()
                if not kind:  # a call served normally before a queued fault
                    return None
            elif self._rate and self._rng.random() < self._rate:
                kind = self._rng.choice(self._kinds)
            else:
                return None
            self.injected[kind] += 1
            return kind

    def stall(self) -> None:
        """Hold a timed-out call past the client's timeout (cut short when the sandbox stops)."""
        self._released.wait(self.timeout_seconds)

    def release_stalled(self) -> None:
        self._released.set()

    def rearm(self) -> None:
        self._released.clear()


class ConnectionTrackingServer(ThreadingHTTPServer):
    """A threading HTTP server that remembers its open keep-alive connections, so stopping a
    sandbox really cuts its clients off (shared by every loopback sandbox)."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Server(ConnectionTrackingServer):
    def __init__(self, address: tuple[str, int], owner: LoopbackServer) -> None:
        self.owner = owner
        super().__init__(address, _RequestHandler)


class LoopbackHandler(BaseHTTPRequestHandler):
    """What every loopback sandbox's request handler shares: keep-alive HTTP/1.1, every verb
    to ``_dispatch``, bodies by length or chunked, answers in one buffered write, and a
    dropped connection for the "reset" fault."""

    protocol_version = "HTTP/1.1"  # keep-alive: benchmarks make thousands of calls
    # Headers and body leave in one buffered write (flushed after each request) with Nagle off;
    # otherwise the body waits for the client's delayed ACK, ~40 ms per call.
    disable_nagle_algorithm = True
    wbufsize = 64 * 1024

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        raise NotImplementedError

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _drop_connection(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):  # the peer may be gone already
            self.connection.shutdown(socket.SHUT_RDWR)

    def _answer(
        self, status: int, content_type: str, headers: Mapping[str, str], body: bytes
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class _RequestHandler(LoopbackHandler):
    server: _Server

    def _dispatch(self) -> None:
        body = self._read_body()
        split = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=unquote(split.path),
            query=parse_qs(split.query, keep_blank_values=True),
            headers=self.headers,
            body=body,
            raw_path=split.path,
        )
        owner = self.server.owner
        try:
            response = owner.handler(request)
        except Exception:  # the HTTP boundary: answer 500 and keep serving
            logger.exception("sandbox handler failed for %s %s", request.method, request.path)
            response = Response.json(500, {"errors": [{"message": "sandbox handler failed"}]})
        owner.record(request, response)
        if response is None:
            self._drop_connection()
            return
        try:
            self._answer(response.status, response.content_type, response.headers, response.body)
        except OSError:  # the client gave up (its timeout) while we worked
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s - %s", self.address_string(), format % args)


class LoopbackServer:
    def __init__(self, handler: Handler, *, name: str) -> None:
        self.handler = handler
        self.name = name
        self.calls: list[RecordedCall] = []
        self._calls_lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        if self._server is not None:
            raise RuntimeError(f"the {self.name} sandbox is already running")
        self._server = _Server((host, port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=f"{self.name}-sandbox-http",
            daemon=True,
        )
        self._thread.start()
        return self.base_url

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"the {self.name} sandbox is not running: call start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.close_connections()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def record(self, request: Request, response: Response | None) -> None:
        call = RecordedCall(
            method=request.method,
            path=request.path,
            query=request.query,
            headers={name.lower(): value for name, value in request.headers.items()},
            body=request.body,
            status=None if response is None else response.status,
            response_body=b"" if response is None else response.body,
            raw_path=request.raw_path or request.path,
        )
        with self._calls_lock:
            self.calls.append(call)

    def calls_to(self, method: str, path_prefix: str) -> list[RecordedCall]:
        with self._calls_lock:
            return [c for c in self.calls if c.method == method and c.path.startswith(path_prefix)]


class LoopbackSandbox:
    """The life cycle every platform sandbox shares: it serves on 127.0.0.1 (port 0 picks a
    free one), re-arms its faults on start, releases stalled calls on stop, and works as a
    context manager. A subclass sets ``server`` and ``faults`` and routes requests."""

    server: LoopbackServer
    faults: FaultInjector

    def start(self, port: int = 0) -> str:
        self.faults.rearm()
        return self.server.start(port)

    def stop(self) -> None:
        self.faults.release_stalled()
        self.server.stop()

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def calls(self) -> list[RecordedCall]:
        return self.server.calls

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
