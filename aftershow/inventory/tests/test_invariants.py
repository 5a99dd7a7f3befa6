"""The ledger's invariants under random sequences of everything that moves stock.

Orders (plain SKUs and a bundle), cancellations, shipments, returns (restocked or damaged),
receipts, adjustments, counts, backorder fills, and redeliveries of each (the same order
payload, the same idempotency key) in any order. After every step: no level is negative or
allocates more than it holds, every level equals the sum of its movements, the units allocated
equal the allocation rows, on hand equals a model of what should be there (so no key was ever
applied twice), and an order is backordered exactly when one of its lines is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import transaction
from django.db.models import Count, Sum
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from aftershow.inventory.ledger import StockError
from aftershow.inventory.models import (
    AdjustmentReason,
    AllocationStatus,
    MovementKind,
    StockAllocation,
    StockLevel,
    StockMovement,
    Warehouse,
)
from aftershow.inventory.services import (
    backorders_allocate,
    order_lines_allocate,
    order_ship,
    return_damaged,
    return_restock,
    stock_adjust,
    stock_count,
    stock_receive,
)
from aftershow.inventory.tests.helpers import T0, cancelled, incoming_order, make_sku, snapshot
from aftershow.orders.models import ChangeSource, Order, OrderState
from aftershow.orders.services import orders_upsert
from aftershow.orders.types import IncomingOrder
from aftershow.shops.models import Channel, Shop

PLAIN = ("A", "B")
SELLABLE = ("A", "B", "KIT")  # KIT = 2 x A + 1 x B


@dataclass
class Sent:
    """An order as last sent by the channel, and what the model knows of it."""

    payload: IncomingOrder
    is_cancelled: bool = False


class StockMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # Each example runs in a savepoint rolled back at teardown: a clean slate every time.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.warehouse = Warehouse.objects.create(code="MAIN", name="Main", is_default=True)
        self.shop = Shop.objects.create(name="S", channel=Channel.TIKTOK, remote_shop_id="1")
        self.skus = {code: make_sku(code) for code in PLAIN}
        make_sku("KIT", bundle_of={self.skus["A"]: 2, self.skus["B"]: 1})
        self.on_hand = dict.fromkeys(PLAIN, 0)  # the model
        self.keys: dict[str, list[str]] = {}
        self.orders: list[Sent] = []
        self.sequence = 0

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _key(self, reuse: int | None, *, pool: str = "stock") -> tuple[str, bool]:
        """A fresh key, or (a redelivery) one already applied; and whether it is fresh.

        A refused change applies nothing, so its key stays free: only applied keys are reused.
        Returns keep a pool per line: the service derives the ledger keys from the key, the
        line and the SKU, so one return key legitimately covers several lines.
        """
        applied = self.keys.setdefault(pool, [])
        if reuse is not None and applied:
            return applied[reuse % len(applied)], False
        self.sequence += 1
        return f"{pool}-{self.sequence}", True

    def _applied(self, key: str, *, pool: str = "stock") -> None:
        self.keys[pool].append(key)

    @initialize()
    def some_stock(self) -> None:
        for code in PLAIN:
            self._stock(MovementKind.RECEIPT, code, 10, reuse=None)

    # Stock arriving and corrected.

    @rule(
        kind=st.sampled_from([MovementKind.RECEIPT, MovementKind.ADJUSTMENT]),
        code=st.sampled_from(PLAIN),
        quantity=st.integers(-6, 10),
        reuse=st.none() | st.integers(0, 50),
        fill=st.booleans(),
    )
    def change_stock(
        self, kind: MovementKind, code: str, quantity: int, reuse: int | None, fill: bool
    ) -> None:
        self._stock(kind, code, quantity, reuse=reuse)
        if fill:
            self._fill(code)

    def _fill(self, code: str) -> None:
        # What the on-commit hook does after a change in production (it never fires inside
        # this test's transaction). Sometimes skipped above, so backorders also pile up.
        if backorders_allocate(sku_id=self.skus[code].pk).allocated:
            event("backorders filled")

    @rule(
        code=st.sampled_from(PLAIN),
        counted=st.integers(0, 8),
        reuse=st.none() | st.integers(0, 50),
    )
    def count_stock(self, code: str, counted: int, reuse: int | None) -> None:
        """Its own rule: a count below what is allocated (bumping orders) must come up often."""
        self._stock(MovementKind.COUNT, code, counted, reuse=reuse)
        self._fill(code)

    def _stock(self, kind: MovementKind, code: str, quantity: int, *, reuse: int | None) -> None:
        key, fresh = self._key(reuse)
        sku = self.skus[code]
        before = snapshot()
        bumped = StockMovement.objects.filter(kind=MovementKind.BACKORDER).count()
        model = self.on_hand[code]
        try:
            if kind == MovementKind.RECEIPT:
                model += abs(quantity) or 1
                movement = stock_receive(
                    sku=sku, warehouse=self.warehouse, quantity=abs(quantity) or 1, key=key
                )
            elif kind == MovementKind.ADJUSTMENT:
                model += quantity or 1
                movement = stock_adjust(
                    sku=sku,
                    warehouse=self.warehouse,
                    quantity=quantity or 1,
                    reason=AdjustmentReason.CORRECTION,
                    key=key,
                )
            else:
                model = abs(quantity)
                movement = stock_count(
                    sku=sku, warehouse=self.warehouse, counted=abs(quantity), key=key
                )
        except StockError:
            # Only an adjustment below zero is refused, and it leaves everything as it was.
            assert fresh and kind == MovementKind.ADJUSTMENT and model < 0
            assert snapshot() == before
            return
        if fresh:
            assert movement is not None
            self._applied(key)
            self.on_hand[code] = model
            if StockMovement.objects.filter(kind=MovementKind.BACKORDER).count() > bumped:
                event("stock came up short: allocations bumped to backorder")
        else:
            assert movement is None
            assert snapshot() == before

    # Orders from the channel.

    @rule(
        lines=st.lists(
            st.tuples(st.sampled_from(SELLABLE), st.integers(1, 2)),
            min_size=1,
            max_size=2,
            unique_by=lambda line: line[0],
        ),
        on_hold=st.booleans(),
    )
    def place_order(self, lines: list[tuple[str, int]], on_hold: bool) -> None:
        self.sequence += 1
        payload = incoming_order(
            f"order-{self.sequence}",
            lines,
            status="ON_HOLD" if on_hold else "AWAITING_SHIPMENT",
            placed=T0 + timedelta(minutes=self.sequence),
        )
        orders_upsert(shop=self.shop, incoming=[payload], source=ChangeSource.WEBHOOK)
        self.orders.append(Sent(payload))
        state = Order.objects.get(remote_order_id=payload.remote_order_id).state
        event(f"order placed: {state}")

    @precondition(lambda self: self.orders)
    @rule(pick=st.integers(0, 50), by_poll=st.booleans())
    def redeliver_order(self, pick: int, by_poll: bool) -> None:
        """The channel sends an order again, or a worker re-runs allocation: no change."""
        sent = self.orders[pick % len(self.orders)]
        before = snapshot()
        if by_poll:
            orders_upsert(shop=self.shop, incoming=[sent.payload], source=ChangeSource.POLL)
        else:
            order_lines_allocate(order_ids=list(Order.objects.values_list("pk", flat=True)))
        assert snapshot() == before

    @precondition(lambda self: self.orders)
    @rule(pick=st.integers(0, 50), cancel=st.sampled_from([True, False, False]))
    def cancel_or_ship(self, pick: int, cancel: bool) -> None:
        sent = self.orders[pick % len(self.orders)]
        if cancel:
            if not sent.is_cancelled:
                sent.payload = cancelled(sent.payload)
                sent.is_cancelled = True
                orders_upsert(shop=self.shop, incoming=[sent.payload], source=ChangeSource.WEBHOOK)
            return
        order = Order.objects.get(remote_order_id=sent.payload.remote_order_id)
        holding = list(
            order.stock_allocations.filter(status=AllocationStatus.ALLOCATED).values_list(
                "sku__code", "quantity"
            )
        )
        before = snapshot()
        try:
            order_ship(order_id=order.pk)
        except StockError:
            assert order.stock_allocations.filter(status=AllocationStatus.BACKORDERED).exists()
            assert snapshot() == before
            return
        for code, quantity in holding:
            self.on_hand[code] -= quantity
        event("order shipped")

    @precondition(
        lambda self: StockAllocation.objects.filter(status=AllocationStatus.SHIPPED).exists()
    )
    @rule(
        pick=st.integers(0, 50),
        quantity=st.integers(1, 2),
        damaged=st.booleans(),
        reuse=st.none() | st.integers(0, 50),
    )
    def return_units(self, pick: int, quantity: int, damaged: bool, reuse: int | None) -> None:
        line_ids = sorted(
            set(
                StockAllocation.objects.filter(status=AllocationStatus.SHIPPED).values_list(
                    "order_line_id", flat=True
                )
            )
        )
        line_id = line_ids[pick % len(line_ids)]
        key, fresh = self._key(reuse, pool=f"return:{line_id}")
        returned = return_damaged if damaged else return_restock
        parts = list(
            StockAllocation.objects.filter(order_line_id=line_id).values_list(
                "sku__code", "units_per_line_unit", "quantity", "returned_quantity"
            )
        )
        before = snapshot()
        try:
            movements = returned(order_line_id=line_id, quantity=quantity, key=key)
        except StockError:
            assert any(done + quantity * per > total for _, per, total, done in parts)
            assert snapshot() == before
            event("return refused: more than shipped")
            return
        if not movements:
            assert not fresh
            assert snapshot() == before
            event("return redelivered: no change")
            return
        assert fresh
        self._applied(key, pool=f"return:{line_id}")
        event("return damaged" if damaged else "return restocked")
        if not damaged:
            for code, per_unit, _, _ in parts:
                self.on_hand[code] += quantity * per_unit

    # What must hold after every step.

    @invariant()
    def levels_are_valid_and_match_their_ledger(self) -> None:
        # Grouped sums rather than a query per level: the invariants run after every step.
        rows = StockMovement.objects.values("sku_id", "warehouse_id").annotate(
            on_hand=Sum("on_hand_delta"),
            allocated=Sum("allocated_delta"),
            movements=Count("pk"),
            keys=Count("idempotency_key", distinct=True),
        )
        ledger = {}
        for row in rows:
            # Each key applied at most once (the unique constraint; checked all the same).
            assert row["movements"] == row["keys"]
            ledger[(row["sku_id"], row["warehouse_id"])] = (row["on_hand"], row["allocated"])
        held = {
            (row["sku_id"], row["warehouse_id"]): row["units"]
            for row in StockAllocation.objects.filter(status=AllocationStatus.ALLOCATED)
            .values("sku_id", "warehouse_id")
            .annotate(units=Sum("quantity"))
        }
        for level in StockLevel.objects.select_related("sku"):
            pair = (level.sku_id, level.warehouse_id)
            assert 0 <= level.allocated <= level.on_hand
            assert level.incoming >= 0
            assert ledger.get(pair, (0, 0)) == (level.on_hand, level.allocated)
            assert level.allocated == held.get(pair, 0)
            assert level.on_hand == self.on_hand[level.sku.code]

    @invariant()
    def backordered_orders_are_exactly_those_waiting(self) -> None:
        waiting = set(
            StockAllocation.objects.filter(status=AllocationStatus.BACKORDERED).values_list(
                "order_id", flat=True
            )
        )
        flagged = set(
            Order.objects.filter(state=OrderState.BACKORDERED).values_list("pk", flat=True)
        )
        assert waiting == flagged


@pytest.mark.django_db
def test_the_ledger_keeps_its_invariants_whatever_happens():
    run_state_machine_as_test(
        StockMachine,
        settings=settings(
            max_examples=10,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
