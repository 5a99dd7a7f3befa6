"""Writes shared by every connector: the integration log and webhook receipts."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from aftershow.audit.models import Direction, IntegrationLog
from aftershow.core.http import Exchange
from aftershow.core.timeutils import utcnow
from aftershow.integrations.models import PendingOrderFetch, SyncCursor, WebhookReceipt
from aftershow.shops.models import Shop


def integration_log_record(*, shop: Shop | None, exchange: Exchange) -> None:
    IntegrationLog.objects.create(
        shop=shop,
        channel=exchange.channel,
        direction=Direction.OUTBOUND,
        method=exchange.method,
        path=exchange.path[:255],
        attempt=exchange.attempt,
        status_code=exchange.status_code,
        outcome=exchange.outcome,
        error_code=exchange.error_code,
        error=exchange.error,
        request_id=exchange.request_id,
        duration_ms=exchange.duration_ms,
    )


def webhook_log_record(
    *,
    channel: str,
    shop: Shop | None,
    path: str,
    status_code: int,
    outcome: str,
    error: str = "",
    payload: Any = None,
) -> None:
    IntegrationLog.objects.create(
        shop=shop,
        channel=channel,
        direction=Direction.INBOUND,
        method="POST",
        path=path[:255],
        status_code=status_code,
        outcome=outcome,
        error=error,
        payload=payload,
    )


def webhook_receipt_create(
    *, channel: str, shop: Shop, notification_id: str, event_type: str, payload: Any
) -> bool:
    """Record a webhook once. False when this notification id was already received."""
    try:
        with transaction.atomic():
            WebhookReceipt.objects.create(
                channel=channel,
                shop=shop,
                notification_id=notification_id,
                event_type=event_type,
                payload=payload,
            )
    except IntegrityError:
        return False
    return True


def cursor_task_claim_enqueue(*, shop: Shop, kind: str) -> bool:
    """True if the caller should enqueue the task for this cursor (none is queued yet)."""
    cursors = SyncCursor.objects.filter(shop=shop, kind=kind)
    if cursors.filter(task_queued=False).update(task_queued=True):
        return True
    if cursors.exists():
        return False
    try:
        with transaction.atomic():
            SyncCursor.objects.create(shop=shop, kind=kind, task_queued=True)
    except IntegrityError:
        return False
    return True


def cursor_task_started(*, shop: Shop, kind: str) -> None:
    """The queued task is running: later work needs a new task."""
    SyncCursor.objects.filter(shop=shop, kind=kind).update(task_queued=False)


def pending_fetch_request(*, shop: Shop, order_ids: list[str]) -> None:
    """Mark orders to be fetched again; a repeat request for a pending order renews it."""
    now = utcnow()
    PendingOrderFetch.objects.bulk_create(
        [
            PendingOrderFetch(shop=shop, remote_order_id=order_id, requested_at=now)
            for order_id in dict.fromkeys(order_ids)
        ],
        update_conflicts=True,
        unique_fields=["shop", "remote_order_id"],
        update_fields=["requested_at"],
    )
