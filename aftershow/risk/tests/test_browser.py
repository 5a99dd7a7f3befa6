"""The review queue in a real browser (Debian's Chromium, headless, through Playwright): approve
a flagged order with a note, then confirm all clean orders with one click, htmx and CSRF live.

Never downloads a browser: without /usr/bin/chromium the test is skipped, or fails when
AFTERSHOW_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connections
from django.utils import timezone
from playwright.sync_api import Page, expect, sync_playwright

from aftershow.orders.models import Order, OrderState
from aftershow.orders.tests.factories import PASSWORD, UserFactory
from aftershow.orders.tests.test_browser import CHROMIUM_ARGS
from aftershow.risk.models import FlagStatus, RiskFlag
from aftershow.risk.services import orders_screen
from aftershow.risk.tests.conftest import address, ready_order

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def orders() -> dict[str, Order]:
    UserFactory(username="ola")
    flagged = ready_order(
        remote_order_id="576000000000000051",
        shipping_address=address(city="Anchorage", state="AK", postal_code="99501"),
    )
    clean = ready_order(remote_order_id="576000000000000052")
    orders_screen(now=timezone.now(), order_ids=[flagged.pk, clean.pk])
    return {"flagged": flagged, "clean": clean}


@pytest.fixture
def page(orders: dict[str, Order], monkeypatch: pytest.MonkeyPatch) -> Iterator[Page]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is not installed (apt-get install chromium)"
        if os.environ.get("AFTERSHOW_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(10_000)
            yield page
            page.close()
        finally:
            browser.close()
            connections.close_all()


def test_review_queue_in_chromium(live_server, page: Page, orders: dict[str, Order]) -> None:
    page.goto(f"{live_server.url}/review/")
    page.get_by_label("Username").fill("ola")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{live_server.url}/review/")

    row = page.locator('#review-rows tr[data-order-id="576000000000000051"]')
    expect(row.locator("li[data-kind='remote_destination']")).to_have_text("Remote destination: AK")
    expect(page.locator("[data-count='clean']")).to_have_text("1 clean order ready to confirm")

    row.get_by_label("Approval note").fill("Alaska is fine, buyer pays shipping")
    row.get_by_role("button", name="Approve").click()
    expect(row).to_contain_text("Order 576000000000000051 approved.")
    flag = RiskFlag.objects.get(order=orders["flagged"])
    assert flag.status == FlagStatus.APPROVED

    page.get_by_role("button", name="Confirm all clean orders").click()
    expect(page.locator("#confirm-result")).to_have_text("Confirmed 2 clean orders.")
    states = set(Order.objects.values_list("state", flat=True))
    assert states == {OrderState.CONFIRMED}
