"""The order pages in a real browser: Debian's Chromium, headless, driven by Playwright.

Never downloads a browser: without /usr/bin/chromium the test is skipped, or fails when
AFTERSHOW_REQUIRE_BROWSER=1 (CI sets it so a missing browser cannot pass silently).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connections
from django.utils import timezone
from playwright.sync_api import Page, expect, sync_playwright

from aftershow.orders.models import Order, PlatformStatus
from aftershow.orders.tests.factories import (
    PASSWORD,
    CreatorFactory,
    OrderFactory,
    OrderLineFactory,
    ShopFactory,
    UserFactory,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@dataclass
class Shown:
    overdue: Order
    on_hold: Order
    later: Order


@pytest.fixture
def shown_orders() -> Shown:
    """Created before the browser starts, relative to the real clock (the live server runs it)."""
    UserFactory(packer=True)
    now = timezone.now()
    shop = ShopFactory(name="Glow Lab US")
    overdue = OrderFactory(
        remote_order_id="576000000000000001",
        shop=shop,
        ship_by=now - timedelta(hours=2),
        creator=CreatorFactory(handle="mia.makeup"),
    )
    OrderLineFactory(order=overdue, seller_sku="TEE-BLK-M", product_name="Cloud Tee")
    on_hold = OrderFactory(
        remote_order_id="576000000000000002",
        shop=shop,
        platform_status=PlatformStatus.ON_HOLD,
        ship_by=now + timedelta(hours=3, minutes=30),
    )
    later = OrderFactory(
        remote_order_id="576000000000000003", shop=shop, ship_by=now + timedelta(days=2)
    )
    return Shown(overdue=overdue, on_hold=on_hold, later=later)


@pytest.fixture
def page(shown_orders: Shown, monkeypatch: pytest.MonkeyPatch) -> Iterator[Page]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is not installed (apt-get install chromium)"
        if os.environ.get("AFTERSHOW_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    # Playwright's sync API runs an event loop in this thread, so Django would refuse the ORM
    # calls the test makes while the browser is open; only for this test, allow them.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(10_000)
            yield page
            # Closing the page stops the htmx polling before the database is flushed.
            page.close()
        finally:
            browser.close()
            # While Playwright's loop runs, Django hands this thread a separate connection
            # (connections are kept per async context); close it, or PostgreSQL refuses to
            # drop the test database at the end of the session.
            connections.close_all()


def row_ids(page: Page) -> list[str]:
    return page.locator("#order-rows tr[data-order-id]").evaluate_all(
        "rows => rows.map(row => row.dataset.orderId)"
    )


def test_order_pages_in_chromium(live_server, page: Page, shown_orders: Shown) -> None:
    # Log in through the form, coming back to the list.
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/")
    page.get_by_label("Username").fill("pat")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator(".whoami")).to_have_text("pat · Packer")

    # Orders, soonest deadline first, with their countdowns.
    assert row_ids(page) == ["576000000000000001", "576000000000000002", "576000000000000003"]
    overdue_row = page.locator('tr[data-order-id="576000000000000001"]')
    expect(overdue_row.locator(".countdown-overdue")).to_have_text(
        re.compile(r"^overdue by (1 h 59 min|2 h)$")
    )
    expect(page.locator('tr[data-order-id="576000000000000002"] .countdown-soon')).to_have_text(
        re.compile(r"^in 3 h (29|30) min$")
    )

    # Filter by platform status.
    page.get_by_label("Status").select_option("ON_HOLD")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"\?status=ON_HOLD&"))
    expect(page.locator("#order-rows tr[data-order-id]")).to_have_count(1)
    assert row_ids(page) == ["576000000000000002"]

    # Search by order id, from a cleared filter bar.
    page.get_by_role("link", name="Clear").click()
    page.get_by_label("Search").fill("576000000000000003")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#order-rows tr[data-order-id]")).to_have_count(1)
    assert row_ids(page) == ["576000000000000003"]

    # An order arriving during the live stream appears without a reload.
    page.get_by_role("link", name="Clear").click()
    expect(page.locator("#order-rows tr[data-order-id]")).to_have_count(3)
    page.evaluate("window.stillTheSamePage = true")
    OrderFactory(
        remote_order_id="576000000000000099",
        shop=shown_orders.later.shop,
        ship_by=timezone.now() + timedelta(hours=1),
    )
    expect(page.locator('tr[data-order-id="576000000000000099"]')).to_be_visible(timeout=15_000)
    assert page.evaluate("window.stillTheSamePage") is True
    assert row_ids(page) == [
        "576000000000000001",
        "576000000000000099",
        "576000000000000002",
        "576000000000000003",
    ]
    expect(page.locator("#order-pager .pager-summary")).to_have_text("1–4 of 4 orders")  # noqa: RUF001

    # Switch to Simplified Chinese.
    page.get_by_role("button", name="简体中文").click()
    expect(page.locator("h1")).to_have_text("订单")
    expect(page.locator("thead th").nth(9)).to_have_text("发货截止")
    expect(page.locator("thead th").nth(1)).to_have_text("店铺")
    expect(overdue_row.locator(".countdown-overdue")).to_have_text(
        re.compile(r"^已超时 (1 小时 59 分钟|2 小时)$")
    )

    # Open an order's page.
    page.get_by_role("link", name="576000000000000001").click()
    expect(page).to_have_url(f"{live_server.url}/orders/{shown_orders.overdue.pk}/")
    expect(page.locator("h1")).to_have_text("订单 576000000000000001")
    expect(page.locator("address")).to_contain_text("350 Fifth Avenue")
    expect(page.locator("table.lines tbody tr")).to_have_count(1)
    expect(page.locator("table.lines tbody tr td").first).to_have_text("TEE-BLK-M")
