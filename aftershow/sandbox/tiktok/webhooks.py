"""Signed webhook delivery, with TikTok's retry schedule and a log of every attempt.

Envelope and signature per channel-apis.md §1.5: ``{"type", "tts_notification_id", "shop_id",
"timestamp", "data"}``, header ``Authorization: hex(HMAC_SHA256(app_secret, app_key + body))``.
Each notification is encoded once; every attempt (and :meth:`WebhookDispatcher.redeliver`) sends
exactly those bytes. An attempt that is not answered 2xx is retried after the next delay of the
schedule (TikTok: 2 min, 30 min, 3 h, 12 h, then it gives up). Delays are virtual time, so a
faster clock compresses them and :meth:`TikTokSandbox.advance` can step through them.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from aftershow.integrations.tiktok.signing import webhook_signature

from .clock import Timeline, VirtualClock
from .orders import CANCELLED, ON_HOLD, IdFactory

logger = logging.getLogger(__name__)

TIKTOK_RETRY_SCHEDULE = (
    timedelta(minutes=2),
    timedelta(minutes=30),
    timedelta(hours=3),
    timedelta(hours=12),
)
ORDER_STATUS_CHANGE = 1
WEBHOOK_TYPE_NAMES = {ORDER_STATUS_CHANGE: "ORDER_STATUS_CHANGE"}


@dataclass(frozen=True)
class Notification:
    id: str
    type: int
    shop_id: str
    address: str
    body: bytes
    signature: str

    @property
    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = json.loads(self.body)
        return payload


@dataclass(frozen=True)
class WebhookAttempt:
    notification_id: str
    attempt: int  # 1 = first delivery; redeliveries count on from the last attempt
    url: str
    body: bytes
    signature: str
    status_code: int | None  # None: no HTTP answer (connection refused, timeout)
    error: str
    sent_at: float  # real Unix seconds
    virtual_time: int
    redelivery: bool = False

    @property
    def acknowledged(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookDispatcher:
    def __init__(
        self,
        *,
        app_key: str,
        app_secret: str,
        clock: VirtualClock,
        timeline: Timeline,
        ids: IdFactory,
        retry_schedule: Sequence[timedelta] = TIKTOK_RETRY_SCHEDULE,
        workers: int = 4,
        timeout: float = 5.0,
    ) -> None:
        self.app_key = app_key
        self.app_secret = app_secret
        self.clock = clock
        self.timeline = timeline
        self.ids = ids
        self.retry_schedule = tuple(retry_schedule)
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tts-webhook")
        self._timeout = timeout
        self._http: httpx.Client | None = None  # built on first delivery (it costs an SSL context)
        self._lock = threading.Condition()
        self._in_flight = 0
        self._attempts: dict[str, int] = {}
        self._notifications: dict[str, Notification] = {}
        self._log: list[WebhookAttempt] = []
        self._closed = False

    # -- publishing ------------------------------------------------------------------------

    def publish_order_status(
        self, *, shop_id: str, address: str, order_id: str, status: str, update_time: int
    ) -> Notification:
        data = {
            "order_id": order_id,
            # The webhook says CANCEL where the order API says CANCELLED.
            "order_status": "CANCEL" if status == CANCELLED else status,
            "is_on_hold_order": status == ON_HOLD,
            "update_time": update_time,
        }
        return self.publish(type_=ORDER_STATUS_CHANGE, shop_id=shop_id, address=address, data=data)

    def publish(
        self, *, type_: int, shop_id: str, address: str, data: dict[str, Any]
    ) -> Notification:
        notification_id = self.ids.new("notification")
        envelope = {
            "type": type_,
            "tts_notification_id": notification_id,
            "shop_id": shop_id,
            "timestamp": self.clock.timestamp(),
            "data": data,
        }
        body = json.dumps(envelope, separators=(",", ":")).encode()
        signature = webhook_signature(app_key=self.app_key, app_secret=self.app_secret, body=body)
        notification = Notification(notification_id, type_, shop_id, address, body, signature)
        with self._lock:
            self._notifications[notification_id] = notification
            self._attempts[notification_id] = 0
        self._submit(notification)
        return notification

    def _submit(self, notification: Notification) -> None:
        with self._lock:
            if self._closed:
                return
            self._in_flight += 1
        self._executor.submit(self._deliver_and_schedule, notification)

    def _deliver_and_schedule(self, notification: Notification) -> None:
        try:
            with self._lock:
                self._attempts[notification.id] += 1
                attempt_number = self._attempts[notification.id]
            attempt = self._send(notification, attempt_number, redelivery=False)
            if not attempt.acknowledged and attempt_number <= len(self.retry_schedule):
                delay = self.retry_schedule[attempt_number - 1].total_seconds()
                self.timeline.schedule(
                    self.clock.epoch() + delay, lambda _due: self._submit(notification)
                )
        finally:
            with self._lock:
                self._in_flight -= 1
                self._lock.notify_all()

    def _client(self) -> httpx.Client:
        with self._lock:
            if self._http is None:
                # Explicit timeout; no redirects (TikTok does not follow them either).
                self._http = httpx.Client(timeout=self._timeout, follow_redirects=False)
            return self._http

    def _send(
        self, notification: Notification, attempt_number: int, *, redelivery: bool
    ) -> WebhookAttempt:
        status_code: int | None = None
        error = ""
        try:
            response = self._client().post(
                notification.address,
                content=notification.body,
                headers={
                    "Authorization": notification.signature,
                    "Content-Type": "application/json",
                },
            )
            status_code = response.status_code
        except httpx.HTTPError as exc:  # refused, reset, timeout: unacknowledged, retried
            error = f"{type(exc).__name__}: {exc}"
        attempt = WebhookAttempt(
            notification_id=notification.id,
            attempt=attempt_number,
            url=notification.address,
            body=notification.body,
            signature=notification.signature,
            status_code=status_code,
            error=error,
            sent_at=time.time(),
            virtual_time=self.clock.timestamp(),
            redelivery=redelivery,
        )
        with self._lock:
            self._log.append(attempt)
        if not attempt.acknowledged:
            logger.info(
                "webhook %s attempt %d not acknowledged: %s %s",
                notification.id,
                attempt_number,
                status_code,
                error,
            )
        return attempt

    def redeliver(self, notification_id: str) -> WebhookAttempt:
        """Send an exact duplicate now (same id, same bytes, same signature); no retries."""
        with self._lock:
            notification = self._notifications[notification_id]
            self._attempts[notification_id] += 1
            attempt_number = self._attempts[notification_id]
        return self._send(notification, attempt_number, redelivery=True)

    # -- inspection ------------------------------------------------------------------------

    @property
    def log(self) -> list[WebhookAttempt]:
        with self._lock:
            return list(self._log)

    def notification(self, notification_id: str) -> Notification:
        with self._lock:
            return self._notifications[notification_id]

    def notifications(self) -> list[Notification]:
        with self._lock:
            return list(self._notifications.values())

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until no delivery is in flight (scheduled retries are not in flight)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._lock.wait(remaining)
            return True

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._executor.shutdown(wait=True, cancel_futures=True)
        if self._http is not None:
            self._http.close()
