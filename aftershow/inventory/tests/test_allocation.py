"""Allocation at ingest: orders reserve stock as they land, the rest is backordered visibly."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aftershow.inventory.allocation import order_lines_ship
from aftershow.inventory.ledger import StockError
from aftershow.inventory.models import (
    AllocationStatus,
    ChannelWarehouse,
    MovementKind,
    StockAllocation,
    StockMovement,
    Warehouse,
)
from aftershow.inventory.selectors import backorders
from aftershow.inventory.services import (
    backorders_allocate,
    order_deallocate,
    order_lines_allocate,
    order_ship,
    stock_count,
    stock_receive,
)
from aftershow.inventory.tests.helpers import (
    T0,
    assert_ledger_matches_levels,
    cancelled,
    incoming_order,
    level_of,
    make_sku,
    snapshot,
)
from aftershow.orders.models import ChangeSource, Order, OrderState, OrderStatusChange
from aftershow.orders.services import orders_upsert


def ingest(shop, *orders):
    return orders_upsert(shop=shop, incoming=list(orders), source=ChangeSource.WEBHOOK)


def statuses(order_id: str) -> list[str]:
    return list(
        StockAllocation.objects.filter(order__remote_order_id=order_id)
        .order_by("order_line__remote_line_id", "sku__code")
        .values_list("status", flat=True)
    )


def test_new_orders_allocate_at_ingest_with_one_ledger_row_per_line(shop, warehouse, tee):
    stock_receive(sku=tee, warehouse=warehouse, quantity=10, key="po-1")

    ingest(
        shop, incoming_order("100", [("TEE-BLK-M", 2)]), incoming_order("101", [("TEE-BLK-M", 3)])
    )

    assert level_of(tee, warehouse) == (10, 5, 0)
    assert statuses("100") == [AllocationStatus.ALLOCATED]
    assert statuses("101") == [AllocationStatus.ALLOCATED]
    movements = StockMovement.objects.filter(kind=MovementKind.ALLOCATION).order_by("pk")
    assert [
        (m.quantity, m.on_hand_delta, m.allocated_delta, m.reference, m.actor_label)
        for m in movements
    ] == [
        (2, 0, 2, "tiktok:100:100-1", "webhook"),
        (3, 0, 3, "tiktok:101:101-1", "webhook"),
    ]
    assert set(Order.objects.values_list("state", flat=True)) == {OrderState.NEW}
    assert_ledger_matches_levels()


def test_stock_running_out_backorders_the_later_orders_visibly(shop, warehouse, tee):
    stock_receive(sku=tee, warehouse=warehouse, quantity=3)
    later = T0 + timedelta(minutes=1)

    result = ingest(
        shop,
        incoming_order("200", [("TEE-BLK-M", 2)]),
        incoming_order("201", [("TEE-BLK-M", 2)], placed=later),
        incoming_order("202", [("TEE-BLK-M", 1)], placed=later + timedelta(minutes=1)),
    )

    assert result.created == 3
    assert level_of(tee, warehouse) == (3, 3, 0)
    # 201 wanted 2 of the 1 left: backordered; 202 wanted 1 and fits.
    assert statuses("200") == [AllocationStatus.ALLOCATED]
    assert statuses("201") == [AllocationStatus.BACKORDERED]
    assert statuses("202") == [AllocationStatus.ALLOCATED]
    states = dict(Order.objects.values_list("remote_order_id", "state"))
    assert states == {"200": OrderState.NEW, "201": OrderState.BACKORDERED, "202": OrderState.NEW}
    change = OrderStatusChange.objects.get(order__remote_order_id="201", to_state="backordered")
    assert (change.source, change.from_state, change.reason) == (
        ChangeSource.SYSTEM,
        OrderState.NEW,
        "Out of stock: TEE-BLK-M",
    )
    # A backorder is no stock movement: nothing was reserved for it.
    assert StockMovement.objects.filter(order__remote_order_id="201").count() == 0
    assert_ledger_matches_levels()


def test_redelivered_orders_and_repeated_calls_change_nothing(shop, warehouse, tee):
    stock_receive(sku=tee, warehouse=warehouse, quantity=1)
    orders = [incoming_order("300", [("TEE-BLK-M", 1)]), incoming_order("301", [("TEE-BLK-M", 1)])]
    ingest(shop, *orders)
    before = snapshot()

    ingest(shop, *orders)  # a webhook redelivery
    orders_upsert(shop=shop, incoming=orders, source=ChangeSource.POLL)  # the next poll
    again = order_lines_allocate(order_ids=list(Order.objects.values_list("pk", flat=True)))

    assert (again.allocated, again.backordered, again.unchanged) == (0, 0, 2)
    assert snapshot() == before


def test_orders_on_hold_allocate_and_a_cancellation_releases(shop, warehouse, tee):
    stock_receive(sku=tee, warehouse=warehouse, quantity=5)
    on_hold = incoming_order("400", [("TEE-BLK-M", 2)], status="ON_HOLD")
    ingest(shop, on_hold)
    assert level_of(tee, warehouse) == (5, 2, 0)

    ingest(shop, cancelled(on_hold))

    assert level_of(tee, warehouse) == (5, 0, 0)
    assert statuses("400") == [AllocationStatus.RELEASED]
    release = StockMovement.objects.get(kind=MovementKind.DEALLOCATION)
    assert (release.quantity, release.allocated_delta, release.on_hand_delta) == (2, -2, 0)
    assert Order.objects.get().state == OrderState.CANCELLED
    assert_ledger_matches_levels()


def test_a_cancelled_backorder_is_released_without_a_movement(shop, warehouse, tee):
    order = incoming_order("410", [("TEE-BLK-M", 1)])
    ingest(shop, order)
    assert statuses("410") == [AllocationStatus.BACKORDERED]

    ingest(shop, cancelled(order))

    assert statuses("410") == [AllocationStatus.RELEASED]
    assert StockMovement.objects.count() == 0
    assert level_of(tee, warehouse) == (0, 0, 0)


def test_orders_the_platform_already_closed_do_not_allocate(shop, warehouse, tee):
    stock_receive(sku=tee, warehouse=warehouse, quantity=5)

    ingest(
        shop,
        incoming_order("500", [("TEE-BLK-M", 1)], status="DELIVERED"),
        incoming_order("501", [("TEE-BLK-M", 1)], status="CANCELLED"),
        incoming_order("502", [("TEE-BLK-M", 1)], status="IN_TRANSIT"),
    )

    assert level_of(tee, warehouse) == (5, 0, 0)
    assert StockAllocation.objects.count() == 0


def test_without_any_warehouse_stock_is_not_tracked_and_orders_stay_new(shop, tee):
    ingest(shop, incoming_order("600", [("TEE-BLK-M", 1)], status="AWAITING_SHIPMENT"))

    assert Order.objects.get().state == OrderState.NEW
    assert StockAllocation.objects.count() == 0
    assert StockMovement.objects.count() == 0


def test_without_any_warehouse_the_open_orders_lines_are_counted_as_untracked(shop, tee):
    ingest(
        shop,
        incoming_order("620", [("TEE-BLK-M", 1), ("NOT-IN-CATALOG", 2)]),
        incoming_order("621", [("TEE-BLK-M", 1)], status="CANCELLED"),
    )

    result = order_lines_allocate(order_ids=list(Order.objects.values_list("pk", flat=True)))

    assert (result.allocated, result.backordered, result.untracked_lines) == (0, 0, 2)
    assert StockAllocation.objects.count() == 0


def test_unmapped_lines_are_counted_as_untracked(shop, warehouse, tee):
    stock_receive(sku=tee, warehouse=warehouse, quantity=5)
    ingest(shop, incoming_order("610", [("TEE-BLK-M", 1), ("NOT-IN-CATALOG", 1)]))

    result = order_lines_allocate(order_ids=[Order.objects.get().pk])

    assert (result.allocated, result.unchanged, result.untracked_lines) == (0, 1, 1)
    assert level_of(tee, warehouse) == (5, 1, 0)


def test_the_shops_mapped_warehouse_wins_over_the_default(shop, warehouse, tee):
    east = Warehouse.objects.create(code="EAST", name="East")
    ChannelWarehouse.objects.create(warehouse=east, shop=shop, remote_warehouse_id="7300001")
    stock_receive(sku=tee, warehouse=warehouse, quantity=5)
    stock_receive(sku=tee, warehouse=east, quantity=5)

    ingest(
        shop,
        incoming_order("700", [("TEE-BLK-M", 2)], remote_warehouse_id="7300001"),
        incoming_order("701", [("TEE-BLK-M", 1)], remote_warehouse_id="unknown-id"),
    )

    assert level_of(tee, east) == (5, 2, 0)
    assert level_of(tee, warehouse) == (5, 1, 0)


def test_a_bundle_line_allocates_its_components_times_the_quantity(shop, warehouse, tee):
    cap = make_sku("CAP-RED")
    make_sku("KIT-TEE-CAP", bundle_of={tee: 2, cap: 1})
    stock_receive(sku=tee, warehouse=warehouse, quantity=10)
    stock_receive(sku=cap, warehouse=warehouse, quantity=10)

    ingest(shop, incoming_order("800", [("KIT-TEE-CAP", 3)]))

    assert level_of(tee, warehouse) == (10, 6, 0)
    assert level_of(cap, warehouse) == (10, 3, 0)
    rows = StockAllocation.objects.order_by("sku__code").values_list(
        "sku__code", "units_per_line_unit", "quantity", "status"
    )
    assert list(rows) == [
        ("CAP-RED", 1, 3, AllocationStatus.ALLOCATED),
        ("TEE-BLK-M", 2, 6, AllocationStatus.ALLOCATED),
    ]
    # The bundle SKU itself has no stock level: nothing was deducted from it.
    assert level_of(Order.objects.get().lines.get().sku, warehouse) == (0, 0, 0)


def test_backorders_fill_oldest_first_when_stock_arrives(shop, warehouse, tee):
    for minute, order_id in enumerate(["900", "901", "902"]):
        ingest(
            shop,
            incoming_order(order_id, [("TEE-BLK-M", 1)], placed=T0 + timedelta(minutes=minute)),
        )
    assert set(Order.objects.values_list("state", flat=True)) == {OrderState.BACKORDERED}
    assert [a.order.remote_order_id for a in backorders(sku_id=tee.pk)] == ["900", "901", "902"]

    stock_receive(sku=tee, warehouse=warehouse, quantity=2)
    result = backorders_allocate(sku_id=tee.pk)

    assert (result.allocated, result.backordered) == (2, 0)
    assert [a.order.remote_order_id for a in backorders(sku_id=tee.pk)] == ["902"]
    assert [statuses(o)[0] for o in ("900", "901", "902")] == [
        AllocationStatus.ALLOCATED,
        AllocationStatus.ALLOCATED,
        AllocationStatus.BACKORDERED,
    ]
    states = dict(Order.objects.values_list("remote_order_id", "state"))
    assert states == {"900": OrderState.NEW, "901": OrderState.NEW, "902": OrderState.BACKORDERED}
    back = OrderStatusChange.objects.get(order__remote_order_id="900", from_state="backordered")
    assert back.to_state == OrderState.NEW
    assert level_of(tee, warehouse) == (2, 2, 0)
    assert_ledger_matches_levels()


@pytest.mark.django_db(transaction=True)
def test_a_receipt_fills_backorders_by_itself_once_committed(shop, warehouse, tee):
    ingest(shop, incoming_order("950", [("TEE-BLK-M", 1)]))
    assert statuses("950") == [AllocationStatus.BACKORDERED]

    stock_receive(sku=tee, warehouse=warehouse, quantity=1)

    assert statuses("950") == [AllocationStatus.ALLOCATED]
    assert Order.objects.get().state == OrderState.NEW
    assert level_of(tee, warehouse) == (1, 1, 0)


def test_a_short_count_bumps_the_newest_allocations_to_backorder(shop, warehouse, tee):
    stock_receive(sku=tee, warehouse=warehouse, quantity=3)
    for minute, order_id in enumerate(["1000", "1001", "1002"]):
        ingest(
            shop,
            incoming_order(order_id, [("TEE-BLK-M", 1)], placed=T0 + timedelta(minutes=minute)),
        )
    assert level_of(tee, warehouse) == (3, 3, 0)

    stock_count(sku=tee, warehouse=warehouse, counted=1, key="count-1")

    assert level_of(tee, warehouse) == (1, 1, 0)
    assert [statuses(o)[0] for o in ("1000", "1001", "1002")] == [
        AllocationStatus.ALLOCATED,
        AllocationStatus.BACKORDERED,
        AllocationStatus.BACKORDERED,
    ]
    assert Order.objects.get(remote_order_id="1002").state == OrderState.BACKORDERED
    bumped = StockMovement.objects.filter(kind=MovementKind.BACKORDER).order_by("pk")
    assert [(m.order.remote_order_id, m.allocated_delta) for m in bumped] == [
        ("1002", -1),
        ("1001", -1),
    ]
    assert_ledger_matches_levels()

    # Stock found again: the bumped lines are allocated again, under fresh ledger keys.
    stock_receive(sku=tee, warehouse=warehouse, quantity=2)
    assert backorders_allocate(sku_id=tee.pk).allocated == 2
    assert level_of(tee, warehouse) == (3, 3, 0)
    keys = StockMovement.objects.filter(order__remote_order_id="1001").values_list(
        "idempotency_key", flat=True
    )
    line_id = StockAllocation.objects.get(order__remote_order_id="1001").order_line_id
    assert sorted(keys) == sorted(
        [
            f"line:{line_id}:sku:{tee.pk}:allocation",
            f"line:{line_id}:sku:{tee.pk}:backorder",
            f"line:{line_id}:sku:{tee.pk}:allocation:1",
        ]
    )
    assert_ledger_matches_levels()


def test_shipping_takes_units_off_hand_and_out_of_allocated_once(shop, warehouse, tee):
    stock_receive(sku=tee, warehouse=warehouse, quantity=5)
    ingest(shop, incoming_order("1100", [("TEE-BLK-M", 2)]))
    order = Order.objects.get()

    assert order_ship(order_id=order.pk) == 1
    assert order_ship(order_id=order.pk) == 0  # repeated: nothing left to ship

    assert level_of(tee, warehouse) == (3, 0, 0)
    assert statuses("1100") == [AllocationStatus.SHIPPED]
    shipment = StockMovement.objects.get(kind=MovementKind.SHIPMENT)
    assert (shipment.on_hand_delta, shipment.allocated_delta) == (-2, -2)
    assert_ledger_matches_levels()


def test_a_backordered_order_cannot_ship_and_nothing_changes(shop, warehouse, tee):
    cap = make_sku("CAP-RED")
    stock_receive(sku=tee, warehouse=warehouse, quantity=5)
    ingest(shop, incoming_order("1200", [("TEE-BLK-M", 1), ("CAP-RED", 1)]))
    before = snapshot()

    with pytest.raises(StockError, match="CAP-RED is backordered"):
        order_ship(order_id=Order.objects.get().pk)

    assert snapshot() == before
    assert level_of(cap, warehouse) == (0, 0, 0)


def test_deallocating_twice_releases_once(shop, warehouse, tee):
    stock_receive(sku=tee, warehouse=warehouse, quantity=5)
    ingest(shop, incoming_order("1300", [("TEE-BLK-M", 2)]))
    order_id = Order.objects.get().pk

    first = order_deallocate(order_ids=[order_id])
    before = snapshot()
    second = order_deallocate(order_ids=[order_id])

    assert (first.released, second.released, second.unchanged) == (1, 0, 1)
    assert snapshot() == before
    assert level_of(tee, warehouse) == (5, 0, 0)


def test_shipping_many_lines_at_once_writes_the_ledger_rows_one_order_at_a_time_writes(
    shop, warehouse, tee, django_user_model
):
    """``order_lines_ship`` (the scan station's batch, built from plain rows) and
    ``order_ship`` leave the same ledger: every column but the row's own id and time."""
    stock_receive(sku=tee, warehouse=warehouse, quantity=10)
    ingest(
        shop, incoming_order("1300", [("TEE-BLK-M", 2)]), incoming_order("1301", [("TEE-BLK-M", 3)])
    )
    packer = django_user_model.objects.create_user(username="packer")
    first, second = Order.objects.order_by("remote_order_id")

    assert order_ship(order_id=first.pk, by=packer) == 1
    assert (
        order_lines_ship(line_ids=list(second.lines.values_list("pk", flat=True)), by=packer) == 1
    )
    assert order_lines_ship(line_ids=list(second.lines.values_list("pk", flat=True))) == 0

    def ledger(order: Order) -> dict[str, object]:
        row = StockMovement.objects.filter(order=order, kind=MovementKind.SHIPMENT).values().get()
        line = order.lines.get()
        for key in ("id", "at", "order_id", "order_line_id", "quantity"):
            row.pop(key)
        row["on_hand_delta"] //= line.quantity
        row["allocated_delta"] //= line.quantity
        row["reference"] = (
            row["reference"].replace(order.remote_order_id, "#").replace(line.remote_line_id, "#")
        )
        row["idempotency_key"] = row["idempotency_key"].replace(f"line:{line.pk}:", "line:#:")
        return row

    assert ledger(first) == ledger(second)
    assert ledger(second)["actor_id"] == packer.pk
    assert level_of(tee, warehouse) == (5, 0, 0)
    assert_ledger_matches_levels()
