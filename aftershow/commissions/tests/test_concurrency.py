"""Workers racing on the ledger, the statements and the payout batches write everything once.

Threads with their own database connections: on PostgreSQL these are real concurrent
transactions (unique keys, conditional updates and row locks decide); on SQLite the write lock
serialises them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from django.db import connection

from aftershow.commissions.ledger import (
    commission_lines_accrue,
    commission_lines_settle,
    unaccrued_order_lines,
)
from aftershow.commissions.models import (
    CommissionLine,
    LineKind,
    PayoutBatch,
    PayoutChannel,
    PayoutDetails,
    PayoutItem,
    PayoutMethod,
    Statement,
    StatementStatus,
)
from aftershow.commissions.payouts import PayoutError, payout_batch_create
from aftershow.commissions.statements import statement_approve, statements_generate
from aftershow.commissions.tests.conftest import OrderMaker
from aftershow.creators.models import Creator
from aftershow.orders.tests.factories import CreatorFactory
from aftershow.risk.services import order_return_record

IN_OCTOBER = datetime(2026, 10, 10, 12, 0, tzinfo=UTC)
NOV_2 = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
WORKERS = 4


def _race(job: Callable[[], object]) -> list[BaseException]:
    start = threading.Barrier(WORKERS)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait()
            job()
        except BaseException as error:  # reported by the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def _sync() -> None:
    commission_lines_accrue(order_lines=unaccrued_order_lines())
    commission_lines_settle(now=NOV_2)


@pytest.mark.django_db(transaction=True)
def test_parallel_ledger_statements_and_batches_write_everything_once(
    creator: Creator, make_order: OrderMaker
) -> None:
    from aftershow.commissions.tests.conftest import collaborate

    other = collaborate(CreatorFactory(handle="leo.shop"))
    orders = [
        make_order(creator=creator if n % 2 else other, placed_at=IN_OCTOBER) for n in range(40)
    ]
    assert _race(_sync) == []
    assert CommissionLine.objects.count() == 80  # 40 lines x 2 payers

    assert _race(lambda: statements_generate(period=date(2026, 10, 1), now=NOV_2)) == []
    assert Statement.objects.count() == 2
    assert CommissionLine.objects.filter(statement__isnull=False).count() == 40
    for statement in Statement.objects.all():
        statement_approve(statement=statement)
        PayoutDetails.objects.create(
            creator=statement.creator,
            method=PayoutMethod.PAYPAL,
            paypal_email=f"{statement.creator.handle}@example.com",
        )

    errors = _race(lambda: payout_batch_create(channel=PayoutChannel.PAYPAL_CSV))
    assert all(isinstance(error, PayoutError) for error in errors)
    assert PayoutItem.objects.count() == 2
    assert PayoutBatch.objects.filter(items__isnull=False).distinct().count() >= 1
    assert sorted(PayoutItem.objects.values_list("statement__creator__handle", flat=True)) == [
        "leo.shop", "mia.live"
    ]  # fmt: skip

    # A return after approval, settled by four workers: one clawback.
    order_return_record(order=orders[1], remote_return_id="late", returned_at=NOV_2)
    assert _race(_sync) == []
    assert CommissionLine.objects.filter(kind=LineKind.CLAWBACK).count() == 1
    assert Statement.objects.filter(status=StatementStatus.APPROVED).count() == 2
