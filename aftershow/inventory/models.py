from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from aftershow.audit.models import AppendOnlyModel


class Warehouse(models.Model):
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=120)
    address_line1 = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=80, blank=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField(max_length=10, blank=True, help_text="Origin ZIP for zones")
    country = models.CharField(max_length=2, default="US")
    is_default = models.BooleanField(default=False)

    class Meta:
        constraints = [
            # Orders without a mapped warehouse allocate from the default one: there must be
            # no doubt which.
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="one_default_warehouse",
            )
        ]

    def __str__(self) -> str:
        return self.name


class ChannelWarehouse(models.Model):
    """The platform's id for one of our warehouses on one shop (TikTok warehouse_id)."""

    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="remote_ids")
    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE)
    remote_warehouse_id = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "remote_warehouse_id"], name="channel_warehouse_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.warehouse_id} = {self.remote_warehouse_id}"


class StockLevel(models.Model):
    """What one warehouse holds of one SKU. Only the inventory services write these rows.

    ``allocated`` is what open orders have reserved; it never exceeds ``on_hand``. Demand beyond
    the stock is not counted here: it is a backordered ``StockAllocation``, so the database can
    enforce "never allocate more than exists" without any exception for backorders.
    """

    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="stock_levels")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="levels")
    on_hand = models.IntegerField(default=0)
    allocated = models.IntegerField(default=0)
    # Expected from suppliers (purchase orders not yet received); not sellable.
    incoming = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sku", "warehouse"], name="stock_level_once"),
            models.CheckConstraint(
                condition=models.Q(on_hand__gte=0), name="stock_on_hand_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(allocated__gte=0), name="stock_allocated_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(incoming__gte=0), name="stock_incoming_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(allocated__lte=models.F("on_hand")),
                name="stock_allocated_within_on_hand",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku_id}@{self.warehouse_id}: {self.on_hand} on hand"

    @property
    def available(self) -> int:
        """Sellable now: what channels may list. Never negative (the check constraints)."""
        return self.on_hand - self.allocated


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", _("Receipt")
    EXPECTED = "expected", _("Expected from supplier")
    ADJUSTMENT = "adjustment", _("Adjustment")
    COUNT = "count", _("Stock count")
    ALLOCATION = "allocation", _("Allocated to an order")
    DEALLOCATION = "deallocation", _("Released by a cancellation")
    BACKORDER = "backorder", _("Released to backorder (stock came up short)")
    SHIPMENT = "shipment", _("Shipped")
    RETURN_RESTOCK = "return_restock", _("Returned and restocked")
    RETURN_DAMAGED = "return_damaged", _("Returned damaged (not sellable)")


class AdjustmentReason(models.TextChoices):
    CORRECTION = "correction", _("Correction")
    DAMAGED = "damaged", _("Damaged in the warehouse")
    LOST = "lost", _("Lost or stolen")
    FOUND = "found", _("Found")
    SAMPLE = "sample", _("Taken as a sample")
    OTHER = "other", _("Other")


class StockMovement(AppendOnlyModel):
    """One change to a stock level, never edited: the ledger sums to the level.

    ``idempotency_key`` is unique, so the same event (a redelivered webhook, a repeated poll, a
    re-imported file row) can be applied at most once: the second insert fails and the service
    treats it as done.
    """

    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=MovementKind.choices)
    reason = models.CharField(max_length=16, choices=AdjustmentReason.choices, blank=True)
    # Units concerned; the deltas below say what they did to the level (a damaged return
    # concerns units without changing anything sellable).
    quantity = models.PositiveIntegerField()
    on_hand_delta = models.IntegerField(default=0)
    allocated_delta = models.IntegerField(default=0)
    incoming_delta = models.IntegerField(default=0)
    # The source document: an order line, or a free reference (PO number, file and row).
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    order_line = models.ForeignKey(
        "orders.OrderLine", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reference = models.CharField(max_length=200, blank=True)
    note = models.CharField(max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    # "system", "webhook", "cli", "import" when no person acted.
    actor_label = models.CharField(max_length=40, default="system")
    at = models.DateTimeField(auto_now_add=True)
    idempotency_key = models.CharField(max_length=255, unique=True)

    class Meta:
        indexes = [models.Index(fields=["sku", "warehouse", "at"], name="movement_sku_at")]

    def __str__(self) -> str:
        return f"{self.kind} {self.sku_id}@{self.warehouse_id} {self.on_hand_delta:+d}"


class AllocationStatus(models.TextChoices):
    ALLOCATED = "allocated", _("Allocated")
    BACKORDERED = "backordered", _("Backordered")
    RELEASED = "released", _("Released")
    SHIPPED = "shipped", _("Shipped")


class StockAllocation(models.Model):
    """What one order line needs of one SKU, and whether it got it.

    A plain line has one row (its own SKU); a bundle line has one per component. A line that
    found no stock is kept here as backordered, so it is never silently dropped. Written only
    while its order's row is locked (see ``inventory.ledger.lock_in_pk_order``).
    """

    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, related_name="stock_allocations"
    )
    order_line = models.ForeignKey(
        "orders.OrderLine", on_delete=models.PROTECT, related_name="stock_allocations"
    )
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="+")
    # Units of this SKU per unit of the line (a bundle's component quantity; 1 otherwise).
    units_per_line_unit = models.PositiveIntegerField(default=1)
    quantity = models.PositiveIntegerField()
    status = models.CharField(max_length=12, choices=AllocationStatus.choices)
    # Times the allocation went back to backorder (a count came up short): part of the ledger
    # keys, so a line allocated, bumped and allocated again gets fresh keys each round.
    round = models.PositiveSmallIntegerField(default=0)
    returned_quantity = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order_line", "sku"], name="allocation_once"),
            models.CheckConstraint(
                condition=models.Q(returned_quantity__lte=models.F("quantity")),
                name="allocation_returned_within_quantity",
            ),
        ]
        indexes = [
            models.Index(fields=["sku", "warehouse", "status"], name="allocation_sku_status"),
        ]

    def __str__(self) -> str:
        return f"line {self.order_line_id}: {self.quantity} of {self.sku_id} {self.status}"


class ReorderPolicy(models.Model):
    """How one SKU is replenished: supplier lead time, safety stock, and how long an order
    should last. SKUs without a row use the defaults in ``inventory.planning``."""

    sku = models.OneToOneField("catalog.Sku", on_delete=models.CASCADE, related_name="reorder")
    lead_time_days = models.PositiveIntegerField(
        default=7, help_text=_("Days from purchase order to sellable stock")
    )
    safety_stock = models.PositiveIntegerField(
        default=0, help_text=_("Units kept back for demand above the average")
    )
    cover_days = models.PositiveIntegerField(
        default=14, help_text=_("Days of sales one replenishment order should cover")
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"reorder policy of {self.sku_id}"


class LiveStockPlan(models.Model):
    """The stock plan of one live session (R-I1): its inputs, kept by the inventory app.

    Units = followers x expected view rate x expected conversion x safety factor, rounded up.
    Rates are fractions (``0.10`` = 10 %). The session itself belongs to the creators app.
    """

    session = models.OneToOneField(
        "creators.LiveSession", on_delete=models.CASCADE, related_name="stock_plan"
    )
    followers = models.PositiveIntegerField(help_text=_("Creator's followers when planned"))
    view_rate = models.DecimalField(max_digits=5, decimal_places=4, default=Decimal("0.10"))
    conversion_rate = models.DecimalField(max_digits=5, decimal_places=4, default=Decimal("0.08"))
    safety_factor = models.DecimalField(max_digits=4, decimal_places=2, default=Decimal("1.20"))
    # Share of the plan stocked before the stream; the rest is replenished on sales velocity.
    first_batch_share = models.DecimalField(max_digits=3, decimal_places=2, default=Decimal("0.50"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(view_rate__gt=0, view_rate__lte=1),
                name="stock_plan_view_rate_fraction",
            ),
            models.CheckConstraint(
                condition=models.Q(conversion_rate__gt=0, conversion_rate__lte=1),
                name="stock_plan_conversion_fraction",
            ),
            models.CheckConstraint(
                condition=models.Q(safety_factor__gte=1), name="stock_plan_safety_at_least_1"
            ),
            models.CheckConstraint(
                condition=models.Q(first_batch_share__gt=0, first_batch_share__lte=1),
                name="stock_plan_first_batch_fraction",
            ),
        ]

    def __str__(self) -> str:
        return f"stock plan of session {self.session_id}"


class LiveStockPlanLine(models.Model):
    """A SKU of the plan and its share of the units (weights, not necessarily summing to 100)."""

    plan = models.ForeignKey(LiveStockPlan, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    share = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "sku"], name="stock_plan_sku_once"),
            models.CheckConstraint(condition=models.Q(share__gte=1), name="stock_plan_share_1"),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id}: {self.sku_id} x{self.share}"
