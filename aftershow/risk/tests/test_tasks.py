"""The periodic release job, run through the task queue like the scheduler's jobs."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aftershow.core.worker import run_queued_tasks
from aftershow.orders.models import Order, OrderState
from aftershow.orders.tests.factories import OrderFactory
from aftershow.risk.tasks import enqueue_release_due
from aftershow.risk.tests.conftest import address

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_release_job_releases_and_screens_due_orders(frozen_now) -> None:  # type: ignore[no-untyped-def]
    due = OrderFactory(placed_at=frozen_now - timedelta(minutes=61))
    flagged = OrderFactory(
        placed_at=frozen_now - timedelta(minutes=61), shipping_address=address(line1="Main St")
    )
    waiting = OrderFactory(placed_at=frozen_now - timedelta(minutes=10))
    assert enqueue_release_due() == 1
    run_queued_tasks()
    states = {order.pk: order.state for order in Order.objects.all()}
    assert states == {
        due.pk: OrderState.READY,
        flagged.pk: OrderState.IN_REVIEW,
        waiting.pk: OrderState.HELD,
    }
