"""``aftershow sync_engine``: the stock sync engine in a process of its own (run at most one).

Without it the engine runs as the queue's ``run_engine`` task, which gives its worker back every
``STOCKSYNC_MAX_RUN_SECONDS`` so other jobs get their turn; each hand-over (the run ends, the
worker records it, runs whatever was queued meanwhile, then claims the next run) stops every
channel's pushes for that long, seconds on a busy machine. This process never hands over: it
holds the engine's lease while idle and polls the change marks every
``STOCKSYNC_POLL_SECONDS``. Stopped (SIGTERM, SIGINT), it finishes the pushes in flight,
releases the lease and leaves any remaining work to the queue. Killed, its lease lapses after
a minute and the queue's task takes over.
"""

from __future__ import annotations

import math
import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils.translation import gettext as _

from aftershow.stocksync.engine import engine_run

# How often to look for the lease while another engine (a queue task) holds it.
LEASE_LOOK_SECONDS = 0.2


def engine_serve(stop: threading.Event) -> int:
    """Run the engine until ``stop`` is set; returns the listings pushed."""
    pushed = 0
    while not stop.is_set():
        report = engine_run(idle_seconds=math.inf, max_seconds=math.inf, stop=stop)
        pushed += report.pushed
        close_old_connections()
        if not report.ran:  # a queue task holds the lease: take over when it lets go
            stop.wait(LEASE_LOOK_SECONDS)
    return pushed


class Command(BaseCommand):
    help = _("Push stock to every channel continuously, in this process (run at most one).")

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_args: stop.set())
        pushed = engine_serve(stop)
        self.stdout.write(_("Stopped after %(count)s pushes.") % {"count": pushed})
