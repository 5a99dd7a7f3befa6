"""Writing a whole batch's rows in a few statements, without a model instance per row.

The burst writes the same kind of change to a thousand rows at a time (labels bought, parcels
shipped, orders moved on with a history row each). Django's ``bulk_create`` and model
instances spend more time preparing those rows in Python than the database spends writing
them, so the hot paths use these instead:

- ``rows_set``: one parameterised ``UPDATE … WHERE pk = %s`` per row through ``executemany``;
  values shared by every row are converted once, plain values (text, integers, booleans) are
  passed as they are, the rest through the field's own ``get_db_prep_save``.
- ``orders_state_move``: ``UPDATE … WHERE id IN (…) AND state = %s RETURNING id,
  platform_status`` (SQLite 3.35+ and PostgreSQL), so the history rows written next are
  exactly the orders this statement moved, whatever another transaction did meanwhile.
- ``order_history_add``: the ``OrderStatusChange`` rows through ``orders.bulk.RowInsert``.

Call them inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import connection, models

from aftershow.orders.bulk import RowInsert
from aftershow.orders.models import ChangeSource, Order, OrderStatusChange

# Field types whose Python values (str, int, bool, None) the drivers take as they are.
_PLAIN_TYPES = frozenset(
    {
        "BigIntegerField",
        "BooleanField",
        "CharField",
        "ForeignKey",
        "IntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SmallIntegerField",
        "TextField",
    }
)
# Ids per ``IN (…)`` list: below every database's parameter limit.
IN_CHUNK = 900


def _concrete(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field) and field.column, name
    return field


def _converter(field: models.Field[Any, Any]) -> Callable[[Any], Any] | None:
    if field.get_internal_type() in _PLAIN_TYPES:
        return None
    return lambda value: field.get_db_prep_save(value, connection)


def rows_set(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[tuple[Any, ...]],
    *,
    constants: Mapping[str, Any] | None = None,
) -> None:
    """``UPDATE model SET fields…, constants… WHERE pk = %s`` for every row of ``rows``,
    each ``(pk, value of fields[0], value of fields[1], …)``."""
    quote = connection.ops.quote_name
    constants = constants or {}
    varying = [_concrete(model, name) for name in fields]
    fixed = [_concrete(model, name) for name in constants]
    fixed_values = [
        field.get_db_prep_save(value, connection)
        for field, value in zip(fixed, constants.values(), strict=True)
    ]
    converters = [(index, convert) for index, f in enumerate(varying) if (convert := _converter(f))]
    assignments = ", ".join(f"{quote(str(field.column))} = %s" for field in (*varying, *fixed))
    meta = model._meta
    # Identifiers from the model's metadata, quoted; every value is a parameter.
    sql = (
        f"UPDATE {quote(meta.db_table)} SET {assignments} "  # noqa: S608
        f"WHERE {quote(str(meta.pk.column))} = %s"
    )
    params = []
    for pk, *values in rows:
        for index, convert in converters:
            if values[index] is not None:
                values[index] = convert(values[index])
        params.append((*values, *fixed_values, pk))
    if params:
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)


def orders_state_move(
    order_ids: Iterable[int], *, from_state: str, to_state: str, now: datetime
) -> list[tuple[int, str]]:
    """Move the orders of ``order_ids`` that are in ``from_state`` to ``to_state``; returns
    ``(order id, platform status)`` of each order moved (by this statement, not another)."""
    quote = connection.ops.quote_name
    ids = sorted(set(order_ids))
    table, key = quote(Order._meta.db_table), quote(str(Order._meta.pk.column))
    state, updated_at, status = (
        quote(str(_concrete(Order, name).column))
        for name in ("state", "updated_at", "platform_status")
    )
    stamp = _concrete(Order, "updated_at").get_db_prep_save(now, connection)
    moved: list[tuple[int, str]] = []
    with connection.cursor() as cursor:
        for start in range(0, len(ids), IN_CHUNK):
            chunk = ids[start : start + IN_CHUNK]
            marks = ", ".join(["%s"] * len(chunk))
            # Identifiers from the model's metadata, quoted; every value is a parameter.
            cursor.execute(
                f"UPDATE {table} SET {state} = %s, {updated_at} = %s "  # noqa: S608
                f"WHERE {key} IN ({marks}) AND {state} = %s RETURNING {key}, {status}",
                [to_state, stamp, *chunk, from_state],
            )
            moved += [(int(pk), str(platform_status)) for pk, platform_status in cursor.fetchall()]
    return moved


def order_history_add(
    moved: Iterable[tuple[int, str]],
    *,
    from_state: str,
    to_state: str,
    reason: str,
    source: str = ChangeSource.SYSTEM,
    actor_id: int | None = None,
) -> None:
    """One ``OrderStatusChange`` per ``(order id, platform status)`` of ``moved`` (the
    platform status does not change: only aftershow's processing state does)."""
    RowInsert(
        OrderStatusChange,
        [
            "order",
            "source",
            "actor",
            "from_status",
            "to_status",
            "from_state",
            "to_state",
            "reason",
        ],
    ).execute(
        (order_id, source, actor_id, status, status, from_state, to_state, reason[:255])
        for order_id, status in moved
    )
