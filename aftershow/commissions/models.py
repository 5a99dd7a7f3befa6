"""The commission ledger, monthly creator statements and payouts.

Two payers are kept apart on every row. TikTok pays the platform affiliate commission itself out
of the seller's settlement (and reverses it on refunds), so ``payer=platform`` rows are only ever
reconciled, never paid. ``payer=seller`` rows (extra commission agreed off-platform, flat fees,
bonuses, agency shares) are what statements add up and payouts pay.

The ledger is append-only in spirit: once a row sits on an approved statement it is never edited;
a later return or correction is a new signed row (clawback / adjustment) picked up by the next
statement.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftershow.core.fields import MoneyField, currency_field


class Payer(models.TextChoices):
    PLATFORM = "platform", _("Platform (paid by TikTok)")
    SELLER = "seller", _("Seller")


class LineKind(models.TextChoices):
    COMMISSION = "commission", _("Commission")
    FLAT_FEE = "flat_fee", _("Flat fee")
    BONUS = "bonus", _("Bonus")
    AGENCY_SHARE = "agency_share", _("Agency share")
    CLAWBACK = "clawback", _("Clawback")
    ADJUSTMENT = "adjustment", _("Adjustment")


class LineStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    EARNED = "earned", _("Earned")
    VOID = "void", _("Void")


class CommissionLine(models.Model):
    """One commission amount owed to (or, signed negative, taken back from) one creator."""

    order = models.ForeignKey(
        "orders.Order",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="commission_lines",
    )
    order_line = models.ForeignKey(
        "orders.OrderLine",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="commission_lines",
    )
    creator = models.ForeignKey(
        "creators.Creator", on_delete=models.PROTECT, related_name="commission_lines"
    )
    live_session = models.ForeignKey(
        "creators.LiveSession",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="commission_lines",
    )
    payer = models.CharField(max_length=10, choices=Payer.choices)
    kind = models.CharField(max_length=16, choices=LineKind.choices)
    # Percent, e.g. 15.00 for 15 %; null for flat amounts.
    rate = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    base = MoneyField()
    # Signed: clawbacks (and negative adjustments) are below zero.
    amount = MoneyField()
    currency = currency_field()
    status = models.CharField(max_length=10, choices=LineStatus.choices, default=LineStatus.PENDING)
    earned_at = models.DateTimeField(null=True, blank=True)
    # The order's placed_at for order-driven rows (the rate in force then applies), else the
    # moment the row was booked: statements pick rows by this date's month.
    occurred_at = models.DateTimeField()
    # Indexed by ``commline_statement`` and ``commline_unstated`` (partial indexes, below).
    statement = models.ForeignKey(
        "commissions.Statement",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lines",
        db_index=False,
    )
    # What TikTok actually paid for this line (affiliate orders / statement transactions).
    platform_reported_amount = MoneyField(null=True, blank=True, default=None)
    reconciled_at = models.DateTimeField(null=True, blank=True)
    # A clawback or adjustment points at the row it corrects.
    reverses = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversals"
    )
    collaboration_id = models.BigIntegerField(null=True, blank=True)
    note = models.CharField(max_length=255, blank=True)
    idempotency_key = models.CharField(max_length=120, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(rate__isnull=True) | (Q(rate__gte=0) & Q(rate__lte=100)),
                name="commissionline_rate_0_100",
            ),
            models.CheckConstraint(
                condition=~Q(kind="clawback") | Q(amount__lte=0),
                name="commissionline_clawback_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["creator", "payer", "status"], name="commline_creator_payer"),
            models.Index(fields=["payer", "status", "occurred_at"], name="commline_due"),
            # Rows of one kind (flat fees for the metrics' invested cost) without a table scan.
            models.Index(fields=["kind", "creator"], name="commline_kind"),
            # The statement sweep: earned seller rows on no statement yet. Partial, so a row
            # that goes onto a statement is one index delete (it leaves this small index) and
            # one insert into ``commline_statement``, instead of moving inside a five-column
            # index that also holds every platform, pending and void row. payer and status lead
            # although constant here: with them SQLite prefers this index to ``commline_due``
            # (same leading terms), whose walk would grow with every month already stated.
            models.Index(
                fields=["payer", "status", "occurred_at"],
                name="commline_unstated",
                condition=Q(statement__isnull=True, payer=Payer.SELLER, status=LineStatus.EARNED),
            ),
            # A statement's rows (detail, sums, the PROTECT check on delete); rows on no
            # statement are not in it. With the amount, a statement's payable sum is read from
            # the index alone, not from 94,000 table rows spread over the whole table.
            models.Index(
                fields=["statement", "amount"],
                name="commline_statement",
                condition=Q(statement__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency} for creator {self.creator_id}"


class StatementStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    APPROVED = "approved", _("Approved")
    PAID = "paid", _("Paid")


class Statement(models.Model):
    """One creator's monthly statement of seller-paid money. Approved statements are locked."""

    creator = models.ForeignKey(
        "creators.Creator", on_delete=models.PROTECT, related_name="statements"
    )
    # First day of the month the statement covers.
    period = models.DateField()
    currency = currency_field()
    status = models.CharField(
        max_length=10, choices=StatementStatus.choices, default=StatementStatus.DRAFT
    )
    orders_count = models.PositiveIntegerField(default=0)
    valid_orders_count = models.PositiveIntegerField(default=0)
    sales = MoneyField()
    valid_sales = MoneyField()
    # Seller-paid commission, fees and bonuses earned this month (clawbacks included, signed).
    commission_payable = MoneyField()
    # Informational: what TikTok pays the creator itself this month; never paid by the seller.
    platform_commission = MoneyField()
    # A negative balance from earlier months (clawbacks exceeding earnings), carried in (<= 0).
    deductions_carried_in = MoneyField()
    # Amounts below the minimum payout from earlier months, carried in (>= 0).
    minimum_carried_in = MoneyField()
    # commission_payable + deductions + minimum carried in, before the minimum and holds.
    balance = MoneyField()
    # What this statement pays (0 when below the minimum, negative balance, or held).
    payable = MoneyField()
    # What the next month receives from this one (a negative balance or an unpaid small one).
    carried_forward = MoneyField()
    minimum_payout = MoneyField()
    is_held = models.BooleanField(default=False)
    hold_reason = models.CharField(max_length=255, blank=True)
    generated_at = models.DateTimeField()
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    paid_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["creator", "period"], name="statement_unique_month"),
        ]
        indexes = [models.Index(fields=["period", "status"], name="statement_period_status")]

    def __str__(self) -> str:
        return f"statement {self.period:%Y-%m} for creator {self.creator_id}"

    @property
    def is_locked(self) -> bool:
        return self.status != StatementStatus.DRAFT


class PayoutMethod(models.TextChoices):
    PAYPAL = "paypal", _("PayPal")
    WISE = "wise", _("Wise")


class PayoutDetails(models.Model):
    """Where a creator is paid. Without it, the creator's payouts are held."""

    creator = models.OneToOneField(
        "creators.Creator", on_delete=models.CASCADE, related_name="payout_details"
    )
    method = models.CharField(max_length=10, choices=PayoutMethod.choices)
    paypal_email = models.EmailField(blank=True)
    # Wise batch CSV columns (recipient name, e-mail, and bank details for the target currency).
    wise_recipient_name = models.CharField(max_length=140, blank=True)
    wise_email = models.EmailField(blank=True)
    wise_recipient_type = models.CharField(
        max_length=10, blank=True, default="PRIVATE", help_text=_("PRIVATE or BUSINESS")
    )
    wise_account_number = models.CharField(max_length=34, blank=True)
    wise_routing_number = models.CharField(max_length=9, blank=True)
    wise_account_type = models.CharField(
        max_length=10, blank=True, help_text=_("CHECKING or SAVINGS (USD)")
    )
    wise_iban = models.CharField(max_length=34, blank=True)
    wise_bic = models.CharField(max_length=11, blank=True)
    wise_address_line = models.CharField(max_length=200, blank=True)
    wise_city = models.CharField(max_length=100, blank=True)
    wise_postal_code = models.CharField(max_length=12, blank=True)
    wise_state = models.CharField(max_length=3, blank=True)
    wise_country = models.CharField(max_length=2, blank=True, default="US")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "payout details"

    def __str__(self) -> str:
        return f"{self.method} for creator {self.creator_id}"

    def missing_reason(self) -> str:
        """Why these details cannot be paid to, or "" when they can."""
        if self.method == PayoutMethod.PAYPAL:
            return "" if self.paypal_email else str(_("No PayPal e-mail on file"))
        if not self.wise_recipient_name:
            return str(_("No Wise recipient name on file"))
        if not (self.wise_email or self.wise_account_number or self.wise_iban):
            return str(_("No Wise e-mail or bank account on file"))
        return ""


class PayoutChannel(models.TextChoices):
    PAYPAL_API = "paypal_api", _("PayPal Payouts API")
    PAYPAL_CSV = "paypal_csv", _("PayPal bulk-payout CSV")
    WISE_CSV = "wise_csv", _("Wise batch CSV")


class BatchStatus(models.TextChoices):
    CREATED = "created", _("Created")
    SUBMITTED = "submitted", _("Submitted")
    PENDING = "PENDING", _("Pending at PayPal")
    PROCESSING = "PROCESSING", _("Processing at PayPal")
    SUCCESS = "SUCCESS", _("Success")
    DENIED = "DENIED", _("Denied")
    CANCELED = "CANCELED", _("Canceled")
    EXPORTED = "exported", _("Exported as a file")
    COMPLETED = "completed", _("Marked paid")


class PayoutBatch(models.Model):
    """A batch of approved statements paid together, through PayPal's API or a file."""

    channel = models.CharField(max_length=12, choices=PayoutChannel.choices)
    # Our idempotency key towards PayPal: resubmitting the same id never pays twice.
    sender_batch_id = models.CharField(max_length=127, unique=True)
    remote_batch_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(
        max_length=12, choices=BatchStatus.choices, default=BatchStatus.CREATED
    )
    currency = currency_field()
    total = MoneyField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.sender_batch_id


class ItemStatus(models.TextChoices):
    """PayPal's payout item statuses plus our own ``queued`` (not yet submitted)."""

    QUEUED = "queued", _("Queued")
    PENDING = "PENDING", _("Pending")
    UNCLAIMED = "UNCLAIMED", _("Unclaimed")
    SUCCESS = "SUCCESS", _("Success")
    FAILED = "FAILED", _("Failed")
    RETURNED = "RETURNED", _("Returned")
    BLOCKED = "BLOCKED", _("Blocked")
    REFUNDED = "REFUNDED", _("Refunded")
    REVERSED = "REVERSED", _("Reversed")
    ONHOLD = "ONHOLD", _("On hold")
    DENIED = "DENIED", _("Denied")
    CANCELED = "CANCELED", _("Canceled")
    EXPORTED = "exported", _("Exported")
    PAID = "paid", _("Paid")


# Item statuses after which the money did not go out: the statement can go in a new batch.
DEAD_ITEM_STATUSES = frozenset(
    {
        ItemStatus.FAILED,
        ItemStatus.RETURNED,
        ItemStatus.BLOCKED,
        ItemStatus.REFUNDED,
        ItemStatus.REVERSED,
        ItemStatus.DENIED,
        ItemStatus.CANCELED,
    }
)


class PayoutItem(models.Model):
    """One statement paid in one batch. At most one live item per statement (a DB constraint)."""

    batch = models.ForeignKey(PayoutBatch, on_delete=models.PROTECT, related_name="items")
    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="payout_items")
    creator = models.ForeignKey("creators.Creator", on_delete=models.PROTECT, related_name="+")
    amount = MoneyField()
    currency = currency_field()
    receiver = models.CharField(max_length=254)
    sender_item_id = models.CharField(max_length=63, unique=True)
    remote_item_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=10, choices=ItemStatus.choices, default=ItemStatus.QUEUED)
    # False once the item is dead (failed, returned...): the statement may then be re-batched.
    is_live = models.BooleanField(default=True)
    error = models.CharField(max_length=255, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["statement"],
                condition=Q(is_live=True),
                name="payoutitem_one_live_per_statement",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payoutitem_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.sender_item_id} {self.amount} {self.currency}"


ZERO = Decimal("0.00")
