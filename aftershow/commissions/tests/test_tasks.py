"""The periodic jobs: scheduled on the 1st, and what the job does when it runs."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

from aftershow.commissions.models import Statement
from aftershow.commissions.tasks import monthly_statements
from aftershow.commissions.tests.conftest import OrderMaker
from aftershow.core.management.commands.scheduler import SCHEDULE
from aftershow.creators.models import Creator


def test_statements_are_scheduled_on_the_first_of_the_month() -> None:
    scheduled = {job.__name__: fields for job, fields, _why in SCHEDULE}
    assert scheduled["enqueue_monthly_statements"] == {"day": "1", "hour": "2", "minute": "15"}
    assert "enqueue_ledger_sync" in scheduled


@pytest.mark.django_db
def test_the_job_on_december_1st_makes_novembers_statements(
    creator: Creator, make_order: OrderMaker
) -> None:
    make_order(creator=creator, placed_at=datetime(2026, 11, 3, tzinfo=UTC))
    with time_machine.travel(datetime(2026, 12, 1, 2, 15, tzinfo=UTC), tick=False):
        assert monthly_statements.call() == 1
    statement = Statement.objects.get()
    assert (statement.creator_id, statement.period) == (creator.pk, date(2026, 11, 1))
    assert statement.commission_payable == statement.lines.get().amount
