"""How the inventory ledger tells the sync engine that stock changed.

``stock_levels_changed`` runs inside the transaction that changed the levels: one INSERT … SELECT
per call writes a :class:`~aftershow.stocksync.models.StockChange` row per level's SKU, so the
mark commits (or rolls back) with the change itself and survives any crash after the commit.
Inserts lock no existing row, so marking adds nothing to the inventory lock order.

After the commit, :func:`engine_wake` makes sure an engine run is on its way: when no engine
holds the lease it enqueues one (at most one wake-up per few seconds while none has started).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Q

from aftershow.core.timeutils import utcnow
from aftershow.inventory.models import StockLevel
from aftershow.stocksync.models import EngineLease, StockChange

LEASE_NAME = "stocksync"
# A wake-up enqueued this recently and not yet picked up is not repeated.
WAKE_REPEAT_AFTER = timedelta(seconds=5)


def stock_levels_changed(*, level_ids: Iterable[int]) -> None:
    """Mark the SKUs of these levels as changed (inside the caller's transaction)."""
    ids = sorted(set(level_ids))
    if not ids:
        return
    change_table = connection.ops.quote_name(StockChange._meta.db_table)
    level_table = connection.ops.quote_name(StockLevel._meta.db_table)
    placeholders = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {change_table} (sku_id, at) "  # noqa: S608 - table names quoted, values bound
            f"SELECT DISTINCT sku_id, %s FROM {level_table} WHERE id IN ({placeholders})",
            [utcnow(), *ids],
        )
    transaction.on_commit(engine_wake, robust=True)


def skus_changed(*, sku_ids: Iterable[int]) -> None:
    """Mark SKUs as changed without a level change (a buffer edited, a listing added)."""
    now = utcnow()
    StockChange.objects.bulk_create([StockChange(sku_id=pk, at=now) for pk in sorted(set(sku_ids))])
    transaction.on_commit(engine_wake, robust=True)


def engine_wake() -> bool:
    """Enqueue an engine run unless one holds the lease or a wake-up is already on its way.
    Returns whether a task was enqueued."""
    now = utcnow()
    if _lease_busy(now):
        # A running engine sees the new marks on its next pass, or a wake-up is on its way.
        return False
    from aftershow.stocksync.tasks import run_engine  # the task module imports the engine

    # One write transaction for the claim and the task row (on SQLite, one wait for the lock).
    with transaction.atomic():
        if not EngineLease.objects.filter(name=LEASE_NAME).exists():
            EngineLease.objects.bulk_create([EngineLease(name=LEASE_NAME)], ignore_conflicts=True)
        claimed = (
            EngineLease.objects.filter(name=LEASE_NAME)
            .filter(Q(expires_at__isnull=True) | Q(expires_at__lte=now))
            .filter(Q(kicked_at__isnull=True) | Q(kicked_at__lte=now - WAKE_REPEAT_AFTER))
            .update(kicked_at=now)
        )
        if not claimed:
            return False
        run_engine.enqueue()
    return True


def _lease_busy(now: datetime) -> bool:
    """Whether a live lease exists or a wake-up was enqueued in the last few seconds: the
    ORM's ``EngineLease.objects.filter(…).first()`` in plain SQL, because this runs after every
    committed stock change and building the query cost several times the read itself."""
    table = connection.ops.quote_name(EngineLease._meta.db_table)
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {table} WHERE name = %s AND (expires_at > %s OR kicked_at > %s)",  # noqa: S608
            [LEASE_NAME, adapt(now), adapt(now - WAKE_REPEAT_AFTER)],
        )
        return cursor.fetchone() is not None
