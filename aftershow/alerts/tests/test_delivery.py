"""Alerts reach every destination at once over real protocols (SMTP, HTTP on loopback), are
recorded per destination, retried with backoff, and never sent twice to the same place."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from aftershow.alerts import services
from aftershow.alerts.models import (
    Alert,
    AlertDelivery,
    AlertKind,
    AlertLevel,
    DeliveryStatus,
)
from aftershow.alerts.receivers import SmtpInbox, WebhookInbox
from aftershow.alerts.services import alert_deliver, alert_raise, destination_create
from aftershow.core.timeutils import utcnow

pytestmark = pytest.mark.django_db


def _raise(**overrides: object) -> Alert:
    values: dict[str, object] = {
        "kind": AlertKind.LOW_STOCK,
        "level": AlertLevel.RED,
        "subject_key": "sku:1",
        "title": "Red stock alert: TEE-BLK-M has 45 left",
        "body": "TEE-BLK-M Black / M: 45 units available, below the red threshold of 50.",
    }
    values.update(overrides)
    alert = alert_raise(**values)  # type: ignore[arg-type]
    assert alert is not None
    return alert


def test_alert_reaches_email_webhook_and_ntfy_at_once(
    smtp_inbox: SmtpInbox, webhook_inbox: WebhookInbox
) -> None:
    email = destination_create(name="Ops mail", url=smtp_inbox.apprise_url(to="ops@glowlab.test"))
    hook = destination_create(name="Webhook", url=webhook_inbox.json_url("/stock"))
    ntfy = destination_create(name="ntfy", url=webhook_inbox.ntfy_url("glowlab-stock"))
    alert = _raise()

    report = alert_deliver(alert=alert)

    assert (report.sent, report.failed, report.gave_up) == (3, 0, 0)
    (mail,) = smtp_inbox.wait_for(1)
    assert mail.recipients == ["ops@glowlab.test"]
    assert mail.sender == "alerts@example.com"
    assert mail.subject == "Red stock alert: TEE-BLK-M has 45 left"
    assert "45 units available, below the red threshold of 50." in mail.body
    posts = {
        received.recipients[0]: json.loads(received.raw) for received in webhook_inbox.wait_for(2)
    }
    assert posts["/stock"]["title"] == "Red stock alert: TEE-BLK-M has 45 left"
    assert posts["/stock"]["message"] == alert.body
    assert posts["/"] == {
        "topic": "glowlab-stock",
        "title": "Red stock alert: TEE-BLK-M has 45 left",
        "message": alert.body,
    }
    rows = {row.destination_id: row for row in AlertDelivery.objects.filter(alert=alert)}
    assert {pk: row.status for pk, row in rows.items()} == {
        email.pk: DeliveryStatus.SENT,
        hook.pk: DeliveryStatus.SENT,
        ntfy.pk: DeliveryStatus.SENT,
    }
    assert all(row.attempts == 1 and row.sent_at is not None for row in rows.values())


def test_failed_destination_is_retried_with_backoff_and_the_other_is_not_sent_twice(
    smtp_inbox: SmtpInbox, webhook_inbox: WebhookInbox
) -> None:
    destination_create(name="Ops mail", url=smtp_inbox.apprise_url())
    hook = destination_create(name="Webhook", url=webhook_inbox.json_url())
    webhook_inbox.fail_next = 1
    alert = _raise()
    start = utcnow()

    first = alert_deliver(alert=alert, now=start)

    assert (first.sent, first.failed) == (1, 1)
    failed = AlertDelivery.objects.get(alert=alert, destination=hook)
    assert failed.status == DeliveryStatus.PENDING
    assert failed.attempts == 1
    assert "500" in failed.last_error or "error" in failed.last_error.lower()
    assert failed.next_attempt_at == start + timedelta(seconds=30)
    assert first.next_attempt_at == failed.next_attempt_at

    # Not due yet: nothing is sent.
    early = alert_deliver(alert=alert, now=start + timedelta(seconds=10))
    assert (early.sent, early.failed) == (0, 0)

    second = alert_deliver(alert=alert, now=start + timedelta(seconds=31))

    assert (second.sent, second.failed) == (1, 0)
    assert len(smtp_inbox.wait_for(1)) == 1  # the e-mail was not sent again
    assert len(webhook_inbox.wait_for(1)) == 1
    assert webhook_inbox.requests == 2
    assert AlertDelivery.objects.get(alert=alert, destination=hook).attempts == 2
    # A third round (a duplicated task) sends nothing anywhere.
    third = alert_deliver(alert=alert, now=start + timedelta(hours=1))
    assert (third.sent, third.failed) == (0, 0)
    assert webhook_inbox.requests == 2
    assert len(smtp_inbox.messages) == 1


def test_backoff_doubles_and_gives_up_after_max_attempts(db: None) -> None:
    assert [services.retry_wait(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert services.retry_wait(20) == timedelta(minutes=30)
    destination = destination_create(name="Nowhere", url="json://127.0.0.1:9/hook")
    alert = _raise()
    delivery = AlertDelivery.objects.get(alert=alert, destination=destination)
    AlertDelivery.objects.filter(pk=delivery.pk).update(attempts=services.MAX_ATTEMPTS - 1)

    report = alert_deliver(alert=alert, now=utcnow())

    assert (report.sent, report.failed, report.gave_up) == (0, 0, 1)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == services.MAX_ATTEMPTS
    assert delivery.last_error
    assert report.next_attempt_at is None


def test_claimed_delivery_is_not_sent_by_a_second_worker(webhook_inbox: WebhookInbox) -> None:
    hook = destination_create(name="Webhook", url=webhook_inbox.json_url())
    alert = _raise()
    now = utcnow()
    AlertDelivery.objects.filter(alert=alert, destination=hook).update(
        claimed_until=now + timedelta(minutes=1)
    )

    report = alert_deliver(alert=alert, now=now)

    assert (report.sent, report.failed) == (0, 0)
    assert webhook_inbox.requests == 0


def test_invalid_apprise_url_is_refused_and_nothing_is_stored(db: None) -> None:
    with pytest.raises(services.AlertConfigError):
        destination_create(name="Bad", url="nosuchscheme://whatever")
    from aftershow.alerts.models import AlertDestination

    assert AlertDestination.objects.count() == 0


def test_destination_secret_is_encrypted_and_masked(db: None) -> None:
    destination = destination_create(
        name="Slack", url="slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#ops"
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT secret_url FROM alerts_alertdestination")
        (stored,) = cursor.fetchone()
    assert "TIiajkdnlazkcOXrIdevi7FQ" not in stored
    assert "TIiajkdnlazkcOXrIdevi7FQ" not in destination.display_url
    assert destination.url.endswith("TIiajkdnlazkcOXrIdevi7FQ/#ops")
