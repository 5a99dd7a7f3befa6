"""TikTok Shop request and webhook signatures.

Request signing follows "Sign your API request" (partner.tiktokshop.com docv2
`sign-your-api-request`), as implemented by the official Node SDK `utils/generate-sign.ts`:
sorted query pairs (without ``sign`` and ``access_token``) concatenated as ``{key}{value}``,
prefixed by the path, followed by the raw body unless the request is multipart, wrapped in the
app secret on both sides, then HMAC-SHA256 keyed with the app secret, lowercase hex.

Webhook signatures (docv2 `tts-webhooks-overview`) are HMAC-SHA256 of ``app_key + raw body``
keyed with the app secret, sent in the ``Authorization`` header. Both the connector and the
sandbox use these functions, so the sandbox checks exactly what TikTok checks.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

EXCLUDED_QUERY_KEYS = frozenset({"sign", "access_token", "x-tts-access-token"})


def is_multipart(content_type: str | None) -> bool:
    """Only the media type counts: ``multipart/form-data; boundary=...`` is multipart."""
    if not content_type:
        return False
    return content_type.split(";", 1)[0].strip().lower() == "multipart/form-data"


def string_to_sign(
    *, path: str, query: Mapping[str, str], body: bytes = b"", content_type: str | None = None
) -> bytes:
    pairs = "".join(
        f"{key}{value}"
        for key, value in sorted(query.items())
        if key not in EXCLUDED_QUERY_KEYS and value != ""
    )
    message = path.encode() + pairs.encode()
    if body and not is_multipart(content_type):
        message += body
    return message


def request_signature(
    *,
    app_secret: str,
    path: str,
    query: Mapping[str, str],
    body: bytes = b"",
    content_type: str | None = None,
) -> str:
    secret = app_secret.encode()
    wrapped = (
        secret
        + string_to_sign(path=path, query=query, body=body, content_type=content_type)
        + secret
    )
    return hmac.new(secret, wrapped, hashlib.sha256).hexdigest()


def webhook_signature(*, app_key: str, app_secret: str, body: bytes) -> str:
    return hmac.new(app_secret.encode(), app_key.encode() + body, hashlib.sha256).hexdigest()


def webhook_signature_is_valid(
    *, app_key: str, app_secret: str, body: bytes, signature: str | None
) -> bool:
    if not signature:
        return False
    expected = webhook_signature(app_key=app_key, app_secret=app_secret, body=body)
    return hmac.compare_digest(expected, signature.strip().lower())
