"""Creator tiers: the versioned policy that sets their thresholds, each creator's standing from
the last recompute, and the append-only history of tier changes.

The figures themselves (conversion, AOV, return rate, ROI) are computed from the orders, the
commission ledger and the creators' samples and fees every time (``selectors``); a standing is
the snapshot a recompute took, so lists and the leaderboard need no 100,000-order scan.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftershow.audit.models import AppendOnlyModel
from aftershow.core.fields import MoneyField, currency_field

# The seed's numbers (see docs/decisions-metrics.md): S above ROI 5, A from 2 to 5 inclusive,
# B below 2, phase out below 1.5, a warning above 8 % returns.
SEED_S_ABOVE = Decimal("5.00")
SEED_A_FROM = Decimal("2.00")
SEED_PHASE_OUT_BELOW = Decimal("1.50")
SEED_RETURN_WARNING_PERCENT = Decimal("8.00")
# R-C5: TikTok's platform fee is 2-8 %; used only for orders TikTok has not settled yet.
SEED_PLATFORM_FEE_PERCENT = Decimal("6.00")


def ratio_field(**kwargs: object) -> models.DecimalField:  # type: ignore[type-arg]
    """A ratio (ROI 3.25, conversion 0.0812) kept to 4 decimals; null when it is n/a."""
    return models.DecimalField(max_digits=16, decimal_places=4, **kwargs)  # type: ignore[arg-type]


class Tier(models.TextChoices):
    S = "S", _("S")
    A = "A", _("A")
    B = "B", _("B")
    # Nothing invested yet: ROI is n/a, so no tier can be given.
    NONE = "-", _("Not rated")


class TierPolicy(AppendOnlyModel):
    """One version of the tier thresholds. A change is a new row, never an edit; the row in
    force at a moment is the latest one whose ``effective_from`` has passed."""

    version = models.PositiveIntegerField(unique=True)
    effective_from = models.DateTimeField()
    s_above = models.DecimalField(
        max_digits=8, decimal_places=2, help_text=_("ROI strictly above this is tier S")
    )
    a_from = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        help_text=_("ROI from this up to the S threshold (both included) is tier A; below, B"),
    )
    phase_out_below = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        help_text=_("ROI below this puts a creator on the phase-out list"),
    )
    return_warning_percent = models.DecimalField(
        max_digits=5, decimal_places=2, help_text=_("Return rate above this percent is a warning")
    )
    platform_fee_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        help_text=_("Platform fee assumed for orders TikTok has not settled yet"),
    )
    window_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=_("Tiers look at the last N days; empty means all history"),
    )
    reason = models.CharField(max_length=255)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(a_from__gte=0) & Q(s_above__gt=models.F("a_from")),
                name="tierpolicy_a_below_s",
            ),
            models.CheckConstraint(
                condition=Q(phase_out_below__gte=0), name="tierpolicy_phase_out_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(return_warning_percent__gte=0)
                & Q(return_warning_percent__lte=100)
                & Q(platform_fee_percent__gte=0)
                & Q(platform_fee_percent__lte=100),
                name="tierpolicy_percents_0_100",
            ),
            models.CheckConstraint(
                condition=Q(window_days__isnull=True) | Q(window_days__gte=1),
                name="tierpolicy_window_positive",
            ),
        ]
        indexes = [models.Index(fields=["effective_from", "version"], name="tierpolicy_effective")]

    def __str__(self) -> str:
        return (
            f"v{self.version} S>{self.s_above} A≥{self.a_from} from {self.effective_from:%Y-%m-%d}"
        )


class RecomputeTrigger(models.TextChoices):
    CLI = "cli", _("Command line")
    SCHEDULE = "schedule", _("Periodic job")
    UI = "ui", _("On demand")


class MetricsRun(models.Model):
    """One recompute of every creator's figures and tier."""

    trigger = models.CharField(max_length=10, choices=RecomputeTrigger.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    policy = models.ForeignKey(TierPolicy, on_delete=models.PROTECT, related_name="runs")
    as_of = models.DateTimeField()
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    creators = models.PositiveIntegerField(default=0)
    tier_changes = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"metrics run {self.pk} ({self.trigger})"


class CreatorStanding(models.Model):
    """A creator's figures and tier as of the last recompute (one row per creator)."""

    creator = models.OneToOneField(
        "creators.Creator", on_delete=models.CASCADE, related_name="standing"
    )
    run = models.ForeignKey(MetricsRun, on_delete=models.PROTECT, related_name="+")
    policy = models.ForeignKey(TierPolicy, on_delete=models.PROTECT, related_name="+")
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField()
    currency = currency_field()
    orders = models.PositiveIntegerField(default=0)
    returned_orders = models.PositiveIntegerField(default=0)
    units = models.PositiveIntegerField(default=0)
    live_units = models.PositiveIntegerField(default=0)
    viewers = models.PositiveBigIntegerField(default=0)
    sales = MoneyField()
    kept_sales = MoneyField()
    cost_of_goods = MoneyField()
    commission = MoneyField()
    invested = MoneyField()
    conversion = ratio_field(null=True, blank=True)
    average_order_value = MoneyField(null=True, blank=True, default=None)
    return_rate = ratio_field(null=True, blank=True)
    roi = ratio_field(null=True, blank=True)
    tier = models.CharField(max_length=1, choices=Tier.choices, default=Tier.NONE)
    tier_since = models.DateTimeField()
    return_warning = models.BooleanField(default=False)
    phase_out = models.BooleanField(default=False)
    computed_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["tier", "-kept_sales"], name="standing_tier_sales"),
            models.Index(fields=["-roi"], name="standing_roi"),
        ]

    def __str__(self) -> str:
        return f"{self.creator_id}: {self.tier}"


class TierChangeReason(models.TextChoices):
    FIRST_RATING = "first_rating", _("First rating")
    ROI_CHANGED = "roi_changed", _("ROI moved across a threshold")
    POLICY_CHANGED = "policy_changed", _("Thresholds changed")
    NO_INVESTMENT = "no_investment", _("Nothing invested: ROI is n/a")


class TierChange(AppendOnlyModel):
    """Every change of a creator's tier, with when, why and the figures behind it."""

    creator = models.ForeignKey(
        "creators.Creator", on_delete=models.CASCADE, related_name="tier_changes"
    )
    at = models.DateTimeField()
    from_tier = models.CharField(max_length=1, choices=Tier.choices, blank=True)
    to_tier = models.CharField(max_length=1, choices=Tier.choices)
    reason = models.CharField(max_length=16, choices=TierChangeReason.choices)
    detail = models.CharField(max_length=255)
    roi = ratio_field(null=True, blank=True)
    policy = models.ForeignKey(TierPolicy, on_delete=models.PROTECT, related_name="+")
    run = models.ForeignKey(MetricsRun, on_delete=models.PROTECT, related_name="changes")

    class Meta:
        indexes = [models.Index(fields=["creator", "-at"], name="tierchange_creator_at")]

    def __str__(self) -> str:
        return f"{self.creator_id}: {self.from_tier or '-'} → {self.to_tier} ({self.reason})"
