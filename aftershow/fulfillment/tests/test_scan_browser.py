"""The scan station in a real browser (Debian's Chromium through Playwright), driven the way a
keyboard-wedge scanner drives it: characters typed into the focused field, then Enter.

Never downloads a browser: without /usr/bin/chromium the test is skipped, or fails when
AFTERSHOW_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import Browser, Page, expect, sync_playwright

from aftershow.audit.models import AuditAction, AuditEvent
from aftershow.fulfillment.models import Package
from aftershow.fulfillment.tests.test_shipping import level, person, ready, tee  # noqa: F401
from aftershow.orders.models import Order, OrderState
from aftershow.orders.tests.factories import PASSWORD
from aftershow.orders.tests.test_browser import CHROMIUM_ARGS

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is not installed (apt-get install chromium)"
        if os.environ.get("AFTERSHOW_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"],
        )
        try:
            yield chromium
        finally:
            chromium.close()
            connections.close_all()


def station(browser: Browser, url: str, username: str, name: str) -> Page:
    page = browser.new_context().new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{url}/fulfillment/scan/?station={name}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#scan-code")).to_be_focused()
    return page


def scan(page: Page, code: str) -> None:
    """What a wedge scanner does: keystrokes into whatever has focus, then Enter."""
    page.keyboard.type(code, delay=5)
    page.keyboard.press("Enter")


def test_scan_station_in_chromium(
    live_server: object,
    browser: Browser,
    ready: Callable[..., Package],  # noqa: F811
) -> None:
    person(packer=True)
    first, second = ready(), ready()
    first_order = Order.objects.get(lines__package=first)
    page = station(browser, live_server.url, "pat", "dock-1")  # type: ignore[attr-defined]
    result = page.locator("#scan-result")

    # Success: green, the order number, the running count; focus stays in the field.
    scan(page, first.tracking_number)
    expect(result).to_have_attribute("data-result", "shipped")
    expect(result).to_have_class("scan-result scan-ok")
    expect(result).to_contain_text(f"Order {first_order.remote_order_id}")
    expect(result.locator(".scan-count")).to_have_text("1 parcel shipped at this station")
    expect(page.locator("#scan-code")).to_be_focused()
    assert page.locator(".scan-station").get_attribute("data-last-beep") == "ok"

    # Unknown: a full-screen red panel and the error beep, until acknowledged.
    scan(page, "NOT-A-LABEL-42")
    expect(result).to_have_attribute("data-result", "unknown")
    expect(page.locator("body")).to_have_class("scan-blocked")
    expect(result).to_contain_text("UNKNOWN BARCODE")
    box = result.bounding_box()
    viewport = page.viewport_size
    assert box is not None and viewport is not None
    assert (box["width"], box["height"]) == (viewport["width"], viewport["height"])
    assert page.locator(".scan-station").get_attribute("data-last-beep") == "error"
    # A scan while the panel is up is refused (another beep), not sent.
    beeps = int(page.locator(".scan-station").get_attribute("data-beeps") or 0)
    scan(page, second.tracking_number)
    expect(page.locator(".scan-station")).to_have_attribute("data-beeps", str(beeps + 1))
    second.refresh_from_db()
    assert second.shipped_at is None
    page.keyboard.press("Escape")
    expect(page.locator("body")).not_to_have_class("scan-blocked")
    expect(page.locator("#scan-code")).to_be_focused()

    # Duplicate: the parcel scanned again is refused loudly.
    scan(page, first.tracking_number)
    expect(result).to_have_attribute("data-result", "already_shipped")
    expect(page.locator("body")).to_have_class("scan-blocked")
    expect(result).to_contain_text("ALREADY SHIPPED")
    result.get_by_role("button").click()
    expect(page.locator("#scan-code")).to_be_focused()

    # Two scans typed back to back: both sent, in order, neither lost.
    third = ready()
    scan(page, second.tracking_number)
    scan(page, third.tracking_number)
    expect(result.locator(".scan-count")).to_have_text("3 parcels shipped at this station")
    assert Package.objects.filter(shipped_at__isnull=False).count() == 3
    page.context.close()


def test_two_stations_scanning_the_same_parcels_ship_each_once(
    live_server: object,
    browser: Browser,
    ready: Callable[..., Package],  # noqa: F811
    tee: object,  # noqa: F811
) -> None:
    person(packer=True)
    person(username="sam", role="packer")
    packages = [ready() for _ in range(3)]
    url = live_server.url  # type: ignore[attr-defined]
    one, two = station(browser, url, "pat", "dock-1"), station(browser, url, "sam", "dock-2")

    def beeps(page: Page) -> int:
        return int(page.locator(".scan-station").get_attribute("data-beeps") or 0)

    outcomes = []
    for package in packages:  # both packers scan every parcel at the same moment
        before = [beeps(one), beeps(two)]
        scan(one, package.tracking_number)
        scan(two, package.tracking_number)
        for page, count in zip((one, two), before, strict=True):
            # Every answer beeps once: wait for both answers.
            expect(page.locator(".scan-station")).to_have_attribute("data-beeps", str(count + 1))
            outcomes.append(page.locator("#scan-result").get_attribute("data-result"))
            if "scan-blocked" in (page.locator("body").get_attribute("class") or ""):
                page.keyboard.press("Escape")
    assert sorted(outcomes) == ["already_shipped"] * 3 + ["shipped"] * 3
    counts = [int(page.locator("#scan-count").input_value()) for page in (one, two)]
    assert sum(counts) == 3
    assert Package.objects.filter(shipped_at__isnull=False).count() == 3
    assert Order.objects.filter(state=OrderState.SHIPPED).count() == 3
    assert level(tee) == (97, 0)  # type: ignore[arg-type]
    assert AuditEvent.objects.filter(action=AuditAction.PACKAGE_SHIPPED).count() == 3
    one.context.close()
    two.context.close()
