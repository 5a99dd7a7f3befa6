"""Fixtures shared by the whole suite: the TikTok sandbox on loopback and a shop connected to it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from aftershow.sandbox.tiktok import TikTokSandbox

SANDBOX_APP_KEY = "test_app_key"
SANDBOX_APP_SECRET = "test_app_secret_0123456789"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:  # type: ignore[no-untyped-def]
    """PBKDF2's 1,000,000 rounds cost a second per user on a small machine; tests need no
    strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def site_language() -> Iterator[None]:
    """Every test starts in the site's default language: a request in Chinese leaves its
    language active in the thread, and the next test would build its texts in Chinese."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def tiktok_sandbox() -> Iterator[TikTokSandbox]:
    from aftershow.sandbox.tiktok import TikTokSandbox

    sandbox = TikTokSandbox(app_key=SANDBOX_APP_KEY, app_secret=SANDBOX_APP_SECRET, seed=11)
    sandbox.start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture
def tiktok_remote_shop(tiktok_sandbox: TikTokSandbox):  # type: ignore[no-untyped-def]
    return tiktok_sandbox.store.create_shop(name="Sandbox Shop", region="US")


@pytest.fixture
def tiktok_shop(tiktok_sandbox: TikTokSandbox, tiktok_remote_shop, db):  # type: ignore[no-untyped-def]
    from aftershow.integrations.tiktok.sync import shop_connect

    base_url = tiktok_sandbox.base_url
    (shop,) = shop_connect(
        app_key=SANDBOX_APP_KEY,
        app_secret=SANDBOX_APP_SECRET,
        auth_code=tiktok_sandbox.store.issue_auth_code(),
        api_base_url=base_url,
        auth_base_url=base_url,
    )
    return shop
