"""State of the multi-channel stock sync, all of it in tables so a killed worker loses nothing.

- :class:`StockChange`: an append-only mark "this SKU's stock changed", written by the inventory
  ledger inside the transaction that changed the level (so it exists exactly when the change
  does). Plain inserts take no lock on existing rows, so marking cannot deadlock with the
  inventory lock order; the engine deletes the marks it has turned into targets.
- :class:`ListingSync`: per SKU and channel listing, the quantity the channel should hold (the
  target, with its own idempotency key), whether a push is owed and when to try, and what the
  channel last confirmed.
- :class:`ChannelBuffer`: what a shop lists of what is available (percentage, units held back,
  maximum listed), per shop and optionally per SKU.
- :class:`EngineLease`: one engine runs at a time; the lease expires, so a killed one is
  replaced.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class StockChange(models.Model):
    id = models.BigAutoField(primary_key=True)
    # No foreign key constraint: the mark is written by raw SQL from the level row in the same
    # statement, and a SKU is never deleted while it has stock levels (PROTECT).
    sku = models.ForeignKey(
        "catalog.Sku", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["at"], name="stock_change_at")]

    def __str__(self) -> str:
        return f"sku {self.sku_id} changed at {self.at:%H:%M:%S.%f}"


class ChannelBuffer(models.Model):
    """What a shop lists of the available stock: the per-shop default (``sku`` empty) or one
    SKU's override. listed = min(max_listed, floor(available * percent / 100) - held back),
    never below zero."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="buffers")
    sku = models.ForeignKey(
        "catalog.Sku", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    percent_of_available = models.PositiveSmallIntegerField(
        _("percent of available"), default=100, validators=[MaxValueValidator(100)]
    )
    units_held_back = models.PositiveIntegerField(_("units held back"), default=0)
    max_listed = models.PositiveIntegerField(_("maximum listed"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "sku"], name="buffer_once_per_sku"),
            models.UniqueConstraint(
                fields=["shop"], condition=models.Q(sku__isnull=True), name="buffer_once_per_shop"
            ),
            models.CheckConstraint(
                condition=models.Q(percent_of_available__lte=100), name="buffer_percent_max_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.shop_id}/{self.sku_id or '*'}: {self.percent_of_available}%"

    def listed(self, available: int) -> int:
        return listed_quantity(
            available,
            percent=self.percent_of_available,
            held_back=self.units_held_back,
            maximum=self.max_listed,
        )


def listed_quantity(
    available: int, *, percent: int = 100, held_back: int = 0, maximum: int | None = None
) -> int:
    """The channel's absolute quantity for ``available`` units (floor, then clamp at 0)."""
    share = (Decimal(max(available, 0)) * percent / 100).to_integral_value(rounding=ROUND_FLOOR)
    quantity = max(int(share) - held_back, 0)
    return quantity if maximum is None else min(quantity, maximum)


class SyncStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be pushed")
    SYNCED = "synced", _("In sync")
    RETRYING = "retrying", _("Failed, will retry")
    REJECTED = "rejected", _("Refused by the channel")


class ListingSync(models.Model):
    listing = models.OneToOneField(
        "catalog.ChannelListing", on_delete=models.CASCADE, related_name="sync"
    )
    # The quantity the channel should hold, and the key naming that one intended value.
    target_quantity = models.IntegerField()
    target_key = models.CharField(max_length=64)
    target_set_at = models.DateTimeField()
    # A push is owed (new target, retry, drift) from ``due_at`` on.
    is_due = models.BooleanField(default=True)
    due_at = models.DateTimeField()
    # An engine run working on this row until then (a killed run's claim lapses).
    claimed_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=SyncStatus.choices, default=SyncStatus.PENDING)
    # What the channel last confirmed holding (a push applied, or read back).
    pushed_quantity = models.IntegerField(null=True, blank=True)
    pushed_at = models.DateTimeField(null=True, blank=True)
    last_error_code = models.CharField(max_length=64, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    drift_checked_at = models.DateTimeField(null=True, blank=True)
    drift_corrections = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["is_due", "due_at"], name="listing_sync_due")]

    def __str__(self) -> str:
        return f"listing {self.listing_id}: {self.pushed_quantity} → {self.target_quantity}"


class EngineLease(models.Model):
    name = models.CharField(max_length=32, primary_key=True)
    holder = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # When a wake-up task was last enqueued while no engine held the lease.
    kicked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} held by {self.holder or '-'} until {self.expires_at}"
