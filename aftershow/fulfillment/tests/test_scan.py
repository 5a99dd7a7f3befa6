"""The scan station's pages without a browser: who may use it, and what one scan answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import pytest
from django.test import Client

from aftershow.accounts.models import Role, User
from aftershow.fulfillment.models import Package

# Fixtures shared with the shipping tests.
from aftershow.fulfillment.tests.test_shipping import person, ready, tee  # noqa: F401
from aftershow.orders.models import Order, OrderState
from aftershow.orders.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
SCAN = {"HTTP_X_SCAN_STATION": "1"}


def logged_in(user: User) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_packers_may_open_the_station_outsiders_may_not() -> None:
    page = logged_in(person(packer=True)).get("/fulfillment/scan/?station=dock-2")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'id="scan-code"' in body and "autofocus" in body
    assert "station dock-2" in body
    assert Client().get("/fulfillment/scan/").status_code == 302
    finance = logged_in(person(username="fay", role=Role.FINANCE))
    assert finance.get("/fulfillment/scan/").status_code == 403
    assert finance.post("/fulfillment/scan/submit/", {"code": "X"}).status_code == 403


def test_one_scan_ships_and_answers_a_green_fragment(
    ready: Callable[..., Package],  # noqa: F811
) -> None:
    package = ready()
    order = Order.objects.get(lines__package=package)
    client = logged_in(person(packer=True))

    answer = client.post(
        "/fulfillment/scan/submit/",
        {"code": package.tracking_number, "station": "dock-1", "count": "4"},
        **cast(dict[str, Any], SCAN),
    )

    html = answer.content.decode()
    assert answer.status_code == 200
    assert html.startswith('<div id="scan-result" class="scan-result scan-ok"')
    assert 'data-result="shipped"' in html and 'data-count="5"' in html
    assert f"Order {order.remote_order_id}" in html
    assert "5 parcels shipped at this station" in html
    order.refresh_from_db()
    assert order.state == OrderState.SHIPPED

    again = client.post(
        "/fulfillment/scan/submit/",
        {"code": package.tracking_number, "station": "dock-1", "count": "5"},
        **cast(dict[str, Any], SCAN),
    ).content.decode()
    assert 'data-result="already_shipped"' in again and 'data-count="5"' in again
    assert "ALREADY SHIPPED" in again and "data-ack" in again


def test_without_javascript_the_form_posts_and_the_page_shows_the_result() -> None:
    client = logged_in(person(packer=True))
    page = client.post("/fulfillment/scan/submit/", {"code": "zz 999", "station": "dock-1"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "<title>Scan to ship" in html
    assert 'data-result="unknown"' in html
    assert "Unknown barcode ZZ999: no package has this tracking number." in html
