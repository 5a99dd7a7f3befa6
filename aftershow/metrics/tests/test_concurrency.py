"""Two recomputes at the same moment (the hourly job and a person's button): real concurrent
transactions on PostgreSQL (the policy row lock decides), the write lock on SQLite. Either way
every creator has one standing and each tier change is recorded once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from aftershow.metrics.models import CreatorStanding, MetricsRun, RecomputeTrigger, TierChange
from aftershow.metrics.services import metrics_recompute
from aftershow.metrics.tests import builders
from aftershow.orders.tests.factories import CreatorFactory, ShopFactory

pytestmark = pytest.mark.django_db(transaction=True)

NOW = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)


def race(*actions: Callable[[], object]) -> list[BaseException]:
    start = threading.Barrier(len(actions))
    errors: list[BaseException] = []

    def run(action: Callable[[], object]) -> None:
        try:
            start.wait()
            action()
        except BaseException as error:  # reported to the test thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def test_two_recomputes_at_once_record_each_change_once() -> None:
    shop = ShopFactory()
    free = builders.sku("0.00")
    for handle, subtotal in (("s_tier", "900.00"), ("a_tier", "300.00"), ("b_tier", "50.00")):
        creator = CreatorFactory(handle=handle)
        builders.order(
            creator=creator,
            shop=shop,
            placed_at=NOW - timedelta(days=1),
            subtotal=subtotal,
            of=free,
        )
        builders.sample(
            creator,
            of=free,
            quantity=1,
            unit_cost="100.00",
            shipping="0.00",
            at=NOW - timedelta(days=2),
        )
    errors = race(
        lambda: metrics_recompute(trigger=RecomputeTrigger.SCHEDULE, at=NOW),
        lambda: metrics_recompute(trigger=RecomputeTrigger.UI, at=NOW),
    )
    assert errors == []
    assert MetricsRun.objects.count() == 2
    assert CreatorStanding.objects.count() == 3
    assert sorted(TierChange.objects.values_list("creator__handle", "to_tier")) == [
        ("a_tier", "A"),
        ("b_tier", "B"),
        ("s_tier", "S"),
    ]
    assert sorted(MetricsRun.objects.values_list("tier_changes", flat=True)) == [0, 3]
