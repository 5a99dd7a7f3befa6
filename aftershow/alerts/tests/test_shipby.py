"""Ship-by deadline alerts reach the destinations once, from the scheduler's periodic job."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aftershow.alerts import tasks
from aftershow.alerts.models import Alert, AlertKind
from aftershow.alerts.receivers import SmtpInbox
from aftershow.alerts.services import destination_create
from aftershow.alerts.shipby import ship_by_alerts_forward
from aftershow.core.management.commands.scheduler import SCHEDULE
from aftershow.core.timeutils import utcnow
from aftershow.core.worker import run_queued_tasks
from aftershow.integrations.models import ShipByAlert
from aftershow.inventory.tests.helpers import incoming_order
from aftershow.orders.models import ChangeSource, Order
from aftershow.orders.services import orders_upsert
from aftershow.shops.models import Shop


def test_scheduler_runs_the_alert_jobs() -> None:
    jobs = [job for job, _fields, _why in SCHEDULE]
    assert tasks.enqueue_stock_alert_evaluation in jobs
    assert tasks.enqueue_due_alert_deliveries in jobs


@pytest.mark.django_db(transaction=True)
def test_ship_by_alert_is_forwarded_once(shop: Shop, smtp_inbox: SmtpInbox) -> None:
    destination_create(name="Ops mail", url=smtp_inbox.apprise_url(to="ship@glowlab.test"))
    orders_upsert(
        shop=shop,
        incoming=[incoming_order("5770001", [("TEE-BLK-M", 1)])],
        source=ChangeSource.WEBHOOK,
    )
    order = Order.objects.get()
    now = utcnow()
    deadline = now + timedelta(hours=4)
    ShipByAlert.objects.create(order=order, ship_by=deadline, raised_at=now)

    tasks.evaluate_all_stock_alerts.enqueue()
    run_queued_tasks()

    (alert,) = Alert.objects.filter(kind=AlertKind.SHIP_BY)
    assert alert.subject_key == f"order:{order.pk}"
    (mail,) = smtp_inbox.wait_for(1)
    assert mail.subject == f"Order 5770001 must ship by {deadline:%Y-%m-%d %H:%M} UTC"
    assert "has no carrier scan yet" in mail.body
    assert ship_by_alerts_forward() == 0
    assert Alert.objects.filter(kind=AlertKind.SHIP_BY).count() == 1
