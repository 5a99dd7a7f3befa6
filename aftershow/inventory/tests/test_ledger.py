"""The stock ledger: every change a movement, each key applied once, levels never invalid."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from aftershow.inventory.ledger import StockError
from aftershow.inventory.models import AdjustmentReason, MovementKind, StockLevel, StockMovement
from aftershow.inventory.services import (
    order_ship,
    return_damaged,
    return_restock,
    stock_adjust,
    stock_count,
    stock_expect,
    stock_receive,
)
from aftershow.inventory.tests.helpers import (
    assert_ledger_matches_levels,
    incoming_order,
    level_of,
    make_sku,
    snapshot,
)
from aftershow.orders.models import ChangeSource, Order
from aftershow.orders.services import orders_upsert
from aftershow.orders.tests.factories import UserFactory


def test_receipts_adjustments_and_counts_each_write_one_movement(warehouse, tee):
    stock_expect(sku=tee, warehouse=warehouse, quantity=20, key="po-7", reference="PO-7")
    stock_receive(sku=tee, warehouse=warehouse, quantity=12, from_incoming=True, key="po-7-recv")
    stock_adjust(
        sku=tee, warehouse=warehouse, quantity=-2, reason=AdjustmentReason.DAMAGED, key="adj-1"
    )
    stock_count(sku=tee, warehouse=warehouse, counted=9, key="count-1")

    assert level_of(tee, warehouse) == (9, 0, 8)
    rows = StockMovement.objects.order_by("pk").values_list(
        "kind", "reason", "quantity", "on_hand_delta", "incoming_delta"
    )
    assert list(rows) == [
        (MovementKind.EXPECTED, "", 20, 0, 20),
        (MovementKind.RECEIPT, "", 12, 12, -12),
        (MovementKind.ADJUSTMENT, AdjustmentReason.DAMAGED, 2, -2, 0),
        (MovementKind.COUNT, "", 9, -1, 0),
    ]
    assert_ledger_matches_levels()


def test_the_same_key_twice_applies_once(warehouse, tee):
    first = stock_receive(sku=tee, warehouse=warehouse, quantity=5, key="po-1")
    before = snapshot()

    second = stock_receive(sku=tee, warehouse=warehouse, quantity=5, key="po-1")
    third = stock_adjust(
        sku=tee, warehouse=warehouse, quantity=3, reason=AdjustmentReason.FOUND, key="po-1"
    )

    assert first is not None and first.on_hand_delta == 5
    assert (second, third) == (None, None)
    assert snapshot() == before
    assert level_of(tee, warehouse) == (5, 0, 0)


def test_a_person_is_recorded_as_who(warehouse, tee):
    owner = UserFactory(owner=True)
    movement = stock_receive(sku=tee, warehouse=warehouse, quantity=1, by=owner)
    assert movement is not None
    assert (movement.actor, movement.actor_label) == (owner, "user")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda sku, wh: stock_receive(sku=sku, warehouse=wh, quantity=0), "at least one unit"),
        (
            lambda sku, wh: stock_adjust(
                sku=sku, warehouse=wh, quantity=-4, reason=AdjustmentReason.LOST
            ),
            "Cannot remove 4: only 3 on hand",
        ),
        (
            lambda sku, wh: stock_adjust(
                sku=sku, warehouse=wh, quantity=0, reason=AdjustmentReason.LOST
            ),
            "must change the quantity",
        ),
        (lambda sku, wh: stock_count(sku=sku, warehouse=wh, counted=-1), "cannot be negative"),
    ],
)
def test_impossible_changes_are_refused_and_change_nothing(warehouse, tee, call, message):
    stock_receive(sku=tee, warehouse=warehouse, quantity=3)
    before = snapshot()

    with pytest.raises(StockError, match=message):
        call(tee, warehouse)

    assert snapshot() == before


def test_the_database_refuses_a_level_allocating_more_than_on_hand(warehouse, tee):
    stock_receive(sku=tee, warehouse=warehouse, quantity=3)
    level = StockLevel.objects.get()

    for values in ({"allocated": 4}, {"on_hand": -1}, {"allocated": -1}, {"incoming": -1}):
        with pytest.raises(IntegrityError), transaction.atomic():
            StockLevel.objects.filter(pk=level.pk).update(**values)

    assert level_of(tee, warehouse) == (3, 0, 0)


def test_movements_are_append_only(warehouse, tee):
    movement = stock_receive(sku=tee, warehouse=warehouse, quantity=3)
    assert movement is not None

    with pytest.raises(TypeError):
        movement.save()
    with pytest.raises(TypeError):
        movement.delete()


@pytest.fixture
def shipped_line(shop, warehouse, tee):
    """Three tees sold and shipped on one line."""
    stock_receive(sku=tee, warehouse=warehouse, quantity=10)
    orders_upsert(
        shop=shop, incoming=[incoming_order("1", [("TEE-BLK-M", 3)])], source=ChangeSource.POLL
    )
    order = Order.objects.get()
    order_ship(order_id=order.pk)
    assert level_of(tee, warehouse) == (7, 0, 0)
    return order.lines.get()


def test_a_restocked_return_goes_back_on_hand_once(shipped_line, warehouse, tee):
    movements = return_restock(order_line_id=shipped_line.pk, quantity=2, key="tiktok:rma:55")
    again = return_restock(order_line_id=shipped_line.pk, quantity=2, key="tiktok:rma:55")

    assert [(m.kind, m.quantity, m.on_hand_delta) for m in movements] == [
        (MovementKind.RETURN_RESTOCK, 2, 2)
    ]
    assert again == []
    assert level_of(tee, warehouse) == (9, 0, 0)
    assert_ledger_matches_levels()


def test_a_damaged_return_is_recorded_without_sellable_stock(shipped_line, warehouse, tee):
    movements = return_damaged(order_line_id=shipped_line.pk, quantity=1, key="tiktok:rma:56")

    assert [(m.kind, m.quantity, m.on_hand_delta) for m in movements] == [
        (MovementKind.RETURN_DAMAGED, 1, 0)
    ]
    assert level_of(tee, warehouse) == (7, 0, 0)


def test_more_returned_than_shipped_is_refused(shipped_line, warehouse, tee):
    return_restock(order_line_id=shipped_line.pk, quantity=2, key="rma-1")
    before = snapshot()

    with pytest.raises(StockError, match="4 returned would exceed the 3 shipped"):
        return_damaged(order_line_id=shipped_line.pk, quantity=2, key="rma-2")

    assert snapshot() == before


def test_a_returned_bundle_restocks_its_components(shop, warehouse, tee):
    cap = make_sku("CAP-RED")
    make_sku("KIT", bundle_of={tee: 2, cap: 1})
    stock_receive(sku=tee, warehouse=warehouse, quantity=10)
    stock_receive(sku=cap, warehouse=warehouse, quantity=10)
    orders_upsert(shop=shop, incoming=[incoming_order("2", [("KIT", 2)])], source=ChangeSource.POLL)
    order = Order.objects.get()
    order_ship(order_id=order.pk)

    return_restock(order_line_id=order.lines.get().pk, quantity=1, key="rma-kit")

    assert level_of(tee, warehouse) == (8, 0, 0)
    assert level_of(cap, warehouse) == (9, 0, 0)
    assert_ledger_matches_levels()


def test_an_unshipped_line_cannot_be_returned(shop, warehouse, tee):
    stock_receive(sku=tee, warehouse=warehouse, quantity=10)
    orders_upsert(
        shop=shop, incoming=[incoming_order("3", [("TEE-BLK-M", 1)])], source=ChangeSource.POLL
    )
    before = snapshot()

    with pytest.raises(StockError, match="Nothing was shipped"):
        return_restock(order_line_id=Order.objects.get().lines.get().pk, quantity=1, key="r")

    assert snapshot() == before


def test_one_return_covering_two_lines_of_the_same_sku_restocks_both(shop, warehouse, tee):
    # TikTok sends one line per unit: two tees are two lines, returned under one return id.
    stock_receive(sku=tee, warehouse=warehouse, quantity=5)
    orders_upsert(
        shop=shop,
        incoming=[incoming_order("4", [("TEE-BLK-M", 1), ("TEE-BLK-M", 1)])],
        source=ChangeSource.POLL,
    )
    order = Order.objects.get()
    order_ship(order_id=order.pk)
    first, second = order.lines.order_by("pk")

    return_restock(order_line_id=first.pk, quantity=1, key="tiktok:return:88")
    return_restock(order_line_id=second.pk, quantity=1, key="tiktok:return:88")
    return_restock(order_line_id=second.pk, quantity=1, key="tiktok:return:88")  # redelivered

    assert level_of(tee, warehouse) == (5, 0, 0)
    assert StockMovement.objects.filter(kind=MovementKind.RETURN_RESTOCK).count() == 2
