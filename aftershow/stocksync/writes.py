"""Write transactions for the sync engine that do not starve behind a busy ingest on SQLite.

SQLite has one writer at a time. A writer that finds the lock taken waits in SQLite's busy
handler, which sleeps 1, 2, 5, 10 … then 100 ms between tries and never queues: behind an ingest
that commits order after order (each ``BEGIN IMMEDIATE`` a few milliseconds after the last
commit) a try only wins if it falls into that gap, so the engine's short writes waited seconds
each (measured: up to 2.8 s per write during the 1,000-order burst of ``benchmarks/sync.py``),
and every sale waited for them. :func:`write_transaction` instead tries for the lock every half
millisecond, so it takes the first gap the ingest leaves. PostgreSQL has row locks and no such
problem: there it is ``transaction.atomic()``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import OperationalError, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

POLL_SECONDS = 0.0005
# As long as the connection's own busy timeout (``OPTIONS["timeout"]``) unless told otherwise.
DEFAULT_WAIT_SECONDS = 30.0


def _set_busy_timeout(connection: BaseDatabaseWrapper, milliseconds: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA busy_timeout = {int(milliseconds)}")


def _configured_wait(connection: BaseDatabaseWrapper) -> float:
    options = connection.settings_dict.get("OPTIONS") or {}
    return float(options.get("timeout", DEFAULT_WAIT_SECONDS))


def _is_lock_busy(error: OperationalError) -> bool:
    message = str(error).lower()
    return "locked" in message or "busy" in message


@contextmanager
def write_transaction() -> Iterator[None]:
    """``transaction.atomic()`` that, on SQLite, polls for the write lock every 0.5 ms.

    Nested inside another atomic block (the lock is already held) or on another database it is
    a plain ``transaction.atomic()``. Gives up with the usual "database is locked" error after
    the connection's busy timeout.
    """
    connection = transaction.get_connection()
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        with transaction.atomic():
            yield
        return
    atomic = transaction.atomic()
    connection.ensure_connection()
    wait = _configured_wait(connection)
    deadline = time.monotonic() + wait
    _set_busy_timeout(connection, 0)
    try:
        while True:
            try:
                atomic.__enter__()  # BEGIN IMMEDIATE: fails at once while another writer holds it
                break
            except OperationalError as error:
                if not _is_lock_busy(error) or time.monotonic() > deadline:
                    raise
                time.sleep(POLL_SECONDS)
    finally:
        # Holding the lock (or giving up), later statements keep the normal busy timeout.
        _set_busy_timeout(connection, int(wait * 1000))
    try:
        yield
    except BaseException as error:
        atomic.__exit__(type(error), error, error.__traceback__)
        raise
    else:
        atomic.__exit__(None, None, None)
