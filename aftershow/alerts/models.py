"""Alerts: what fired (once per level and episode), where it goes, and what each place got.

An alert is keyed by its subject (``sku:12``, ``session:3:sku:12``, ``order:40``), its kind and
its level. It fires once per *episode*: the unique constraint on (subject, kind, level,
episode) lets exactly one of any number of concurrent workers insert it. When the condition
clears (stock rises back above the level) the open alert is re-armed, and the next crossing is
a new episode.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from aftershow.core.fields import EncryptedJSONField


class AlertKind(models.TextChoices):
    LOW_STOCK = "low_stock", _("Low stock")
    VELOCITY = "velocity", _("Sales velocity")
    STOCKOUT = "stockout", _("Projected stock-out")
    SHORTFALL = "shortfall", _("Short for a planned live")
    REORDER = "reorder", _("Reorder point reached")
    SHIP_BY = "ship_by", _("Ship-by deadline near")
    OTHER = "other", _("Other")


class AlertLevel(models.TextChoices):
    YELLOW = "yellow", _("Yellow")
    ORANGE = "orange", _("Orange")
    RED = "red", _("Red")


class AlertSettings(models.Model):
    """The team's defaults (one row, pk 1): thresholds for SKUs without their own, velocity
    window, stock-out horizon, and how far ahead planned lives are checked."""

    yellow_below = models.PositiveIntegerField(default=200)
    orange_below = models.PositiveIntegerField(default=100)
    red_below = models.PositiveIntegerField(default=50)
    velocity_units = models.PositiveIntegerField(
        default=500, help_text=_("Units sold within the window that call for urgent restock")
    )
    velocity_window_minutes = models.PositiveIntegerField(default=60)
    stockout_horizon_hours = models.PositiveIntegerField(
        default=6, help_text=_("Alert when stock runs out sooner than this at the current pace")
    )
    shortfall_days_ahead = models.PositiveIntegerField(default=3)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "alert settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(red_below__lt=F("orange_below"), orange_below__lt=F("yellow_below")),
                name="alert_settings_levels_ordered",
            ),
            models.CheckConstraint(
                condition=Q(velocity_window_minutes__gte=1), name="alert_settings_window_1"
            ),
        ]

    def __str__(self) -> str:
        return "alert settings"


class SkuAlertThreshold(models.Model):
    """One SKU's own thresholds, replacing the defaults for it."""

    sku = models.OneToOneField(
        "catalog.Sku", on_delete=models.CASCADE, related_name="alert_threshold"
    )
    yellow_below = models.PositiveIntegerField()
    orange_below = models.PositiveIntegerField()
    red_below = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(red_below__lt=F("orange_below"), orange_below__lt=F("yellow_below")),
                name="sku_alert_threshold_levels_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"thresholds of {self.sku_id}"


class AlertDestination(models.Model):
    """Where alerts go: one Apprise URL (``mailtos://…``, ``dingtalk://…``, ``ntfy://…``).

    The URL carries tokens and passwords, so it is stored encrypted; pages show
    ``display_url``, Apprise's own rendering with the secrets masked.
    """

    name = models.CharField(max_length=80)
    secret_url = EncryptedJSONField()
    display_url = models.CharField(max_length=500)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name

    @property
    def url(self) -> str:
        return str(self.secret_url["url"])


class Alert(models.Model):
    kind = models.CharField(max_length=12, choices=AlertKind.choices)
    level = models.CharField(max_length=8, choices=AlertLevel.choices)
    subject_key = models.CharField(max_length=120)
    episode = models.PositiveIntegerField(default=1)
    sku = models.ForeignKey(
        "catalog.Sku", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(max_length=200)
    body = models.TextField()
    data = models.JSONField(default=dict, blank=True)
    raised_at = models.DateTimeField()
    # Set when the condition cleared; the next crossing is a new episode.
    rearmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subject_key", "kind", "level", "episode"], name="alert_once_per_episode"
            )
        ]
        indexes = [
            models.Index(fields=["subject_key", "kind", "level"], name="alert_subject"),
            models.Index(fields=["-raised_at"], name="alert_raised"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}/{self.level} {self.subject_key} #{self.episode}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed (gave up)")


class AlertDelivery(models.Model):
    """One alert to one destination: sent at most once successfully, retried with backoff."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries")
    destination = models.ForeignKey(
        AlertDestination, on_delete=models.PROTECT, related_name="deliveries"
    )
    status = models.CharField(
        max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField()
    # A worker sending holds the claim until then; a crashed worker's claim expires.
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["alert", "destination"], name="alert_delivery_once")
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="alert_delivery_due")]

    def __str__(self) -> str:
        return f"alert {self.alert_id} to {self.destination_id}: {self.status}"


class EvaluationQueue(models.Model):
    """One row (pk 1): whether a stock-alert evaluation task is already queued, so a burst of
    stock changes enqueues one task rather than one per change."""

    queued = models.BooleanField(default=False)
    queued_at = models.DateTimeField(null=True, blank=True)
    # Stock levels changed since this moment are evaluated by the next task.
    evaluated_from = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"evaluation queued={self.queued}"


class InboxProtocol(models.TextChoices):
    SMTP = "smtp", _("E-mail (SMTP)")
    HTTP = "http", _("Webhook (HTTP)")


class LocalInboxMessage(models.Model):
    """What the loopback receivers of the demo (and of tests) got: a local inbox to look at."""

    protocol = models.CharField(max_length=4, choices=InboxProtocol.choices)
    received_at = models.DateTimeField()
    sender = models.CharField(max_length=255, blank=True)
    recipients = models.CharField(max_length=500, blank=True)
    subject = models.CharField(max_length=500, blank=True)
    body = models.TextField()

    class Meta:
        ordering = ["-received_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.protocol}: {self.subject}"
