"""Creators (达人), what the seller invests in them, the terms agreed, and their live sessions.

Commission rates are percents (``Decimal("15.00")`` = 15 %). Two kinds are kept apart because
two different parties pay them:

- ``platform_rate``: TikTok's affiliate commission, which TikTok deducts from the seller's
  settlement and pays the creator itself (reversed on refunds);
- ``seller_rate``: extra commission the seller agreed and pays out of aftershow.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftershow.core.fields import MoneyField, currency_field

RATE_MIN = Decimal("0")
RATE_MAX = Decimal("100")
RATE_ERROR = _("A commission rate must be between 0 and 100 percent.")


def rate_field(**kwargs: object) -> models.DecimalField:  # type: ignore[type-arg]
    """A commission percent, 0 to 100 with two decimals, refused outside that range."""
    return models.DecimalField(
        max_digits=5,
        decimal_places=2,
        validators=[
            MinValueValidator(RATE_MIN, message=RATE_ERROR),
            MaxValueValidator(RATE_MAX, message=RATE_ERROR),
        ],
        **kwargs,  # type: ignore[arg-type]
    )


def _rate_range(field: str, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__gte": RATE_MIN}) & Q(**{f"{field}__lte": RATE_MAX}), name=name
    )


class CreatorSize(models.TextChoices):
    """Industry bands by follower count (nano < 10k, micro < 100k, mid < 500k, macro < 1M)."""

    NANO = "nano", _("Nano")
    MICRO = "micro", _("Micro")
    MID = "mid", _("Mid-tier")
    MACRO = "macro", _("Macro")
    MEGA = "mega", _("Mega")


# Lower follower bound of each band, largest first.
SIZE_BANDS: tuple[tuple[int, CreatorSize], ...] = (
    (1_000_000, CreatorSize.MEGA),
    (500_000, CreatorSize.MACRO),
    (100_000, CreatorSize.MID),
    (10_000, CreatorSize.MICRO),
    (0, CreatorSize.NANO),
)


def size_for_followers(followers: int) -> CreatorSize:
    for lower_bound, size in SIZE_BANDS:
        if followers >= lower_bound:
            return size
    return CreatorSize.NANO


class Creator(models.Model):
    """A TikTok creator (达人) the seller works with.

    Payout details (PayPal e-mail, Wise) live in the commissions app, next to the payouts.
    """

    handle = models.CharField(max_length=80, unique=True, help_text=_("TikTok @handle"))
    remote_creator_id = models.CharField(max_length=64, blank=True)
    display_name = models.CharField(max_length=120, blank=True)
    followers = models.PositiveIntegerField(default=0)
    niche = models.CharField(max_length=80, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text=_("ISO 3166 country code"))
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    whatsapp = models.CharField(max_length=40, blank=True)
    wechat = models.CharField(max_length=64, blank=True)
    notes = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"@{self.handle}"

    @property
    def size(self) -> CreatorSize:
        return size_for_followers(self.followers)


class LiveSessionStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    LIVE = "live", _("Live")
    ENDED = "ended", _("Ended")


class LiveSession(models.Model):
    """A live stream. ``starts_at``/``ends_at`` hold the plan until the session goes live, then
    the actual times (set by ``live_session_start`` / ``live_session_end``)."""

    creator = models.ForeignKey(Creator, on_delete=models.PROTECT, related_name="sessions")
    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="live_sessions")
    title = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=10, choices=LiveSessionStatus.choices, default=LiveSessionStatus.PLANNED
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    viewers = models.PositiveIntegerField(default=0)
    # TikTok's content id for the LIVE, as affiliate orders report it.
    remote_content_id = models.CharField(max_length=64, blank=True)
    featured_skus = models.ManyToManyField(
        "catalog.Sku", through="LiveSessionSku", related_name="featured_in_sessions"
    )

    class Meta:
        indexes = [
            models.Index(fields=["shop", "starts_at"]),
            models.Index(fields=["remote_content_id"], name="live_session_content_id"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gte=models.F("starts_at")),
                name="live_session_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.creator} {self.starts_at:%Y-%m-%d %H:%M}"


class LiveSessionSku(models.Model):
    """A SKU featured in a session, with the rates announced for it and the units planned."""

    session = models.ForeignKey(LiveSession, on_delete=models.CASCADE, related_name="skus")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    platform_rate = rate_field(default=Decimal("0.00"))
    seller_rate = rate_field(default=Decimal("0.00"))
    planned_units = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "sku"], name="live_session_sku_once"),
            _rate_range("platform_rate", "live_session_sku_platform_rate_0_100"),
            _rate_range("seller_rate", "live_session_sku_seller_rate_0_100"),
        ]

    def __str__(self) -> str:
        return f"{self.session_id}: {self.sku_id}"


class SampleShipment(models.Model):
    """Free product sent to a creator: a marketing cost (invested cost in ROI), never COGS."""

    creator = models.ForeignKey(Creator, on_delete=models.PROTECT, related_name="samples")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    unit_cost = MoneyField(validators=[MinValueValidator(Decimal("0"))])
    shipping_cost = MoneyField(validators=[MinValueValidator(Decimal("0"))])
    currency = currency_field()
    shipped_at = models.DateTimeField()
    live_session = models.ForeignKey(
        LiveSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="samples"
    )
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["creator", "shipped_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="sample_quantity_positive"),
            models.CheckConstraint(
                condition=Q(unit_cost__gte=0) & Q(shipping_cost__gte=0),
                name="sample_costs_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku_id} to {self.creator_id}"

    @property
    def total_cost(self) -> Decimal:
        total: Decimal = self.unit_cost * self.quantity + self.shipping_cost
        return total


class CollaborationKind(models.TextChoices):
    OPEN = "open", _("Open collaboration (TikTok)")
    TARGETED = "targeted", _("Targeted collaboration (TikTok)")
    OFF_PLATFORM = "off_platform", _("Off-platform agreement")


class Collaboration(models.Model):
    """An agreement with a creator. ``ends_on`` is inclusive; empty means open-ended.

    ``flat_fee`` is seller-paid (a fixed fee for a stream or a month). The per-SKU commission
    rates hang below it as ``CollaborationRate`` rows.
    """

    creator = models.ForeignKey(Creator, on_delete=models.PROTECT, related_name="collaborations")
    shop = models.ForeignKey(
        "shops.Shop", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=12, choices=CollaborationKind.choices)
    name = models.CharField(max_length=200, blank=True)
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    flat_fee = MoneyField(validators=[MinValueValidator(Decimal("0"))])
    currency = currency_field()
    note = models.TextField(blank=True)
    # TikTok's open/target collaboration id, for idempotent imports from the affiliate API.
    remote_collaboration_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="collaboration_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(flat_fee__gte=0), name="collaboration_flat_fee_not_negative"
            ),
            models.UniqueConstraint(
                fields=["creator", "kind", "remote_collaboration_id"],
                condition=~Q(remote_collaboration_id=""),
                name="collaboration_unique_remote",
            ),
        ]
        indexes = [models.Index(fields=["creator", "starts_on"])]

    def __str__(self) -> str:
        return f"{self.creator} {self.get_kind_display()} from {self.starts_on}"


class CollaborationRate(models.Model):
    """The rates of a collaboration for one SKU (or every SKU when ``sku`` is empty).

    Valid on ``[valid_from, valid_to)``; an empty ``valid_to`` means until further notice.
    """

    collaboration = models.ForeignKey(Collaboration, on_delete=models.CASCADE, related_name="rates")
    sku = models.ForeignKey(
        "catalog.Sku", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    platform_rate = rate_field(default=Decimal("0.00"))
    seller_rate = rate_field(default=Decimal("0.00"))
    valid_from = models.DateTimeField()
    valid_to = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            _rate_range("platform_rate", "collaboration_rate_platform_0_100"),
            _rate_range("seller_rate", "collaboration_rate_seller_0_100"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=models.F("valid_from")),
                name="collaboration_rate_valid_period",
            ),
        ]
        indexes = [models.Index(fields=["collaboration", "sku", "valid_from"])]

    def __str__(self) -> str:
        return f"{self.platform_rate}% + {self.seller_rate}% from {self.valid_from:%Y-%m-%d}"


class AffiliateOrderSku(models.Model):
    """One SKU row of a TikTok affiliate order, as ``affiliate_seller/202410/orders/search``
    reports it. Kept as received so the platform-paid commission can be reconciled."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="+")
    remote_order_id = models.CharField(max_length=64)
    remote_product_id = models.CharField(max_length=64)
    remote_sku_id = models.CharField(max_length=64, blank=True)
    order_status = models.CharField(max_length=24, blank=True)
    created_at_remote = models.DateTimeField()
    delivered_at_remote = models.DateTimeField(null=True, blank=True)
    creator_username = models.CharField(max_length=80)
    creator = models.ForeignKey(
        Creator, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    content_type = models.CharField(max_length=16, blank=True)
    content_id = models.CharField(max_length=64, blank=True)
    live_session = models.ForeignKey(
        LiveSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    open_collaboration_id = models.CharField(max_length=64, blank=True)
    target_collaboration_id = models.CharField(max_length=64, blank=True)
    quantity = models.PositiveIntegerField(default=1)
    currency = currency_field()
    price = MoneyField()
    commission_rate = rate_field(default=Decimal("0.00"))
    estimated_commission_base = MoneyField()
    estimated_paid_commission = MoneyField()
    actual_commission_base = MoneyField(null=True, blank=True, default=None)
    actual_paid_commission = MoneyField(null=True, blank=True, default=None)
    refunded_quantity = models.PositiveIntegerField(default=0)
    returned_quantity = models.PositiveIntegerField(default=0)
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    pulled_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "remote_order_id", "remote_product_id", "remote_sku_id"],
                name="affiliate_order_sku_once",
            )
        ]
        indexes = [models.Index(fields=["creator", "created_at_remote"])]

    def __str__(self) -> str:
        return f"{self.remote_order_id}/{self.remote_product_id} @{self.creator_username}"
