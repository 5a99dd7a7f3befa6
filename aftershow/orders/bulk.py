"""Fast inserts for the ingest path: rows prepared once, written the way each database takes
many rows fastest.

``bulk_create`` spends most of an ingest's time preparing values field by field (a method call
per value through ``get_db_prep_save``) and instantiating models; for the ingest's plain
columns (text, numbers, booleans, foreign keys, decimals) the driver takes the value as it is,
so only datetimes on SQLite are converted (to the naive UTC text Django stores), and other types
go through Django's field preparation, once per value.

- SQLite: ``executemany`` of one-row INSERTs. When the new ids are needed they are read back
  with ``last_insert_rowid()``: inside a transaction the connection holds SQLite's only write
  lock, so the rows of one ``executemany`` get consecutive rowids (one above the largest, the
  documented rowid choice), which is checked with a count. This replaced multi-row
  ``INSERT … VALUES … RETURNING``: Django's SQLite cursor rewrites every ``%s`` of a statement
  with a regular expression, about 10 ms for a 30,000-placeholder INSERT, and SQLite parses it.
- PostgreSQL: ``COPY … FROM STDIN``. Django's psycopg cursor binds parameters on the client,
  which for a multi-row INSERT means parsing a statement of tens of thousands of placeholders
  in Python, and ``executemany`` sends one statement per row for the server to parse and plan:
  the 100,000-row import spent minutes there. COPY streams the rows (formatted by psycopg's C
  code) through one statement. New ids are drawn from the table's sequence first and written
  with the rows. ``ON CONFLICT DO NOTHING`` (which COPY cannot do) is one
  ``INSERT … SELECT FROM unnest(array, …)`` with one array parameter per column.

Rows can also be converted ahead, elsewhere (``converted``; the file import's reader process
does it) and handed over with ``converted=True``: on SQLite decimals then travel as the text
the driver would bind for them (Django registers ``str`` as sqlite3's adapter for ``Decimal``),
which pickles far smaller and faster than ``Decimal`` objects.

Everything runs inside the caller's transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from datetime import tzinfo
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.operations import BaseDatabaseOperations
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


def _sqlite_datetime(db: BaseDatabaseWrapper) -> Converter:
    """Django's SQLite adaptation of an aware datetime (naive text in the connection's zone),
    without its per-value settings and proxy look-ups; anything else takes Django's path."""
    adapt: Converter = db.ops.adapt_datetimefield_value
    zone: tzinfo | None = db.timezone if settings.USE_TZ else None
    if zone is None:
        return adapt

    def convert(value: Any) -> Any:
        value_zone = getattr(value, "tzinfo", None)
        if value_zone is None:
            return adapt(value)
        if value_zone is zone:
            # Already in the connection's zone (UTC, as aftershow stores every time): the same
            # text without the offset's six characters ("+00:00"); astimezone() and replace()
            # cost twice as much as the formatting.
            return value.isoformat(" ")[:-6]
        return str(value.astimezone(zone).replace(tzinfo=None))

    return convert


def _converter(field: models.Field[Any, Any], db: BaseDatabaseWrapper) -> Converter | None:
    """How a value of this field becomes a driver value; None when it already is one.

    The backend's adapters are looked up once, here: reaching them through the connection
    proxy for every value costs more than the adaptation itself.
    """
    internal = field.get_internal_type()
    if internal in _PLAIN_TYPES:
        return None
    if internal == "DateTimeField":
        if db.vendor == "postgresql":
            return None  # psycopg adapts aware datetimes itself (Django's adapter is identity)
        if db.vendor == "sqlite":
            return _sqlite_datetime(db)
        adapt: Converter = db.ops.adapt_datetimefield_value
        return adapt
    if internal == "DecimalField":
        if type(db.ops).adapt_decimalfield_value is BaseDatabaseOperations.adapt_decimalfield_value:
            return None  # identity: the drivers adapt Decimal themselves
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
        # For rows converted ahead: also decimals, on SQLite, into the text the driver binds.
        self.ahead_converters = list(self.converters)
        if db.vendor == "sqlite":
            self.ahead_converters += [
                (index, str)
                for index, field in enumerate(self.named)
                if field.get_internal_type() == "DecimalField"
            ]
        self.fields = [*self.named, *self.others]
        # Concrete fields always have a column.
        self.columns = [field.column for field in self.fields if field.column]
        quote = self.quote = db.ops.quote_name
        # Identifiers from the model's metadata, quoted; the values are always parameters.
        self.head = f"INSERT INTO {quote(self.table)} ({', '.join(map(quote, self.columns))}) "
        self.placeholders = "(" + ", ".join(["%s"] * len(self.columns)) + ")"
        self.pk_column = meta.pk.column if meta.pk is not None and meta.pk.column else ""

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

    def converted(self, row: Sequence[Any]) -> tuple[Any, ...]:
        """The leading values of a row (the first ``len(row)`` names) as the driver takes them,
        for ``execute(..., converted=True)`` later, possibly in another process. The values
        left for later must be of plain types (ids, text, numbers)."""
        values = list(row)
        size = len(values)
        for index, convert in self.ahead_converters:
            if index < size:
                value = values[index]
                if value is not None:
                    values[index] = convert(value)
        return tuple(values)

    def _prepared(
        self, rows: Iterable[Sequence[Any]], *, converted: bool = False
    ) -> list[tuple[Any, ...]]:
        tail = self._tail()
        converters = [] if converted else self.converters
        if not converters:
            return [(*row, *tail) for row in rows]
        prepared = []
        for row in rows:
            values = list(row)
            for index, convert in converters:
                value = values[index]
                if value is not None:
                    values[index] = convert(value)
            prepared.append((*values, *tail))
        return prepared

    @property
    def _is_postgresql(self) -> bool:
        return self.db.vendor == "postgresql"

    def execute(
        self,
        rows: Iterable[Sequence[Any]],
        *,
        ignore_conflicts: bool = False,
        converted: bool = False,
    ) -> None:
        prepared = self._prepared(rows, converted=converted)
        if not prepared:
            return
        if self._is_postgresql:
            if ignore_conflicts:
                self._unnest(prepared, " ON CONFLICT DO NOTHING")
            else:
                self._copy(self.columns, prepared)
            return
        sql = self.head + "VALUES " + self.placeholders
        if ignore_conflicts:
            sql += " ON CONFLICT DO NOTHING"
        with self.db.cursor() as cursor:
            cursor.executemany(sql, prepared)

    def execute_returning_ids(
        self, rows: Iterable[Sequence[Any]], *, converted: bool = False
    ) -> list[int]:
        """Insert the rows and return their primary keys, in the order of ``rows``.

        SQLite: one ``executemany`` inside a transaction (the caller's, else its own), whose
        rows get consecutive rowids ending at ``last_insert_rowid()``; checked by counting
        them. PostgreSQL: ids drawn from the table's sequence, in increasing order, then
        written with the rows by COPY.
        """
        prepared = self._prepared(rows, converted=converted)
        if not prepared:
            return []
        if self._is_postgresql:
            new_ids = self._next_ids(len(prepared))
            self._copy(
                [self.pk_column, *self.columns],
                [(pk, *row) for pk, row in zip(new_ids, prepared, strict=True)],
            )
            return new_ids
        count = len(prepared)
        pk = self.quote(self.pk_column)
        # Identifiers from the model's metadata, quoted; the values are parameters.
        check = f"SELECT COUNT(*) FROM {self.quote(self.table)} WHERE {pk} BETWEEN %s AND %s"  # noqa: S608
        with transaction.atomic(using=self.db.alias, savepoint=False), self.db.cursor() as cursor:
            cursor.executemany(self.head + "VALUES " + self.placeholders, prepared)
            cursor.execute("SELECT last_insert_rowid()")
            last = cursor.fetchone()[0]
            first = last - count + 1
            cursor.execute(check, [first, last])
            if cursor.fetchone()[0] != count:
                raise RuntimeError(f"{self.table}: the {count} new rows' ids are not consecutive")
        return list(range(first, last + 1))

    # -- PostgreSQL --------------------------------------------------------------------------

    def _next_ids(self, count: int) -> list[int]:
        with self.db.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [self.quote(self.table), self.pk_column, count],
            )
            ids = sorted(row[0] for row in cursor.fetchall())
        if len(ids) != count:
            raise RuntimeError(f"{self.table}: {len(ids)} ids for {count} rows")
        return ids

    def _copy(self, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        sql = f"COPY {self.quote(self.table)} ({', '.join(map(self.quote, columns))}) FROM STDIN"
        started = time.monotonic()
        # COPY is not a statement Django's cursor wrapper runs: the psycopg cursor does, with
        # the driver's errors turned into Django's (a unique violation is the IntegrityError
        # that ``orders_upsert`` retries on) as Django's wrapper would.
        with (
            self.db.cursor() as cursor,
            self.db.wrap_database_errors,
            cursor.cursor.copy(sql) as copy,
        ):
            for row in rows:
                copy.write_row(row)
        if self.db.queries_logged:
            self.db.queries_log.append(
                {"sql": f"{sql} -- {len(rows)} rows", "time": f"{time.monotonic() - started:.3f}"}
            )

    def _unnest(self, rows: Sequence[Sequence[Any]], suffix: str) -> None:
        arrays = ", ".join(f"%s::{field.cast_db_type(self.db)}[]" for field in self.fields)
        # Types from the model's metadata; the values are parameters.
        sql = f"{self.head}SELECT * FROM unnest({arrays}){suffix}"  # noqa: S608
        with self.db.cursor() as cursor:
            cursor.execute(sql, [list(column) for column in zip(*rows, strict=True)])
