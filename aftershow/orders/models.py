"""Orders from every channel, in one shape.

``platform_status`` is the channel's own status (TikTok's set; other channels map onto it);
``state`` is aftershow's processing state, which the seller's team moves forward.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from aftershow.core.fields import MoneyField, currency_field


class PlatformStatus(models.TextChoices):
    UNPAID = "UNPAID", _("Unpaid")
    ON_HOLD = "ON_HOLD", _("On hold")
    AWAITING_SHIPMENT = "AWAITING_SHIPMENT", _("Awaiting shipment")
    PARTIALLY_SHIPPING = "PARTIALLY_SHIPPING", _("Partially shipping")
    AWAITING_COLLECTION = "AWAITING_COLLECTION", _("Awaiting collection")
    IN_TRANSIT = "IN_TRANSIT", _("In transit")
    DELIVERED = "DELIVERED", _("Delivered")
    COMPLETED = "COMPLETED", _("Completed")
    CANCELLED = "CANCELLED", _("Cancelled")


# Statuses after which nothing is left for the seller to ship.
CLOSED_STATUSES = frozenset(
    {
        PlatformStatus.IN_TRANSIT,
        PlatformStatus.DELIVERED,
        PlatformStatus.COMPLETED,
        PlatformStatus.CANCELLED,
    }
)


class OrderState(models.TextChoices):
    NEW = "new", _("New")
    HELD = "held", _("Held")
    IN_REVIEW = "in_review", _("In review")
    READY = "ready", _("Ready")
    CONFIRMED = "confirmed", _("Confirmed")
    BACKORDERED = "backordered", _("Backordered")
    LABELLED = "labelled", _("Labelled")
    SHIPPED = "shipped", _("Shipped")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Buyer(models.Model):
    """A platform buyer, known only by a hash of the platform's user id (no raw ids kept)."""

    channel = models.CharField(max_length=20)
    buyer_key = models.CharField(max_length=64, help_text=_("SHA-256 of channel and user id"))
    nickname = models.CharField(max_length=120, blank=True)
    first_seen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "buyer_key"], name="buyer_unique_key")
        ]
        indexes = [models.Index(Lower("nickname"), name="buyer_nickname_lower")]

    def __str__(self) -> str:
        return self.nickname or self.buyer_key[:10]


class Address(models.Model):
    """A shipping address as received (or as corrected by a reviewer: a new row, never an edit)."""

    name = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    line1 = models.CharField(max_length=255, blank=True)
    line2 = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=3, blank=True)
    postal_code = models.CharField(max_length=12, blank=True)
    country = models.CharField(max_length=2, default="US")
    full_address = models.TextField(blank=True)
    # Normalised hash of line1/line2/city/state/ZIP: "same address" without comparing text.
    match_key = models.CharField(max_length=64, blank=True, db_index=True)

    def __str__(self) -> str:
        parts = [self.line1, self.line2, self.city, self.state, self.postal_code]
        return ", ".join(part for part in parts if part)


class Order(models.Model):
    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="orders")
    remote_order_id = models.CharField(max_length=64)
    buyer = models.ForeignKey(Buyer, null=True, blank=True, on_delete=models.PROTECT)
    shipping_address = models.ForeignKey(
        Address, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    platform_status = models.CharField(max_length=24, choices=PlatformStatus.choices)
    state = models.CharField(max_length=16, choices=OrderState.choices, default=OrderState.NEW)
    hold_reason = models.CharField(max_length=200, blank=True)
    hold_until = models.DateTimeField(null=True, blank=True)

    placed_at = models.DateTimeField(help_text=_("When the buyer placed the order"))
    paid_at = models.DateTimeField(null=True, blank=True)
    remote_updated_at = models.DateTimeField(help_text=_("The platform's update_time"))
    ship_by = models.DateTimeField(null=True, blank=True, help_text=_("Latest dispatch time"))
    collect_by = models.DateTimeField(null=True, blank=True)
    shipping_due_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    collected_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    currency = currency_field()
    subtotal = MoneyField()
    shipping_fee = MoneyField()
    tax = MoneyField()
    seller_discount = MoneyField()
    platform_discount = MoneyField()
    total_amount = MoneyField()

    shipping_type = models.CharField(max_length=10, blank=True, help_text="TIKTOK or SELLER")
    fulfillment_type = models.CharField(max_length=40, blank=True)
    delivery_option_name = models.CharField(max_length=120, blank=True)
    remote_warehouse_id = models.CharField(max_length=64, blank=True)
    auto_combine_group_id = models.CharField(max_length=64, blank=True)
    order_type = models.CharField(max_length=20, blank=True)
    is_on_hold_order = models.BooleanField(default=False)
    is_buyer_request_cancel = models.BooleanField(default=False)
    is_sample_order = models.BooleanField(default=False)
    buyer_message = models.TextField(blank=True)
    # Most platforms hide it; kept when a channel provides it, for the same-IP risk rule.
    buyer_ip = models.GenericIPAddressField(null=True, blank=True)

    creator = models.ForeignKey(
        "creators.Creator", null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    live_session = models.ForeignKey(
        "creators.LiveSession",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "remote_order_id"], name="order_unique_remote")
        ]
        indexes = [
            models.Index(fields=["ship_by", "id"], name="order_ship_by"),
            models.Index(fields=["platform_status", "ship_by"], name="order_status_ship_by"),
            models.Index(fields=["shop", "ship_by"], name="order_shop_ship_by"),
            models.Index(fields=["creator", "ship_by"], name="order_creator_ship_by"),
            models.Index(fields=["state", "ship_by"], name="order_state_ship_by"),
            models.Index(fields=["remote_order_id"], name="order_remote_id"),
            models.Index(fields=["-placed_at"], name="order_placed"),
        ]

    def __str__(self) -> str:
        return self.remote_order_id


class OrderLine(models.Model):
    """One line as the channel sends it. TikTok sends one line per unit (quantity 1)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    remote_line_id = models.CharField(max_length=64)
    sku = models.ForeignKey(
        "catalog.Sku", null=True, blank=True, on_delete=models.PROTECT, related_name="order_lines"
    )
    remote_product_id = models.CharField(max_length=64, blank=True)
    remote_sku_id = models.CharField(max_length=64, blank=True)
    seller_sku = models.CharField(max_length=64, blank=True, db_index=True)
    product_name = models.CharField(max_length=255, blank=True)
    sku_name = models.CharField(max_length=255, blank=True)
    quantity = models.PositiveIntegerField(default=1)
    currency = currency_field()
    original_price = MoneyField()
    sale_price = MoneyField()
    platform_discount = MoneyField()
    seller_discount = MoneyField()
    display_status = models.CharField(max_length=24, blank=True)
    package = models.ForeignKey(
        "fulfillment.Package",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="lines",
    )
    creator = models.ForeignKey(
        "creators.Creator", null=True, blank=True, on_delete=models.SET_NULL
    )
    live_session = models.ForeignKey(
        "creators.LiveSession", null=True, blank=True, on_delete=models.SET_NULL
    )
    # Percent, e.g. 15.00 for 15 %.
    commission_rate = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "remote_line_id"], name="line_unique_remote")
        ]

    def __str__(self) -> str:
        return f"{self.seller_sku} x {self.quantity}"


class ChangeSource(models.TextChoices):
    WEBHOOK = "webhook", _("Webhook")
    POLL = "poll", _("Poll")
    USER = "user", _("User")
    IMPORT = "import", _("File import")
    SYSTEM = "system", _("System")


class OrderStatusChange(models.Model):
    """Append-only history of an order's platform status and processing state."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="status_changes")
    at = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=10, choices=ChangeSource.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    from_status = models.CharField(max_length=24, blank=True)
    to_status = models.CharField(max_length=24, blank=True)
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    reason = models.CharField(max_length=255, blank=True)

    class Meta:
        indexes = [models.Index(fields=["order", "at"])]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} → {self.to_status} ({self.source})"
