"""Parcels, the seller's carrier rules, label purchases and label batches.

A ``Package`` is built from confirmed orders (one per order, or one per combine group), carries
its measured weight and box, the chosen carrier and service with the reason, and the provider
that sells its label. ``LabelPurchase`` is the two-phase record that makes "never buy a label
twice" a database guarantee; ``LabelBatch`` groups up to 600 orders' labels into one print run.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftershow.core.fields import MoneyField, currency_field
from aftershow.fulfillment.carriers.codes import (
    DestinationKind,
    ProviderCode,
    SelectionSource,
    ServiceCode,
)


class PackageStatus(models.TextChoices):
    TO_FULFILL = "TO_FULFILL", _("To fulfil")
    PROCESSING = "PROCESSING", _("Processing")
    FULFILLING = "FULFILLING", _("Fulfilling")
    COMPLETED = "COMPLETED", _("Completed")
    CANCELLED = "CANCELLED", _("Cancelled")


def _optional_decimal(digits: int = 8) -> models.DecimalField:  # type: ignore[type-arg]
    return models.DecimalField(
        max_digits=digits,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )


class CarrierRule(models.Model):
    """One of the seller's ordered rules: when every set condition holds, use ``service``.

    Empty conditions are ignored; a rule without conditions matches every parcel. Billable
    weight is computed with the divisor of the rule's own carrier.
    """

    position = models.PositiveIntegerField(default=0, help_text=_("Lower runs first"))
    name = models.CharField(_("name"), max_length=120)
    is_active = models.BooleanField(_("active"), default=True)
    min_billable_weight_oz = _optional_decimal()
    max_billable_weight_oz = _optional_decimal()
    min_longest_side_in = _optional_decimal(6)
    max_longest_side_in = _optional_decimal(6)
    min_length_plus_girth_in = _optional_decimal(6)
    max_length_plus_girth_in = _optional_decimal(6)
    destination_states = models.CharField(
        _("destination states"),
        max_length=200,
        blank=True,
        help_text=_("Two-letter codes separated by commas, e.g. AK, HI"),
    )
    min_zone = models.PositiveSmallIntegerField(null=True, blank=True)
    max_zone = models.PositiveSmallIntegerField(null=True, blank=True)
    destination_kind = models.CharField(
        max_length=20, choices=DestinationKind.choices, default=DestinationKind.ANY
    )
    ship_by_within_hours = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Matches when the ship-by deadline is this close")
    )
    min_order_value = MoneyField(null=True, blank=True, default=None)
    max_order_value = MoneyField(null=True, blank=True, default=None)
    sku_tags = models.ManyToManyField("catalog.Tag", blank=True, related_name="carrier_rules")
    service = models.CharField(_("service"), max_length=40, choices=ServiceCode.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.position}. {self.name}"

    @property
    def state_codes(self) -> frozenset[str]:
        return frozenset(
            code.strip().upper() for code in self.destination_states.split(",") if code.strip()
        )

    @property
    def conditions(self) -> list[str]:
        """The set conditions in words, for the rules page."""
        parts: list[str] = []
        ranges = [
            (_("billable weight"), self.min_billable_weight_oz, self.max_billable_weight_oz, "oz"),
            (_("longest side"), self.min_longest_side_in, self.max_longest_side_in, "in"),
            (
                _("length + girth"),
                self.min_length_plus_girth_in,
                self.max_length_plus_girth_in,
                "in",
            ),
            (_("zone"), self.min_zone, self.max_zone, ""),
            (_("order value $"), self.min_order_value, self.max_order_value, ""),
        ]
        for label, low, high, unit in ranges:
            if low is not None and high is not None:
                parts.append(f"{label} {low} to {high} {unit}".strip())
            elif low is not None:
                parts.append(f"{label} ≥ {low} {unit}".strip())
            elif high is not None:
                parts.append(f"{label} ≤ {high} {unit}".strip())
        if self.state_codes:
            parts.append(_("to %(states)s") % {"states": ", ".join(sorted(self.state_codes))})
        if self.destination_kind != DestinationKind.ANY:
            parts.append(str(self.get_destination_kind_display()))
        if self.ship_by_within_hours is not None:
            parts.append(_("ship-by within %(hours)s h") % {"hours": self.ship_by_within_hours})
        tags = [tag.name for tag in self.sku_tags.all()] if self.pk else []
        if tags:
            parts.append(_("SKU tagged %(tags)s") % {"tags": ", ".join(sorted(tags))})
        return parts

    def clean(self) -> None:
        pairs = [
            ("min_billable_weight_oz", "max_billable_weight_oz"),
            ("min_longest_side_in", "max_longest_side_in"),
            ("min_length_plus_girth_in", "max_length_plus_girth_in"),
            ("min_zone", "max_zone"),
            ("min_order_value", "max_order_value"),
        ]
        errors: dict[str, str] = {}
        for low, high in pairs:
            low_value, high_value = getattr(self, low), getattr(self, high)
            if low_value is not None and high_value is not None and low_value > high_value:
                errors[high] = str(_("Must not be below the minimum."))
        bad = [code for code in self.state_codes if len(code) != 2 or not code.isalpha()]
        if bad:
            errors["destination_states"] = str(_("Not two-letter codes: %(codes)s")) % {
                "codes": ", ".join(sorted(bad))
            }
        if errors:
            raise ValidationError(errors)


class Package(models.Model):
    """A parcel: one or more order lines (possibly of several orders, when combined)."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="packages")
    remote_package_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(
        max_length=12, choices=PackageStatus.choices, default=PackageStatus.TO_FULFILL
    )
    carrier = models.CharField(max_length=40, blank=True)
    service = models.CharField(max_length=80, blank=True)
    tracking_number = models.CharField(max_length=64, blank=True, db_index=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # How it was built: "order:<id>" or "combine:<shop>:<key>", unique, so building twice
    # never makes a second parcel for the same orders.
    build_key = models.CharField(max_length=140, blank=True)
    warehouse = models.ForeignKey(
        "inventory.Warehouse", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    weight_oz = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0"))
    length_in = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("0"))
    width_in = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("0"))
    height_in = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("0"))
    box_code = models.CharField(max_length=20, blank=True)
    address = models.ForeignKey(
        "orders.Address", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # TikTok's shipping_type of the orders: TIKTOK (platform shipping) or SELLER.
    shipping_type = models.CharField(max_length=10, blank=True)
    is_po_box = models.BooleanField(default=False)
    is_military = models.BooleanField(default=False)
    ship_by = models.DateTimeField(null=True, blank=True)
    deliver_by = models.DateField(null=True, blank=True, help_text=_("Promised delivery date"))
    currency = currency_field()
    order_value = MoneyField()
    # A problem found while building (unmapped SKU, unknown weight): selection will not run.
    build_problem = models.CharField(max_length=255, blank=True)

    # Carrier and service selection, with its reason (shown on the order).
    service_code = models.CharField(max_length=40, choices=ServiceCode.choices, blank=True)
    provider = models.CharField(max_length=20, choices=ProviderCode.choices, blank=True)
    rule = models.ForeignKey(
        CarrierRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="packages"
    )
    selection_source = models.CharField(max_length=10, choices=SelectionSource.choices, blank=True)
    selection_reason = models.TextField(blank=True)
    selected_at = models.DateTimeField(null=True, blank=True)
    zone = models.PositiveSmallIntegerField(null=True, blank=True)
    billable_weight_oz = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    quoted_amount = MoneyField(null=True, blank=True, default=None)
    estimated_delivery = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "remote_package_id"],
                condition=~models.Q(remote_package_id=""),
                name="package_unique_remote",
            ),
            models.UniqueConstraint(
                fields=["build_key"], condition=~Q(build_key=""), name="package_unique_build"
            ),
        ]
        indexes = [models.Index(fields=["shop", "status", "ship_by"], name="package_shop_due")]

    def __str__(self) -> str:
        return self.tracking_number or self.remote_package_id or f"package {self.pk}"


class PurchaseState(models.TextChoices):
    INTENT = "intent", _("About to buy")
    BOUGHT = "bought", _("Bought")
    FAILED = "failed", _("Failed")


class LabelPurchase(models.Model):
    """One attempt to buy one package's label, written BEFORE the provider is asked to buy.

    At most one live (intent or bought) purchase exists per package (a partial unique
    constraint): two workers cannot both start buying, and a worker killed after the provider
    sold the label leaves the intent behind, with the provider's shipment id, so the retry asks
    the provider for that label instead of buying another. A terminal refusal marks the attempt
    failed; the next attempt gets a new idempotency key.
    """

    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="purchases")
    provider = models.CharField(max_length=20, choices=ProviderCode.choices)
    idempotency_key = models.CharField(max_length=80, unique=True)
    attempt = models.PositiveSmallIntegerField(default=1)
    state = models.CharField(max_length=8, choices=PurchaseState.choices)
    carrier = models.CharField(max_length=40, blank=True)
    service = models.CharField(max_length=80, blank=True)
    remote_rate_id = models.CharField(max_length=80, blank=True)
    remote_shipment_id = models.CharField(max_length=80, blank=True)
    remote_provider_id = models.CharField(max_length=80, blank=True)
    tracking_number = models.CharField(max_length=64, blank=True)
    currency = currency_field()
    amount = MoneyField(null=True, blank=True, default=None)
    # Paths relative to the label store (``settings.VAR_DIR / "labels"``); blank when absent.
    # Sandbox labels are drawn from the package on demand and store no file.
    label_pdf = models.CharField(max_length=255, blank=True)
    label_image = models.CharField(max_length=255, blank=True)
    label_zpl = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["package"],
                condition=~Q(state="failed"),
                name="label_one_live_purchase",
            )
        ]

    def __str__(self) -> str:
        return f"{self.idempotency_key} {self.state}"


class LabelBatch(models.Model):
    """One print run: at most 600 orders (TikTok's batch cap), labels in pick order."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="label_batches")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    order_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"batch {self.pk}"


class BatchItemState(models.TextChoices):
    PENDING = "pending", _("Pending")
    LABELLED = "labelled", _("Labelled")
    ERROR = "error", _("Error")


class LabelBatchItem(models.Model):
    """One package of a batch; an error keeps its reason for the seller and the retry."""

    batch = models.ForeignKey(LabelBatch, on_delete=models.CASCADE, related_name="items")
    package = models.OneToOneField(Package, on_delete=models.PROTECT, related_name="batch_item")
    position = models.PositiveIntegerField(help_text=_("Pick order within the batch"))
    state = models.CharField(
        max_length=10, choices=BatchItemState.choices, default=BatchItemState.PENDING
    )
    error_reason = models.TextField(blank=True)
    is_retryable = models.BooleanField(default=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["batch", "position"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "position"], name="batch_item_position")
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}#{self.position} {self.state}"


class SkuLocation(models.Model):
    """Where a SKU sits on the shelves, for the pick list and the labels' pick order."""

    sku = models.OneToOneField("catalog.Sku", on_delete=models.CASCADE, related_name="location")
    bin_location = models.CharField(_("bin location"), max_length=40, db_index=True)

    def __str__(self) -> str:
        return f"{self.sku_id} @ {self.bin_location}"
