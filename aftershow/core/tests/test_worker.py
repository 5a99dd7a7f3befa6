"""The in-process worker thread survives a failure of the queue's own loop."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import OperationalError, connection

from aftershow.core import worker as worker_module
from aftershow.core.worker import WorkerThread


def test_the_worker_thread_polls_again_after_its_loop_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(worker_module, "RESTART_DELAY_S", 0)
    thread = WorkerThread()
    calls: list[int] = []
    second_loop = threading.Event()

    def loop() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("database is locked")
        second_loop.set()
        thread.worker.running = False

    monkeypatch.setattr(thread.worker, "run", loop)
    thread.start()

    assert second_loop.wait(timeout=10)
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert len(calls) == 2


def _other_sessions() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return int(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="counts PostgreSQL sessions")
def test_a_stopped_worker_thread_leaves_no_database_session_open() -> None:
    before = _other_sessions()
    thread = WorkerThread()
    thread.start()
    deadline = time.monotonic() + 10
    while _other_sessions() == before:  # the worker polls the queue through its own session
        assert time.monotonic() < deadline
        time.sleep(0.05)

    thread.stop()

    assert not thread.is_alive()
    assert _other_sessions() == before
