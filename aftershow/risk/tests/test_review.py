"""Review actions: approve, correct the address, hold, cancel; who may; what each records."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied

from aftershow.audit.models import AuditAction, AuditEvent
from aftershow.orders.models import (
    Address,
    ChangeSource,
    Order,
    OrderState,
    OrderStatusChange,
)
from aftershow.orders.release import orders_release_due
from aftershow.orders.types import IncomingAddress
from aftershow.risk.models import (
    AddressCorrection,
    FlagStatus,
    HoldKind,
    OrderRelease,
    RiskFlag,
)
from aftershow.risk.services import (
    ReviewError,
    order_address_correct,
    order_approve,
    order_cancel_locally,
    order_hold,
    orders_screen,
)
from aftershow.risk.tests.conftest import address, ready_order

pytestmark = pytest.mark.django_db

FIXED = IncomingAddress(
    name="Jamie Rivera",
    line1="12 Main St",
    city="Springfield",
    state="il",
    postal_code="62701",
)


@pytest.fixture
def flagged(frozen_now) -> Order:  # type: ignore[no-untyped-def]
    order = ready_order(
        remote_order_id="576000000000000042", shipping_address=address(line1="Main St", line2="")
    )
    orders_screen(now=frozen_now, order_ids=[order.pk])
    order.refresh_from_db()
    assert order.state == OrderState.IN_REVIEW
    return order


def fingerprint(order: Order) -> tuple[object, ...]:
    """Everything a review action may change, to show that a refused one changed nothing."""
    order.refresh_from_db()
    return (
        order.state,
        order.hold_reason,
        order.hold_until,
        order.shipping_address_id,
        list(RiskFlag.objects.filter(order=order).values_list("status", "reason")),
        OrderStatusChange.objects.filter(order=order).count(),
        AuditEvent.objects.count(),
        Address.objects.count(),
        list(OrderRelease.objects.filter(order=order).values_list("hold_kind", "screened_at")),
    )


def last_change(order: Order) -> tuple[object, ...]:
    change = OrderStatusChange.objects.filter(order=order).latest("id")
    return (change.source, change.actor, change.from_state, change.to_state, change.reason)


def test_approve(flagged, operator, frozen_now) -> None:  # type: ignore[no-untyped-def]
    order_approve(order=flagged, by=operator, note="buyer confirmed by chat")
    flagged.refresh_from_db()
    assert flagged.state == OrderState.READY
    flag = RiskFlag.objects.get(order=flagged)
    assert (flag.status, flag.resolved_by, flag.resolved_at) == (
        FlagStatus.APPROVED,
        operator,
        frozen_now,
    )
    assert last_change(flagged) == (
        ChangeSource.USER,
        operator,
        "in_review",
        "ready",
        "Approved after review: buyer confirmed by chat",
    )
    event = AuditEvent.objects.get(object_type="order", object_id=str(flagged.pk))
    assert (event.actor, event.action, event.message, event.data) == (
        operator,
        AuditAction.ORDER_STATE_CHANGED,
        "Approved order 576000000000000042",
        {
            "action": "approve",
            "note": "buyer confirmed by chat",
            "from_state": "in_review",
            "to_state": "ready",
            "approved_flags": ["No street number in “Main St”"],
        },
    )
    assert OrderRelease.objects.get(order=flagged).screened_at == frozen_now
    # Screening again does not send it back: the reviewer has seen that concern.
    report = orders_screen(now=frozen_now + timedelta(minutes=1), order_ids=[flagged.pk])
    assert (report.to_review, report.in_review) == (0, 0)


@pytest.mark.parametrize("persona", ["packer", "outsider"])
def test_only_owners_and_operators_review(flagged, persona, request) -> None:  # type: ignore[no-untyped-def]
    user = request.getfixturevalue(persona)
    before = fingerprint(flagged)
    actions = [
        lambda: order_approve(order=flagged, by=user),
        lambda: order_hold(
            order=flagged, by=user, until=flagged.placed_at + timedelta(days=3), note="x"
        ),
        lambda: order_cancel_locally(order=flagged, by=user, note="x"),
        lambda: order_address_correct(order=flagged, by=user, address=FIXED),
    ]
    for action in actions:
        with pytest.raises(PermissionDenied):
            action()
    assert fingerprint(flagged) == before


def test_the_owner_reviews_too(flagged, owner) -> None:  # type: ignore[no-untyped-def]
    order_approve(order=flagged, by=owner)
    flagged.refresh_from_db()
    assert flagged.state == OrderState.READY
    assert last_change(flagged)[4] == "Approved after review: —"


@pytest.mark.parametrize(
    "state", [OrderState.CONFIRMED, OrderState.READY, OrderState.CANCELLED, OrderState.SHIPPED]
)
def test_approve_refuses_orders_not_in_review(state, operator, frozen_now) -> None:  # type: ignore[no-untyped-def]
    order = ready_order(state=state, remote_order_id="576000000000000077")
    before = fingerprint(order)
    with pytest.raises(ReviewError) as refused:
        order_approve(order=order, by=operator)
    assert str(refused.value) == (
        f"Order 576000000000000077 is {order.get_state_display()}: "
        "this action does not apply to it."
    )
    assert fingerprint(order) == before


def test_correcting_the_address_keeps_the_old_row_and_screens_again(flagged, operator) -> None:  # type: ignore[no-untyped-def]
    old = flagged.shipping_address
    old_values = Address.objects.filter(pk=old.pk).values().get()
    order_address_correct(order=flagged, by=operator, address=FIXED, note="buyer sent number")
    flagged.refresh_from_db()
    new = flagged.shipping_address
    assert new.pk != old.pk
    assert Address.objects.filter(pk=old.pk).values().get() == old_values
    assert (new.line1, new.city, new.state, new.postal_code, new.country) == (
        "12 Main St",
        "Springfield",
        "IL",
        "62701",
        "US",
    )
    assert new.match_key != "" and new.match_key != old.match_key
    correction = AddressCorrection.objects.get(order=flagged)
    assert (correction.from_address, correction.to_address, correction.by, correction.note) == (
        old,
        new,
        operator,
        "buyer sent number",
    )
    assert flagged.state == OrderState.READY
    assert list(RiskFlag.objects.filter(order=flagged).values_list("status", "resolved_by")) == [
        (FlagStatus.CLEARED, operator.pk)
    ]
    changes = list(
        OrderStatusChange.objects.filter(order=flagged, source=ChangeSource.USER)
        .order_by("id")
        .values_list("actor", "from_state", "to_state", "reason")
    )
    assert changes == [
        (operator.pk, "in_review", "in_review", "Address corrected: buyer sent number"),
        (operator.pk, "in_review", "ready", "Screening: no open flags"),
    ]
    event = AuditEvent.objects.get(object_id=str(flagged.pk), action=AuditAction.USER_ACTION)
    assert event.data == {
        "action": "correct_address",
        "note": "buyer sent number",
        "from_address_id": old.pk,
        "to_address_id": new.pk,
        "to_address": "12 Main St, Springfield, IL, 62701",
    }


def test_a_correction_that_is_still_wrong_stays_in_review_with_the_new_reason(
    flagged, operator
) -> None:  # type: ignore[no-untyped-def]
    wrong = IncomingAddress(line1="12 Main St", city="Springfield", state="NV", postal_code="62701")
    order_address_correct(order=flagged, by=operator, address=wrong)
    flagged.refresh_from_db()
    assert flagged.state == OrderState.IN_REVIEW
    assert list(RiskFlag.objects.filter(order=flagged).values_list("status", "reason")) == [
        (FlagStatus.OPEN, "ZIP code 62701 is in IL, not NV")
    ]


def test_hold_until_a_moment_then_back_to_review(flagged, operator, frozen_now) -> None:  # type: ignore[no-untyped-def]
    until = frozen_now + timedelta(hours=6)
    order_hold(order=flagged, by=operator, until=until, note="waiting for the buyer")
    flagged.refresh_from_db()
    assert (flagged.state, flagged.hold_reason, flagged.hold_until) == (
        OrderState.HELD,
        "Held by ola: waiting for the buyer",
        until,
    )
    assert OrderRelease.objects.get(order=flagged).hold_kind == HoldKind.REVIEWER
    assert last_change(flagged) == (
        ChangeSource.USER,
        operator,
        "in_review",
        "held",
        "Held by ola: waiting for the buyer",
    )
    assert AuditEvent.objects.get(object_id=str(flagged.pk)).data["until"] == until.isoformat()
    assert orders_release_due(now=until - timedelta(seconds=1)).back_to_review == 0
    assert orders_release_due(now=until).back_to_review == 1
    flagged.refresh_from_db()
    assert (flagged.state, flagged.hold_reason, flagged.hold_until) == (
        OrderState.IN_REVIEW,
        "",
        None,
    )
    # Its flag is still open: the queue shows why it was flagged.
    assert RiskFlag.objects.get(order=flagged).status == FlagStatus.OPEN


def test_a_reviewer_held_order_can_be_approved(flagged, operator, frozen_now) -> None:  # type: ignore[no-untyped-def]
    order_hold(order=flagged, by=operator, until=frozen_now + timedelta(hours=1), note="")
    order_approve(order=flagged, by=operator)
    flagged.refresh_from_db()
    assert (flagged.state, flagged.hold_reason, flagged.hold_until) == (OrderState.READY, "", None)
    assert OrderRelease.objects.get(order=flagged).hold_kind == HoldKind.NONE


def test_an_order_held_by_the_release_rules_cannot_be_approved(operator, frozen_now) -> None:  # type: ignore[no-untyped-def]
    order = ready_order(state=OrderState.HELD, hold_reason="The buyer may still cancel")
    OrderRelease.objects.filter(order=order).update(hold_kind=HoldKind.CANCEL_WINDOW)
    before = fingerprint(order)
    with pytest.raises(ReviewError) as refused:
        order_approve(order=order, by=operator)
    assert str(refused.value) == "Only orders held by a reviewer can be approved while held."
    assert fingerprint(order) == before


def test_a_hold_must_end_in_the_future(flagged, operator, frozen_now) -> None:  # type: ignore[no-untyped-def]
    before = fingerprint(flagged)
    with pytest.raises(ReviewError) as refused:
        order_hold(order=flagged, by=operator, until=frozen_now, note="")
    assert str(refused.value) == "The hold must end in the future."
    assert fingerprint(flagged) == before


def test_cancel_locally(flagged, operator) -> None:  # type: ignore[no-untyped-def]
    order_cancel_locally(order=flagged, by=operator, note="duplicate of 576000000000000041")
    flagged.refresh_from_db()
    assert flagged.state == OrderState.CANCELLED
    assert last_change(flagged) == (
        ChangeSource.USER,
        operator,
        "in_review",
        "cancelled",
        "Cancelled by a reviewer (not cancelled on the platform): duplicate of 576000000000000041",
    )
    event = AuditEvent.objects.get(object_id=str(flagged.pk))
    assert event.data["cancelled_on_platform"] is False
    assert event.message == "Cancelled order 576000000000000042 in aftershow"


def test_cancel_needs_a_note_and_an_open_order(flagged, operator) -> None:  # type: ignore[no-untyped-def]
    before = fingerprint(flagged)
    with pytest.raises(ReviewError):
        order_cancel_locally(order=flagged, by=operator, note="  ")
    assert fingerprint(flagged) == before
    confirmed = ready_order(state=OrderState.CONFIRMED)
    before = fingerprint(confirmed)
    with pytest.raises(ReviewError):
        order_cancel_locally(order=confirmed, by=operator, note="too late")
    assert fingerprint(confirmed) == before


def test_a_later_pull_keeps_the_reviewers_address(operator, frozen_now) -> None:  # type: ignore[no-untyped-def]
    from decimal import Decimal

    from aftershow.orders.services import orders_upsert
    from aftershow.orders.tests.factories import ShopFactory
    from aftershow.orders.types import IncomingOrder

    shop = ShopFactory()
    incoming = IncomingOrder(
        remote_order_id="576000000000000099",
        platform_status="AWAITING_SHIPMENT",
        placed_at=frozen_now - timedelta(hours=2),
        remote_updated_at=frozen_now - timedelta(hours=1),
        buyer_user_id="7490000000000000001",
        buyer_nickname="livefan12",
        address=IncomingAddress(line1="Main St", city="New York", state="NY", postal_code="10118"),
        lines=[],
        currency="USD",
        subtotal=Decimal("19.99"),
        shipping_fee=Decimal("0"),
        tax=Decimal("0"),
        seller_discount=Decimal("0"),
        platform_discount=Decimal("0"),
        total_amount=Decimal("19.99"),
        paid_at=frozen_now - timedelta(hours=2),
    )
    orders_upsert(shop=shop, incoming=[incoming], source=ChangeSource.POLL)
    order = Order.objects.get()
    Order.objects.filter(pk=order.pk).update(state=OrderState.IN_REVIEW)
    order_address_correct(order=order, by=operator, address=FIXED)
    corrected = Order.objects.get().shipping_address_id
    orders_upsert(shop=shop, incoming=[incoming], source=ChangeSource.POLL)
    assert Order.objects.get().shipping_address_id == corrected
