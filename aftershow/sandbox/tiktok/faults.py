"""Fault injection for API calls: throttling, server errors, dropped connections.

``configure(rate=0.1, kinds=("429", "500"), seed=3)`` makes a seeded random 10 % of API calls
fail with one of the kinds; ``fail_next(3, "429")`` makes exactly the next three fail, for
deterministic tests. Kinds:

- ``"429"``: HTTP 429, code ``36009002``, header ``Retry-After: <retry_after>`` (seconds).
- ``"500"``: HTTP 500, code ``36009003`` (TikTok's retryable internal error).
- ``"reset"``: the connection is closed without any response (a network error for the client).

Faults apply to the API host paths only, before authentication (a throttled call is rejected
whatever it carries); the token endpoints are never faulted.
"""

from __future__ import annotations

import random
import threading
from collections import Counter, deque
from collections.abc import Iterable

KINDS = frozenset({"429", "500", "reset"})


class FaultInjector:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rate = 0.0
        self._kinds: tuple[str, ...] = ("429",)
        self._rng = random.Random(0)
        self._queued: deque[str] = deque()
        self.retry_after = 1
        self.injected: Counter[str] = Counter()

    def configure(
        self,
        rate: float = 0.0,
        kinds: Iterable[str] = ("429", "500"),
        seed: int = 0,
        retry_after: int = 1,
    ) -> None:
        """``rate=0`` turns random faults off (queued ones from :meth:`fail_next` stay)."""
        chosen = tuple(kinds)
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be within [0, 1]")
        unknown = set(chosen) - KINDS
        if unknown or not chosen:
            raise ValueError(f"kinds must be a non-empty subset of {sorted(KINDS)}")
        with self._lock:
            self._rate = rate
            self._kinds = chosen
            self._rng = random.Random(seed)
            self.retry_after = retry_after

    def fail_next(self, count: int = 1, kind: str = "429") -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {sorted(KINDS)}")
        with self._lock:
            self._queued.extend([kind] * count)

    def clear(self) -> None:
        with self._lock:
            self._rate = 0.0
            self._queued.clear()

    def draw(self) -> str | None:
        """The fault for this call, or None to serve it normally."""
        with self._lock:
            if self._queued:
                kind = self._queued.popleft()
            elif self._rate and self._rng.random() < self._rate:
                kind = self._rng.choice(self._kinds)
            else:
                return None
            self.injected[kind] += 1
            return kind
