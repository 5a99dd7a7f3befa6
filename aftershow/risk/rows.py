"""Writing release's and screening's many rows in one ``executemany`` each.

A 1,000-order burst writes about 2,000 history rows and 1,000 release rows. Django's
``bulk_create`` builds a model instance per row and compiles every field of every row in Python
(``pre_save``, ``get_db_prep_save``, one placeholder each): more CPU than deciding the orders.
These rows are plain strings and ids plus one timestamp, so they go to the driver as tuples; the
timestamp is converted once by its field, as Django would. Call them inside a transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db import connection, models

from aftershow.orders.models import ChangeSource, OrderStatusChange
from aftershow.risk.models import OrderRelease

# (order id, from state, to state, reason): the reason already cut to the column's 255.
StateChange = tuple[int, str, str, str]
# (order id, hold kind, combine key, released at or None).
ReleaseRow = tuple[int, str, str, datetime | None]


def _columns(model: type[models.Model], names: Sequence[str]) -> tuple[str, str]:
    quote = connection.ops.quote_name
    columns = []
    for name in names:
        field = model._meta.get_field(name)
        assert isinstance(field, models.Field) and field.column, name
        columns.append(quote(str(field.column)))
    return quote(model._meta.db_table), ", ".join(columns)


def _db_value(model: type[models.Model], name: str, value: object) -> Any:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field), name
    return field.get_db_prep_save(value, connection)


def status_changes_insert(
    *,
    changes: Iterable[StateChange],
    source: ChangeSource,
    actor_id: int | None,
    at: datetime,
) -> int:
    """Append ``OrderStatusChange`` rows (the same as ``bulk_create`` of instances with these
    values, ``at`` for all of them); returns how many."""
    fields = ("order", "at", "source", "actor", "from_status", "to_status")
    table, columns = _columns(OrderStatusChange, (*fields, "from_state", "to_state", "reason"))
    head = (_db_value(OrderStatusChange, "at", at), str(source), actor_id, "", "")
    rows = [
        (order_id, *head, str(before), str(after), reason)
        for order_id, before, after, reason in changes
    ]
    if not rows:
        return 0
    # Identifiers come from the model's metadata, quoted; every value is a parameter.
    sql = f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
    return len(rows)


def releases_upsert(rows: Iterable[ReleaseRow]) -> None:
    """Insert or update ``OrderRelease`` rows: kind, combine key and release time are set,
    ``screened_at`` is left as it is (NULL on a new row). The statement Django's
    ``bulk_create(update_conflicts=True)`` sends on SQLite and PostgreSQL, without it."""
    names = ("order", "hold_kind", "combine_key", "released_at")
    table, columns = _columns(OrderRelease, names)
    key, *changed = columns.split(", ")
    updated = ", ".join(f"{column} = EXCLUDED.{column}" for column in changed)
    converted: dict[datetime | None, Any] = {}
    params = []
    for order_id, kind, combine_key, released_at in rows:
        if released_at not in converted:
            converted[released_at] = _db_value(OrderRelease, "released_at", released_at)
        params.append((order_id, str(kind), combine_key, converted[released_at]))
    if not params:
        return
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s) "  # noqa: S608
        f"ON CONFLICT ({key}) DO UPDATE SET {updated}"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def releases_mark_screened(*, order_ids: Sequence[int], at: datetime) -> None:
    """Set ``screened_at`` on the orders' ``OrderRelease`` rows, creating the missing ones
    (not held, no combine key): one statement where a read, an insert and an update were."""
    names = ("order", "hold_kind", "combine_key", "screened_at")
    table, columns = _columns(OrderRelease, names)
    key, *_others, screened = columns.split(", ")
    if not order_ids:
        return
    screened_at = _db_value(OrderRelease, "screened_at", at)
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s) "  # noqa: S608
        f"ON CONFLICT ({key}) DO UPDATE SET {screened} = EXCLUDED.{screened}"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(order_id, "", "", screened_at) for order_id in order_ids])
