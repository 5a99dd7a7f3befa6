"""Background job: recompute creator metrics and tiers. Thin: it calls the service."""

from __future__ import annotations

from django_tasks import task

from aftershow.metrics.models import RecomputeTrigger
from aftershow.metrics.services import metrics_recompute


@task()
def recompute_metrics() -> int:
    """Safe to run twice: a second run finds no tier to change and records none."""
    run = metrics_recompute(trigger=RecomputeTrigger.SCHEDULE)
    return run.tier_changes


def enqueue_metrics_recompute() -> int:
    """For the scheduler, every hour: one task, whichever worker takes it."""
    recompute_metrics.enqueue()
    return 1
