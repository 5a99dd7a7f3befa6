"""A strict local fake of EasyPost's shipment API (channel-apis.md §5.1) on 127.0.0.1.

Routes (all under ``/v2`` except the label files, which EasyPost serves from public storage):

- ``POST /v2/shipments`` ``{"shipment": {to_address, from_address, parcel, options?, reference?}}``
  → 201, the shipment with its ``rates``; carriers that refuse the parcel (a PO Box for UPS and
  FedEx, a military address, a ZIP that is not 5 digits) say why in ``messages``.
- ``POST /v2/shipments/{id}/buy`` ``{"rate": {"id": "rate_…"}}`` → 200, the shipment with
  ``postage_label``, ``tracking_code``, ``selected_rate``, ``tracker``.
- ``GET /v2/shipments/{id}``; ``GET /v2/shipments/{id}/label?file_format=PNG|PDF|ZPL``.
- ``GET /files/postage_label/{name}`` → the label file (no authentication, like EasyPost's).

Refusals, each as EasyPost answers (``{"error": {"code", "message", "errors"}}``):

- no or unknown API key → 401 (HTTP basic auth with the key as user name, or ``Bearer <key>``,
  which EasyPost's own SDKs send);
- missing ``shipment``, address fields or parcel weight → 422 ``PARAMETER.REQUIRED`` naming each
  field; a weight or dimension that is not a positive number → 422 ``PARAMETER.INVALID``;
- buying a shipment twice → 422 ``SHIPMENT.POSTAGE.EXISTS``; a rate of another shipment or
  none → 422 ``SHIPMENT.RATE.INVALID`` / ``PARAMETER.REQUIRED``; an unknown shipment → 404.

The error codes other than ``PARAMETER.REQUIRED`` and ``SHIPMENT.POSTAGE.EXISTS`` are the fake's
own spelling (EasyPost's full list was not in our sources). Every purchase is recorded
(``store.purchases``), so tests can prove a label was bought once.
"""

from __future__ import annotations

import base64
import json
import math
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import files

ADDRESS_FIELDS = ("street1", "city", "state", "zip")
PO_BOX = re.compile(r"\b(?:P\.?\s*O\.?\s*BOX|POST\s+OFFICE\s+BOX)\b", re.IGNORECASE)
MILITARY_STATES = {"AA", "AE", "AP"}
# (carrier, service, base, per lb, per zone, days base) — deterministic made-up prices.
SERVICES = (
    ("USPS", "GroundAdvantage", "5.50", "0.90", "0.45", 2),
    ("USPS", "Priority", "8.20", "1.30", "0.80", 1),
    ("USPS", "Express", "28.00", "2.50", "1.50", 1),
    ("UPS", "Ground", "10.10", "1.10", "0.90", 1),
    ("FedEx", "FEDEX_GROUND", "9.90", "1.05", "0.95", 1),
)
CARRIER_ACCOUNTS = {"USPS": "ca_usps0000", "UPS": "ca_ups00000", "FedEx": "ca_fedex000"}


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, errors: list[dict[str, str]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors or []

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "errors": self.errors}}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class EasyPostStore:
    api_keys: set[str]
    shipments: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    purchases: list[tuple[str, str]] = field(default_factory=list)  # (shipment id, rate id)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path)
    # Injected faults: [path regex, status, times left]; see ``EasyPostSandbox.fail_next``.
    faults: list[list[Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    tracking_serial: int = 0


def _missing(data: dict[str, Any], prefix: str, names: tuple[str, ...]) -> list[dict[str, str]]:
    return [
        {"field": f"{prefix}.{name}", "message": "cannot be blank"}
        for name in names
        if not str(data.get(name) or "").strip()
    ]


def _positive(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 and math.isfinite(number) else None


def _validate_shipment(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get("shipment"), dict):
        raise ApiError(
            422,
            "PARAMETER.REQUIRED",
            "Missing required parameter.",
            [{"field": "shipment", "message": "cannot be blank"}],
        )
    shipment: dict[str, Any] = body["shipment"]
    errors: list[dict[str, str]] = []
    for key in ("to_address", "from_address"):
        address = shipment.get(key)
        if not isinstance(address, dict):
            errors.append({"field": f"shipment.{key}", "message": "cannot be blank"})
        else:
            errors += _missing(address, f"shipment.{key}", ADDRESS_FIELDS)
    parcel = shipment.get("parcel")
    if not isinstance(parcel, dict) or parcel.get("weight") in (None, ""):
        errors.append({"field": "shipment.parcel.weight", "message": "cannot be blank"})
    if errors:
        raise ApiError(422, "PARAMETER.REQUIRED", "Missing required parameter.", errors)
    assert isinstance(parcel, dict)
    invalid = [
        {"field": f"shipment.parcel.{name}", "message": "must be a positive number"}
        for name in ("weight", "length", "width", "height")
        if name in parcel and parcel[name] is not None and _positive(parcel[name]) is None
    ]
    if invalid:
        raise ApiError(422, "PARAMETER.INVALID", "Invalid parameter.", invalid)
    return shipment


def _rates(shipment_id: str, shipment: dict[str, Any]) -> tuple[list[dict[str, Any]], list[Any]]:
    to, origin = shipment["to_address"], shipment["from_address"]
    parcel = shipment["parcel"]
    zip_to, zip_from = str(to["zip"]).strip()[:5], str(origin["zip"]).strip()[:5]
    messages: list[dict[str, Any]] = []
    carriers = ["USPS", "UPS", "FedEx"]
    if not (zip_to.isdigit() and len(zip_to) == 5):
        return [], [
            {
                "carrier": carrier,
                "carrier_account_id": CARRIER_ACCOUNTS[carrier],
                "type": "rate_error",
                "message": f"Invalid destination ZIP: {to['zip']}",
            }
            for carrier in carriers
        ]
    po_box = bool(PO_BOX.search(f"{to.get('street1', '')} {to.get('street2') or ''}"))
    military = str(to.get("state", "")).upper() in MILITARY_STATES
    for carrier in ("UPS", "FedEx"):
        if po_box or military:
            carriers.remove(carrier)
            messages.append(
                {
                    "carrier": carrier,
                    "carrier_account_id": CARRIER_ACCOUNTS[carrier],
                    "type": "rate_error",
                    "message": f"{carrier} does not deliver to "
                    + ("PO Boxes" if po_box else "military addresses"),
                }
            )
    pounds = max(1, math.ceil(float(parcel["weight"]) / 16))
    zone = 1 + min(7, abs(int(zip_to[0]) - int(zip_from[0] if zip_from[:1].isdigit() else 0)))
    rates = []
    for carrier, service, base, per_lb, per_zone, days in SERVICES:
        if carrier not in carriers:
            continue
        amount = Decimal(base) + Decimal(per_lb) * pounds + Decimal(per_zone) * zone
        rates.append(
            {
                "id": f"rate_{secrets.token_hex(16)}",
                "object": "Rate",
                "created_at": _now(),
                "updated_at": _now(),
                "mode": "test",
                "service": service,
                "carrier": carrier,
                "rate": f"{amount:.2f}",
                "currency": "USD",
                "retail_rate": f"{amount * Decimal('1.2'):.2f}",
                "retail_currency": "USD",
                "list_rate": f"{amount:.2f}",
                "list_currency": "USD",
                "billing_type": "easypost",
                "delivery_days": days + zone // 2,
                "delivery_date": None,
                "delivery_date_guaranteed": False,
                "est_delivery_days": days + zone // 2,
                "shipment_id": shipment_id,
                "carrier_account_id": CARRIER_ACCOUNTS[carrier],
            }
        )
    return rates, messages


def _address(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"adr_{secrets.token_hex(16)}",
        "object": "Address",
        "created_at": _now(),
        "updated_at": _now(),
        "name": data.get("name"),
        "company": data.get("company"),
        "street1": data.get("street1"),
        "street2": data.get("street2"),
        "city": data.get("city"),
        "state": data.get("state"),
        "zip": data.get("zip"),
        "country": data.get("country") or "US",
        "phone": data.get("phone"),
        "email": data.get("email"),
        "mode": "test",
        "residential": None,
        "verifications": {},
    }


def _tracking_code(carrier: str, serial: int) -> str:
    if carrier == "UPS":
        return f"1Z999AA1{serial:010d}"
    if carrier == "FedEx":
        return f"7{serial:011d}"
    return f"9400100000{serial:012d}"


class EasyPostApi:
    def __init__(self, store: EasyPostStore, base_url: str) -> None:
        self.store = store
        self.base_url = base_url

    def create(self, body: Any) -> dict[str, Any]:
        data = _validate_shipment(body)
        shipment_id = f"shp_{secrets.token_hex(16)}"
        rates, messages = _rates(shipment_id, data)
        parcel = data["parcel"]
        shipment = {
            "id": shipment_id,
            "object": "Shipment",
            "created_at": _now(),
            "updated_at": _now(),
            "mode": "test",
            "reference": data.get("reference"),
            "status": "unknown",
            "options": dict(data.get("options") or {}),
            "messages": messages,
            "to_address": _address(data["to_address"]),
            "from_address": _address(data["from_address"]),
            "parcel": {
                "id": f"prcl_{secrets.token_hex(16)}",
                "object": "Parcel",
                "length": _positive(parcel.get("length")),
                "width": _positive(parcel.get("width")),
                "height": _positive(parcel.get("height")),
                "weight": _positive(parcel["weight"]),
                "mode": "test",
            },
            "rates": rates,
            "selected_rate": None,
            "postage_label": None,
            "tracking_code": None,
            "tracker": None,
            "fees": [],
            "forms": [],
        }
        with self.store.lock:
            self.store.shipments[shipment_id] = shipment
        return shipment

    def get(self, shipment_id: str) -> dict[str, Any]:
        with self.store.lock:
            shipment = self.store.shipments.get(shipment_id)
        if shipment is None:
            raise ApiError(404, "NOT_FOUND", "The requested resource could not be found.")
        return shipment

    def buy(self, shipment_id: str, body: Any) -> dict[str, Any]:
        shipment = self.get(shipment_id)
        rate = body.get("rate") if isinstance(body, dict) else None
        rate_id = rate.get("id") if isinstance(rate, dict) else None
        if not rate_id:
            raise ApiError(
                422,
                "PARAMETER.REQUIRED",
                "Missing required parameter.",
                [{"field": "rate", "message": "cannot be blank"}],
            )
        with self.store.lock:
            if shipment["postage_label"] is not None:
                raise ApiError(
                    422, "SHIPMENT.POSTAGE.EXISTS", "Postage already exists for this shipment."
                )
            chosen = next((r for r in shipment["rates"] if r["id"] == rate_id), None)
            if chosen is None:
                raise ApiError(
                    422,
                    "SHIPMENT.RATE.INVALID",
                    "The rate does not belong to this shipment.",
                    [{"field": "rate.id", "message": "is not a rate of this shipment"}],
                )
            self.store.tracking_serial += 1
            tracking = _tracking_code(chosen["carrier"], self.store.tracking_serial)
            self.store.purchases.append((shipment_id, rate_id))
            name = f"{shipment_id}.png"
            self.store.files[name] = ("image/png", files.label_png(tracking))
            shipment["tracking_code"] = tracking
            shipment["selected_rate"] = chosen
            shipment["postage_label"] = {
                "id": f"pl_{secrets.token_hex(16)}",
                "object": "PostageLabel",
                "created_at": _now(),
                "updated_at": _now(),
                "label_date": _now(),
                "label_resolution": 300,
                "label_size": "4x6",
                "label_type": "default",
                "label_file_type": "image/png",
                "label_url": f"{self.base_url}/files/postage_label/{name}",
                "label_pdf_url": None,
                "label_zpl_url": None,
                "label_epl2_url": None,
                "label_file": None,
            }
            shipment["tracker"] = {
                "id": f"trk_{secrets.token_hex(16)}",
                "object": "Tracker",
                "mode": "test",
                "tracking_code": tracking,
                "status": "pre_transit",
                "carrier": chosen["carrier"],
                "shipment_id": shipment_id,
            }
            shipment["fees"] = [
                {"object": "Fee", "type": "LabelFee", "amount": "0.00000", "charged": True},
                {
                    "object": "Fee",
                    "type": "PostageFee",
                    "amount": f"{chosen['rate']}000",
                    "charged": True,
                },
            ]
            label_format = str(shipment["options"].get("label_format") or "").upper()
            if label_format in ("ZPL", "PDF"):
                self._convert(shipment, label_format)
            shipment["updated_at"] = _now()
        return shipment

    def label(self, shipment_id: str, file_format: str) -> dict[str, Any]:
        shipment = self.get(shipment_id)
        if file_format.upper() not in ("PNG", "PDF", "ZPL"):
            raise ApiError(
                422,
                "PARAMETER.INVALID",
                "Invalid parameter.",
                [{"field": "file_format", "message": "must be PNG, PDF or ZPL"}],
            )
        with self.store.lock:
            if shipment["postage_label"] is None:
                raise ApiError(422, "SHIPMENT.POSTAGE.REQUIRED", "The shipment has no label yet.")
            self._convert(shipment, file_format.upper())
        return shipment

    def _convert(self, shipment: dict[str, Any], file_format: str) -> None:
        tracking = shipment["tracking_code"]
        service = shipment["selected_rate"]["service"]
        if file_format == "ZPL":
            name = f"{shipment['id']}.zpl"
            self.store.files[name] = ("text/plain", files.label_zpl(tracking, service))
            shipment["postage_label"]["label_zpl_url"] = (
                f"{self.base_url}/files/postage_label/{name}"
            )
        elif file_format == "PDF":
            name = f"{shipment['id']}.pdf"
            self.store.files[name] = ("application/pdf", files.label_pdf(tracking))
            shipment["postage_label"]["label_pdf_url"] = (
                f"{self.base_url}/files/postage_label/{name}"
            )


def _api_key(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        return decoded.partition(":")[0]
    return None


SHIPMENT_PATH = re.compile(r"/v2/shipments/(?P<id>shp_[A-Za-z0-9]+)(?P<action>/buy|/label)?")


def make_handler(api: EasyPostApi) -> type[BaseHTTPRequestHandler]:
    store = api.store

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            self._send(status, json.dumps(payload).encode())

        def _body(self) -> Any:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if not raw.strip():
                return {}
            try:
                return json.loads(raw)
            except ValueError as error:
                raise ApiError(400, "BAD_REQUEST", "The request body is not valid JSON.") from error

        def _dispatch(self, method: str) -> None:
            url = urlsplit(self.path)
            path = url.path
            with store.lock:
                store.requests.append((method, path))
                fault = None
                for spec in store.faults:
                    if spec[2] > 0 and re.search(spec[0], path):
                        spec[2] -= 1
                        fault = int(spec[1])
                        break
            try:
                if method == "GET" and path.startswith("/files/postage_label/"):
                    found = store.files.get(path.rsplit("/", 1)[-1])
                    if found is None:
                        raise ApiError(404, "NOT_FOUND", "No such file.")
                    self._send(200, found[1], found[0])
                    return
                body = self._body() if method == "POST" else {}
                if fault is not None:
                    raise ApiError(fault, "INTERNAL_SERVER_ERROR", "Injected fault.")
                key = _api_key(self.headers.get("Authorization"))
                if key is None:
                    raise ApiError(401, "APIKEY.REQUIRED", "An API key is required.")
                if key not in store.api_keys:
                    raise ApiError(401, "APIKEY.INVALID", "The API key is not valid.")
                self._route(method, path, parse_qs(url.query), body)
            except ApiError as error:
                self._json(error.status, error.body())

        def _route(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> None:
            if path == "/v2/shipments" and method == "POST":
                self._json(201, api.create(body))
                return
            found = SHIPMENT_PATH.fullmatch(path)
            if found is None:
                raise ApiError(404, "NOT_FOUND", "The requested resource could not be found.")
            shipment_id, action = found["id"], found["action"] or ""
            if action == "" and method == "GET":
                self._json(200, api.get(shipment_id))
            elif action == "/buy" and method == "POST":
                self._json(200, api.buy(shipment_id, body))
            elif action == "/label" and method == "GET":
                self._json(200, api.label(shipment_id, (query.get("file_format") or [""])[0]))
            else:
                raise ApiError(405, "METHOD_NOT_ALLOWED", "Method not allowed.")

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

    return Handler


class EasyPostSandbox:
    """``sandbox = EasyPostSandbox(api_keys={"EZTK_test"}); url = sandbox.start()`` gives the
    ``api_base`` for ``easypost.EasyPostClient(key, api_base=url)``; ``stop()`` ends it."""

    def __init__(self, *, api_keys: set[str]) -> None:
        self.store = EasyPostStore(api_keys=set(api_keys))
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.root_url = ""

    @property
    def api_base(self) -> str:
        return f"{self.root_url}/v2"

    def start(self, port: int = 0) -> str:
        self._server = ThreadingHTTPServer(("127.0.0.1", port), BaseHTTPRequestHandler)
        self.root_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._server.RequestHandlerClass = make_handler(EasyPostApi(self.store, self.root_url))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self.api_base

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def fail_next(self, path_pattern: str, status: int, times: int = 1) -> None:
        """Answer the next ``times`` requests whose path matches with ``status`` (5xx, 429)."""
        with self.store.lock:
            self.store.faults.append([path_pattern, status, times])

    def purchases_of(self, shipment_id: str) -> int:
        with self.store.lock:
            return sum(1 for bought, _rate in self.store.purchases if bought == shipment_id)
