"""The metrics pages: who may see and do what, the drill-down, profit, thresholds, and a query
budget on the leaderboard."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from xml.etree import ElementTree

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aftershow.accounts.models import Role, User
from aftershow.creators.models import Creator
from aftershow.metrics.models import MetricsRun, RecomputeTrigger, TierPolicy
from aftershow.metrics.services import metrics_recompute
from aftershow.metrics.tests import builders
from aftershow.orders.tests.factories import CreatorFactory, ShopFactory, UserFactory
from aftershow.shops.models import Shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager() -> User:
    return UserFactory(username="mia", role=Role.CREATOR_MANAGER)


@pytest.fixture
def owner() -> User:
    return UserFactory(owner=True)


@pytest.fixture
def shop() -> Shop:
    return ShopFactory()


def as_user(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def star(shop: Shop, handle: str = "star", subtotal: str = "700.00") -> Creator:
    """ROI (700 - 0 - 0) / 50 = 14 -> S, through a live session of 200 viewers."""
    creator = CreatorFactory(handle=handle)
    free = builders.sku("0.00")
    now = timezone.now()
    stream = builders.session(creator, shop, starts_at=now - timedelta(days=2), viewers=200)
    builders.order(
        creator=creator,
        shop=shop,
        placed_at=now - timedelta(days=2),
        subtotal=subtotal,
        units=2,
        of=free,
        live_session=stream,
    )
    builders.sample(
        creator, of=free, quantity=1, unit_cost="50.00", shipping="0.00", at=now - timedelta(days=3)
    )
    return creator


def test_pages_need_a_login_and_the_right_role(client: Client, shop: Shop) -> None:
    creator = star(shop)
    response = client.get("/metrics/")
    assert (response.status_code, response["Location"]) == (302, "/accounts/login/?next=/metrics/")
    packer = UserFactory(packer=True)
    as_user(client, packer)
    for url in ("/metrics/", f"/metrics/creators/{creator.pk}/", "/metrics/thresholds/"):
        assert client.get(url).status_code == 403
    assert client.post("/metrics/recompute/").status_code == 403
    assert MetricsRun.objects.count() == 0


def test_leaderboard_recompute_and_charts(client: Client, manager: User, shop: Shop) -> None:
    star(shop)
    star(shop, handle="solid", subtotal="150.00")  # ROI 3 -> A
    response = as_user(client, manager).post("/metrics/recompute/")
    assert (response.status_code, response["Location"]) == (302, "/metrics/")
    run = MetricsRun.objects.get()
    assert (run.trigger, run.requested_by, run.tier_changes) == (RecomputeTrigger.UI, manager, 2)
    page = client.get("/metrics/").content.decode()
    assert "Recomputed 2 creators: 2 tier changes." in page
    rows = re.findall(r'<tr data-creator="(\w+)">', page)
    assert rows == ["star", "solid"]
    assert page.count("<svg") == 2
    for svg in re.findall(r"<svg.*?</svg>", page, re.S):
        drawing = ElementTree.fromstring(svg)
        assert drawing.tag == "{http://www.w3.org/2000/svg}svg"
    assert "<title>@star: 700.00 (S)</title>" in page
    # S share of sales: 700 / 850 = 82.35 %.
    assert re.search(r"data-s-sales-share>82.35 %<", page)


def test_finance_sees_but_does_not_recompute(client: Client, shop: Shop) -> None:
    finance = UserFactory(username="fin", role=Role.FINANCE)
    as_user(client, finance)
    assert client.get("/metrics/").status_code == 200
    assert client.post("/metrics/recompute/").status_code == 403


def test_creator_page_shows_each_formula_with_its_numbers(
    client: Client, manager: User, shop: Shop
) -> None:
    creator = star(shop)
    metrics_recompute(trigger=RecomputeTrigger.CLI)
    page = as_user(client, manager).get(f"/metrics/creators/{creator.pk}/").content.decode()
    assert "(700.00 - 0.00 - 0.00) ÷ 50.00 = 14.00" in page
    assert "2 ÷ 200 = 1.00 %" in page
    assert "700.00 ÷ 1 = 700.00" in page
    assert "0 ÷ 1 = 0.00 %" in page
    assert "First rating" in page


def test_the_drill_down_lists_the_inputs(client: Client, manager: User, shop: Shop) -> None:
    creator = star(shop)
    other = star(shop, handle="other")
    order = creator.orders.get()
    page = as_user(client, manager).get(f"/metrics/creators/{creator.pk}/inputs/").content.decode()
    assert re.findall(r'<tr data-order="(\d+)">', page) == [order.remote_order_id]
    assert other.orders.get().remote_order_id not in page
    assert "Sample: 1 \u00d7 SKU-" in page
    assert "Total invested" in page


def test_a_bad_period_is_refused_with_a_message(client: Client, manager: User, shop: Shop) -> None:
    creator = star(shop)
    response = as_user(client, manager).get(
        f"/metrics/creators/{creator.pk}/?start=2026-11-10&end=2026-11-01"
    )
    assert response.status_code == 200
    assert "The period ends before it starts." in response.content.decode()


def test_period_page_and_na(client: Client, manager: User, shop: Shop) -> None:
    star(shop)
    page = as_user(client, manager).get("/metrics/period/?start=2000-01-01&end=2000-01-31")
    text = page.content.decode()
    assert page.status_code == 200
    assert "Nothing in this period." in text
    assert "0 ÷ 0 = n/a" in text


def test_session_and_order_profit(client: Client, manager: User, shop: Shop) -> None:
    creator = star(shop)
    order = creator.orders.get()
    session_page = as_user(client, manager).get(f"/metrics/sessions/{order.live_session_id}/")
    text = session_page.content.decode()
    # 700.00 - 6 % estimated fee (42.00) = 658.00
    assert re.search(r"data-total-profit>658.00<", text)
    order_page = client.get(f"/metrics/orders/{order.pk}/profit/").content.decode()
    assert re.search(r"data-profit-value>658.00<", order_page)
    assert "estimated at 6.00 %: not settled yet" in order_page


def test_owner_saves_a_new_threshold_version(client: Client, owner: User) -> None:
    response = as_user(client, owner).post(
        "/metrics/thresholds/",
        {
            "s_above": "6",
            "a_from": "2.5",
            "phase_out_below": "1.5",
            "return_warning_percent": "8",
            "platform_fee_percent": "5",
            "window_days": "90",
            "effective_from": "2026-12-01T00:00",
            "reason": "Q4 review",
        },
    )
    assert (response.status_code, response["Location"]) == (302, "/metrics/thresholds/")
    policy = TierPolicy.objects.get(version=2)
    assert (policy.s_above, policy.a_from, policy.window_days, policy.created_by) == (
        Decimal("6.00"),
        Decimal("2.50"),
        90,
        owner,
    )
    assert policy.effective_from.isoformat() == "2026-12-01T00:00:00+00:00"


def test_bad_thresholds_are_refused_and_only_the_owner_may_change_them(
    client: Client, owner: User, manager: User
) -> None:
    data = {
        "s_above": "2",
        "a_from": "3",
        "phase_out_below": "1.5",
        "return_warning_percent": "8",
        "platform_fee_percent": "5",
        "effective_from": "2026-12-01T00:00",
        "reason": "typo",
    }
    response = as_user(client, owner).post("/metrics/thresholds/", data)
    assert response.status_code == 422
    assert "The S threshold must be above the A threshold." in response.content.decode()
    assert list(TierPolicy.objects.values_list("version", flat=True)) == [1]
    as_user(client, manager)
    assert client.post("/metrics/thresholds/", {**data, "s_above": "9"}).status_code == 403
    assert TierPolicy.objects.count() == 1


def test_leaderboard_queries_do_not_grow_with_creators(
    client: Client, manager: User, shop: Shop
) -> None:
    for number in range(3):
        star(shop, handle=f"few{number}")
    metrics_recompute(trigger=RecomputeTrigger.CLI)
    as_user(client, manager)
    with CaptureQueriesContext(connection) as few:
        client.get("/metrics/")
    for number in range(12):
        star(shop, handle=f"many{number}")
    metrics_recompute(trigger=RecomputeTrigger.CLI)
    with CaptureQueriesContext(connection) as many:
        assert client.get("/metrics/").status_code == 200
    assert len(many) == len(few)
    assert len(many) <= 15
