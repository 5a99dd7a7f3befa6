"""Token exchange and every gateway rejection, over real HTTP, keyed on the envelope code."""

from __future__ import annotations

import json
import time

import httpx

from aftershow.integrations.tiktok.signing import request_signature
from aftershow.sandbox.tiktok import Shop, TikTokSandbox, TokenGrant

from .conftest import APP_KEY, APP_SECRET, SignedClient

SHOPS = "/authorization/202309/shops"
WAREHOUSES = "/logistics/202309/warehouses"
SEARCH = "/order/202309/orders/search"
SEVEN_DAYS = 7 * 86_400


def token_get(sandbox: TikTokSandbox, **params: str) -> httpx.Response:
    query = {
        "app_key": APP_KEY,
        "app_secret": APP_SECRET,
        "grant_type": "authorized_code",
        **params,
    }
    return httpx.get(f"{sandbox.base_url}/api/v2/token/get", params=query)


def token_refresh(sandbox: TikTokSandbox, refresh_token: str, **params: str) -> httpx.Response:
    query = {
        "app_key": APP_KEY,
        "app_secret": APP_SECRET,
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        **params,
    }
    return httpx.get(f"{sandbox.base_url}/api/v2/token/refresh", params=query)


def test_auth_code_exchanges_once_for_a_seven_day_token(sandbox: TikTokSandbox, shop: Shop):
    code = sandbox.store.issue_auth_code()
    before = int(time.time())
    first = token_get(sandbox, auth_code=code).json()
    after = int(time.time())

    assert first["code"] == 0
    data = first["data"]
    assert before + SEVEN_DAYS <= data["access_token_expire_in"] <= after + SEVEN_DAYS
    assert data["refresh_token_expire_in"] > data["access_token_expire_in"]
    assert data["user_type"] == 0
    again = token_get(sandbox, auth_code=code).json()
    assert (again["code"], again["message"]) == (36004004, "Invalid auth code.")


def test_token_get_rejects_wrong_grant_type_and_secret(sandbox: TikTokSandbox, shop: Shop):
    code = sandbox.store.issue_auth_code()
    wrong_grant = token_get(sandbox, auth_code=code, grant_type="authorization_code").json()
    wrong_secret = token_get(sandbox, auth_code=code, app_secret="nope").json()

    assert wrong_grant["code"] == 36009004
    assert wrong_secret["code"] == 36009004
    # Neither attempt consumed the code.
    assert token_get(sandbox, auth_code=code).json()["code"] == 0


def test_refresh_returns_a_new_pair_and_kills_the_old_one(
    sandbox: TikTokSandbox, shop: Shop, tokens: TokenGrant
):
    refreshed = token_refresh(sandbox, tokens.refresh_token).json()
    assert refreshed["code"] == 0
    new = refreshed["data"]
    assert new["access_token"] != tokens.access_token
    assert new["refresh_token"] != tokens.refresh_token
    assert new["open_id"] == tokens.open_id

    old_client = SignedClient(
        sandbox.base_url, access_token=tokens.access_token, shop_cipher=shop.cipher
    )
    new_client = SignedClient(
        sandbox.base_url, access_token=new["access_token"], shop_cipher=shop.cipher
    )
    assert old_client.call("GET", WAREHOUSES)["code"] == 36009004
    assert new_client.call("GET", WAREHOUSES)["code"] == 0
    assert token_refresh(sandbox, tokens.refresh_token).json()["code"] == 36009004


def test_refresh_with_a_wrong_secret_changes_nothing(
    sandbox: TikTokSandbox, api: SignedClient, tokens: TokenGrant
):
    rejected = token_refresh(sandbox, tokens.refresh_token, app_secret="wrong").json()

    assert rejected["code"] == 36009004
    assert api.call("GET", WAREHOUSES)["code"] == 0


def test_authorized_shops_lists_the_token_shops(api: SignedClient, shop: Shop):
    envelope = api.call("GET", SHOPS, shop_cipher=None)

    assert envelope["code"] == 0
    assert envelope["message"] == "Success"
    assert envelope["request_id"]
    assert envelope["data"] == {
        "shops": [
            {
                "cipher": shop.cipher,
                "code": shop.code,
                "id": shop.id,
                "name": "Demo Shop",
                "region": "US",
                "seller_type": "LOCAL",
            }
        ]
    }


def test_shop_cipher_on_an_authorization_call_is_unexpected(api: SignedClient, shop: Shop):
    envelope = api.call("GET", SHOPS, shop_cipher=shop.cipher)

    assert envelope["code"] == 36009004
    assert "Unexpected identifier" in envelope["message"]
    assert "data" not in envelope


def test_bad_signature_is_106001(api: SignedClient):
    envelope = api.call("GET", WAREHOUSES, sign="0" * 64)

    assert envelope["code"] == 106001


def test_signature_covers_the_exact_body_bytes(api: SignedClient):
    signed = b'{"order_status":"ON_HOLD"}'
    reformatted = b'{"order_status": "ON_HOLD"}'  # same JSON, other bytes

    ok = api.call("POST", SEARCH, query={"page_size": 10}, raw_body=signed)
    tampered = api.call(
        "POST", SEARCH, query={"page_size": 10}, raw_body=signed, send_body=reformatted
    )

    assert ok["code"] == 0
    assert tampered["code"] == 106001


def test_signature_is_over_decoded_query_values(api: SignedClient, sandbox: TikTokSandbox):
    # A value with characters that must be percent-encoded on the wire.
    token = "a+b/c=="
    query = {
        "app_key": APP_KEY,
        "timestamp": str(int(time.time())),
        "page_size": "5",
        "page_token": token,
        "shop_cipher": api.shop_cipher,
    }
    good = request_signature(
        app_secret=APP_SECRET, path=SEARCH, query=query, content_type="application/json"
    )
    wrong = request_signature(
        app_secret=APP_SECRET,
        path=SEARCH,
        query={**query, "page_token": "a%2Bb%2Fc%3D%3D"},
        content_type="application/json",
    )
    headers = {"Content-Type": "application/json", "x-tts-access-token": api.access_token}

    decoded = httpx.post(
        f"{sandbox.base_url}{SEARCH}", params={**query, "sign": good}, headers=headers
    ).json()
    encoded = httpx.post(
        f"{sandbox.base_url}{SEARCH}", params={**query, "sign": wrong}, headers=headers
    ).json()

    # The good signature passes the gateway and reaches the handler (the token is no page).
    assert decoded["code"] == 36009004
    assert decoded["message"] == "invalid param error: page_token is invalid or expired"
    assert encoded["code"] == 106001


def test_missing_sign_is_36009004(api: SignedClient):
    envelope = api.call("GET", WAREHOUSES, sign=None)

    assert envelope["code"] == 36009004
    assert envelope["message"].startswith("Missing credentials")


def test_stale_timestamp_is_rejected(api: SignedClient):
    envelope = api.call("GET", WAREHOUSES, timestamp=int(time.time()) - 301)

    assert envelope["code"] == 36009004
    assert "earlier than 5 minutes" in envelope["message"]


def test_timestamp_too_far_in_the_future_is_rejected(api: SignedClient):
    ahead = api.call("GET", WAREHOUSES, timestamp=int(time.time()) + 60)
    slightly_ahead = api.call("GET", WAREHOUSES, timestamp=int(time.time()) + 10)

    assert ahead["code"] == 36009004
    assert "more than 30 seconds" in ahead["message"]
    assert slightly_ahead["code"] == 0


def test_timestamp_window_uses_real_time_not_the_virtual_clock(
    sandbox: TikTokSandbox, api: SignedClient
):
    sandbox.clock.jump_to(sandbox.clock.now().replace(year=2030))

    assert api.call("GET", WAREHOUSES)["code"] == 0


def test_wrong_app_key_is_36009004(api: SignedClient):
    envelope = api.call("GET", WAREHOUSES, app_key="someone_else", app_secret=APP_SECRET)

    assert envelope["code"] == 36009004
    assert envelope["message"] == "Invalid credentials. Invalid `app_key` query parameter."


def test_missing_and_unknown_access_tokens_are_36009004(api: SignedClient):
    missing = api.call("GET", WAREHOUSES, access_token=None)
    unknown = api.call("GET", WAREHOUSES, access_token="TTP_not_a_token")

    assert missing["code"] == 36009004
    assert unknown["code"] == 36009004
    assert missing["message"] == "Invalid credentials. The `x-tts-access-token` header is invalid."


def test_expired_access_token_is_105002(
    sandbox: TikTokSandbox, api: SignedClient, tokens: TokenGrant
):
    sandbox.store.expire_access_token(tokens.access_token)

    assert api.call("GET", WAREHOUSES)["code"] == 105002


def test_missing_shop_cipher_is_106013(api: SignedClient):
    assert api.call("GET", WAREHOUSES, shop_cipher=None)["code"] == 106013


def test_unknown_and_foreign_ciphers_are_101000(sandbox: TikTokSandbox, api: SignedClient):
    other = sandbox.store.create_shop(name="Someone Else's Shop")

    unknown = api.call("GET", WAREHOUSES, shop_cipher="ROW_doesnotexist")
    foreign = api.call("GET", WAREHOUSES, shop_cipher=other.cipher)

    assert unknown["code"] == 101000
    assert foreign["code"] == 101000


def test_a_token_for_every_shop_reaches_a_shop_created_later(sandbox: TikTokSandbox, shop: Shop):
    everything = sandbox.store.issue_tokens()
    later = sandbox.store.create_shop(name="Second Shop")
    client = SignedClient(
        sandbox.base_url, access_token=everything.access_token, shop_cipher=later.cipher
    )

    assert client.call("GET", WAREHOUSES)["code"] == 0


def test_non_json_content_type_is_36009022(api: SignedClient):
    text = api.call("POST", SEARCH, query={"page_size": 10}, body={}, content_type="text/plain")
    form = api.call("GET", WAREHOUSES, content_type="application/x-www-form-urlencoded")
    missing = api.call("GET", WAREHOUSES, content_type=None)
    with_charset = api.call("GET", WAREHOUSES, content_type="application/json; charset=utf-8")

    assert (text["code"], form["code"], missing["code"]) == (36009022, 36009022, 36009022)
    assert with_charset["code"] == 0


def test_unknown_path_and_wrong_method(api: SignedClient):
    assert api.call("GET", "/order/202309/nothing")["code"] == 36009009
    assert api.call("DELETE", WAREHOUSES)["code"] == 36009010


def test_business_errors_use_http_200_and_an_envelope(api: SignedClient):
    response = api.request("GET", WAREHOUSES, sign="f" * 64)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert set(json.loads(response.content)) == {"code", "message", "request_id"}
