"""Release and risk data: when an order may be processed, which rules screen it, what they found.

Rules are rows the seller edits (kind, parameters, active, position); the evaluators behind the
kinds are code (:mod:`aftershow.risk.evaluators`). A flag keeps the reason with its concrete
values, in the words of the rule that raised it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from aftershow.audit.models import AppendOnlyModel


class RuleKind(models.TextChoices):
    ADDRESS = "address", _("Incomplete or invalid address")
    RETURN_RATE = "return_rate", _("High buyer return rate")
    ORDER_VELOCITY = "order_velocity", _("Several orders in a short time")
    REMOTE_DESTINATION = "remote_destination", _("Remote destination")
    PO_BOX = "po_box", _("PO Box the carrier cannot deliver to")
    HIGH_VALUE = "high_value", _("Unusually high value or quantity")


class RiskRule(models.Model):
    """One screening rule: an evaluator (``kind``) and the seller's thresholds for it."""

    kind = models.CharField(max_length=24, choices=RuleKind.choices)
    # Validated against the kind's parameter model (evaluators.PARAMETERS) on every write.
    parameters = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0, help_text=_("Lower runs first"))
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class FlagStatus(models.TextChoices):
    OPEN = "open", _("Open")
    APPROVED = "approved", _("Approved by a reviewer")
    CLEARED = "cleared", _("No longer applies")


class RiskFlag(models.Model):
    """What one rule found on one order. Re-screening updates it; it is never duplicated."""

    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="risk_flags")
    rule = models.ForeignKey(RiskRule, on_delete=models.PROTECT, related_name="flags")
    kind = models.CharField(max_length=24, choices=RuleKind.choices)
    # The reason in the site's language, with the concrete values ("ZIP 90026 is in CA, not NV").
    reason = models.CharField(max_length=500)
    # [{"code": ..., "values": {...}}]: renders the reason again in the reader's language.
    findings = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=FlagStatus.choices, default=FlagStatus.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "rule"], name="riskflag_unique_order_rule")
        ]
        indexes = [models.Index(fields=["status", "order"], name="riskflag_status_order")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind}: {self.reason}"

    @property
    def display_reason(self) -> str:
        """The reason in the reader's language (the stored text is the site's language)."""
        from aftershow.risk.findings import render_findings

        return render_findings(self.findings) or self.reason


class ReleasePolicy(models.Model):
    """How a shop's orders are released; a shop without a row gets the defaults."""

    shop = models.OneToOneField(
        "shops.Shop", on_delete=models.CASCADE, related_name="release_policy"
    )
    hold_live_orders_until_stream_end = models.BooleanField(
        default=False,
        help_text=_("Hold live-stream orders until the stream ends plus the combine window"),
    )
    # TikTok's live auto-combine merges a buyer's orders placed within 3-6 hours.
    combine_window_minutes = models.PositiveIntegerField(default=180)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"release policy of shop {self.shop_id}"


class HoldKind(models.TextChoices):
    NONE = "", _("Not held")
    CANCEL_WINDOW = "cancel_window", _("Cancellation window")
    PLATFORM = "platform", _("On hold at the platform")
    CANCEL_REQUEST = "cancel_request", _("The buyer asked to cancel")
    LIVE_STREAM = "live_stream", _("Live stream and combine window")
    COMBINE = "combine", _("Waiting to combine with the buyer's other orders")
    REVIEWER = "reviewer", _("Held by a reviewer")


class OrderRelease(models.Model):
    """Where an order stands in release and screening (one row per order, written by them).

    ``Order.state``, ``hold_reason`` and ``hold_until`` say what the team sees; this row says
    which kind of hold it is, which parcel the order should share (``combine_key``) and when it
    was released and screened.
    """

    order = models.OneToOneField(
        "orders.Order", on_delete=models.CASCADE, primary_key=True, related_name="release"
    )
    hold_kind = models.CharField(max_length=16, choices=HoldKind.choices, blank=True)
    # Orders of one shop with the same key go in one parcel (same buyer and address).
    combine_key = models.CharField(max_length=100, blank=True, db_index=True)
    released_at = models.DateTimeField(null=True, blank=True)
    screened_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"release of order {self.order_id}"


class OrderReturn(models.Model):
    """A return (or refund after delivery) of an order: the return-rate rule's evidence.

    Written by ``order_return_record``; a returns connector or a file import feeds it.
    """

    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="returns")
    remote_return_id = models.CharField(max_length=64)
    returned_at = models.DateTimeField()
    reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["order", "remote_return_id"], name="orderreturn_unique_remote"
            )
        ]

    def __str__(self) -> str:
        return f"return {self.remote_return_id} of order {self.order_id}"


class AddressCorrection(AppendOnlyModel):
    """A reviewer replaced an order's address: the old row stays, the order points at a new one."""

    order = models.ForeignKey(
        "orders.Order", on_delete=models.CASCADE, related_name="address_corrections"
    )
    from_address = models.ForeignKey(
        "orders.Address", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_address = models.ForeignKey("orders.Address", on_delete=models.PROTECT, related_name="+")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"address of order {self.order_id}: {self.from_address_id} → {self.to_address_id}"
