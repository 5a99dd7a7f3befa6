"""Django's SQLite backend, except that a transaction waits for the write lock by polling.

SQLite has one writer at a time. With ``transaction_mode = IMMEDIATE`` every atomic block starts
with ``BEGIN IMMEDIATE``, and a writer that finds the lock taken waits in SQLite's busy handler,
which sleeps 1, 2, 5, 10 … then 100 ms between tries and never queues. Against a process that
polls more often, or one that commits transaction after transaction, such a writer only wins
when a try happens to fall into a gap between two transactions: measured in the 1,000-order
sync burst of ``benchmarks/sync.py``, the ingest spent 14.7 s of 49.6 s in ``BEGIN`` (p99 136
ms, max 450 ms) while the stock sync engine, which polled, wrote between its orders.

Here every process and thread tries ``BEGIN IMMEDIATE`` (or ``EXCLUSIVE``, which django-tasks-db
uses to claim a task) without the busy handler every half
millisecond until the connection's ``timeout`` option has passed, so every writer takes the
first gap as soon as any other would, and none is starved by the handler's back-off. Statements
outside a transaction (autocommit writes) keep SQLite's own busy timeout.
"""

from __future__ import annotations

import sqlite3
import time

from django.db.backends.sqlite3 import base

POLL_SECONDS = 0.0005
# Django's sqlite3 default when OPTIONS has no "timeout" is Python's: 5 seconds.
DEFAULT_TIMEOUT_SECONDS = 5.0


def _lock_busy(error: Exception) -> bool:
    message = str(error).lower()
    return "locked" in message or "busy" in message


class DatabaseWrapper(base.DatabaseWrapper):
    def _start_transaction_under_autocommit(self) -> None:
        # Set by Django from OPTIONS["transaction_mode"] (not in django-stubs); django-tasks-db
        # switches it to EXCLUSIVE while a worker claims a task.
        mode = getattr(self, "transaction_mode", None)
        if mode not in ("IMMEDIATE", "EXCLUSIVE"):
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
            return
        timeout = float(self.settings_dict["OPTIONS"].get("timeout", DEFAULT_TIMEOUT_SECONDS))
        raw = self.connection
        raw.execute("PRAGMA busy_timeout = 0")
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    raw.execute(f"BEGIN {mode}")
                    return
                except sqlite3.OperationalError as error:
                    if not _lock_busy(error) or time.monotonic() > deadline:
                        with self.wrap_database_errors:
                            raise
                time.sleep(POLL_SECONDS)
        finally:
            # Inside the transaction (or after giving up) statements keep the usual timeout.
            raw.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
