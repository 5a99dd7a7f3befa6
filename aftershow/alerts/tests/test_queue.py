"""Stock changes queue one coalesced evaluation on the real queue; the worker raises the alerts
and delivers them; the scheduler's jobs catch up on what was missed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django_tasks_db.models import DBTaskResult

from aftershow.alerts import tasks
from aftershow.alerts.models import Alert, AlertDelivery, AlertKind, DeliveryStatus, EvaluationQueue
from aftershow.alerts.receivers import WebhookInbox
from aftershow.alerts.services import destination_create, stock_evaluation_request
from aftershow.catalog.models import Sku
from aftershow.core.timeutils import utcnow
from aftershow.core.worker import run_queued_tasks
from aftershow.inventory.models import Warehouse
from aftershow.inventory.services import stock_count, stock_receive

pytestmark = pytest.mark.django_db(transaction=True)


def _queued(task_name: str) -> int:
    return DBTaskResult.objects.filter(task_path__endswith=task_name, status="READY").count()


def test_a_burst_of_requests_queues_one_evaluation(tee: Sku, warehouse: Warehouse) -> None:
    assert [stock_evaluation_request() for _ in range(5)] == [True, False, False, False, False]
    assert _queued("evaluate_stock_alerts") == 1

    run_queued_tasks()

    assert EvaluationQueue.objects.get(pk=1).queued is False
    assert stock_evaluation_request() is True  # the next change queues a new one


def test_a_lost_evaluation_is_queued_again_after_five_minutes(db: None) -> None:
    assert stock_evaluation_request() is True
    EvaluationQueue.objects.filter(pk=1).update(queued_at=utcnow() - timedelta(minutes=6))
    assert stock_evaluation_request() is True
    assert _queued("evaluate_stock_alerts") == 2


def test_worker_evaluates_changed_skus_and_delivers(
    tee: Sku, warehouse: Warehouse, webhook_inbox: WebhookInbox
) -> None:
    destination_create(name="Webhook", url=webhook_inbox.json_url("/ops"))
    stock_receive(sku=tee, warehouse=warehouse, quantity=40)
    stock_evaluation_request()

    run_queued_tasks()

    assert sorted(Alert.objects.filter(sku=tee).values_list("level", flat=True)) == [
        "orange",
        "red",
        "yellow",
    ]
    received = webhook_inbox.wait_for(3)
    assert sorted(message.subject for message in received) == [
        "Orange stock alert: TEE-BLK-M has 40 left",
        "Red stock alert: TEE-BLK-M has 40 left",
        "Yellow stock alert: TEE-BLK-M has 40 left",
    ]
    assert set(AlertDelivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}

    # A second evaluation of the same stock raises and sends nothing.
    stock_count(sku=tee, warehouse=warehouse, counted=40)
    stock_evaluation_request()
    run_queued_tasks()
    assert Alert.objects.count() == 3
    assert webhook_inbox.requests == 3


def test_failed_delivery_is_retried_by_a_deferred_task(
    tee: Sku, warehouse: Warehouse, webhook_inbox: WebhookInbox
) -> None:
    destination_create(name="Webhook", url=webhook_inbox.json_url())
    webhook_inbox.fail_next = 1
    stock_receive(sku=tee, warehouse=warehouse, quantity=10)
    tasks.evaluate_all_stock_alerts.enqueue()

    run_queued_tasks()

    # Three alerts; one of the three posts failed and waits 30 s in a deferred task.
    assert webhook_inbox.requests == 3
    assert len(webhook_inbox.messages) == 2
    pending = AlertDelivery.objects.filter(status=DeliveryStatus.PENDING)
    assert pending.count() == 1
    retry = DBTaskResult.objects.filter(task_path__endswith="deliver_alert", status="READY")
    assert retry.count() == 1
    assert retry.get().run_after is not None

    # Time passes: the scheduler's job finds the due delivery and the worker sends it.
    pending.update(next_attempt_at=utcnow() - timedelta(seconds=1))
    assert tasks.enqueue_due_alert_deliveries() == 1
    run_queued_tasks()
    assert not AlertDelivery.objects.exclude(status=DeliveryStatus.SENT).exists()
    assert len(webhook_inbox.messages) == 3
    assert sorted(Alert.objects.values_list("kind", flat=True)) == [AlertKind.LOW_STOCK] * 3


def test_a_stock_change_in_the_ledger_queues_the_evaluation(
    tee: Sku, warehouse: Warehouse, webhook_inbox: WebhookInbox
) -> None:
    """The hook in ``inventory.ledger``: a receipt commits, one evaluation task is queued, the
    worker raises the alerts and delivers them."""
    from django.db import transaction

    destination_create(name="Webhook", url=webhook_inbox.json_url("/ops"))
    with transaction.atomic():
        stock_receive(sku=tee, warehouse=warehouse, quantity=150)
        stock_count(sku=tee, warehouse=warehouse, counted=120)
        assert _queued("evaluate_stock_alerts") == 0  # nothing before the commit
    assert _queued("evaluate_stock_alerts") == 1  # one for the whole transaction

    run_queued_tasks()

    (alert,) = Alert.objects.filter(sku=tee)
    assert alert.title == "Yellow stock alert: TEE-BLK-M has 120 left"
    (received,) = webhook_inbox.wait_for(1)
    assert received.subject == alert.title


def test_a_rolled_back_stock_change_queues_nothing(tee: Sku, warehouse: Warehouse) -> None:
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        stock_receive(sku=tee, warehouse=warehouse, quantity=10)
        raise RuntimeError("abort")
    assert _queued("evaluate_stock_alerts") == 0
    assert not EvaluationQueue.objects.filter(queued=True).exists()
