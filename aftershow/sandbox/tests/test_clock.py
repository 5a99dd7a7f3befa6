"""The virtual clock and the timeline of due events."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from aftershow.sandbox.tiktok.clock import Timeline, VirtualClock

MOMENT = datetime(2026, 3, 6, 19, 0, tzinfo=UTC)


def test_frozen_clock_moves_only_when_advanced():
    clock = VirtualClock(MOMENT, speed=0)
    time.sleep(0.02)

    assert clock.now() == MOMENT
    clock.advance(timedelta(minutes=90))
    assert clock.now() == MOMENT + timedelta(minutes=90)
    assert clock.timestamp() == int(MOMENT.timestamp()) + 5400


def test_fast_clock_runs_at_its_speed():
    clock = VirtualClock(MOMENT, speed=3600)  # one virtual hour per real second
    time.sleep(0.1)

    elapsed = clock.now() - MOMENT
    assert timedelta(minutes=5) <= elapsed <= timedelta(minutes=30)
    clock.set_speed(0)
    frozen = clock.now()
    time.sleep(0.02)
    assert clock.now() == frozen


def test_time_never_goes_back():
    clock = VirtualClock(MOMENT, speed=0)
    clock.jump_to(MOMENT - timedelta(hours=1))

    assert clock.now() == MOMENT
    with pytest.raises(ValueError):
        clock.advance(timedelta(seconds=-1))
    with pytest.raises(ValueError):
        VirtualClock(datetime(2026, 3, 6, 19, 0))  # naive


def test_timeline_runs_due_callbacks_in_due_order_with_their_instant():
    timeline = Timeline()
    ran: list[tuple[str, float]] = []
    timeline.schedule(30.0, lambda due: ran.append(("b", due)))
    timeline.schedule(10.0, lambda due: ran.append(("a", due)))
    timeline.schedule(99.0, lambda due: ran.append(("c", due)))

    assert timeline.run_due(50.0) == 2
    assert ran == [("a", 10.0), ("b", 30.0)]
    assert timeline.next_due() == 99.0
    assert timeline.run_due(50.0) == 0


def test_a_failing_event_does_not_stop_the_others():
    timeline = Timeline()
    ran: list[float] = []

    def broken(due: float) -> None:
        raise KeyError("gone")

    timeline.schedule(1.0, broken)
    timeline.schedule(2.0, ran.append)

    assert timeline.run_due(5.0) == 2
    assert ran == [2.0]
