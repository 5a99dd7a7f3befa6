"""State the connectors keep: webhook receipts, pending fetches and pull cursors.

Kept in the database so that a worker killed midway loses nothing: whatever was received but
not processed is still here for the next run.
"""

from __future__ import annotations

from django.db import models


class WebhookReceipt(models.Model):
    """Every accepted webhook, once: the unique key makes a redelivery a no-op."""

    channel = models.CharField(max_length=20)
    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE)
    notification_id = models.CharField(max_length=128)
    event_type = models.CharField(max_length=40)
    received_at = models.DateTimeField(auto_now_add=True)
    payload = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "notification_id"], name="webhook_receipt_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.event_type} {self.notification_id}"


class PendingOrderFetch(models.Model):
    """An order whose detail must be (re)fetched; drained in batches of the API's maximum."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE)
    remote_order_id = models.CharField(max_length=64)
    requested_at = models.DateTimeField()
    # Set while a worker fetches it; a lapsed claim (killed worker) is taken over.
    claimed_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "remote_order_id"], name="pending_fetch_once")
        ]

    def __str__(self) -> str:
        return f"fetch {self.remote_order_id}"


class SyncCursor(models.Model):
    """Where a pull stands, saved after every committed page so a failed pull resumes there."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE)
    kind = models.CharField(max_length=40)
    # The update-time watermark: everything updated before it has been pulled.
    watermark = models.DateTimeField(null=True, blank=True)
    # The window being pulled now, and the page token inside it (empty when between windows).
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    page_token = models.TextField(blank=True)
    # True while a task that will process this cursor's work is queued (debounces enqueues).
    task_queued = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "kind"], name="cursor_once")]

    def __str__(self) -> str:
        return f"{self.kind} @ {self.watermark}"
