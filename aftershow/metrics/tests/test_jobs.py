"""The recompute through the command line and through the task queue (the scheduler's job)."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from aftershow.core.management.commands.scheduler import SCHEDULE
from aftershow.core.worker import run_queued_tasks
from aftershow.metrics.models import CreatorStanding, MetricsRun, RecomputeTrigger, Tier
from aftershow.metrics.tasks import enqueue_metrics_recompute
from aftershow.orders.tests.factories import CreatorFactory


@pytest.mark.django_db
def test_the_command_recomputes_and_says_what_changed() -> None:
    CreatorFactory(handle="cli")
    out = io.StringIO()
    call_command("metrics_recompute", "--as-of", "2026-11-01T00:00Z", stdout=out)
    assert out.getvalue() == (
        "recomputed 1 creators as of 2026-11-01 00:00 UTC with thresholds v1: 0 tier changes\n"
    )
    run = MetricsRun.objects.get()
    assert run.trigger == RecomputeTrigger.CLI
    assert CreatorStanding.objects.get().tier == Tier.NONE


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["yesterday", "2026-11-01T00:00"])
def test_the_command_refuses_a_bad_or_naive_time(value: str) -> None:
    with pytest.raises(CommandError):
        call_command("metrics_recompute", "--as-of", value)
    assert MetricsRun.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_the_periodic_job_runs_through_the_queue() -> None:
    CreatorFactory(handle="queued")
    assert enqueue_metrics_recompute in [job for job, _fields, _why in SCHEDULE]
    assert enqueue_metrics_recompute() == 1
    assert MetricsRun.objects.count() == 0
    run_queued_tasks()
    run = MetricsRun.objects.get()
    assert (run.trigger, run.creators) == (RecomputeTrigger.SCHEDULE, 1)
