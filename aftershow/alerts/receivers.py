"""Loopback receivers that stand in for a mail server and a chat webhook: the demo's local inbox
and the tests' witnesses. Both listen on 127.0.0.1 only and speak the real protocols (SMTP via
aiosmtpd; HTTP POST, as Apprise's ``json://`` and ``ntfy://`` send it).

What they receive is kept in memory (``messages``) and, when ``store`` is set, written to
``LocalInboxMessage`` so the Inbox page of the demo can list it.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from django.db import connections

from aftershow.alerts.models import InboxProtocol, LocalInboxMessage
from aftershow.core.timeutils import utcnow

LOOPBACK = "127.0.0.1"
# A webhook body larger than this is refused (413): the receiver is for alerts, not uploads.
MAX_BODY_BYTES = 1_000_000


@dataclass(frozen=True)
class Received:
    protocol: InboxProtocol
    sender: str
    recipients: list[str]
    subject: str
    body: str
    raw: str


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


class _Collector:
    def __init__(self, *, store: bool) -> None:
        self.store = store
        self.messages: list[Received] = []
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)

    def add(self, message: Received) -> None:
        if self.store:
            LocalInboxMessage.objects.create(
                protocol=message.protocol,
                received_at=utcnow(),
                sender=message.sender[:255],
                recipients=", ".join(message.recipients)[:500],
                subject=message.subject[:500],
                body=message.body,
            )
            if threading.current_thread() is not threading.main_thread():
                # A receiver's thread: its connection would stay open (CONN_MAX_AGE) after it.
                connections.close_all()
        with self._arrived:
            self.messages.append(message)
            self._arrived.notify_all()

    def wait_for(self, count: int, *, timeout: float = 10.0) -> list[Received]:
        """Block until at least ``count`` messages arrived (or the timeout); return them all."""
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.messages) >= count, timeout=timeout)
            return list(self.messages)


def _plain_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    return part.get_content().strip() if part is not None else ""


class SmtpInbox(_Collector):
    """An SMTP server on 127.0.0.1 accepting any sender and recipient, without TLS or AUTH."""

    def __init__(self, *, store: bool = False, port: int = 0) -> None:
        super().__init__(store=store)
        self.port = port or free_port()
        self._controller = Controller(_SmtpHandler(self.add), hostname=LOOPBACK, port=self.port)
        self._running = False

    def start(self) -> SmtpInbox:
        self._controller.start()
        self._running = True
        return self

    def stop(self) -> None:
        if self._running:
            self._running = False
            self._controller.stop()

    def apprise_url(
        self, *, to: str = "ops@example.com", sender: str = "alerts@example.com"
    ) -> str:
        """The Apprise URL that mails this inbox (plain SMTP: ``mode=insecure``)."""
        return f"mailto://{LOOPBACK}:{self.port}?from={sender}&to={to}&mode=insecure"


class _SmtpHandler:
    def __init__(self, deliver: Callable[[Received], None]) -> None:
        self.deliver = deliver

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.content
        raw = content.decode("utf-8", "replace") if isinstance(content, bytes) else str(content)
        parsed = email.message_from_string(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        # The handler runs on aiosmtpd's event loop; storing (the ORM) must happen off it.
        await asyncio.to_thread(
            self.deliver,
            Received(
                protocol=InboxProtocol.SMTP,
                sender=str(envelope.mail_from),
                recipients=[str(rcpt) for rcpt in envelope.rcpt_tos],
                subject=str(parsed.get("Subject", "")),
                body=_plain_text(parsed),
                raw=raw,
            ),
        )
        return "250 Message accepted for delivery"


class WebhookInbox(_Collector):
    """An HTTP server on 127.0.0.1 that records every POSTed JSON body.

    ``fail_next`` makes the next N requests answer 500, to exercise retries.
    """

    def __init__(self, *, store: bool = False, port: int = 0) -> None:
        super().__init__(store=store)
        self.fail_next = 0
        self.requests = 0
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                inbox.requests += 1
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY_BYTES:
                    self.send_response(413)
                    self.end_headers()
                    return
                raw = self.rfile.read(length).decode("utf-8", "replace")
                if inbox.fail_next > 0:
                    inbox.fail_next -= 1
                    self.send_response(500)
                    self.end_headers()
                    return
                try:
                    payload = json.loads(raw)
                except ValueError:
                    self.send_response(400)
                    self.end_headers()
                    return
                inbox.add(
                    Received(
                        protocol=InboxProtocol.HTTP,
                        sender=self.headers.get("User-Agent", ""),
                        recipients=[self.path],
                        subject=str(payload.get("title", "")),
                        body=str(payload.get("message", "")),
                        raw=raw,
                    )
                )
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}')

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer((LOOPBACK, port), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, daemon=True, name="alerts-webhook-inbox"
        )

    def start(self) -> WebhookInbox:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._server.server_close()

    def json_url(self, path: str = "/alerts") -> str:
        return f"json://{LOOPBACK}:{self.port}{path}"

    def ntfy_url(self, topic: str = "stock") -> str:
        return f"ntfy://{LOOPBACK}:{self.port}/{topic}"
