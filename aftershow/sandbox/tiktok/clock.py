"""Virtual time for the sandbox: a clock that can run faster than real time, and a timeline.

Order timestamps, remorse windows, scheduled cancellations and webhook retries all live on the
virtual clock, so a three-hour live stream can be replayed in twenty seconds (``speed=540``) or
stepped through deterministically in a test (``speed=0`` plus :meth:`VirtualClock.advance`).
Credentials (token lifetimes, the request ``timestamp`` window) deliberately use real time: the
connector on the other side only has a real clock.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

logger = logging.getLogger(__name__)


class VirtualClock:
    """``now() = start + (real time elapsed since the last re-anchor) x speed``."""

    def __init__(self, start: datetime | None = None, *, speed: float = 1.0) -> None:
        if start is not None and start.tzinfo is None:
            raise ValueError("start must be an aware datetime")
        if speed < 0:
            raise ValueError("speed must be >= 0")
        self._lock = threading.Lock()
        self._anchor_virtual = (start or datetime.now(UTC)).timestamp()
        self._anchor_real = time.monotonic()
        self._speed = float(speed)

    def _virtual_epoch(self) -> float:
        return self._anchor_virtual + (time.monotonic() - self._anchor_real) * self._speed

    def epoch(self) -> float:
        """Virtual now as Unix seconds (float)."""
        with self._lock:
            return self._virtual_epoch()

    def timestamp(self) -> int:
        """Virtual now as whole Unix seconds, the unit of every TikTok timestamp."""
        return int(self.epoch())

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.epoch(), UTC)

    @property
    def speed(self) -> float:
        return self._speed

    def set_speed(self, speed: float) -> None:
        """Change the rate from now on; 0 freezes the clock (only :meth:`advance` moves it)."""
        if speed < 0:
            raise ValueError("speed must be >= 0")
        with self._lock:
            self._anchor_virtual = self._virtual_epoch()
            self._anchor_real = time.monotonic()
            self._speed = float(speed)

    def advance(self, delta: timedelta) -> None:
        if delta < timedelta(0):
            raise ValueError("virtual time only moves forward")
        with self._lock:
            self._anchor_virtual += delta.total_seconds()

    def jump_to(self, moment: datetime) -> None:
        """Move forward to ``moment``; a moment in the past is ignored (time never goes back)."""
        with self._lock:
            target = moment.timestamp()
            current = self._virtual_epoch()
            if target > current:
                self._anchor_virtual += target - current

    def real_seconds_until(self, epoch: float) -> float:
        """Real seconds until the virtual clock reaches ``epoch`` (inf when frozen)."""
        with self._lock:
            remaining = epoch - self._virtual_epoch()
            if remaining <= 0:
                return 0.0
            if self._speed == 0:
                return float("inf")
            return remaining / self._speed


Callback = Callable[[float], None]


class Timeline:
    """Callbacks due at virtual instants, run in due order by :meth:`run_due`.

    ``run_due`` is called by the sandbox's ticker thread, by :meth:`TikTokSandbox.advance` and
    before every API request, so a read always sees every change that is due. A run lock
    serialises runs: a request that arrives while another thread applies due events waits for
    them instead of reading half-applied state. Callbacks receive their due instant, so an event
    applied late still records the time at which it happened.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Callback]] = []
        self._sequence = itertools.count()
        self._lock = threading.Lock()
        self._run_lock = threading.Lock()

    def schedule(self, due: float, callback: Callback) -> None:
        with self._lock:
            heapq.heappush(self._heap, (due, next(self._sequence), callback))

    def next_due(self) -> float | None:
        with self._lock:
            return self._heap[0][0] if self._heap else None

    def __len__(self) -> int:
        with self._lock:
            return len(self._heap)

    def run_due(self, now: float) -> int:
        """Run every callback due at or before ``now``; returns how many ran."""
        with self._lock:
            if not self._heap or self._heap[0][0] > now:
                return 0
        ran = 0
        with self._run_lock:
            while True:
                with self._lock:
                    if not self._heap or self._heap[0][0] > now:
                        return ran
                    due, _, callback = heapq.heappop(self._heap)
                try:
                    callback(due)
                except Exception:  # one broken event must not stop the sandbox's clock
                    logger.exception("sandbox timeline event due at %s failed", due)
                ran += 1
