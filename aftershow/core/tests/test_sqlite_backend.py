"""The SQLite backend takes the write lock as soon as another writer lets it go, and gives up with
Django's "database is locked" error after the connection's timeout."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import OperationalError, connection, transaction

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's single writer lock"),
]


@contextmanager
def lock_held_by_another_connection(seconds: float) -> Iterator[list[float]]:
    """Another connection holds the write lock from now for ``seconds``; the list receives
    the monotonic time at which it commits."""
    taken = threading.Event()
    released_at: list[float] = []

    def hold() -> None:
        other = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            taken.set()
            time.sleep(seconds)
            released_at.append(time.monotonic())
            other.execute("COMMIT")
        finally:
            other.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert taken.wait(10)
    try:
        yield released_at
    finally:
        holder.join()


@pytest.mark.parametrize("mode", ["IMMEDIATE", "EXCLUSIVE"])  # EXCLUSIVE: django-tasks-db
def test_a_transaction_starts_within_milliseconds_of_the_other_writers_commit(mode: str) -> None:
    connection.ensure_connection()
    configured = connection.transaction_mode  # type: ignore[attr-defined]
    connection.transaction_mode = mode  # type: ignore[attr-defined]
    try:
        # SQLite's own busy handler would try at 228 and then 328 ms: 88 ms after a release at
        # 240.
        with lock_held_by_another_connection(0.24) as released_at, transaction.atomic():
            entered = time.monotonic()
    finally:
        connection.transaction_mode = configured  # type: ignore[attr-defined]
    assert released_at and entered > released_at[0]
    assert entered - released_at[0] < 0.05


def test_waiting_gives_up_with_djangos_error_after_the_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connection.ensure_connection()
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "timeout", 0.2)
    with lock_held_by_another_connection(1.0):
        started = time.monotonic()
        with pytest.raises(OperationalError, match="locked"), transaction.atomic():
            pass
        waited = time.monotonic() - started
    assert 0.2 <= waited < 0.9
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] == 200  # the statements' own timeout is back
    with transaction.atomic():  # and the connection is usable once the lock is free
        pass
