"""Envelope codes and messages the sandbox answers with.

Codes and message texts follow TikTok's "Common errors" page (partner.tiktokshop.com docv2
``common-errors``) and the per-endpoint error tables, as collected in
``shared/reference/channel-apis.md`` §1.2 and §8. Clients must key on ``code``; HTTP status is
200 for every business error, as on TikTok, except throttling (429) and server errors (500).

``36009004`` is deliberately overloaded, as TikTok overloads it: bad app_key, missing sign, bad
timestamp, missing/unknown access token, unexpected shop_cipher, and parameter validation.

Parameter validation (page_size out of range, more than 50 ids, a malformed filter or page
token) answers ``36009004`` with the message ``invalid param error: ...``. TikTok documents that
exact code/message pair ("invalid param error", create-product-202309 error table, and the
gateway's 36009004 family on the common-errors page); the order endpoints' own pages publish no
more specific code for these cases in the material we could read, so we use the gateway one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SUCCESS = 0
THROTTLED = 36009002
INTERNAL_ERROR = 36009003
GATEWAY_INVALID = 36009004  # credentials, timestamp, unexpected identifier, invalid param
INVALID_PATH = 36009009
INVALID_METHOD = 36009010
INVALID_CONTENT_TYPE = 36009022
INVALID_AUTH_CODE = 36004004
INVALID_SHOP = 101000
EXPIRED_TOKEN = 105002
INVALID_SIGN = 106001
MISSING_SHOP_CIPHER = 106013

MESSAGES = {
    THROTTLED: "Too many requests. You've made too many requests in a short period of time.",
    INTERNAL_ERROR: (
        "Internal error. Please try again. If the issue persists after multiple attempts, "
        "please contact platform support."
    ),
    INVALID_PATH: "Invalid path. The specified path does not match any available endpoint.",
    INVALID_METHOD: "Invalid method. The HTTP method used is not supported by this endpoint.",
    INVALID_CONTENT_TYPE: (
        "Invalid request format. The request body format must be `application/json` for "
        "structured data or `multipart/form-data` for binary files."
    ),
    INVALID_AUTH_CODE: "Invalid auth code.",
    INVALID_SHOP: (
        "Invalid query or header. The `shop_cipher` query parameter or `x-tts-access-token` "
        "header is invalid."
    ),
    EXPIRED_TOKEN: "Expired credentials. The `access_token` or `x-tts-access-token` header has "
    "expired.",
    INVALID_SIGN: "Invalid credentials. The `sign` query parameter is invalid.",
    MISSING_SHOP_CIPHER: (
        "Missing identifier. The `shop_cipher` query parameter is required to identify the "
        "target shop."
    ),
}

MSG_BAD_APP_KEY = "Invalid credentials. Invalid `app_key` query parameter."
MSG_MISSING_SIGN = (
    "Missing credentials. The request does not include a required signature in the query."
)
MSG_STALE_TIMESTAMP = (
    "Invalid timestamp. The value of the `timestamp` query parameter must not be earlier than "
    "5 minutes before the current time."
)
MSG_FUTURE_TIMESTAMP = (
    "Invalid timestamp. The value of the `timestamp` query parameter must not exceed the "
    "current time by more than 30 seconds."
)
MSG_BAD_TOKEN = "Invalid credentials. The `x-tts-access-token` header is invalid."
MSG_UNEXPECTED_CIPHER = (
    "Unexpected identifier. The `shop_cipher` query parameter is not required for this request."
)


@dataclass
class ApiError(Exception):
    """Raised by checks and handlers; the server turns it into an envelope."""

    code: int
    message: str = ""
    http_status: int = 200
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.message:
            self.message = MESSAGES.get(self.code, "")
        super().__init__(f"{self.code}: {self.message}")


def invalid_param(detail: str) -> ApiError:
    return ApiError(GATEWAY_INVALID, f"invalid param error: {detail}")
