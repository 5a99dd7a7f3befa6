"""The inventory app's primitives: the one lock helper, level rows, ledger keys, errors.

Lock order, everywhere in this app (and it is what ``orders_upsert`` already does): order rows
first, in primary-key order; then the allocations of those orders (written only under their
order's lock); then stock levels, in primary-key order. Two transactions that follow the same
order cannot deadlock. A plain allocation takes no explicit level lock at all: its conditional
``UPDATE … WHERE on_hand - allocated >= n`` locks the row for the rest of the transaction, which
is why callers apply level updates sorted by level pk.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from django.db import connection, models
from django.db.models import F, QuerySet
from django.utils import timezone

from aftershow.alerts.hooks import stock_changed
from aftershow.inventory.models import MovementKind, StockLevel
from aftershow.stocksync.marks import stock_levels_changed

ModelT = TypeVar("ModelT", bound=models.Model)


class StockError(Exception):
    """A stock change that cannot be made as asked (terminal: retrying changes nothing)."""


class StockBusyError(StockError):
    """Stock moved while a count was being applied, several times over: try again later."""


def lock_in_pk_order(queryset: QuerySet[ModelT]) -> list[ModelT]:
    """Lock the rows of ``queryset`` for the rest of the transaction, in primary-key order.

    The only place this app takes explicit row locks. ``of=("self",)`` keeps PostgreSQL from
    locking joined rows too. SQLite ignores ``FOR UPDATE``: its IMMEDIATE transactions already
    serialise writers.
    """
    return list(queryset.select_for_update(of=("self",)).order_by("pk"))


def level_ids_for(pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """Level pk per (sku id, warehouse id), creating empty levels that do not exist yet.

    ``ignore_conflicts`` makes creation race-free: when two workers create the same level, one
    insert wins and the other is a no-op, and both then read the same row.
    """
    wanted = set(pairs)
    if not wanted:
        return {}
    sku_ids = {sku_id for sku_id, _ in wanted}
    warehouse_ids = {warehouse_id for _, warehouse_id in wanted}
    found = _level_ids(sku_ids, warehouse_ids, wanted)
    missing = wanted - found.keys()
    if missing:
        StockLevel.objects.bulk_create(
            [StockLevel(sku_id=sku_id, warehouse_id=wh_id) for sku_id, wh_id in sorted(missing)],
            ignore_conflicts=True,
        )
        found = _level_ids(sku_ids, warehouse_ids, wanted)
    return found


def _level_ids(
    sku_ids: set[int], warehouse_ids: set[int], wanted: set[tuple[int, int]]
) -> dict[tuple[int, int], int]:
    rows = StockLevel.objects.filter(sku_id__in=sku_ids, warehouse_id__in=warehouse_ids)
    return {
        (sku_id, wh_id): pk
        for pk, sku_id, wh_id in rows.values_list("pk", "sku_id", "warehouse_id")
        if (sku_id, wh_id) in wanted
    }


def try_allocate(*, level_id: int, quantity: int) -> bool:
    """Reserve ``quantity`` if that much is available, in one conditional UPDATE.

    The database evaluates the condition on the row it updates (PostgreSQL re-checks it on the
    newest version after waiting for a concurrent writer), so two workers can never both take
    the last unit. Returns whether the units were reserved.
    """
    # Plain SQL: this runs once per order at ingest, and building the ORM's UPDATE cost
    # several times the statement itself (``benchmarks/sync.py``, allocation throughput).
    table = connection.ops.quote_name(StockLevel._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET allocated = allocated + %s, updated_at = %s "  # noqa: S608 - quoted name, bound values
            "WHERE id = %s AND on_hand >= allocated + %s",
            [
                quantity,
                connection.ops.adapt_datetimefield_value(timezone.now()),
                level_id,
                quantity,
            ],
        )
        reserved: int = cursor.rowcount
    if reserved == 1:
        stock_levels_changed(level_ids=[level_id])  # the channels' quantities follow
        stock_changed()  # stock alerts are evaluated after the commit
    return reserved == 1


def apply_deltas(*, level_id: int, on_hand: int = 0, allocated: int = 0, incoming: int = 0) -> None:
    """Add the deltas to a level with ``F()`` expressions; the check constraints guard the result.

    Callers compute deltas that keep the level valid; if one ever did not, the constraint
    violation rolls the whole change (ledger row included) back rather than store a bad level.
    """
    changed = StockLevel.objects.filter(pk=level_id).update(
        on_hand=F("on_hand") + on_hand,
        allocated=F("allocated") + allocated,
        incoming=F("incoming") + incoming,
        updated_at=timezone.now(),
    )
    if changed != 1:
        raise StockError(f"stock level {level_id} does not exist")
    if on_hand or allocated:
        stock_levels_changed(level_ids=[level_id])  # the channels' quantities follow
        stock_changed()  # stock alerts are evaluated after the commit


def line_key(*, line_id: int, sku_id: int, kind: MovementKind, round_: int = 0) -> str:
    """The ledger key of what happened to one order line's SKU.

    The order line's primary key stands for channel, shop, order and line: the line row is
    unique on (order, remote line id) and the order on (shop, remote order id). ``round_`` tells
    a second allocation of the same line (after a short count bumped it) from the first.
    """
    key = f"line:{line_id}:sku:{sku_id}:{kind}"
    return f"{key}:{round_}" if round_ else key
