"""The review API under /api/risk/: queue, held, actions, confirm all clean, rules."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client

from aftershow.orders.models import Order, OrderState
from aftershow.orders.tests.factories import ShopFactory
from aftershow.risk.models import HoldKind, OrderRelease, RiskRule
from aftershow.risk.services import orders_screen
from aftershow.risk.tests.conftest import address, ready_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue(frozen_now) -> dict[str, Order]:  # type: ignore[no-untyped-def]
    shop = ShopFactory(name="Glow Lab US")
    flagged = ready_order(
        shop=shop,
        remote_order_id="576000000000000031",
        shipping_address=address(line1="PO Box 12", line2=""),
    )
    clean = ready_order(shop=shop, remote_order_id="576000000000000032")
    orders_screen(now=frozen_now, order_ids=[flagged.pk, clean.pk])
    return {"flagged": flagged, "clean": clean}


def post(client: Client, url: str, body: dict) -> object:  # type: ignore[type-arg]
    return client.post(url, json.dumps(body), content_type="application/json")


def state(order: Order) -> str:
    return Order.objects.values_list("state", flat=True).get(pk=order.pk)


def test_the_queue(client: Client, operator, queue, frozen_now) -> None:  # type: ignore[no-untyped-def]
    client.force_login(operator)
    body = client.get("/api/risk/queue").json()
    assert (body["count"], body["limit"], body["offset"]) == (1, 50, 0)
    (item,) = body["items"]
    assert item["remote_order_id"] == "576000000000000031"
    assert item["state"] == "in_review"
    assert item["shop"] == {"id": queue["flagged"].shop_id, "name": "Glow Lab US"}
    assert item["shipping_address"]["line1"] == "PO Box 12"
    assert [(flag["kind"], flag["reason"], flag["status"]) for flag in item["flags"]] == [
        ("po_box", "PO Box: only USPS can deliver", "open")
    ]


def test_anonymous_calls_are_refused(client: Client, queue) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/risk/queue").status_code == 401
    assert post(client, "/api/risk/confirm-clean", {}).status_code == 401  # type: ignore[attr-defined]
    assert state(queue["clean"]) == OrderState.READY


def test_actions(client: Client, operator, queue, frozen_now) -> None:  # type: ignore[no-untyped-def]
    client.force_login(operator)
    order = queue["flagged"]
    response = post(
        client,
        f"/api/risk/orders/{order.pk}/hold",
        {"until": "2026-11-21T08:00:00Z", "note": "ask"},
    )
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert response.json()["state"] == "held"  # type: ignore[attr-defined]
    held = client.get("/api/risk/held").json()["items"]
    assert [
        (item["remote_order_id"], item["hold_kind"], item["hold_reason"], item["hold_until"])
        for item in held
    ] == [("576000000000000031", HoldKind.REVIEWER, "Held by ola: ask", "2026-11-21T08:00:00Z")]
    response = post(client, f"/api/risk/orders/{order.pk}/approve", {"note": "fine"})
    assert response.json()["state"] == "ready"  # type: ignore[attr-defined]
    response = post(client, f"/api/risk/orders/{order.pk}/cancel", {"note": "fraud"})
    assert response.json()["state"] == "cancelled"  # type: ignore[attr-defined]


def test_correct_the_address(client: Client, operator, queue) -> None:  # type: ignore[no-untyped-def]
    client.force_login(operator)
    order = queue["flagged"]
    response = post(
        client,
        f"/api/risk/orders/{order.pk}/address",
        {"line1": "350 Fifth Avenue", "city": "New York", "state": "ny", "postal_code": "10118"},
    )
    body = response.json()  # type: ignore[attr-defined]
    assert (body["state"], body["flags"], body["shipping_address"]["state"]) == ("ready", [], "NY")


def test_an_action_that_does_not_apply_is_a_409(client: Client, operator, queue) -> None:  # type: ignore[no-untyped-def]
    client.force_login(operator)
    response = post(client, f"/api/risk/orders/{queue['clean'].pk}/approve", {})
    assert response.status_code == 409  # type: ignore[attr-defined]
    assert response.json() == {  # type: ignore[attr-defined]
        "detail": "Order 576000000000000032 is Ready: this action does not apply to it."
    }
    assert state(queue["clean"]) == OrderState.READY


def test_a_hold_needs_an_aware_time(client: Client, operator, queue) -> None:  # type: ignore[no-untyped-def]
    client.force_login(operator)
    response = post(
        client, f"/api/risk/orders/{queue['flagged'].pk}/hold", {"until": "2026-11-21T08:00:00"}
    )
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert state(queue["flagged"]) == OrderState.IN_REVIEW


def test_confirm_clean(client: Client, operator, queue) -> None:  # type: ignore[no-untyped-def]
    client.force_login(operator)
    other_shop = ShopFactory()
    other = ready_order(shop=other_shop, remote_order_id="576000000000000033")
    OrderRelease.objects.filter(order=other).update(screened_at=other.placed_at)
    response = post(client, "/api/risk/confirm-clean", {"shop": other_shop.pk})
    assert response.json() == {"confirmed": 1}  # type: ignore[attr-defined]
    assert (state(other), state(queue["clean"])) == (OrderState.CONFIRMED, OrderState.READY)
    assert post(client, "/api/risk/confirm-clean", {}).json() == {"confirmed": 1}  # type: ignore[attr-defined]
    assert state(queue["clean"]) == OrderState.CONFIRMED
    assert post(client, "/api/risk/confirm-clean", {"shop": 999999}).status_code == 404  # type: ignore[attr-defined]


def test_a_packer_may_not_act(client: Client, packer, queue, frozen_now) -> None:  # type: ignore[no-untyped-def]
    client.force_login(packer)
    assert client.get("/api/risk/queue").status_code == 200
    until = (frozen_now + timedelta(hours=1)).isoformat()
    for path, body in [
        (f"/api/risk/orders/{queue['flagged'].pk}/approve", {}),
        (f"/api/risk/orders/{queue['flagged'].pk}/hold", {"until": until}),
        (f"/api/risk/orders/{queue['flagged'].pk}/cancel", {"note": "x"}),
        ("/api/risk/confirm-clean", {}),
    ]:
        response = post(client, path, body)
        assert response.status_code == 403, path  # type: ignore[attr-defined]
        assert response.json() == {"detail": "Owners and operators review orders."}  # type: ignore[attr-defined]
    assert (state(queue["flagged"]), state(queue["clean"])) == (
        OrderState.IN_REVIEW,
        OrderState.READY,
    )


def test_csrf_is_required_with_a_session(operator, queue) -> None:  # type: ignore[no-untyped-def]
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    response = post(client, "/api/risk/confirm-clean", {})
    assert response.status_code == 403  # type: ignore[attr-defined]
    assert state(queue["clean"]) == OrderState.READY


def test_rules(client: Client, owner, operator) -> None:  # type: ignore[no-untyped-def]
    client.force_login(operator)
    rules = client.get("/api/risk/rules").json()
    assert [rule["kind"] for rule in rules] == [
        "address",
        "remote_destination",
        "po_box",
        "order_velocity",
        "return_rate",
        "high_value",
    ]
    velocity = RiskRule.objects.get(kind="order_velocity")
    patch = {"parameters": {"order_count": 4, "window_minutes": 15}}
    response = client.patch(
        f"/api/risk/rules/{velocity.pk}", json.dumps(patch), content_type="application/json"
    )
    assert response.status_code == 403
    client.force_login(owner)
    response = client.patch(
        f"/api/risk/rules/{velocity.pk}", json.dumps(patch), content_type="application/json"
    )
    assert response.json()["parameters"] == {"order_count": 4, "window_minutes": 15}
    bad = {"parameters": {"order_count": 1, "window_minutes": 15}}
    response = client.patch(
        f"/api/risk/rules/{velocity.pk}", json.dumps(bad), content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json() == {"detail": "order_count: Input should be greater than or equal to 2"}
    velocity.refresh_from_db()
    assert velocity.parameters == {"order_count": 4, "window_minutes": 15}
    response = client.patch(
        f"/api/risk/rules/{velocity.pk}",
        json.dumps({"is_active": False}),
        content_type="application/json",
    )
    assert response.json()["is_active"] is False


def test_the_openapi_document_lists_the_risk_endpoints(client: Client, operator) -> None:  # type: ignore[no-untyped-def]
    client.force_login(operator)
    paths = client.get("/api/openapi.json").json()["paths"]
    assert {path for path in paths if path.startswith("/api/risk/")} == {
        "/api/risk/queue",
        "/api/risk/held",
        "/api/risk/orders/{order_id}/approve",
        "/api/risk/orders/{order_id}/hold",
        "/api/risk/orders/{order_id}/cancel",
        "/api/risk/orders/{order_id}/address",
        "/api/risk/confirm-clean",
        "/api/risk/rules",
        "/api/risk/rules/{rule_id}",
        "/api/risk/screen",
    }
