from __future__ import annotations

from django.db import models


class Warehouse(models.Model):
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=120)
    address_line1 = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=80, blank=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField(max_length=10, blank=True, help_text="Origin ZIP for zones")
    country = models.CharField(max_length=2, default="US")
    is_default = models.BooleanField(default=False)

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
