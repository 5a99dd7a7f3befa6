"""``aftershow scheduler``: the one process that enqueues periodic jobs (run exactly one)."""

from __future__ import annotations

from typing import Any

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from aftershow.integrations import jobs
from aftershow.risk import tasks as risk_tasks

SCHEDULE = (
    # (job, cron fields, why)
    (jobs.enqueue_order_reconciliation, {"minute": "*/5"}, "missed webhooks lose nothing"),
    (jobs.enqueue_stalled_fetches, {"minute": "*"}, "a killed worker's fetches resume"),
    (jobs.enqueue_due_tracking_pushes, {"minute": "*"}, "tracking retries and stalled pushes"),
    (jobs.enqueue_ship_by_alerts, {"minute": "*/10"}, "orders near ship-by are alerted"),
    (risk_tasks.enqueue_release_due, {"minute": "*"}, "held orders are released when due"),
)


def _run(job: Any) -> None:
    close_old_connections()
    job()


class Command(BaseCommand):
    help = "Enqueue periodic jobs on their cron schedule (workers run them)."

    def handle(self, *args: Any, **options: Any) -> None:
        scheduler = BlockingScheduler(timezone="UTC")
        for job, fields, reason in SCHEDULE:
            scheduler.add_job(
                _run,
                CronTrigger(timezone="UTC", **fields),
                args=[job],
                id=job.__name__,
                coalesce=True,
                max_instances=1,
            )
            self.stdout.write(f"scheduled {job.__name__} {fields}: {reason}")
        scheduler.start()
