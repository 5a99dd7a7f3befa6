"""Append-only history: state changes (AuditEvent) and every platform call (IntegrationLog).

Support staff read these to answer "what happened to order X" and "why did the pull fail".
Rows are never updated or deleted by the application.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AppendOnlyModel(models.Model):
    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise TypeError(f"{type(self).__name__} rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError(f"{type(self).__name__} rows are append-only")


class AuditAction(models.TextChoices):
    SHOP_CONNECTED = "shop_connected", _("Shop connected")
    TOKEN_REFRESHED = "token_refreshed", _("Access token refreshed")
    ORDER_CREATED = "order_created", _("Order created")
    ORDER_STATUS_CHANGED = "order_status_changed", _("Order status changed")
    ORDER_STATE_CHANGED = "order_state_changed", _("Order processing state changed")
    WEBHOOK_REJECTED = "webhook_rejected", _("Webhook rejected")
    PULL_COMPLETED = "pull_completed", _("Order pull completed")
    PULL_FAILED = "pull_failed", _("Order pull failed")
    USER_ACTION = "user_action", _("User action")
    PACKAGE_SHIPPED = "package_shipped", _("Package shipped")
    SHIP_BY_DEADLINE_NEAR = (
        "ship_by_deadline_near",
        _("Ship-by deadline near without a carrier scan"),
    )


class AuditEvent(AppendOnlyModel):
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    # "system", "webhook", "poll", "import" when no person acted.
    actor_label = models.CharField(max_length=40, default="system")
    action = models.CharField(max_length=40, choices=AuditAction.choices)
    object_type = models.CharField(max_length=40, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    message = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["object_type", "object_id", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} {self.object_type} {self.object_id}"


class Direction(models.TextChoices):
    OUTBOUND = "out", _("Call to the platform")
    INBOUND = "in", _("Call from the platform")


class IntegrationLog(AppendOnlyModel):
    """One HTTP exchange with a platform: every attempt out, every webhook in."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    shop = models.ForeignKey("shops.Shop", null=True, blank=True, on_delete=models.SET_NULL)
    channel = models.CharField(max_length=20)
    direction = models.CharField(max_length=3, choices=Direction.choices)
    method = models.CharField(max_length=10, blank=True)
    path = models.CharField(max_length=255)
    attempt = models.PositiveSmallIntegerField(default=1)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    # ok / retryable / terminal for calls out; accepted / rejected / duplicate for webhooks in.
    outcome = models.CharField(max_length=20)
    error_code = models.CharField(max_length=40, blank=True)
    error = models.TextField(blank=True)
    request_id = models.CharField(max_length=80, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    # Enough to retry an inbound webhook by hand; never credentials.
    payload = models.JSONField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["channel", "outcome", "at"])]

    def __str__(self) -> str:
        return f"{self.direction} {self.method} {self.path} {self.outcome}"
