"""A strict PayPal Payouts API sandbox on 127.0.0.1 (channel-apis.md §6.1).

Wire protocol as documented at developer.paypal.com (``api/payments.payouts-batch/v1``):

- ``POST /v1/oauth2/token``: ``Authorization: Basic base64(client_id:secret)``, form body
  ``grant_type=client_credentials`` → ``{access_token, token_type: "Bearer", expires_in,
  scope}``; a wrong secret → 401 ``invalid_client``, another grant → 400
  ``unsupported_grant_type``.
- ``POST /v1/payments/payouts``: ``Authorization: Bearer <token>`` (401
  ``AUTHENTICATION_FAILURE`` otherwise), ``Content-Type: application/json`` (415). The body is
  checked field by field and refused as a whole with 400 ``VALIDATION_ERROR`` and one
  ``details[]`` entry per problem: ``sender_batch_header`` required; ``sender_batch_id`` at
  most 256 characters; ``email_subject`` at most 255; 1 to 15,000 ``items``; each item with
  ``amount{value (a string, at most 2 decimals), currency (ISO 4217)}``, a ``receiver`` that
  matches its ``recipient_type`` (from the item or the header: EMAIL, PHONE, PAYPAL_ID), a
  ``sender_item_id`` of at most 63 characters unique in the batch (400 ``DUPLICATE_ITEM``
  otherwise); header note + item note at most 1,000 characters; unknown fields are refused.
  A ``sender_batch_id`` used before (PayPal keeps them 30 days; the sandbox forever) → 400
  ``USER_BUSINESS_ERROR`` naming it, with a HATEOAS ``links[]`` entry to the original batch,
  and nothing is paid again. Success → 201 ``{batch_header{payout_batch_id, batch_status:
  PENDING, sender_batch_header}, links}``.
- ``GET /v1/payments/payouts/{payout_batch_id}``: the batch with its items; 404
  ``INVALID_RESOURCE_ID`` for an unknown id. Each read moves a batch on one step, PENDING →
  PROCESSING → SUCCESS, and settles its items: ``SUCCESS``, or ``UNCLAIMED`` for a receiver
  at ``unclaimed.example``, or ``FAILED`` for a receiver at ``fail.example`` (test rules).

Faults (``sandbox.faults``): ``500`` answers ``INTERNAL_SERVER_ERROR`` without creating the
batch; ``429`` answers ``RATE_LIMIT_REACHED``; ``timeout`` *creates the batch* and then holds
the answer past the client's timeout and drops it, the worst case for a payer: the money moved
and the client does not know. Only the duplicate rule above keeps the retry from paying twice.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

from aftershow.sandbox.loopback import (
    FaultInjector,
    LoopbackSandbox,
    LoopbackServer,
    Request,
    Response,
)

TOKEN_PATH = "/v1/oauth2/token"
PAYOUTS_PATH = "/v1/payments/payouts"
SCOPE = "https://uri.paypal.com/services/payments/payouts"
MAX_ITEMS = 15_000
RECIPIENT_TYPES = {"EMAIL", "PHONE", "PAYPAL_ID"}
_HEADER_FIELDS = {"sender_batch_id", "recipient_type", "email_subject", "email_message", "note"}
_ITEM_FIELDS = {
    "recipient_type", "amount", "receiver", "note", "sender_item_id", "recipient_wallet",
    "alternate_notification_method", "notification_language", "application_context",
    "purpose", "recipient_name",
}  # fmt: skip
_AMOUNT = re.compile(r"^\d{1,12}(\.\d{1,2})?$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?\d{7,15}$")
_PAYPAL_ID = re.compile(r"^[A-Z0-9]{13}$")
AUTH_FAILED = (
    "Authentication failed due to invalid authentication credentials or a missing "
    "Authorization header."
)
DUPLICATE_ITEM = (
    "This transaction is duplicated in this batch. Please check the Ref_ID / Sender_Item_ID."
)
DUPLICATE_BATCH = "Batch with given sender_batch_id already exists: {}"


def _now() -> str:
    return datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _error(status: int, name: str, message: str, details: list[dict[str, str]] | None = None,
           links: list[dict[str, str]] | None = None) -> Response:  # fmt: skip
    payload: dict[str, Any] = {
        "name": name,
        "message": message,
        "debug_id": secrets.token_hex(7),
        "information_link": "https://developer.paypal.com/docs/api/payments.payouts-batch/#errors",
    }
    if details:
        payload["details"] = details
    if links:
        payload["links"] = links
    return Response.json(status, payload)


@dataclass
class Item:
    payout_item_id: str
    payout_item: dict[str, Any]
    transaction_status: str = "PENDING"
    transaction_id: str = ""
    time_processed: str = ""


@dataclass
class Batch:
    payout_batch_id: str
    sender_batch_header: dict[str, Any]
    items: list[Item]
    currency: str
    total: Decimal
    batch_status: str = "PENDING"
    time_created: str = field(default_factory=_now)
    time_completed: str = ""
    reads: int = 0


class PayPalSandbox(LoopbackSandbox):
    def __init__(self, *, client_id: str, client_secret: str) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.faults = FaultInjector()
        self.server = LoopbackServer(self._handle, name="paypal")
        self._lock = threading.Lock()
        self.tokens: set[str] = set()
        self.batches: dict[str, Batch] = {}
        self.by_sender_batch_id: dict[str, str] = {}

    # What tests inspect ------------------------------------------------------------------------

    def paid_items(self) -> list[Item]:
        """Every item PayPal accepted, over all batches: what a test counts as money sent."""
        with self._lock:
            return [item for batch in self.batches.values() for item in batch.items]

    # Routing ----------------------------------------------------------------------------------

    def _handle(self, request: Request) -> Response | None:
        if request.method == "POST" and request.path == TOKEN_PATH:
            return self._token(request)
        if request.path == PAYOUTS_PATH or request.path.startswith(PAYOUTS_PATH + "/"):
            fault = self.faults.draw()
            if fault == "500":
                return _error(500, "INTERNAL_SERVER_ERROR", "An internal server error occurred.")
            if fault == "429":
                return _error(
                    429, "RATE_LIMIT_REACHED", "Too many requests. Blocked due to rate limiting."
                )
            auth = self._authenticate(request)
            if auth is not None:
                return auth
            if request.method == "POST" and request.path == PAYOUTS_PATH:
                response = self._create(request)
            elif request.method == "GET" and request.path != PAYOUTS_PATH:
                response = self._read(request.path.rsplit("/", 1)[-1])
            else:
                response = _error(
                    405,
                    "METHOD_NOT_SUPPORTED",
                    "The server does not implement the requested HTTP method.",
                )
            if fault == "timeout":
                self.faults.stall()
                return None
            return response
        return _error(404, "RESOURCE_NOT_FOUND", "The specified resource does not exist.")

    def _token(self, request: Request) -> Response:
        header = request.headers.get("Authorization") or ""
        scheme, _, encoded = header.partition(" ")
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user = password = ""
        if scheme != "Basic" or (user, password) != (self.client_id, self.client_secret):
            return Response.json(
                401,
                {"error": "invalid_client", "error_description": "Client Authentication failed"},
            )
        if request.media_type != "application/x-www-form-urlencoded":
            return Response.json(
                400,
                {
                    "error": "invalid_request",
                    "error_description": "Content-Type must be application/x-www-form-urlencoded",
                },
            )
        form = parse_qs(request.body.decode("utf-8", "replace"))
        if form.get("grant_type") != ["client_credentials"]:
            return Response.json(
                400,
                {
                    "error": "unsupported_grant_type",
                    "error_description": "Grant Type is NULL or not supported",
                },
            )
        token = "A21AA" + secrets.token_urlsafe(40)
        with self._lock:
            self.tokens.add(token)
        return Response.json(200, {
            "scope": SCOPE, "access_token": token, "token_type": "Bearer",
            "app_id": "APP-80W284485P519543T", "expires_in": 32400, "nonce": secrets.token_hex(16),
        })  # fmt: skip

    def _authenticate(self, request: Request) -> Response | None:
        scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
        with self._lock:
            known = token in self.tokens
        if scheme != "Bearer" or not known:
            return _error(
                401,
                "AUTHENTICATION_FAILURE",
                AUTH_FAILED,
            )
        return None

    # Payouts ----------------------------------------------------------------------------------

    def _link(self, batch_id: str) -> dict[str, str]:
        return {
            "href": f"{self.base_url}{PAYOUTS_PATH}/{batch_id}",
            "rel": "self",
            "method": "GET",
            "encType": "application/json",
        }

    def _create(self, request: Request) -> Response:
        if request.media_type != "application/json":
            return _error(415, "UNSUPPORTED_MEDIA_TYPE", "The request payload is not supported.")
        try:
            body = request.json_body()
        except ValueError:
            return _error(
                400, "MALFORMED_REQUEST", "Incoming JSON request does not map to API request"
            )
        details = _validate(body)
        if details:
            return _error(400, "VALIDATION_ERROR", "Invalid request - see details", details)
        items = body["items"]
        seen: set[str] = set()
        for index, item in enumerate(items):
            sender_item_id = item.get("sender_item_id")
            if sender_item_id is not None:
                if sender_item_id in seen:
                    issue = {
                        "field": f"items[{index}].sender_item_id",
                        "location": "body",
                        "issue": "Duplicate sender_item_id",
                    }
                    return _error(400, "DUPLICATE_ITEM", DUPLICATE_ITEM, [issue])
                seen.add(sender_item_id)
        currencies = {item["amount"]["currency"] for item in items}
        header = body["sender_batch_header"]
        sender_batch_id = header.get("sender_batch_id") or secrets.token_hex(8)
        with self._lock:
            existing = self.by_sender_batch_id.get(sender_batch_id)
            if existing is not None:
                return _error(
                    400, "USER_BUSINESS_ERROR",
                    DUPLICATE_BATCH.format(sender_batch_id),
                    [{"field": "SENDER_BATCH_ID", "location": "body",
                      "issue": DUPLICATE_BATCH.format(sender_batch_id)}],
                    [self._link(existing)],
                )  # fmt: skip
            batch_id = secrets.token_hex(7).upper()[:13]
            batch = Batch(
                payout_batch_id=batch_id,
                sender_batch_header={**header, "sender_batch_id": sender_batch_id},
                items=[
                    Item(payout_item_id=secrets.token_hex(7).upper()[:13], payout_item=dict(item))
                    for item in items
                ],
                currency=sorted(currencies)[0],
                total=sum((Decimal(item["amount"]["value"]) for item in items), Decimal(0)),
            )
            self.batches[batch_id] = batch
            self.by_sender_batch_id[sender_batch_id] = batch_id
        return Response.json(201, {
            "batch_header": {
                "payout_batch_id": batch_id, "batch_status": "PENDING",
                "sender_batch_header": batch.sender_batch_header,
            },
            "links": [self._link(batch_id)],
        })  # fmt: skip

    def _read(self, batch_id: str) -> Response:
        with self._lock:
            batch = self.batches.get(batch_id)
            if batch is None:
                return _error(404, "INVALID_RESOURCE_ID", "Requested resource ID was not found.")
            batch.reads += 1
            if batch.batch_status == "PENDING":
                batch.batch_status = "PROCESSING"
            elif batch.batch_status == "PROCESSING":
                for item in batch.items:
                    item.transaction_status = _outcome(item.payout_item["receiver"])
                    item.transaction_id = secrets.token_hex(8).upper()
                    item.time_processed = _now()
                batch.batch_status = "SUCCESS"
                batch.time_completed = _now()
            payload = self._batch_json(batch)
        return Response.json(200, payload)

    def _batch_json(self, batch: Batch) -> dict[str, Any]:
        fee = (
            "0.00"
            if batch.batch_status == "PENDING"
            else f"{Decimal('0.25') * len(batch.items):.2f}"
        )
        return {
            "batch_header": {
                "payout_batch_id": batch.payout_batch_id,
                "batch_status": batch.batch_status,
                "time_created": batch.time_created,
                **({"time_completed": batch.time_completed} if batch.time_completed else {}),
                "sender_batch_header": batch.sender_batch_header,
                "amount": {"currency": batch.currency, "value": f"{batch.total:.2f}"},
                "fees": {"currency": batch.currency, "value": fee},
            },
            "items": [
                {
                    "payout_item_id": item.payout_item_id,
                    "transaction_id": item.transaction_id,
                    "transaction_status": item.transaction_status,
                    "payout_batch_id": batch.payout_batch_id,
                    "payout_item_fee": {"currency": batch.currency, "value": "0.25"},
                    "payout_item": item.payout_item,
                    **({"time_processed": item.time_processed} if item.time_processed else {}),
                    "links": [{"href": f"{self.base_url}{PAYOUTS_PATH}-item/{item.payout_item_id}",
                               "rel": "item", "method": "GET"}],
                }
                for item in batch.items
            ],
            "links": [self._link(batch.payout_batch_id)],
        }  # fmt: skip


def _outcome(receiver: str) -> str:
    domain = receiver.rpartition("@")[2].lower()
    if domain == "unclaimed.example":
        return "UNCLAIMED"
    if domain == "fail.example":
        return "FAILED"
    return "SUCCESS"


def _validate(body: Any) -> list[dict[str, str]]:
    """Every problem of a create-payout body, in PayPal's ``details[]`` shape."""
    problems: list[dict[str, str]] = []

    def problem(field_name: str, issue: str) -> None:
        problems.append({"field": field_name, "location": "body", "issue": issue})

    if not isinstance(body, dict):
        problem("", "The request body must be a JSON object")
        return problems
    for key in sorted(set(body) - {"sender_batch_header", "items"}):
        problem(key, "Unknown field")
    header = body.get("sender_batch_header")
    if not isinstance(header, dict):
        problem("sender_batch_header", "Required field is missing")
        header = {}
    for key in sorted(set(header) - _HEADER_FIELDS):
        problem(f"sender_batch_header.{key}", "Unknown field")
    batch_id = header.get("sender_batch_id")
    if batch_id is not None and (not isinstance(batch_id, str) or len(batch_id) > 256):
        problem("sender_batch_header.sender_batch_id", "Must be a string of at most 256 characters")
    subject = header.get("email_subject")
    if subject is not None and (not isinstance(subject, str) or len(subject) > 255):
        problem("sender_batch_header.email_subject", "Must be a string of at most 255 characters")
    header_type = header.get("recipient_type")
    if header_type is not None and header_type not in RECIPIENT_TYPES:
        problem("sender_batch_header.recipient_type", "Value is invalid")
    items = body.get("items")
    if not isinstance(items, list) or not items:
        problem("items", "Required field is missing")
        return problems
    if len(items) > MAX_ITEMS:
        problem("items", f"Number of items exceeds the maximum of {MAX_ITEMS}")
        return problems
    header_note = header.get("note") or ""
    for index, item in enumerate(items):
        where = f"items[{index}]"
        if not isinstance(item, dict):
            problem(where, "Must be an object")
            continue
        for key in sorted(set(item) - _ITEM_FIELDS):
            problem(f"{where}.{key}", "Unknown field")
        amount = item.get("amount")
        if not isinstance(amount, dict):
            problem(f"{where}.amount", "Required field is missing")
        else:
            value = amount.get("value")
            if not isinstance(value, str) or not _AMOUNT.match(value) or Decimal(value) <= 0:
                problem(
                    f"{where}.amount.value",
                    "Must be a positive decimal string with at most 2 decimals",
                )
            if not isinstance(amount.get("currency"), str) or not _CURRENCY.match(
                amount["currency"]
            ):
                problem(f"{where}.amount.currency", "Currency code is invalid")
        kind = item.get("recipient_type", header_type)
        receiver = item.get("receiver")
        if kind is None:
            problem(f"{where}.recipient_type", "Required when the batch header has none")
        elif kind not in RECIPIENT_TYPES:
            problem(f"{where}.recipient_type", "Value is invalid")
        elif not isinstance(receiver, str) or not receiver:
            problem(f"{where}.receiver", "Required field is missing")
        else:
            pattern = {"EMAIL": _EMAIL, "PHONE": _PHONE, "PAYPAL_ID": _PAYPAL_ID}[kind]
            if not pattern.match(receiver):
                problem(f"{where}.receiver", "Receiver is invalid or does not match with type")
        sender_item_id = item.get("sender_item_id")
        if sender_item_id is not None and (
            not isinstance(sender_item_id, str) or len(sender_item_id) > 63
        ):
            problem(f"{where}.sender_item_id", "Must be a string of at most 63 characters")
        if len(header_note) + len(item.get("note") or "") > 1000:
            problem(f"{where}.note", "Header and item notes together exceed 1000 characters")
    return problems
