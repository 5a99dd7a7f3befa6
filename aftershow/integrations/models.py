"""State the connectors keep: webhook receipts, pending fetches and pull cursors.

Kept in the database so that a worker killed midway loses nothing: whatever was received but
not processed is still here for the next run.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from aftershow.core.fields import MoneyField, currency_field


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


class TrackingUploadState(models.TextChoices):
    QUEUED = "queued", _("Waiting to be pushed")
    PUSHED = "pushed", _("Accepted by the channel")
    FAILED = "failed", _("Refused: needs a person")


class TrackingUpload(models.Model):
    """A package's tracking on its channel: what it should show, and what the channel accepted.

    ``tracking_number``/``carrier`` are the latest request; ``pushed_*`` what the channel
    accepted. They differ while a push (or a revision) is pending. ``first_pushed_at`` starts
    TikTok's 72-hour revision window; ``revisions`` counts the one revision it allows.
    """

    package = models.OneToOneField(
        "fulfillment.Package", on_delete=models.CASCADE, related_name="tracking_upload"
    )
    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE)
    state = models.CharField(
        max_length=8, choices=TrackingUploadState.choices, default=TrackingUploadState.QUEUED
    )
    tracking_number = models.CharField(max_length=64)
    carrier = models.CharField(max_length=40)
    requested_at = models.DateTimeField()
    pushed_tracking_number = models.CharField(max_length=64, blank=True)
    pushed_carrier = models.CharField(max_length=40, blank=True)
    first_pushed_at = models.DateTimeField(null=True, blank=True)
    last_pushed_at = models.DateTimeField(null=True, blank=True)
    revisions = models.PositiveSmallIntegerField(default=0)
    # Learnt at the first push: where the tracking went on the channel.
    remote_package_id = models.CharField(max_length=64, blank=True)
    delivery_option_id = models.CharField(max_length=64, blank=True)
    shipping_provider_id = models.CharField(max_length=64, blank=True)
    is_platform_label = models.BooleanField(
        default=False, help_text=_("TikTok Shipping: the channel issued the tracking number")
    )
    # Durable retry across task runs, and the claim of the worker pushing it now.
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    last_error_code = models.CharField(max_length=40, blank=True)
    last_error = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["shop", "state", "next_attempt_at"], name="tracking_upload_due")
        ]

    def __str__(self) -> str:
        return f"{self.tracking_number} ({self.state})"


class ShippingProviderList(models.Model):
    """A channel's shipping providers for one delivery option of a shop, cached for a day."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE)
    delivery_option_id = models.CharField(max_length=64)
    providers = models.JSONField(default=list)  # [{"id": ..., "name": ...}]
    fetched_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "delivery_option_id"], name="shipping_providers_once"
            )
        ]

    def __str__(self) -> str:
        return f"providers of {self.delivery_option_id}"


class PlatformLabelPurchase(models.Model):
    """A TikTok Shipping label bought (or being bought) under one idempotency key.

    Written before TikTok is asked, so a retry finds it; ``remote_package_id`` is saved the
    moment TikTok answers. The claim (``claimed_until``) keeps two workers from buying at once.
    """

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE)
    idempotency_key = models.CharField(max_length=128, unique=True)
    remote_order_id = models.CharField(max_length=64)
    remote_line_ids = models.JSONField(default=list)
    remote_package_id = models.CharField(max_length=64, blank=True)
    tracking_number = models.CharField(max_length=64, blank=True)
    carrier = models.CharField(max_length=40, blank=True)
    service = models.CharField(max_length=80, blank=True)
    shipping_provider_id = models.CharField(max_length=64, blank=True)
    amount = MoneyField()
    currency = currency_field()
    claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"label {self.tracking_number or '(pending)'} for {self.remote_order_id}"


class ShipByAlert(models.Model):
    """An order alerted once for nearing its ship-by deadline without a carrier scan."""

    order = models.OneToOneField(
        "orders.Order", on_delete=models.CASCADE, related_name="ship_by_alert"
    )
    ship_by = models.DateTimeField()
    raised_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"ship-by alert for order {self.order_id}"
