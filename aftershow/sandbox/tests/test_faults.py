"""Injected throttling, server errors and dropped connections."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest

from aftershow.sandbox.tiktok import TikTokSandbox

from .conftest import SignedClient

WAREHOUSES = "/logistics/202309/warehouses"


def test_throttled_call_is_429_with_retry_after(sandbox: TikTokSandbox, api: SignedClient):
    sandbox.faults.configure(rate=0, retry_after=7)
    sandbox.faults.fail_next(1, "429")

    throttled = api.request("GET", WAREHOUSES)
    after = api.request("GET", WAREHOUSES)

    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "7"
    assert throttled.json()["code"] == 36009002
    assert after.status_code == 200 and after.json()["code"] == 0


def test_injected_server_error_is_500_with_36009003(sandbox: TikTokSandbox, api: SignedClient):
    sandbox.faults.configure(rate=1.0, kinds=("500",))

    response = api.request("GET", WAREHOUSES)

    assert response.status_code == 500
    assert response.json()["code"] == 36009003


def test_reset_drops_the_connection(sandbox: TikTokSandbox, api: SignedClient):
    sandbox.faults.fail_next(1, "reset")

    with pytest.raises(httpx.RemoteProtocolError):
        api.request("GET", WAREHOUSES)
    assert api.request("GET", WAREHOUSES).json()["code"] == 0


def test_random_faults_follow_rate_and_seed(sandbox: TikTokSandbox, api: SignedClient):
    def run() -> list[int]:
        sandbox.faults.configure(rate=0.3, kinds=("429", "500"), seed=3)
        return [api.request("GET", WAREHOUSES).status_code for _ in range(200)]

    first, second = run(), run()
    tally = Counter(first)

    assert first == second
    assert tally[200] + tally[429] + tally[500] == 200
    assert 40 <= tally[429] + tally[500] <= 80
    sandbox.faults.configure(rate=0)
    assert {api.request("GET", WAREHOUSES).status_code for _ in range(20)} == {200}


def test_token_endpoints_are_never_faulted(sandbox: TikTokSandbox, api: SignedClient):
    sandbox.faults.configure(rate=1.0, kinds=("429",))
    code = sandbox.store.issue_auth_code()

    response = httpx.get(
        f"{sandbox.base_url}/api/v2/token/get",
        params={
            "app_key": sandbox.app_key,
            "app_secret": sandbox.app_secret,
            "auth_code": code,
            "grant_type": "authorized_code",
        },
    )

    assert response.status_code == 200
    assert response.json()["code"] == 0


def test_stopping_the_sandbox_cuts_kept_alive_connections(
    sandbox: TikTokSandbox, api: SignedClient
):
    assert api.request("GET", WAREHOUSES).json()["code"] == 0  # opens a keep-alive connection

    sandbox.stop()

    with pytest.raises(httpx.TransportError):
        api.request("GET", WAREHOUSES)
