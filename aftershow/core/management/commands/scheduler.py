"""``aftershow scheduler``: the one process that enqueues periodic jobs (run exactly one)."""

from __future__ import annotations

from typing import Any

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from aftershow.alerts import tasks as alert_tasks
from aftershow.commissions import tasks as commission_tasks
from aftershow.integrations import jobs
from aftershow.integrations.tiktok import affiliate as affiliate_jobs
from aftershow.metrics import tasks as metrics_tasks
from aftershow.risk import tasks as risk_tasks
from aftershow.stocksync import jobs as stocksync_jobs

SCHEDULE = (
    # (job, cron fields, why)
    (jobs.enqueue_order_reconciliation, {"minute": "*/5"}, "missed webhooks lose nothing"),
    (jobs.enqueue_stalled_fetches, {"minute": "*"}, "a killed worker's fetches resume"),
    (jobs.enqueue_due_tracking_pushes, {"minute": "*"}, "tracking retries and stalled pushes"),
    (jobs.enqueue_ship_by_alerts, {"minute": "*/10"}, "orders near ship-by are alerted"),
    (risk_tasks.enqueue_release_due, {"minute": "*"}, "held orders are released when due"),
    (stocksync_jobs.enqueue_engine_if_needed, {"minute": "*"}, "stalled stock pushes"),
    (stocksync_jobs.enqueue_drift_checks, {"minute": "*/15"}, "channel stock drift"),
    (stocksync_jobs.enqueue_channel_order_pulls, {"minute": "*/5"}, "Shopify/Amazon/eBay sales"),
    (alert_tasks.enqueue_stock_alert_evaluation, {"minute": "*/5"}, "stock and ship-by alerts"),
    (alert_tasks.enqueue_due_alert_deliveries, {"minute": "*"}, "alert delivery retries"),
    (affiliate_jobs.enqueue_affiliate_order_pulls, {"minute": "17"}, "affiliate attribution"),
    (metrics_tasks.enqueue_metrics_recompute, {"minute": "23"}, "creator metrics and tiers hourly"),
    (commission_tasks.enqueue_ledger_sync, {"minute": "7"}, "commissions earned and clawed back"),
    (
        commission_tasks.enqueue_monthly_statements,
        {"day": "1", "hour": "2", "minute": "15"},
        "last month's creator statements on the 1st",
    ),
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
