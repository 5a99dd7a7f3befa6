"""The client's copy of Amazon's token bucket (rate 5 a second, burst 5 for
patchListingsItem), on a fake clock: exactly the plan, no margin off the rate."""

from __future__ import annotations

import itertools

import pytest

from aftershow.integrations.amazon.client import CAP_GUARD_SECONDS, UsagePlanPacer
from aftershow.sandbox.amazon.store import DEFAULT_RATE_LIMITS, TokenBucket

KEY = ("https://sp.example", "SELLER", "patchListingsItem")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_burst_of_five_then_exactly_five_a_second():
    clock = Clock()
    pacer = UsagePlanPacer(clock)
    sent = []
    for _ in range(15):
        pacer.acquire(KEY, "patchListingsItem", clock.sleep)
        sent.append(clock.now - 100.0)
    assert sent[:5] == [0.0] * 5
    # The first token after the burst waits one token plus the guard; then one every 0.2 s.
    assert sent[5] == pytest.approx(0.2 + CAP_GUARD_SECONDS)
    gaps = [b - a for a, b in itertools.pairwise(sent[5:])]
    assert gaps == [pytest.approx(0.2)] * 9
    assert sent[-1] == pytest.approx(2.0 + CAP_GUARD_SECONDS)


def test_ready_in_says_when_a_token_is_there_without_taking_it():
    clock = Clock()
    pacer = UsagePlanPacer(clock)
    assert pacer.ready_in(KEY, "patchListingsItem") == 0.0
    for _ in range(5):
        pacer.acquire(KEY, "patchListingsItem", clock.sleep)
    assert pacer.ready_in(KEY, "patchListingsItem") == pytest.approx(0.2 + CAP_GUARD_SECONDS)
    assert pacer.ready_in(KEY, "patchListingsItem") == pytest.approx(0.2 + CAP_GUARD_SECONDS)
    clock.now += 0.2 + CAP_GUARD_SECONDS
    assert pacer.ready_in(KEY, "patchListingsItem") == 0.0
    pacer.acquire(KEY, "patchListingsItem", clock.sleep)
    assert clock.slept == []
    assert pacer.ready_in(KEY, "patchListingsItem") == pytest.approx(0.2)


def test_an_idle_second_refills_the_burst_and_no_more():
    clock = Clock()
    pacer = UsagePlanPacer(clock)
    for _ in range(5):
        pacer.acquire(KEY, "patchListingsItem", clock.sleep)
    clock.now += 60.0
    for _ in range(5):
        pacer.acquire(KEY, "patchListingsItem", clock.sleep)
    assert clock.slept == []
    assert pacer.ready_in(KEY, "patchListingsItem") > 0.2


def test_a_429_empties_the_bucket_and_a_stated_rate_is_adopted():
    clock = Clock()
    pacer = UsagePlanPacer(clock)
    pacer.acquire(KEY, "patchListingsItem", clock.sleep)
    pacer.throttled(KEY)  # Amazon had less than a token: we have none either
    assert pacer.ready_in(KEY, "patchListingsItem") == pytest.approx(0.2 + CAP_GUARD_SECONDS)
    pacer.learn(KEY, 20.0)
    assert pacer.rate(KEY) == 20.0
    assert pacer.ready_in(KEY, "patchListingsItem") == pytest.approx(0.05 + CAP_GUARD_SECONDS)


def test_the_sandbox_bucket_is_the_documented_plan_and_stays_strict():
    """Amazon's patchListingsItem plan (5 a second, burst 5) as the sandbox enforces it: a
    full burst, then one request per 0.2 s, refusals in between, and never more than 5 saved."""
    clock = Clock()
    bucket = TokenBucket(*DEFAULT_RATE_LIMITS["patchListingsItem"], clock=clock)
    assert DEFAULT_RATE_LIMITS["patchListingsItem"] == (5.0, 5)
    assert [bucket.take() for _ in range(6)] == [True] * 5 + [False]
    clock.now += 0.199
    assert not bucket.take()
    clock.now += 0.001
    assert [bucket.take(), bucket.take()] == [True, False]
    clock.now += 60.0
    assert [bucket.take() for _ in range(6)] == [True] * 5 + [False]


def test_our_schedule_at_exactly_the_plan_passes_the_sandbox_bucket():
    """What the client sends, paced by its copy of the bucket, is never refused by the
    sandbox's bucket, whatever the network time of each request (within the guard)."""
    clock = Clock()
    pacer = UsagePlanPacer(clock)
    arrivals = []
    for n in range(40):
        pacer.acquire(KEY, "patchListingsItem", clock.sleep)
        # Varying network time on the way; the first request after idle is the slowest, so
        # Amazon's bucket starts draining 15 ms after ours (what the guard is for).
        arrivals.append(clock.now + (0.015 if n in (0, 20) else 0.003 * (n % 4)))
        if n == 19:
            clock.now += 5.0  # an idle spell refills both
    assert clock.now - 100.0 == pytest.approx(5.0 + 2 * (3.0 + CAP_GUARD_SECONDS), abs=0.01)
    server = Clock()
    bucket = TokenBucket(*DEFAULT_RATE_LIMITS["patchListingsItem"], clock=server)
    accepted = []
    for at in sorted(arrivals):  # Amazon sees them in the order they arrive
        server.now = at
        accepted.append(bucket.take())
    assert all(accepted)
