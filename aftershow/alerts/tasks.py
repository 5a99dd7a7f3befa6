"""Queue tasks of the alerts app (thin: they call services) and the scheduler's jobs."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from aftershow.alerts import services
from aftershow.alerts.evaluation import skus_changed_since, stock_alerts_evaluate
from aftershow.alerts.models import Alert
from aftershow.alerts.shipby import ship_by_alerts_forward

# Stock levels whose transaction stamped ``updated_at`` before an evaluation started but
# committed after it are still caught by the next one: the window reaches back this far.
CHANGE_MARGIN = timedelta(seconds=30)


@task()
def evaluate_stock_alerts() -> int:
    """Coalesced evaluation after stock changes: the SKUs whose levels changed since the last
    one (``None`` the first time: all of them)."""
    since = services.stock_evaluation_started(margin=CHANGE_MARGIN)
    sku_ids = None if since is None else skus_changed_since(since)
    if sku_ids == []:
        return 0
    return stock_alerts_evaluate(sku_ids=sku_ids)


@task()
def evaluate_all_stock_alerts() -> int:
    """The periodic pass: every SKU and every planned live (velocity decays, lives approach)."""
    return stock_alerts_evaluate() + ship_by_alerts_forward()


@task()
def deliver_alert(alert_id: int) -> int:
    alert = Alert.objects.filter(pk=alert_id).first()
    if alert is None:
        return 0
    report = services.alert_deliver(alert=alert)
    if report.next_attempt_at is not None and report.failed:
        deliver_alert.using(run_after=report.next_attempt_at).enqueue(alert_id)
    return report.sent


def enqueue_stock_alert_evaluation() -> int:
    """Scheduler job: the periodic evaluation."""
    evaluate_all_stock_alerts.enqueue()
    return 1


def enqueue_due_alert_deliveries() -> int:
    """Scheduler job: deliveries left due (a lost retry task, a worker that died)."""
    alert_ids = services.due_alert_ids()
    for alert_id in alert_ids:
        deliver_alert.enqueue(alert_id)
    return len(alert_ids)
