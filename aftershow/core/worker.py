"""Running the task queue: the same django-tasks-db worker `db_worker` runs, used in-process by
the demo (a thread) and by tests (drain everything that is queued, then return)."""

from __future__ import annotations

import logging
import threading
import time
import uuid

from django.db import close_old_connections, connections
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS
from django_tasks_db.management.commands.db_worker import Worker

logger = logging.getLogger(__name__)

# How long a crashed worker loop waits before it polls again.
RESTART_DELAY_S = 0.5


def make_worker(*, batch: bool, interval: float = 0.1) -> Worker:
    return Worker(
        queue_names=["*"],
        excluded_queue_names=[],
        interval=interval,
        batch=batch,
        backend_name=DEFAULT_TASK_BACKEND_ALIAS,
        startup_delay=False,
        max_tasks=None,
        worker_id=f"inproc-{uuid.uuid4().hex[:8]}",
    )


def run_queued_tasks() -> None:
    """Run every task that is ready, including those the tasks themselves enqueue."""
    make_worker(batch=True, interval=0).run()


class WorkerThread(threading.Thread):
    """A worker polling the queue in a background thread until stopped."""

    def __init__(self) -> None:
        super().__init__(daemon=True, name="aftershow-worker")
        self.worker = make_worker(batch=False)

    def run(self) -> None:
        # django-tasks-db lets some database errors escape its loop (SQLite "database is
        # locked" while recording a result under a long write burst): the thread would die and
        # every later task would wait forever. The work is in tables, so polling again is safe.
        while self.worker.running:
            try:
                self.worker.run()
            except Exception:
                logger.exception("The task worker loop failed; polling again")
                time.sleep(RESTART_DELAY_S)
            finally:
                close_old_connections()
        # This thread's connections end with it (CONN_MAX_AGE keeps them open otherwise, and a
        # PostgreSQL test database cannot be dropped while they are).
        connections.close_all()

    def stop(self) -> None:
        self.worker.running = False
        self.join(timeout=30)
