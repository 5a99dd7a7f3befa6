"""The review pages: who sees what, the htmx actions, confirm all, held orders, rules."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from aftershow.orders.models import Order, OrderState, OrderStatusChange
from aftershow.orders.tests.factories import ShopFactory
from aftershow.risk.models import (
    FlagStatus,
    HoldKind,
    OrderRelease,
    ReleasePolicy,
    RiskFlag,
    RiskRule,
)
from aftershow.risk.services import orders_screen
from aftershow.risk.tests.conftest import address, ready_order

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def queue(frozen_now) -> dict[str, Order]:  # type: ignore[no-untyped-def]
    flagged = ready_order(
        remote_order_id="576000000000000011", shipping_address=address(line1="Main St", line2="")
    )
    clean = ready_order(remote_order_id="576000000000000012")
    orders_screen(now=frozen_now, order_ids=[flagged.pk, clean.pk])
    return {"flagged": flagged, "clean": clean}


def login(client: Client, user) -> Client:  # type: ignore[no-untyped-def]
    client.force_login(user)
    return client


def state(order: Order) -> str:
    return Order.objects.values_list("state", flat=True).get(pk=order.pk)


def rows(response) -> list[str]:  # type: ignore[no-untyped-def]
    return re.findall(r'<tr data-order-id="([^"]+)"', response.content.decode())


@pytest.mark.parametrize("url", ["/review/", "/review/held/", "/review/rules/"])
def test_anonymous_visitors_are_sent_to_log_in(client: Client, url: str) -> None:
    response = client.get(url)
    assert (response.status_code, response["Location"]) == (302, f"/accounts/login/?next={url}")


def test_a_former_member_is_logged_out(client: Client, outsider, queue) -> None:  # type: ignore[no-untyped-def]
    login(client, outsider)
    assert client.get("/review/").status_code == 302
    response = client.post(f"/review/orders/{queue['flagged'].pk}/approve/")
    assert response.status_code == 302
    assert state(queue["flagged"]) == OrderState.IN_REVIEW


def test_the_queue_lists_flagged_orders_with_their_reasons(client: Client, operator, queue) -> None:  # type: ignore[no-untyped-def]
    response = login(client, operator).get("/review/")
    assert response.status_code == 200
    html = response.content.decode()
    assert rows(response) == ["576000000000000011"]
    assert (
        '<li data-kind="address" title="Incomplete or invalid address">'
        "No street number in “Main St”</li>"
    ) in html
    assert 'data-count="clean">1 clean order ready to confirm' in html
    assert 'data-count="in_review">1 order waits for review' in html
    assert 'id="confirm-clean"' in html
    assert f'hx-post="/review/orders/{queue["flagged"].pk}/approve/"' in html


def test_an_order_sent_to_review_without_a_flag_shows_its_hold_reason(
    client: Client,
    operator,  # type: ignore[no-untyped-def]
    queue,
) -> None:
    reason = "Carrier refused the address: no service reaches 96799"
    Order.objects.filter(pk=queue["clean"].pk).update(
        state=OrderState.IN_REVIEW, hold_reason=reason
    )
    html = login(client, operator).get("/review/").content.decode()
    assert f'<li data-kind="hold_reason">{reason}</li>' in html


def test_a_packer_sees_the_queue_but_no_action(client: Client, packer, queue) -> None:  # type: ignore[no-untyped-def]
    response = login(client, packer).get("/review/")
    html = response.content.decode()
    assert rows(response) == ["576000000000000011"]
    assert 'id="confirm-clean"' not in html
    assert "/approve/" not in html
    assert "Owners and operators review orders." in html


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("approve/", {"note": "ok"}),
        ("hold/", {"until": "2026-11-21T08:00", "note": "x"}),
        ("cancel/", {"note": "duplicate"}),
        ("address/", {"line1": "1 Main St", "city": "New York", "state": "NY"}),
    ],
)
def test_a_packer_may_not_act(client: Client, packer, queue, path: str, data) -> None:  # type: ignore[no-untyped-def]
    login(client, packer)
    before = OrderStatusChange.objects.count()
    response = client.post(f"/review/orders/{queue['flagged'].pk}/{path}", data, **HTMX)
    assert response.status_code == 403
    assert state(queue["flagged"]) == OrderState.IN_REVIEW
    assert OrderStatusChange.objects.count() == before
    assert client.post("/review/confirm-clean/", **HTMX).status_code == 403
    assert state(queue["clean"]) == OrderState.READY


def test_approve_with_htmx_replaces_the_row(client: Client, operator, queue) -> None:  # type: ignore[no-untyped-def]
    response = login(client, operator).post(
        f"/review/orders/{queue['flagged'].pk}/approve/", {"note": "checked"}, **HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert rows(response) == ["576000000000000011"]
    assert "Order 576000000000000011 approved." in html and "(Ready)" in html
    assert state(queue["flagged"]) == OrderState.READY
    assert RiskFlag.objects.get().status == FlagStatus.APPROVED


def test_approve_without_javascript_redirects_with_a_message(
    client: Client, operator, queue
) -> None:  # type: ignore[no-untyped-def]
    response = login(client, operator).post(
        f"/review/orders/{queue['flagged'].pk}/approve/", {"note": ""}, follow=True
    )
    assert response.redirect_chain == [("/review/", 302)]
    assert "Order 576000000000000011 approved." in response.content.decode()
    assert rows(response) == []


def test_a_refused_action_keeps_the_row_and_says_why(client: Client, operator, queue) -> None:  # type: ignore[no-untyped-def]
    login(client, operator)
    response = client.post(
        f"/review/orders/{queue['flagged'].pk}/hold/",
        {"until": "2026-11-20T19:00", "note": "too late"},
        **HTMX,
    )
    html = response.content.decode()
    assert rows(response) == ["576000000000000011"]
    assert '<p class="alert" role="alert">The hold must end in the future.</p>' in html
    assert state(queue["flagged"]) == OrderState.IN_REVIEW
    response = client.post(f"/review/orders/{queue['flagged'].pk}/cancel/", {"note": ""}, **HTMX)
    assert "Why cancel?: This field is required." in response.content.decode()
    assert state(queue["flagged"]) == OrderState.IN_REVIEW


def test_hold_and_cancel(client: Client, operator, queue, frozen_now) -> None:  # type: ignore[no-untyped-def]
    login(client, operator)
    other = ready_order(remote_order_id="576000000000000013", state=OrderState.IN_REVIEW)
    response = client.post(
        f"/review/orders/{queue['flagged'].pk}/hold/",
        {"until": "2026-11-21T08:00", "note": "asked the buyer"},
        **HTMX,
    )
    assert "Order 576000000000000011 held." in response.content.decode()
    held = Order.objects.get(pk=queue["flagged"].pk)
    assert (held.state, held.hold_until, held.hold_reason) == (
        OrderState.HELD,
        frozen_now + timedelta(hours=12),
        "Held by ola: asked the buyer",
    )
    response = client.post(f"/review/orders/{other.pk}/cancel/", {"note": "fraud"}, **HTMX)
    assert "cancelled in aftershow (not yet on the platform)" in response.content.decode()
    assert state(other) == OrderState.CANCELLED


def test_correct_the_address(client: Client, operator, queue) -> None:  # type: ignore[no-untyped-def]
    login(client, operator)
    order = queue["flagged"]
    page = client.get(f"/review/orders/{order.pk}/address/").content.decode()
    assert 'name="line1" value="Main St"' in page
    response = client.post(
        f"/review/orders/{order.pk}/address/",
        {
            "name": "Jamie Rivera",
            "line1": "77 Main St",
            "city": "New York",
            "state": "ny",
            "postal_code": "10118",
            "country": "us",
            "note": "from the buyer",
        },
        follow=True,
    )
    assert response.redirect_chain == [("/review/", 302)]
    assert "Address of order 576000000000000011 corrected; now Ready." in response.content.decode()
    order.refresh_from_db()
    assert (order.shipping_address.line1, order.shipping_address.state) == ("77 Main St", "NY")
    assert order.state == OrderState.READY


def test_confirm_all_with_htmx(client: Client, operator, queue) -> None:  # type: ignore[no-untyped-def]
    response = login(client, operator).post("/review/confirm-clean/", **HTMX)
    assert response.content.decode().strip() == (
        '<p class="alert message-success" data-confirmed="1">Confirmed 1 clean orders.</p>'
    )
    assert (state(queue["clean"]), state(queue["flagged"])) == (
        OrderState.CONFIRMED,
        OrderState.IN_REVIEW,
    )


def test_posts_need_the_csrf_token(operator, queue) -> None:  # type: ignore[no-untyped-def]
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    assert client.post("/review/confirm-clean/", **HTMX).status_code == 403
    assert state(queue["clean"]) == OrderState.READY
    page = client.get("/review/").content.decode()
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)  # type: ignore[union-attr]
    response = client.post("/review/confirm-clean/", HTTP_X_CSRFTOKEN=token, **HTMX)
    assert response.status_code == 200
    assert state(queue["clean"]) == OrderState.CONFIRMED


def test_get_is_not_an_action(client: Client, operator, queue) -> None:  # type: ignore[no-untyped-def]
    login(client, operator)
    assert client.get("/review/confirm-clean/").status_code == 405
    assert client.get(f"/review/orders/{queue['flagged'].pk}/approve/").status_code == 405
    assert state(queue["clean"]) == OrderState.READY


def test_held_orders_show_why_and_until_when(client: Client, packer, frozen_now) -> None:  # type: ignore[no-untyped-def]
    order = ready_order(
        remote_order_id="576000000000000021",
        state=OrderState.HELD,
        hold_reason="The buyer may still cancel: 60-minute cancellation window",
        hold_until=frozen_now + timedelta(minutes=35),
    )
    OrderRelease.objects.filter(order=order).update(hold_kind=HoldKind.CANCEL_WINDOW)
    response = login(client, packer).get("/review/held/")
    html = response.content.decode()
    assert rows(response) == ["576000000000000021"]
    assert (
        "<strong>Cancellation window</strong>: "
        "The buyer may still cancel: 60-minute cancellation window"
    ) in html
    assert '<time datetime="2026-11-20T20:35:00+00:00">2026-11-20 20:35</time> UTC' in html


def test_the_queue_page_costs_the_same_queries_for_3_or_30_orders(
    client: Client, operator, frozen_now
) -> None:  # type: ignore[no-untyped-def]
    login(client, operator)

    def queries(count: int) -> int:
        orders = [ready_order(shipping_address=address(line1="Elm St")) for _ in range(count)]
        orders_screen(now=frozen_now, order_ids=[order.pk for order in orders])
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/review/").status_code == 200
        return len(captured)

    assert queries(3) == queries(27)


def test_the_owner_edits_a_rule(client: Client, owner, frozen_now) -> None:  # type: ignore[no-untyped-def]
    rule = RiskRule.objects.get(kind="high_value")
    prefix = f"rule-{rule.pk}"
    response = login(client, owner).post(
        f"/review/rules/{rule.pk}/",
        {
            f"{prefix}-max_total": "250",
            f"{prefix}-max_units": "6",
            f"{prefix}-is_active": "on",
            f"{prefix}-position": "60",
        },
        follow=True,
    )
    assert response.redirect_chain == [("/review/rules/", 302)]
    rule.refresh_from_db()
    assert (rule.parameters, rule.is_active, rule.updated_by) == (
        {"max_total": "250.00", "max_units": 6},
        True,
        owner,
    )


def test_a_bad_rule_value_is_refused_with_the_reason(client: Client, owner) -> None:  # type: ignore[no-untyped-def]
    rule = RiskRule.objects.get(kind="remote_destination")
    prefix = f"rule-{rule.pk}"
    response = login(client, owner).post(
        f"/review/rules/{rule.pk}/",
        {f"{prefix}-states": "AK, Hawaii", f"{prefix}-position": "20", f"{prefix}-is_active": "on"},
    )
    assert response.status_code == 422
    assert "is not a two-letter state code" in response.content.decode()
    rule.refresh_from_db()
    assert rule.parameters["states"] == ["AA", "AE", "AK", "AP", "AS", "GU", "HI", "MP", "PR", "VI"]


@pytest.mark.parametrize("persona", ["operator", "packer"])
def test_only_the_owner_edits_rules(client: Client, persona, request) -> None:  # type: ignore[no-untyped-def]
    rule = RiskRule.objects.get(kind="high_value")
    login(client, request.getfixturevalue(persona))
    page = client.get("/review/rules/").content.decode()
    assert "Only the owner changes rules and release policies." in page
    assert f'name="rule-{rule.pk}-max_total" value="500.00" step="0.01" required disabled' in page
    response = client.post(f"/review/rules/{rule.pk}/", {f"rule-{rule.pk}-max_total": "1"})
    assert response.status_code == 403
    rule.refresh_from_db()
    assert rule.parameters["max_total"] == "500.00"


def test_the_owner_sets_the_release_policy(client: Client, owner) -> None:  # type: ignore[no-untyped-def]
    shop = ShopFactory(name="Glow Lab US")
    response = login(client, owner).post(
        f"/review/shops/{shop.pk}/release-policy/",
        {
            f"shop-{shop.pk}-hold_live_orders_until_stream_end": "on",
            f"shop-{shop.pk}-combine_window_minutes": "240",
        },
    )
    assert response.status_code == 302
    policy = ReleasePolicy.objects.get(shop=shop)
    assert (policy.hold_live_orders_until_stream_end, policy.combine_window_minutes) == (True, 240)
