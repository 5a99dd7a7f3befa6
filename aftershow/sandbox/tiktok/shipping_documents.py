"""Shipping documents of the sandbox: 4x6 label PDFs and the host that serves their ``doc_url``.

TikTok answers Get Package Shipping Document with a ``doc_url`` on a file host, not on the API
host, valid 24 hours (channel-apis.md §1.7). The sandbox does the same: :class:`DocumentHost` is a
loopback HTTP server of its own, started on the first document request, that serves each PDF
under an unguessable path until 24 hours of virtual time have passed (then 403, like an expired
pre-signed URL). The PDFs are real, small 4x6 pages drawn with reportlab and marked SANDBOX.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from typing import Any
from urllib.parse import parse_qs, urlsplit

from reportlab.graphics.barcode.code128 import Code128  # type: ignore[import-untyped]
from reportlab.lib.units import inch  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

from .clock import VirtualClock

DOC_URL_VALIDITY_SECONDS = 24 * 3600
LABEL_SIZE = (4 * inch, 6 * inch)


@dataclass(frozen=True)
class LabelContent:
    package_id: str
    order_id: str
    tracking_number: str
    provider_name: str
    service_name: str
    ship_from: tuple[str, ...]
    ship_to: tuple[str, ...]
    items: tuple[tuple[str, int], ...]  # (seller SKU, quantity)


def render_document(content: LabelContent, document_type: str) -> bytes:
    """``SHIPPING_LABEL``, ``PACKING_SLIP`` or both (label first), one 4x6 page each."""
    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=LABEL_SIZE, invariant=True)
    canvas.setTitle(f"TikTok Shop sandbox {document_type} {content.package_id}")
    if document_type in ("SHIPPING_LABEL", "SHIPPING_LABEL_AND_PACKING_SLIP"):
        _draw_label(canvas, content)
        canvas.showPage()
    if document_type in ("PACKING_SLIP", "SHIPPING_LABEL_AND_PACKING_SLIP"):
        _draw_packing_slip(canvas, content)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _draw_lines(canvas: Canvas, lines: tuple[str, ...], x: float, y: float, size: int) -> float:
    canvas.setFont("Helvetica", size)
    for line in lines:
        canvas.drawString(x, y, line)
        y -= size + 2
    return y


def _draw_label(canvas: Canvas, content: LabelContent) -> None:
    width, height = LABEL_SIZE
    margin = 0.2 * inch
    canvas.setFont("Helvetica-Bold", 14)
    canvas.drawString(margin, height - 0.4 * inch, content.provider_name.upper())
    canvas.setFont("Helvetica", 9)
    canvas.drawRightString(width - margin, height - 0.4 * inch, content.service_name)
    canvas.setFont("Helvetica-Bold", 9)
    canvas.drawString(margin, height - 0.7 * inch, "FROM:")
    _draw_lines(canvas, content.ship_from, margin, height - 0.85 * inch, 8)
    canvas.setFont("Helvetica-Bold", 10)
    canvas.drawString(margin, height - 1.9 * inch, "SHIP TO:")
    _draw_lines(canvas, content.ship_to, margin + 0.2 * inch, height - 2.1 * inch, 11)
    barcode = Code128(content.tracking_number, barWidth=0.012 * inch, barHeight=0.9 * inch)
    barcode.drawOn(canvas, (width - barcode.width) / 2, 1.3 * inch)
    canvas.setFont("Helvetica-Bold", 11)
    canvas.drawCentredString(width / 2, 1.05 * inch, f"TRACKING # {content.tracking_number}")
    canvas.setFont("Helvetica", 7)
    canvas.drawString(margin, 0.6 * inch, f"Order {content.order_id}")
    canvas.drawString(margin, 0.45 * inch, f"Package {content.package_id}")
    canvas.setFont("Helvetica-Bold", 16)
    canvas.drawCentredString(width / 2, 0.15 * inch, "SANDBOX - NOT A REAL LABEL")


def _draw_packing_slip(canvas: Canvas, content: LabelContent) -> None:
    _, height = LABEL_SIZE
    margin = 0.25 * inch
    canvas.setFont("Helvetica-Bold", 12)
    canvas.drawString(margin, height - 0.5 * inch, "PACKING SLIP (SANDBOX)")
    y = _draw_lines(
        canvas,
        (f"Order {content.order_id}", f"Package {content.package_id}"),
        margin,
        5.2 * inch,
        8,
    )
    _draw_lines(
        canvas,
        tuple(f"{quantity} x {sku}" for sku, quantity in content.items),
        margin,
        y - 0.2 * inch,
        10,
    )


@dataclass(frozen=True)
class _Document:
    body: bytes
    expires_at: float  # virtual Unix seconds


class DocumentHost:
    """A loopback file host for ``doc_url``: started lazily, stopped with :meth:`close`."""

    def __init__(self, clock: VirtualClock, host: str = "127.0.0.1") -> None:
        self.clock = clock
        self.host = host
        self._lock = threading.Lock()
        self._documents: dict[str, _Document] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.downloads = 0

    def publish(self, body: bytes, *, name: str) -> str:
        """Serve ``body`` for 24 hours of virtual time; returns its URL."""
        token = secrets.token_urlsafe(18)
        with self._lock:
            self._documents[token] = _Document(body, self.clock.epoch() + DOC_URL_VALIDITY_SECONDS)
        # Like a pre-signed URL: the credential is in the query, the path only names the file.
        return f"{self._base_url()}/shipping_documents/{name}.pdf?token={token}"

    def _base_url(self) -> str:
        with self._lock:
            if self._server is None:
                self._server = ThreadingHTTPServer((self.host, 0), _handler_for(self))
                self._server.daemon_threads = True
                self._thread = threading.Thread(
                    target=self._server.serve_forever,
                    kwargs={"poll_interval": 0.05},
                    name="tts-sandbox-documents",
                    daemon=True,
                )
                self._thread.start()
            host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def fetch(self, token: str) -> tuple[int, bytes]:
        with self._lock:
            document = self._documents.get(token)
            if document is None:
                return 404, b"NoSuchKey"
            if self.clock.epoch() > document.expires_at:
                return 403, b"Request has expired"
            self.downloads += 1
            return 200, document.body

    def close(self) -> None:
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)


def _handler_for(host: DocumentHost) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            split = urlsplit(self.path)
            token = parse_qs(split.query).get("token", [""])[0]
            status, body = (404, b"NoSuchKey")
            if split.path.startswith("/shipping_documents/") and token:
                status, body = host.fetch(token)
            self.send_response(status)
            self.send_header("Content-Type", "application/pdf" if status == 200 else "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(OSError):
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
