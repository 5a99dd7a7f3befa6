"""Background job: release (and screen) what is due. Thin: it calls the release service."""

from __future__ import annotations

from django_tasks import task

from aftershow.core.timeutils import utcnow
from aftershow.orders.release import orders_release_due


@task()
def release_due() -> int:
    """Idempotent, so a run enqueued twice (two schedulers, a restart) does no harm."""
    report = orders_release_due(now=utcnow())
    return report.released + report.back_to_review


def enqueue_release_due() -> int:
    """For the scheduler, every minute: one task, whichever worker takes it."""
    release_due.enqueue()
    return 1
