"""Two people (or a person and the scheduler) acting on the same orders at the same moment.

Threads with their own database connections: real concurrent transactions on PostgreSQL
(row locks decide), the write lock on SQLite. Either way exactly one action wins.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection

from aftershow.orders.models import ChangeSource, Order, OrderState, OrderStatusChange
from aftershow.orders.release import orders_release_due
from aftershow.orders.tests.factories import OrderFactory
from aftershow.risk.models import OrderRelease
from aftershow.risk.services import (
    ReviewError,
    order_approve,
    order_cancel_locally,
    orders_confirm_clean,
    orders_screen,
)
from aftershow.risk.tests.conftest import address, ready_order

pytestmark = pytest.mark.django_db(transaction=True)


def race(*actions: Callable[[], object]) -> tuple[list[object], list[BaseException]]:
    start = threading.Barrier(len(actions))
    results: list[object] = []
    errors: list[BaseException] = []

    def run(action: Callable[[], object]) -> None:
        try:
            start.wait()
            results.append(action())
        except BaseException as error:  # reported to the test thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


def test_two_reviewers_approving_at_once_approve_once(operator, owner, frozen_now) -> None:  # type: ignore[no-untyped-def]
    order = ready_order(shipping_address=address(line1="Main St"))
    orders_screen(now=frozen_now, order_ids=[order.pk])
    results, errors = race(
        lambda: order_approve(order=order, by=operator, note="fine"),
        lambda: order_approve(order=order, by=owner, note="fine too"),
    )
    assert len(results) == 1
    assert [type(error) for error in errors] == [ReviewError]
    users = OrderStatusChange.objects.filter(order=order, source=ChangeSource.USER)
    assert list(users.values_list("from_state", "to_state")) == [("in_review", "ready")]


def test_approve_and_cancel_at_once_leave_a_consistent_history(operator, owner, frozen_now) -> None:  # type: ignore[no-untyped-def]
    """Either cancel comes second (both succeed: in review → ready → cancelled) or first (the
    approval is refused); never an approval over a cancellation."""
    order = ready_order(shipping_address=address(line1="Main St"))
    orders_screen(now=frozen_now, order_ids=[order.pk])
    results, errors = race(
        lambda: order_approve(order=order, by=operator, note="fine"),
        lambda: order_cancel_locally(order=order, by=owner, note="fraud"),
    )
    chain = list(
        OrderStatusChange.objects.filter(order=order, source=ChangeSource.USER)
        .order_by("id")
        .values_list("from_state", "to_state")
    )
    assert chain in (
        [("in_review", "ready"), ("ready", "cancelled")],
        [("in_review", "cancelled")],
    )
    assert len(results) == len(chain)
    assert [type(error) for error in errors] == [ReviewError] * (2 - len(chain))
    assert Order.objects.get(pk=order.pk).state == OrderState.CANCELLED


def test_two_confirm_all_at_once_confirm_each_order_once(operator, owner, frozen_now) -> None:  # type: ignore[no-untyped-def]
    orders = [ready_order() for _ in range(40)]
    OrderRelease.objects.update(screened_at=frozen_now)
    results, errors = race(
        lambda: orders_confirm_clean(by=operator), lambda: orders_confirm_clean(by=owner)
    )
    assert errors == []
    assert sorted(results) == [0, 40]  # type: ignore[type-var]
    assert Order.objects.filter(state=OrderState.CONFIRMED).count() == len(orders)
    assert OrderStatusChange.objects.filter(to_state=OrderState.CONFIRMED).count() == 40


def test_two_release_runs_at_once_release_each_order_once(frozen_now) -> None:  # type: ignore[no-untyped-def]
    for index in range(30):
        OrderFactory(
            placed_at=frozen_now - timedelta(minutes=61 + index),
            shipping_address=address(line1=f"{index + 1} Main St"),
        )
    results, errors = race(
        lambda: orders_release_due(now=frozen_now), lambda: orders_release_due(now=frozen_now)
    )
    assert errors == []
    assert sorted(report.released for report in results) == [0, 30]  # type: ignore[attr-defined]
    assert Order.objects.filter(state=OrderState.READY).count() == 30
    assert OrderStatusChange.objects.filter(to_state=OrderState.READY).count() == 30
