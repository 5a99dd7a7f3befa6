"""The in-process worker thread survives a failure of the queue's own loop."""

from __future__ import annotations

import threading

import pytest
from django.db import OperationalError

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
