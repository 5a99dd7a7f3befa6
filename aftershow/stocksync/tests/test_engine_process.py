"""``aftershow sync_engine``: the engine in a process of its own holds the lease while idle, so
changes enqueue no wake-up tasks, pushes them as they come, and gives the lease back when
stopped."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from aftershow.inventory.services import stock_receive
from aftershow.stocksync.engine import lease_acquire, lease_release
from aftershow.stocksync.management.commands.sync_engine import engine_serve
from aftershow.stocksync.marks import engine_wake
from aftershow.stocksync.models import EngineLease

pytestmark = pytest.mark.django_db(transaction=True)
CHANNELS = ("tiktok", "shopify", "amazon", "ebay")


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_the_engine_process_serves_changes_without_wake_up_tasks(channels, warehouse, settings):
    settings.STOCKSYNC_POLL_SECONDS = 0.01
    stop = threading.Event()
    pushed: list[int] = []

    def serve() -> None:
        try:
            pushed.append(engine_serve(stop))
        finally:
            connection.close()

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        wait_for(lambda: EngineLease.objects.filter(holder__startswith="engine-").exists())
        sku = channels.list("MUG")
        stock_receive(sku=sku, warehouse=warehouse, quantity=7)
        wait_for(lambda: all(channels.quantity(c, "MUG") == 7 for c in CHANNELS))
        stock_receive(sku=sku, warehouse=warehouse, quantity=2)  # idle again, then a change
        wait_for(lambda: all(channels.quantity(c, "MUG") == 9 for c in CHANNELS))
        assert not engine_wake()  # the lease is held while idle
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive()
    assert pushed and pushed[0] >= 8
    # no run_engine task was ever enqueued
    assert not DBTaskResult.objects.filter(task_path__endswith="run_engine").exists()
    assert EngineLease.objects.get().holder == ""  # released on stop


def test_the_engine_process_waits_while_a_queue_task_holds_the_lease(channels, warehouse):
    assert lease_acquire("engine-task")
    stop = threading.Event()

    def serve() -> None:
        try:
            engine_serve(stop)
        finally:
            connection.close()

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        time.sleep(0.5)
        assert EngineLease.objects.get().holder == "engine-task"
        lease_release("engine-task")
        wait_for(lambda: EngineLease.objects.get().holder.startswith("engine-"))
        assert EngineLease.objects.get().holder != "engine-task"
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive()
