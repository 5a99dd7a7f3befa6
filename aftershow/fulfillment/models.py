from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PackageStatus(models.TextChoices):
    TO_FULFILL = "TO_FULFILL", _("To fulfil")
    PROCESSING = "PROCESSING", _("Processing")
    FULFILLING = "FULFILLING", _("Fulfilling")
    COMPLETED = "COMPLETED", _("Completed")
    CANCELLED = "CANCELLED", _("Cancelled")


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

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "remote_package_id"],
                condition=~models.Q(remote_package_id=""),
                name="package_unique_remote",
            )
        ]

    def __str__(self) -> str:
        return self.tracking_number or self.remote_package_id or f"package {self.pk}"
