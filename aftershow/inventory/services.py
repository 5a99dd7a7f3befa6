"""Writes on stock: receipts, adjustments, counts, returns, and (from ``allocation``) orders.

Each change inserts one ``StockMovement`` and applies the same deltas to the ``StockLevel`` in
the same transaction. The movement's unique idempotency key makes the change happen at most
once: a repeated call with the same key returns ``None`` and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import uuid4

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from aftershow.accounts.models import User
from aftershow.catalog.models import Sku
from aftershow.inventory.allocation import (
    AllocationResult,
    ReleaseResult,
    backorders_allocate,
    bump_to_backorder,
    fill_backorders_on_commit,
    order_allocate,
    order_deallocate,
    order_lines_allocate,
    order_ship,
    plan_bump,
)
from aftershow.inventory.ledger import (
    StockBusyError,
    StockError,
    apply_deltas,
    level_ids_for,
    lock_in_pk_order,
)
from aftershow.inventory.models import (
    AdjustmentReason,
    AllocationStatus,
    MovementKind,
    StockAllocation,
    StockLevel,
    StockMovement,
    Warehouse,
)
from aftershow.orders.models import Order, OrderLine

__all__ = [
    "AllocationResult",
    "ReleaseResult",
    "StockBusyError",
    "StockError",
    "backorders_allocate",
    "order_allocate",
    "order_deallocate",
    "order_lines_allocate",
    "order_ship",
    "return_damaged",
    "return_restock",
    "stock_adjust",
    "stock_count",
    "stock_expect",
    "stock_receive",
]

# A count that finds less than is allocated bumps the newest allocations, whose orders must be
# locked before the level. If orders arrive between planning and locking, plan again.
_BUMP_ATTEMPTS = 5


@dataclass(frozen=True)
class _Target:
    on_hand: int
    incoming: int


def stock_receive(
    *,
    sku: Sku,
    warehouse: Warehouse,
    quantity: int,
    from_incoming: bool = False,
    key: str | None = None,
    reference: str = "",
    note: str = "",
    by: User | None = None,
    actor_label: str = "system",
) -> StockMovement | None:
    """Goods arrived: on hand grows (and, for an expected delivery, incoming shrinks).

    Waiting backorders of the SKU are filled after the transaction commits.
    """
    if quantity <= 0:
        raise StockError(_("A receipt must add at least one unit."))

    def target(level: StockLevel) -> _Target:
        incoming = max(level.incoming - quantity, 0) if from_incoming else level.incoming
        return _Target(on_hand=level.on_hand + quantity, incoming=incoming)

    return _change(
        sku=sku,
        warehouse=warehouse,
        kind=MovementKind.RECEIPT,
        quantity=quantity,
        target=target,
        key=key,
        reference=reference,
        note=note,
        by=by,
        actor_label=actor_label,
    )


def stock_expect(
    *,
    sku: Sku,
    warehouse: Warehouse,
    quantity: int,
    key: str | None = None,
    reference: str = "",
    note: str = "",
    by: User | None = None,
    actor_label: str = "system",
) -> StockMovement | None:
    """A supplier delivery is on its way (a purchase order): incoming grows, nothing sellable."""
    if quantity <= 0:
        raise StockError(_("An expected delivery must have at least one unit."))
    return _change(
        sku=sku,
        warehouse=warehouse,
        kind=MovementKind.EXPECTED,
        quantity=quantity,
        target=lambda level: _Target(level.on_hand, level.incoming + quantity),
        key=key,
        reference=reference,
        note=note,
        by=by,
        actor_label=actor_label,
    )


def stock_adjust(
    *,
    sku: Sku,
    warehouse: Warehouse,
    quantity: int,
    reason: AdjustmentReason,
    key: str | None = None,
    reference: str = "",
    note: str = "",
    by: User | None = None,
    actor_label: str = "system",
) -> StockMovement | None:
    """Add (or, negative, remove) units on hand for a reason: damage, loss, a find.

    On hand cannot go below zero. If it goes below what is allocated, the newest allocations
    go back to backorder, visibly, rather than promising stock that is not there.
    """
    if quantity == 0:
        raise StockError(_("An adjustment must change the quantity."))

    def target(level: StockLevel) -> _Target:
        if level.on_hand + quantity < 0:
            raise StockError(
                _("Cannot remove %(asked)s: only %(on_hand)s on hand.")
                % {"asked": -quantity, "on_hand": level.on_hand}
            )
        return _Target(on_hand=level.on_hand + quantity, incoming=level.incoming)

    return _change(
        sku=sku,
        warehouse=warehouse,
        kind=MovementKind.ADJUSTMENT,
        quantity=abs(quantity),
        target=target,
        reason=reason,
        key=key,
        reference=reference,
        note=note,
        by=by,
        actor_label=actor_label,
    )


def stock_count(
    *,
    sku: Sku,
    warehouse: Warehouse,
    counted: int,
    key: str | None = None,
    reference: str = "",
    note: str = "",
    by: User | None = None,
    actor_label: str = "system",
) -> StockMovement | None:
    """Set on hand to what was counted; the movement records the difference.

    A count that matches is recorded too (with a zero delta): proof the shelf was checked. A
    count below what is allocated bumps the newest allocations to backorder.
    """
    if counted < 0:
        raise StockError(_("A count cannot be negative."))
    return _change(
        sku=sku,
        warehouse=warehouse,
        kind=MovementKind.COUNT,
        quantity=counted,
        target=lambda level: _Target(on_hand=counted, incoming=level.incoming),
        key=key,
        reference=reference,
        note=note,
        by=by,
        actor_label=actor_label,
    )


def return_restock(
    *,
    order_line_id: int,
    quantity: int,
    key: str,
    note: str = "",
    by: User | None = None,
    actor_label: str = "system",
) -> list[StockMovement]:
    """Returned units in sellable condition go back on hand (a bundle's components do).

    ``quantity`` counts units of the line; ``key`` names the return (e.g. the platform's
    return id; the same key may cover several lines), so a redelivered return notification
    restocks once. Returns the movements written, none for a repeat.
    """
    return _return(
        kind=MovementKind.RETURN_RESTOCK,
        order_line_id=order_line_id,
        quantity=quantity,
        key=key,
        note=note,
        by=by,
        actor_label=actor_label,
    )


def return_damaged(
    *,
    order_line_id: int,
    quantity: int,
    key: str,
    note: str = "",
    by: User | None = None,
    actor_label: str = "system",
) -> list[StockMovement]:
    """Returned units that cannot be sold: recorded in the ledger, nothing added on hand."""
    return _return(
        kind=MovementKind.RETURN_DAMAGED,
        order_line_id=order_line_id,
        quantity=quantity,
        key=key,
        note=note,
        by=by,
        actor_label=actor_label,
    )


class _OrdersChanged(Exception):
    """Allocations appeared between planning a bump and locking: plan again."""


def _change(
    *,
    sku: Sku,
    warehouse: Warehouse,
    kind: MovementKind,
    quantity: int,
    target: Callable[[StockLevel], _Target],
    key: str | None,
    reference: str,
    note: str,
    by: User | None,
    actor_label: str,
    reason: AdjustmentReason | None = None,
) -> StockMovement | None:
    # Without a key from the caller the change is one of a kind (a person's action).
    key = key or f"{kind}:{uuid4().hex}"
    movement = StockMovement(
        sku=sku,
        warehouse=warehouse,
        kind=kind,
        reason=reason or "",
        quantity=quantity,
        reference=reference[:200],
        note=note[:255],
        actor=by,
        actor_label="user" if by is not None else actor_label,
        idempotency_key=key,
    )
    for _attempt in range(_BUMP_ATTEMPTS):
        try:
            with transaction.atomic():
                if not _change_once(movement, target=target):
                    return None
                if movement.on_hand_delta > 0:
                    fill_backorders_on_commit([(sku.pk, warehouse.pk)])
                return movement
        except _OrdersChanged:
            continue
        except IntegrityError:
            # Another worker inserted the same key first (it waited for that commit).
            if StockMovement.objects.filter(idempotency_key=key).exists():
                return None
            raise
    raise StockBusyError(_("Stock kept changing while the count was applied; try again."))


def _change_once(movement: StockMovement, *, target: Callable[[StockLevel], _Target]) -> bool:
    """Apply one change in the caller's transaction; False if the key was already used."""
    if StockMovement.objects.filter(idempotency_key=movement.idempotency_key).exists():
        return False
    pair = (movement.sku_id, movement.warehouse_id)
    level_id = level_ids_for([pair])[pair]
    snapshot = StockLevel.objects.get(pk=level_id)
    planned = plan_bump(level=snapshot, shortfall=snapshot.allocated - target(snapshot).on_hand)
    locked: set[int] = set()
    if planned:
        orders = Order.objects.filter(pk__in={a.order_id for a in planned})
        locked = {order.pk for order in lock_in_pk_order(orders)}
    (level,) = lock_in_pk_order(StockLevel.objects.filter(pk=level_id))
    wanted = target(level)
    victims = plan_bump(level=level, shortfall=level.allocated - wanted.on_hand)
    if any(victim.order_id not in locked for victim in victims):
        raise _OrdersChanged
    movement.on_hand_delta = wanted.on_hand - level.on_hand
    movement.incoming_delta = wanted.incoming - level.incoming
    movement.save()
    # Bumps first: allocated must drop before on hand does, or the check constraint
    # (allocated <= on hand) would reject the intermediate row.
    bump_to_backorder(level=level, victims=victims, actor_label=movement.actor_label)
    apply_deltas(
        level_id=level.pk, on_hand=movement.on_hand_delta, incoming=movement.incoming_delta
    )
    return True


def _return(
    *,
    kind: MovementKind,
    order_line_id: int,
    quantity: int,
    key: str,
    note: str,
    by: User | None,
    actor_label: str,
) -> list[StockMovement]:
    if quantity <= 0:
        raise StockError(_("A return must have at least one unit."))
    line = OrderLine.objects.filter(pk=order_line_id).first()
    if line is None:
        raise StockError(_("Order line %(id)s does not exist.") % {"id": order_line_id})
    with transaction.atomic():
        lock_in_pk_order(Order.objects.filter(pk=line.order_id))
        shipped = list(
            StockAllocation.objects.filter(
                order_line_id=order_line_id, status=AllocationStatus.SHIPPED
            )
            .select_related("order__shop", "order_line", "sku")
            .order_by("sku_id")
        )
        if not shipped:
            raise StockError(_("Nothing was shipped on this line, so nothing can be returned."))
        # One platform return may cover several lines (TikTok sends one line per unit, often
        # of the same SKU): the line is part of the key, or the second line would be a no-op.
        keys = {a.pk: f"{key}:line:{order_line_id}:sku:{a.sku_id}" for a in shipped}
        if StockMovement.objects.filter(idempotency_key__in=keys.values()).exists():
            return []
        for allocation in shipped:
            units = quantity * allocation.units_per_line_unit
            if allocation.returned_quantity + units > allocation.quantity:
                raise StockError(
                    _("%(sku)s: %(units)s returned would exceed the %(shipped)s shipped.")
                    % {
                        "sku": allocation.sku.code,
                        "units": allocation.returned_quantity + units,
                        "shipped": allocation.quantity,
                    }
                )
        restock = kind == MovementKind.RETURN_RESTOCK
        level_of = level_ids_for((a.sku_id, a.warehouse_id) for a in shipped)
        movements = []
        for allocation in sorted(shipped, key=lambda a: level_of[(a.sku_id, a.warehouse_id)]):
            units = quantity * allocation.units_per_line_unit
            if restock:
                apply_deltas(
                    level_id=level_of[(allocation.sku_id, allocation.warehouse_id)], on_hand=units
                )
            allocation.returned_quantity += units
            order = allocation.order
            movements.append(
                StockMovement(
                    sku_id=allocation.sku_id,
                    warehouse_id=allocation.warehouse_id,
                    kind=kind,
                    quantity=units,
                    on_hand_delta=units if restock else 0,
                    order_id=allocation.order_id,
                    order_line_id=allocation.order_line_id,
                    reference=(
                        f"{order.shop.channel}:{order.remote_order_id}:{line.remote_line_id}"
                    ),
                    note=note[:255],
                    actor=by,
                    actor_label="user" if by is not None else actor_label,
                    idempotency_key=keys[allocation.pk],
                )
            )
        StockMovement.objects.bulk_create(movements)
        StockAllocation.objects.bulk_update(shipped, ["returned_quantity"])
        if restock:
            fill_backorders_on_commit((a.sku_id, a.warehouse_id) for a in shipped)
    return movements
