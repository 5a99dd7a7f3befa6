"""Background jobs: keep the ledger current, make last month's statements, poll PayPal.

Thin: each calls a service. All of them are idempotent, so a job enqueued twice (two
schedulers, a restart) does no harm.
"""

from __future__ import annotations

from django_tasks import task

from aftershow.commissions.ledger import (
    commission_lines_accrue,
    commission_lines_settle,
    unaccrued_order_lines,
)
from aftershow.commissions.statements import statements_generate_previous_month
from aftershow.core.timeutils import utcnow


@task()
def ledger_sync() -> int:
    """Accrue rows for newly attributed order lines, then earn / void / claw back."""
    created = commission_lines_accrue(order_lines=unaccrued_order_lines())
    result = commission_lines_settle(now=utcnow())
    return created + result.earned + result.voided + result.clawbacks


@task()
def monthly_statements() -> int:
    """On the 1st: bring the ledger up to date, then last month's statements."""
    commission_lines_accrue(order_lines=unaccrued_order_lines())
    commission_lines_settle(now=utcnow())
    return len(statements_generate_previous_month(now=utcnow()).statements)


def enqueue_ledger_sync() -> int:
    ledger_sync.enqueue()
    return 1


def enqueue_monthly_statements() -> int:
    monthly_statements.enqueue()
    return 1
