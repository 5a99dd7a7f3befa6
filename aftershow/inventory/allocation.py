"""Orders and stock: allocation at ingest, backorders, cancellations, shipments, returns.

Every function here locks the orders it touches first (``lock_in_pk_order``), then writes
their allocations, then the stock levels in level-pk order: see ``inventory.ledger``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from aftershow.accounts.models import User
from aftershow.catalog.models import BundleComponent, Sku
from aftershow.inventory.ledger import (
    StockError,
    apply_deltas,
    level_ids_for,
    line_key,
    lock_in_pk_order,
    try_allocate,
)
from aftershow.inventory.models import (
    AllocationStatus,
    ChannelWarehouse,
    MovementKind,
    StockAllocation,
    StockLevel,
    StockMovement,
    Warehouse,
)
from aftershow.inventory.order_states import (
    backordered_codes,
    orders_mark_backordered,
    orders_restore_filled,
)
from aftershow.orders.bulk import RowInsert
from aftershow.orders.models import (
    CLOSED_STATUSES,
    Order,
    OrderLine,
)

# The order fields allocation reads (the orders' warehouse, age, state, and the ledger's text).
_ALLOCATION_ORDER_FIELDS = (
    "shop__channel",
    "remote_order_id",
    "platform_status",
    "state",
    "placed_at",
    "remote_warehouse_id",
)


@dataclass
class AllocationResult:
    """What one call did, counted in allocation rows (one per line, one per bundle component)."""

    allocated: int = 0
    backordered: int = 0
    # Rows an earlier call already decided (a redelivery, a repeated poll): left as they were.
    unchanged: int = 0
    # Lines with no master SKU, or orders with no warehouse: stock is not tracked for them.
    untracked_lines: int = 0
    backordered_order_ids: list[int] = field(default_factory=list)


@dataclass
class ReleaseResult:
    released: int = 0
    unchanged: int = 0


def order_allocate(*, order: Order, actor_label: str = "system") -> AllocationResult:
    return order_lines_allocate(order_ids=[order.pk], actor_label=actor_label)


def order_lines_allocate(
    *, order_ids: Sequence[int], actor_label: str = "system", just_inserted: bool = False
) -> AllocationResult:
    """Reserve stock for every line of these orders that has none yet; backorder the rest.

    Idempotent: a line that already has its allocation row is left alone, so a redelivered
    webhook, a repeated poll or a second call changes nothing. Orders the platform has closed
    (shipped, delivered, cancelled) are skipped: their stock has already left or never will.
    Orders on hold (TikTok's remorse hour) do allocate: the units are sold unless cancelled.
    ``just_inserted``: the caller inserted these orders in the current transaction, so no
    allocation row can exist yet and the look-up for them is skipped (the ingest's hot path).
    """
    result = AllocationResult()
    if not order_ids:
        return result
    if not Warehouse.objects.exists():
        # A seller not tracking stock in aftershow (file mode without a warehouse): nothing to
        # allocate, so the orders are neither loaded nor locked (~12 % of a file import's CPU).
        # Two single-table reads: joined, PostgreSQL planned thousands of ids over tables grown
        # inside the import's transaction (no statistics yet) as a scan that ran for minutes.
        open_ids = list(
            Order.objects.filter(pk__in=order_ids)
            .exclude(platform_status__in=CLOSED_STATUSES)
            .values_list("pk", flat=True)
        )
        result.untracked_lines = OrderLine.objects.filter(order_id__in=open_ids).count()
        return result
    with transaction.atomic():
        orders = {
            order.pk: order
            for order in lock_in_pk_order(
                # Only what allocation reads: loading whole orders was most of an ingest's
                # allocation time.
                Order.objects.filter(pk__in=order_ids)
                .select_related("shop")
                .only(*_ALLOCATION_ORDER_FIELDS)
            )
            if order.platform_status not in CLOSED_STATUSES
        }
        warehouse_for = _warehouses_for(orders.values())
        if not warehouse_for:  # no warehouse at all: this seller does not track stock here
            result.untracked_lines = OrderLine.objects.filter(order_id__in=orders).count()
            return result
        existing: set[tuple[int, int]] = (
            set()
            if just_inserted
            else set(
                StockAllocation.objects.filter(order_id__in=orders).values_list(
                    "order_line_id", "sku_id"
                )
            )
        )
        lines = list(
            OrderLine.objects.filter(order_id__in=orders)
            .select_related("sku")
            .only("pk", "order_id", "sku_id", "quantity", "remote_line_id", "sku__is_bundle")
        )
        parts_of = _parts_for(lines)
        wanted: list[StockAllocation] = []
        for line in lines:
            warehouse_id = warehouse_for.get(line.order_id)
            if line.sku_id is None or warehouse_id is None:
                result.untracked_lines += 1
                continue
            for sku_id, per_unit in parts_of[line.pk]:
                if (line.pk, sku_id) in existing:
                    result.unchanged += 1
                elif line.quantity * per_unit > 0:
                    wanted.append(
                        StockAllocation(
                            order=orders[line.order_id],
                            order_line=line,
                            sku_id=sku_id,
                            warehouse_id=warehouse_id,
                            units_per_line_unit=per_unit,
                            quantity=line.quantity * per_unit,
                            status=AllocationStatus.BACKORDERED,
                        )
                    )
        if not wanted:
            return result
        level_of = level_ids_for((a.sku_id, a.warehouse_id) for a in wanted)
        # Level by level in pk order (the lock order); within a level, first come first served.
        wanted.sort(
            key=lambda a: (
                level_of[(a.sku_id, a.warehouse_id)],
                orders[a.order_id].placed_at,
                a.order_id,
                a.order_line_id,
            )
        )
        _reserve(wanted, level_of)
        _allocations_insert(wanted)
        _movements_insert(
            _movement(a, kind=MovementKind.ALLOCATION, actor_label=actor_label)
            for a in wanted
            if a.status == AllocationStatus.ALLOCATED
        )
        short = {a.order_id for a in wanted if a.status == AllocationStatus.BACKORDERED}
        if short:
            orders_mark_backordered(
                [orders[pk] for pk in sorted(short)], skus=backordered_codes(wanted, short)
            )
        result.allocated = sum(a.status == AllocationStatus.ALLOCATED for a in wanted)
        result.backordered = len(wanted) - result.allocated
        result.backordered_order_ids = sorted(short)
    return result


def _reserve(wanted: list[StockAllocation], level_of: dict[tuple[int, int], int]) -> None:
    """Set each allocation's status: the whole level's demand in one UPDATE when it fits."""
    by_level: dict[int, list[StockAllocation]] = defaultdict(list)
    for allocation in wanted:
        by_level[level_of[(allocation.sku_id, allocation.warehouse_id)]].append(allocation)
    for level_id, allocations in by_level.items():
        total = sum(a.quantity for a in allocations)
        if len(allocations) > 1 and try_allocate(level_id=level_id, quantity=total):
            for allocation in allocations:
                allocation.status = AllocationStatus.ALLOCATED
            continue
        # Not all of it: line by line, oldest first, each taking what is left if it fits.
        # Once one misses, only lines that fit what was available then are tried: stock that
        # arrives meanwhile goes to the backorders, oldest first, through backorders_allocate.
        can_fit: int | None = None
        for allocation in allocations:
            if can_fit is not None and allocation.quantity > can_fit:
                continue
            if try_allocate(level_id=level_id, quantity=allocation.quantity):
                allocation.status = AllocationStatus.ALLOCATED
                if can_fit is not None:
                    can_fit -= allocation.quantity
            elif can_fit is None:
                level = StockLevel.objects.get(pk=level_id)
                can_fit = level.on_hand - level.allocated


def order_deallocate(*, order_ids: Sequence[int], actor_label: str = "system") -> ReleaseResult:
    """Release what these orders hold (a cancellation). Shipped units stay shipped: a cancel
    after shipping comes back as a return. Safe to call again."""
    result = ReleaseResult()
    if not order_ids:
        return result
    with transaction.atomic():
        lock_in_pk_order(Order.objects.filter(pk__in=order_ids))
        allocations = list(
            StockAllocation.objects.filter(order_id__in=order_ids).select_related(
                "order__shop", "order_line"
            )
        )
        held = [a for a in allocations if a.status == AllocationStatus.ALLOCATED]
        waiting = [a for a in allocations if a.status == AllocationStatus.BACKORDERED]
        result.unchanged = len(allocations) - len(held) - len(waiting)
        level_of = level_ids_for((a.sku_id, a.warehouse_id) for a in held)
        for allocation in sorted(held, key=lambda a: level_of[(a.sku_id, a.warehouse_id)]):
            apply_deltas(
                level_id=level_of[(allocation.sku_id, allocation.warehouse_id)],
                allocated=-allocation.quantity,
            )
        StockMovement.objects.bulk_create(
            _movement(a, kind=MovementKind.DEALLOCATION, actor_label=actor_label) for a in held
        )
        _set_status(held + waiting, AllocationStatus.RELEASED)
        result.released = len(held) + len(waiting)
        fill_backorders_on_commit({(a.sku_id, a.warehouse_id) for a in held})
    return result


def order_ship(
    *,
    order_id: int,
    line_ids: Collection[int] | None = None,
    by: User | None = None,
    actor_label: str = "system",
) -> int:
    """Stock leaves the building: on hand and allocated both drop. Returns the rows shipped.

    Ships every allocated line of the order, or only ``line_ids``. A backordered line cannot
    ship (there is nothing to put in the box): the call fails and changes nothing. Lines
    already shipped are skipped, so the call is safe to repeat.
    """
    with transaction.atomic():
        lock_in_pk_order(Order.objects.filter(pk=order_id))
        allocations = StockAllocation.objects.filter(order_id=order_id).select_related(
            "order__shop", "order_line", "sku"
        )
        if line_ids is not None:
            allocations = allocations.filter(order_line_id__in=line_ids)
        allocations_list = list(allocations)
        waiting = [a for a in allocations_list if a.status == AllocationStatus.BACKORDERED]
        if waiting:
            raise StockError(
                _("%(sku)s is backordered on this order: there is no stock to ship.")
                % {"sku": waiting[0].sku.code}
            )
        to_ship = [a for a in allocations_list if a.status == AllocationStatus.ALLOCATED]
        level_of = level_ids_for((a.sku_id, a.warehouse_id) for a in to_ship)
        for allocation in sorted(to_ship, key=lambda a: level_of[(a.sku_id, a.warehouse_id)]):
            apply_deltas(
                level_id=level_of[(allocation.sku_id, allocation.warehouse_id)],
                on_hand=-allocation.quantity,
                allocated=-allocation.quantity,
            )
        StockMovement.objects.bulk_create(
            _movement(a, kind=MovementKind.SHIPMENT, actor_label=actor_label, by=by)
            for a in to_ship
        )
        _set_status(to_ship, AllocationStatus.SHIPPED)
    return len(to_ship)


def order_lines_ship(
    *,
    line_ids: Collection[int],
    by: User | None = None,
    actor_label: str = "system",
) -> int:
    """:func:`order_ship` for many orders' lines at once (a scan-to-ship batch), in a handful
    of queries whatever the number of lines. Returns the allocation rows shipped.

    Locks the lines' orders in pk order first, like every function here. A backordered line
    fails the whole call with :class:`StockError` and nothing changes, so callers screen
    backorders out first. Lines already shipped (or never allocated) are skipped: safe to
    repeat. The ledger rows are the ones :func:`order_ship` writes (same keys), built from
    plain values because model instances cost ~1 ms per allocation at 1,000 lines.
    """
    if not line_ids:
        return 0
    with transaction.atomic():
        lock_in_pk_order(
            Order.objects.filter(
                pk__in=OrderLine.objects.filter(pk__in=line_ids).values("order_id")
            ).only("pk")
        )
        # Single-table reads joined here: inside the shipping transaction the tables have
        # grown since PostgreSQL last gathered statistics, and a five-table join over
        # thousands of line ids was planned as nested loops that ran for minutes.
        allocations = list(
            StockAllocation.objects.filter(
                order_line_id__in=line_ids,
                status__in=[AllocationStatus.ALLOCATED, AllocationStatus.BACKORDERED],
            ).values_list(
                "pk",
                "status",
                "sku_id",
                "warehouse_id",
                "quantity",
                "round",
                "order_id",
                "order_line_id",
            )
        )
        sku_code = dict(
            Sku.objects.filter(pk__in={row[2] for row in allocations}).values_list("pk", "code")
        )
        order_of = {
            pk: (channel, remote_id)
            for pk, channel, remote_id in Order.objects.filter(
                pk__in={row[6] for row in allocations}
            ).values_list("pk", "shop__channel", "remote_order_id")
        }
        remote_line = dict(
            OrderLine.objects.filter(pk__in={row[7] for row in allocations}).values_list(
                "pk", "remote_line_id"
            )
        )
        rows = [
            (
                pk,
                status,
                sku_id,
                sku_code[sku_id],
                warehouse_id,
                quantity,
                round_,
                order_id,
                line_id,
                *order_of[order_id],
                remote_line[line_id],
            )
            for pk, status, sku_id, warehouse_id, quantity, round_, order_id, line_id in allocations
        ]
        waiting = [row for row in rows if row[1] == AllocationStatus.BACKORDERED]
        if waiting:
            raise StockError(
                _("%(sku)s is backordered on this order: there is no stock to ship.")
                % {"sku": waiting[0][3]}
            )
        if not rows:
            return 0
        level_of = level_ids_for((row[2], row[4]) for row in rows)
        units: dict[int, int] = defaultdict(int)
        for row in rows:
            units[level_of[(row[2], row[4])]] += row[5]
        for level_id in sorted(units):
            apply_deltas(level_id=level_id, on_hand=-units[level_id], allocated=-units[level_id])
        label = "user" if by is not None else actor_label
        # Plain rows: a model instance per ledger row was half of shipping 1,000 parcels.
        RowInsert(StockMovement, _MOVEMENT_COLUMNS).execute(
            (
                sku_id,
                warehouse_id,
                MovementKind.SHIPMENT.value,
                quantity,
                -quantity,
                -quantity,
                order_id,
                line_id,
                f"{channel}:{remote_order_id}:{remote_line_id}",
                by.pk if by is not None else None,
                label,
                line_key(line_id=line_id, sku_id=sku_id, kind=MovementKind.SHIPMENT, round_=round_),
            )
            for (
                _pk,
                _status,
                sku_id,
                _code,
                warehouse_id,
                quantity,
                round_,
                order_id,
                line_id,
                channel,
                remote_order_id,
                remote_line_id,
            ) in rows
        )
        # One UPDATE instead of bulk_update's CASE per row; the status filter makes it exact.
        shipped = StockAllocation.objects.filter(
            pk__in=[row[0] for row in rows], status=AllocationStatus.ALLOCATED
        ).update(status=AllocationStatus.SHIPPED, updated_at=timezone.now())
        if shipped != len(rows):
            raise StockError(f"{len(rows) - shipped} allocations changed while shipping")
    return shipped


def backorders_allocate(
    *, sku_id: int, warehouse_id: int | None = None, actor_label: str = "system"
) -> AllocationResult:
    """Give stock that has arrived to backordered lines of this SKU, oldest order first.

    Orders whose last backordered line gets its stock go back to the processing state they
    had before. Safe to call at any time and from several workers at once.
    """
    result = AllocationResult()
    waiting = StockAllocation.objects.filter(sku_id=sku_id, status=AllocationStatus.BACKORDERED)
    if warehouse_id is not None:
        waiting = waiting.filter(warehouse_id=warehouse_id)
    available = {
        level.warehouse_id: level.available
        for level in StockLevel.objects.filter(
            sku_id=sku_id, warehouse_id__in=waiting.values("warehouse_id")
        )
    }
    # A first, unlocked pass only picks which orders to lock; the conditional updates below
    # decide. Stock that appears between the two passes is picked up by the next call.
    candidates: list[int] = []
    left = {warehouse: units for warehouse, units in available.items() if units > 0}
    oldest_first = waiting.order_by("order__placed_at", "order_id", "pk").values_list(
        "pk", "warehouse_id", "quantity"
    )
    if not left:
        return result
    for pk, warehouse, quantity in oldest_first.iterator(chunk_size=500):
        if quantity <= left.get(warehouse, 0):
            left[warehouse] -= quantity
            candidates.append(pk)
            if not any(left.values()):
                break
    if not candidates:
        return result
    with transaction.atomic():
        of_candidates = StockAllocation.objects.filter(pk__in=candidates).values("order_id")
        orders = {
            order.pk: order
            for order in lock_in_pk_order(Order.objects.filter(pk__in=of_candidates))
        }
        # Re-read under the order locks: a cancellation may have released some meanwhile.
        fresh = list(
            StockAllocation.objects.filter(pk__in=candidates, status=AllocationStatus.BACKORDERED)
            .select_related("order__shop", "order_line")
            .order_by("order__placed_at", "order_id", "pk")
        )
        level_of = level_ids_for((a.sku_id, a.warehouse_id) for a in fresh)
        filled: list[StockAllocation] = []
        for allocation in sorted(fresh, key=lambda a: level_of[(a.sku_id, a.warehouse_id)]):
            level_id = level_of[(allocation.sku_id, allocation.warehouse_id)]
            if try_allocate(level_id=level_id, quantity=allocation.quantity):
                filled.append(allocation)
        StockMovement.objects.bulk_create(
            _movement(a, kind=MovementKind.ALLOCATION, actor_label=actor_label) for a in filled
        )
        _set_status(filled, AllocationStatus.ALLOCATED)
        orders_restore_filled([orders[pk] for pk in sorted({a.order_id for a in filled})])
        result.allocated = len(filled)
        result.backordered = len(fresh) - len(filled)
    return result


def plan_bump(*, level: StockLevel, shortfall: int) -> list[StockAllocation]:
    """The newest allocations on a level that together free at least ``shortfall`` units.

    Newest first: when a count comes up short, the last orders in lose their stock, as they
    would have had the count been right all along.
    """
    victims: list[StockAllocation] = []
    freed = 0
    if shortfall <= 0:
        return victims
    newest_first = StockAllocation.objects.filter(
        sku_id=level.sku_id, warehouse_id=level.warehouse_id, status=AllocationStatus.ALLOCATED
    ).order_by("-order__placed_at", "-order_id", "-pk")
    related = newest_first.select_related("order__shop", "order_line", "sku")
    for allocation in related.iterator(chunk_size=100):
        victims.append(allocation)
        freed += allocation.quantity
        if freed >= shortfall:
            break
    return victims


def bump_to_backorder(
    *, level: StockLevel, victims: list[StockAllocation], actor_label: str
) -> None:
    """Move allocations back to backorder (their orders and ``level`` must be locked)."""
    if not victims:
        return
    apply_deltas(level_id=level.pk, allocated=-sum(a.quantity for a in victims))
    for allocation in victims:
        allocation.round += 1
    StockMovement.objects.bulk_create(
        _movement(a, kind=MovementKind.BACKORDER, actor_label=actor_label, round_=a.round - 1)
        for a in victims
    )
    _set_status(victims, AllocationStatus.BACKORDERED, fields=("status", "round", "updated_at"))
    codes: dict[int, list[str]] = defaultdict(list)
    for allocation in victims:
        codes[allocation.order_id].append(allocation.sku.code)
    orders = Order.objects.filter(pk__in=codes).order_by("pk")
    orders_mark_backordered(list(orders), skus=codes)


def fill_backorders_on_commit(pairs: Iterable[tuple[int, int]]) -> None:
    """After this transaction commits, give freed stock to waiting backorders.

    Not in the same transaction: filling locks other orders, and taking order locks after a
    level lock would break the lock order (and could deadlock against an ingest).
    """
    pairs = set(pairs)
    if not pairs:
        return
    condition = Q()
    for sku_id, warehouse_id in pairs:
        condition |= Q(sku_id=sku_id, warehouse_id=warehouse_id)
    waiting = (
        StockAllocation.objects.filter(condition, status=AllocationStatus.BACKORDERED)
        .values_list("sku_id", "warehouse_id")
        .distinct()
    )
    for sku_id, warehouse_id in sorted(waiting):
        transaction.on_commit(
            partial(backorders_allocate, sku_id=sku_id, warehouse_id=warehouse_id)
        )


def _warehouses_for(orders: Iterable[Order]) -> dict[int, int]:
    """Warehouse per order: the shop's mapping of the platform's warehouse id, else the default.

    An order that resolves to none (no mapping, no default warehouse: a seller not tracking
    stock in aftershow) is left out, and its lines are not allocated.
    """
    orders = list(orders)
    remote_ids = {order.remote_warehouse_id for order in orders if order.remote_warehouse_id}
    mapped = (
        {
            (shop_id, remote_id): warehouse_id
            for shop_id, remote_id, warehouse_id in ChannelWarehouse.objects.filter(
                shop_id__in={order.shop_id for order in orders}, remote_warehouse_id__in=remote_ids
            ).values_list("shop_id", "remote_warehouse_id", "warehouse_id")
        }
        if remote_ids
        else {}
    )
    default = Warehouse.objects.filter(is_default=True).values_list("pk", flat=True).first()
    found: dict[int, int] = {}
    for order in orders:
        warehouse_id = mapped.get((order.shop_id, order.remote_warehouse_id), default)
        if warehouse_id is not None:
            found[order.pk] = warehouse_id
    return found


def _parts_for(lines: list[OrderLine]) -> dict[int, list[tuple[int, int]]]:
    """(SKU id, units per line unit) per line: a bundle's components, else the line's SKU.

    A bundle SKU without components deducts itself (a kit stocked pre-assembled) rather than
    nothing, which would oversell silently.
    """
    bundle_ids = {line.sku_id for line in lines if line.sku is not None and line.sku.is_bundle}
    components: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for bundle_id, component_id, quantity in (
        BundleComponent.objects.filter(bundle_id__in=bundle_ids)
        .order_by("component_id")
        .values_list("bundle_id", "component_id", "quantity")
        if bundle_ids
        else ()
    ):
        components[bundle_id].append((component_id, quantity))
    parts: dict[int, list[tuple[int, int]]] = {}
    for line in lines:
        if line.sku_id is not None:
            parts[line.pk] = components.get(line.sku_id) or [(line.sku_id, 1)]
    return parts


def _movement(
    allocation: StockAllocation,
    *,
    kind: MovementKind,
    actor_label: str,
    by: User | None = None,
    round_: int | None = None,
) -> StockMovement:
    quantity = allocation.quantity
    deltas = {
        MovementKind.ALLOCATION: (0, quantity),
        MovementKind.DEALLOCATION: (0, -quantity),
        MovementKind.BACKORDER: (0, -quantity),
        MovementKind.SHIPMENT: (-quantity, -quantity),
    }
    on_hand_delta, allocated_delta = deltas[kind]
    line, order = allocation.order_line, allocation.order
    return StockMovement(
        sku_id=allocation.sku_id,
        warehouse_id=allocation.warehouse_id,
        kind=kind,
        quantity=quantity,
        on_hand_delta=on_hand_delta,
        allocated_delta=allocated_delta,
        order_id=allocation.order_id,
        order_line_id=allocation.order_line_id,
        # Readable by support: which channel's order and line this was.
        reference=f"{order.shop.channel}:{order.remote_order_id}:{line.remote_line_id}",
        actor=by,
        actor_label="user" if by is not None else actor_label,
        idempotency_key=line_key(
            line_id=allocation.order_line_id,
            sku_id=allocation.sku_id,
            kind=kind,
            round_=allocation.round if round_ is None else round_,
        ),
    )


_ALLOCATION_COLUMNS = (
    "order",
    "order_line",
    "sku",
    "warehouse",
    "units_per_line_unit",
    "quantity",
    "status",
)
_MOVEMENT_COLUMNS = (
    "sku",
    "warehouse",
    "kind",
    "quantity",
    "on_hand_delta",
    "allocated_delta",
    "order",
    "order_line",
    "reference",
    "actor",
    "actor_label",
    "idempotency_key",
)


def _allocations_insert(allocations: list[StockAllocation]) -> None:
    """New allocation rows as plain rows (``RowInsert``): ``bulk_create``'s per-field
    preparation was a large part of an ingest's allocation time. Their pks are not needed."""
    RowInsert(StockAllocation, _ALLOCATION_COLUMNS).execute(
        (
            a.order_id,
            a.order_line_id,
            a.sku_id,
            a.warehouse_id,
            a.units_per_line_unit,
            a.quantity,
            a.status,
        )
        for a in allocations
    )


def _movements_insert(movements: Iterable[StockMovement]) -> None:
    """Ledger rows as plain rows, like :func:`_allocations_insert` (a duplicate key still
    fails the whole statement: the unique constraint is the database's)."""
    RowInsert(StockMovement, _MOVEMENT_COLUMNS).execute(
        (
            m.sku_id,
            m.warehouse_id,
            m.kind,
            m.quantity,
            m.on_hand_delta,
            m.allocated_delta,
            m.order_id,
            m.order_line_id,
            m.reference,
            m.actor_id,
            m.actor_label,
            m.idempotency_key,
        )
        for m in movements
    )


def _set_status(
    allocations: list[StockAllocation],
    status: AllocationStatus,
    fields: tuple[str, ...] = ("status", "updated_at"),
) -> None:
    now = timezone.now()
    for allocation in allocations:
        allocation.status = status
        allocation.updated_at = now
    StockAllocation.objects.bulk_update(allocations, fields)
