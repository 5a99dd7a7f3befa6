"""Writes on alerts: raise (once per level and episode), re-arm, deliver, configure.

- :func:`alert_raise` is what any feature calls to alert people (stock rules, the ship-by job).
  It inserts the alert, and one delivery row per active destination, in one transaction; the
  send task is enqueued on commit. It returns ``None`` when the same alert is already open.
- :func:`alert_rearm` closes the open episode when its condition cleared.
- :func:`alert_deliver` sends an alert to every destination still waiting, all at the same
  time, and records per destination the result; failures are retried with backoff. A delivery
  that succeeded is never sent again: each one is claimed by a conditional UPDATE first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import apprise
from django.db import IntegrityError, connection, transaction
from django.db.models import Min, Q
from django.utils.translation import gettext as _

from aftershow.alerts.models import (
    Alert,
    AlertDelivery,
    AlertDestination,
    AlertKind,
    AlertLevel,
    AlertSettings,
    DeliveryStatus,
    EvaluationQueue,
    SkuAlertThreshold,
)
from aftershow.catalog.models import Sku
from aftershow.core.timeutils import utcnow

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY_WAIT = timedelta(minutes=30)
# How long a worker may take to send one round before another may claim the deliveries.
CLAIM_FOR = timedelta(minutes=2)
# Apprise waits this long for a destination's server (its connect and read timeouts).
SEND_TIMEOUT_SECONDS = 15
# A queued evaluation older than this is presumed lost with its worker and queued again.
STALE_QUEUE = timedelta(minutes=5)


class AlertConfigError(ValueError):
    """A destination URL Apprise cannot use, or thresholds out of order (terminal)."""


# --- raising -------------------------------------------------------------------------------


def alert_raise(
    *,
    kind: AlertKind,
    level: AlertLevel,
    subject_key: str,
    title: str,
    body: str,
    sku: Sku | None = None,
    data: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Alert | None:
    """Raise an alert unless the same one (subject, kind, level) is open; deliver it everywhere.

    Safe under concurrency: two workers that both find no open alert both try to insert the
    same episode, the unique constraint lets one through, and the other returns ``None``.
    """
    now = now or utcnow()
    with transaction.atomic():
        last = (
            Alert.objects.filter(subject_key=subject_key, kind=kind, level=level)
            .order_by("-episode")
            .only("episode", "rearmed_at")
            .first()
        )
        if last is not None and last.rearmed_at is None:
            return None
        episode = last.episode + 1 if last is not None else 1
        try:
            with transaction.atomic():
                alert = Alert.objects.create(
                    kind=kind,
                    level=level,
                    subject_key=subject_key,
                    episode=episode,
                    sku=sku,
                    title=title,
                    body=body,
                    data=data or {},
                    raised_at=now,
                )
        except IntegrityError:
            return None
        destinations = AlertDestination.objects.filter(is_active=True).order_by("pk")
        AlertDelivery.objects.bulk_create(
            [
                AlertDelivery(alert=alert, destination=destination, next_attempt_at=now)
                for destination in destinations
            ]
        )
        transaction.on_commit(partial(_enqueue_delivery, alert.pk))
    return alert


def alert_rearm(
    *, subject_key: str, kind: AlertKind, level: AlertLevel, now: datetime | None = None
) -> int:
    """Close the open episode of (subject, kind, level): the next crossing alerts again."""
    return Alert.objects.filter(
        subject_key=subject_key, kind=kind, level=level, rearmed_at__isnull=True
    ).update(rearmed_at=now or utcnow())


def _enqueue_delivery(alert_id: int, run_after: datetime | None = None) -> None:
    from aftershow.alerts.tasks import deliver_alert

    if run_after is None:
        deliver_alert.enqueue(alert_id)
    else:
        deliver_alert.using(run_after=run_after).enqueue(alert_id)


# --- delivering ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SendResult:
    ok: bool
    error: str


Sender = Callable[[str, str, str], SendResult]


def apprise_send(url: str, title: str, body: str) -> SendResult:
    """Send one message to one Apprise URL; the error is what Apprise logged."""
    notifier = apprise.Apprise()
    if not notifier.add(url):
        return SendResult(ok=False, error=_("Apprise does not understand this URL."))
    with apprise.LogCapture(level=logging.WARNING) as captured:  # type: ignore[no-untyped-call]
        ok = bool(notifier.notify(title=title, body=body))
    log = captured.getvalue().strip() if hasattr(captured, "getvalue") else ""
    return SendResult(ok=ok, error="" if ok else (log or _("The destination refused it.")))


def retry_wait(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, … doubling after each failed attempt, at most 30 min."""
    wait: timedelta = FIRST_RETRY * (2 ** max(0, attempts - 1))
    return min(wait, MAX_RETRY_WAIT)


@dataclass(frozen=True)
class DeliveryReport:
    sent: int
    failed: int
    gave_up: int
    next_attempt_at: datetime | None


def alert_deliver(
    *, alert: Alert, now: datetime | None = None, sender: Sender = apprise_send
) -> DeliveryReport:
    """Send the alert to each destination that is due, all at once, and record each result.

    Each delivery is first claimed (``UPDATE … WHERE`` still pending, due and unclaimed), so a
    retried task or a second worker never sends again to a destination that got the alert.
    """
    now = now or utcnow()
    due = list(
        AlertDelivery.objects.filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
            alert=alert,
            status=DeliveryStatus.PENDING,
            next_attempt_at__lte=now,
        ).select_related("destination")
    )
    claimed: list[AlertDelivery] = []
    for delivery in due:
        taken = (
            AlertDelivery.objects.filter(
                Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
                pk=delivery.pk,
                status=DeliveryStatus.PENDING,
            ).update(claimed_until=now + CLAIM_FOR)
            == 1
        )
        if taken:
            claimed.append(delivery)
    results: list[SendResult] = []
    if claimed:
        with ThreadPoolExecutor(max_workers=min(8, len(claimed))) as pool:
            results = list(
                pool.map(
                    lambda delivery: _send_safely(
                        sender, delivery.destination.url, alert.title, alert.body
                    ),
                    claimed,
                )
            )
    sent = failed = gave_up = 0
    finished = utcnow()
    for delivery, result in zip(claimed, results, strict=True):
        attempts = delivery.attempts + 1
        if result.ok:
            sent += 1
            AlertDelivery.objects.filter(pk=delivery.pk).update(
                status=DeliveryStatus.SENT,
                attempts=attempts,
                sent_at=finished,
                last_error="",
                claimed_until=None,
            )
        elif attempts >= MAX_ATTEMPTS:
            gave_up += 1
            AlertDelivery.objects.filter(pk=delivery.pk).update(
                status=DeliveryStatus.FAILED,
                attempts=attempts,
                last_error=result.error[:2000],
                claimed_until=None,
            )
        else:
            failed += 1
            AlertDelivery.objects.filter(pk=delivery.pk).update(
                attempts=attempts,
                last_error=result.error[:2000],
                next_attempt_at=now + retry_wait(attempts),
                claimed_until=None,
            )
    next_at = AlertDelivery.objects.filter(alert=alert, status=DeliveryStatus.PENDING).aggregate(
        at=Min("next_attempt_at")
    )["at"]
    return DeliveryReport(sent=sent, failed=failed, gave_up=gave_up, next_attempt_at=next_at)


def _send_safely(sender: Sender, url: str, title: str, body: str) -> SendResult:
    # A plugin bug must cost one destination one attempt, not the whole round (and the record
    # of the destinations that did get it).
    try:
        return sender(url, title, body)
    except Exception as error:
        logger.exception("alert delivery raised")
        return SendResult(ok=False, error=f"{type(error).__name__}: {error}")


def due_alert_ids(*, now: datetime | None = None) -> list[int]:
    """Alerts with deliveries due now (retries, and those of a worker that died)."""
    now = now or utcnow()
    return list(
        AlertDelivery.objects.filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
            status=DeliveryStatus.PENDING,
            next_attempt_at__lte=now,
        )
        .values_list("alert_id", flat=True)
        .distinct()
        .order_by("alert_id")
    )


# --- configuration -------------------------------------------------------------------------


def validate_apprise_url(url: str) -> str:
    """Apprise's masked rendering of ``url`` (secrets hidden), or :class:`AlertConfigError`."""
    plugin = apprise.Apprise.instantiate(url.strip())
    if not plugin:
        raise AlertConfigError(_("Apprise does not understand this URL."))
    return str(plugin.url(privacy=True))  # type: ignore[no-untyped-call]


def destination_create(*, name: str, url: str, is_active: bool = True) -> AlertDestination:
    display = validate_apprise_url(url)
    return AlertDestination.objects.create(
        name=name,
        secret_url={"url": url.strip()},  # type: ignore[misc]  # an encrypted JSON object
        display_url=display,
        is_active=is_active,
    )


def destination_update(
    *, destination: AlertDestination, name: str, url: str | None, is_active: bool
) -> AlertDestination:
    """Change a destination; an empty ``url`` keeps the stored one (pages never show it)."""
    destination.name = name
    destination.is_active = is_active
    if url:
        destination.display_url = validate_apprise_url(url)
        destination.secret_url = {"url": url.strip()}  # type: ignore[assignment]
    destination.save()
    return destination


def destination_test(*, destination: AlertDestination, sender: Sender = apprise_send) -> SendResult:
    """Send a test message now (not recorded as an alert)."""
    return _send_safely(
        sender,
        destination.url,
        _("aftershow test alert"),
        _("This destination receives aftershow's stock alerts."),
    )


def alert_settings() -> AlertSettings:
    settings, _created = AlertSettings.objects.get_or_create(pk=1)
    return settings


def _check_order(red: int, orange: int, yellow: int) -> None:
    if not red < orange < yellow:
        raise AlertConfigError(_("Thresholds must be red < orange < yellow."))


def alert_settings_update(**values: int) -> AlertSettings:
    settings = alert_settings()
    for name, value in values.items():
        setattr(settings, name, value)
    _check_order(settings.red_below, settings.orange_below, settings.yellow_below)
    settings.save()
    return settings


def sku_threshold_set(*, sku: Sku, yellow: int, orange: int, red: int) -> SkuAlertThreshold:
    _check_order(red, orange, yellow)
    threshold, _created = SkuAlertThreshold.objects.update_or_create(
        sku=sku, defaults={"yellow_below": yellow, "orange_below": orange, "red_below": red}
    )
    return threshold


def sku_threshold_clear(*, sku: Sku) -> None:
    SkuAlertThreshold.objects.filter(sku=sku).delete()


# --- evaluation queue ----------------------------------------------------------------------


def stock_evaluation_request() -> bool:
    """Called after a stock change commits: make sure one evaluation task is queued.

    A read first, so that during a burst (a task already queued) the call writes nothing;
    then a conditional UPDATE claims the right to enqueue, so concurrent callers enqueue once.
    Returns whether this call enqueued the task.
    """
    now = utcnow()
    stale = now - STALE_QUEUE
    if _evaluation_queued(since=stale):
        return False
    queue = EvaluationQueue.objects.filter(pk=1)
    if not queue.exists():
        EvaluationQueue.objects.bulk_create([EvaluationQueue(pk=1)], ignore_conflicts=True)
    claimed = (
        queue.filter(Q(queued=False) | Q(queued_at__lt=stale)).update(queued=True, queued_at=now)
        == 1
    )
    if claimed:
        from aftershow.alerts.tasks import evaluate_stock_alerts

        evaluate_stock_alerts.enqueue()
    return claimed


def _evaluation_queued(*, since: datetime) -> bool:
    """``EvaluationQueue.objects.filter(pk=1, queued=True, queued_at__gte=since).exists()``
    in plain SQL: it runs after every committed stock change, and building the ORM query cost
    ten times the database's own round trip (``benchmarks/alerts.py``)."""
    table = connection.ops.quote_name(EvaluationQueue._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {table} WHERE id = 1 AND queued AND queued_at >= %s",  # noqa: S608
            [connection.ops.adapt_datetimefield_value(since)],
        )
        return cursor.fetchone() is not None


def stock_evaluation_started(*, margin: timedelta) -> datetime | None:
    """The task starts: clear the flag (later changes queue a new task) and move the window.

    Returns the moment from which changed stock levels must be evaluated (``None``: all).
    """
    now = utcnow()
    with transaction.atomic():
        EvaluationQueue.objects.bulk_create([EvaluationQueue(pk=1)], ignore_conflicts=True)
        queue = EvaluationQueue.objects.select_for_update().get(pk=1)
        since = queue.evaluated_from
        queue.queued = False
        queue.evaluated_from = now - margin
        queue.save(update_fields=["queued", "evaluated_from"])
    return since


def alerts_recent(*, limit: int = 200) -> Sequence[Alert]:
    return list(
        Alert.objects.select_related("sku")
        .prefetch_related("deliveries__destination")
        .order_by("-raised_at", "-pk")[:limit]
    )
