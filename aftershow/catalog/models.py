from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models

from aftershow.core.fields import MoneyField, currency_field


class Tag(models.Model):
    """A seller's label on SKUs (e.g. "fragile", "battery"), used by carrier and risk rules."""

    name = models.CharField(max_length=40, unique=True)

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    name = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Sku(models.Model):
    """The seller's stock-keeping unit: one master record, listed on any number of channels.

    Weight in ounces and dimensions in inches: the units US carriers price in.
    """

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="skus")
    code = models.CharField(max_length=64, unique=True, help_text="Seller SKU")
    name = models.CharField(max_length=255, blank=True)
    weight_oz = models.DecimalField(
        max_digits=8, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(0)]
    )
    length_in = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("0"))
    width_in = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("0"))
    height_in = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("0"))
    cost = MoneyField(help_text="Unit cost of goods")
    cost_currency = currency_field()
    tags = models.ManyToManyField(Tag, blank=True, related_name="skus")
    is_bundle = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.code


class BundleComponent(models.Model):
    """A bundle or kit SKU deducts its components' stock, not its own."""

    bundle = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="components")
    component = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="used_in")
    quantity = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bundle", "component"], name="bundle_component_once")
        ]

    def __str__(self) -> str:
        return f"{self.bundle_id} contains {self.quantity} of {self.component_id}"


class ChannelListing(models.Model):
    """Which remote product/SKU on which shop is this master SKU."""

    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="listings")
    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="listings")
    remote_product_id = models.CharField(max_length=64)
    remote_sku_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "remote_sku_id"], name="listing_unique_remote_sku"
            )
        ]

    def __str__(self) -> str:
        return f"{self.shop_id}:{self.remote_sku_id}"
