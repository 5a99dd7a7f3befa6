"""Fast inserts for the ingest path: rows prepared once, executed through Django's connection.

``bulk_create`` spends most of an ingest's time preparing values field by field (a method call
per value through ``get_db_prep_save``) and instantiating models; for the ingest's plain
columns (text, numbers, booleans, foreign keys) the driver takes the value as it is, so only
datetimes and decimals go through the backend's adapter (other types through Django's
field preparation), once per value. The SQL
is standard (``INSERT … VALUES``, ``RETURNING``, ``ON CONFLICT DO NOTHING``) and runs on SQLite
(3.35+) and PostgreSQL alike, inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

Converter = Callable[[Any], Any]

# Field types whose Python value the drivers accept as it is (Django's own preparation of them
# is an identity for the values the ingest hands over: str, int, bool, None).
_PLAIN_TYPES = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "BigIntegerField",
        "BooleanField",
        "CharField",
        "ForeignKey",
        "IntegerField",
        "PositiveBigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SmallIntegerField",
        "TextField",
    }
)
# Rows per multi-row INSERT: well under SQLite's variable limit and PostgreSQL's 65,535
# parameters for the widest table written here (orders, 40 columns).
_MAX_PARAMS = 30_000


def _converter(field: models.Field[Any, Any], db: BaseDatabaseWrapper) -> Converter | None:
    """How a value of this field becomes a driver value; None when it already is one.

    The backend's adapters are looked up once, here: reaching them through the connection
    proxy for every value costs more than the adaptation itself.
    """
    internal = field.get_internal_type()
    if internal in _PLAIN_TYPES:
        return None
    if internal == "DateTimeField":
        adapt: Converter = db.ops.adapt_datetimefield_value
        return adapt
    if internal == "DecimalField":
        adapt_decimal = db.ops.adapt_decimalfield_value
        decimal_field: Any = field
        digits, places = decimal_field.max_digits, decimal_field.decimal_places
        return lambda value: adapt_decimal(value, digits, places)
    # Anything else (IP addresses, which Django normalises) takes Django's own path.
    return lambda value: field.get_db_prep_save(value, db)


class RowInsert:
    """An INSERT of ``names`` into ``model``'s table; every other column gets its default.

    ``auto_now``/``auto_now_add`` columns not named are set to one timestamp per statement.
    Rows are tuples in the order of ``names``.
    """

    def __init__(self, model: type[models.Model], names: Sequence[str]) -> None:
        meta = model._meta
        self.db = db = connections[DEFAULT_DB_ALIAS]
        self.table = meta.db_table
        named = [meta.get_field(name) for name in names]
        self.named: list[models.Field[Any, Any]] = [
            field for field in named if isinstance(field, models.Field)
        ]
        self.others = [
            field
            for field in meta.concrete_fields
            if not field.primary_key and field not in self.named
        ]
        self.converters = [
            (index, converter)
            for index, field in enumerate(self.named)
            if (converter := _converter(field, db)) is not None
        ]
        # Concrete fields always have a column.
        columns = [field.column for field in (*self.named, *self.others) if field.column]
        quote = db.ops.quote_name
        # Identifiers from the model's metadata, quoted; the values are always parameters.
        self.head = f"INSERT INTO {quote(self.table)} ({', '.join(map(quote, columns))}) VALUES "  # noqa: S608
        self.placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
        self.pk_column = quote(meta.pk.column) if meta.pk is not None and meta.pk.column else ""

    def _tail(self) -> tuple[Any, ...]:
        now = timezone.now()
        values = []
        for field in self.others:
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                value: Any = now
            else:
                value = field.get_default()
            values.append(field.get_db_prep_save(value, self.db))
        return tuple(values)

    def _prepared(self, rows: Iterable[Sequence[Any]]) -> list[tuple[Any, ...]]:
        tail = self._tail()
        converters = self.converters
        prepared = []
        for row in rows:
            values = list(row)
            for index, convert in converters:
                value = values[index]
                if value is not None:
                    values[index] = convert(value)
            prepared.append((*values, *tail))
        return prepared

    def execute(self, rows: Iterable[Sequence[Any]], *, ignore_conflicts: bool = False) -> None:
        prepared = self._prepared(rows)
        if not prepared:
            return
        sql = self.head + self.placeholders
        if ignore_conflicts:
            sql += " ON CONFLICT DO NOTHING"
        with self.db.cursor() as cursor:
            cursor.executemany(sql, prepared)

    def execute_returning_ids(self, rows: Iterable[Sequence[Any]]) -> list[int]:
        """Insert the rows and return their primary keys, in the order of ``rows``.

        One statement per chunk; the ids are sorted rather than taken in ``RETURNING`` order
        (which SQLite does not promise): both SQLite's rowids and PostgreSQL's sequence hand
        the rows of one statement increasing ids in the order of its ``VALUES`` list.
        """
        prepared = self._prepared(rows)
        if not prepared:
            return []
        width = len(prepared[0])
        per_statement = max(1, _MAX_PARAMS // width)
        ids: list[int] = []
        with self.db.cursor() as cursor:
            for start in range(0, len(prepared), per_statement):
                chunk = prepared[start : start + per_statement]
                sql = self.head + ", ".join([self.placeholders] * len(chunk))
                sql += f" RETURNING {self.pk_column}"
                cursor.execute(sql, [value for row in chunk for value in row])
                returned = sorted(row[0] for row in cursor.fetchall())
                if len(returned) != len(chunk):
                    raise RuntimeError(f"{self.table}: {len(returned)} ids for {len(chunk)} rows")
                ids.extend(returned)
        return ids
