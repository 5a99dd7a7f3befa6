"""Import runs and their reports, and the rows of the files whose domains are still to come.

Orders from a Seller Center export go through ``orders_upsert`` like API orders and are stored
as orders. Affiliate orders, finance statements and returns have no domain app yet
(commissions and returns are future work), so their rows are kept here, typed, each with a
unique key so that importing the same or an overlapping file again creates nothing twice.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from aftershow.core.fields import MoneyField, currency_field


class FileFormat(models.TextChoices):
    ORDER_EXPORT = "order_export", _("Seller Center order export")
    AFFILIATE_ORDERS = "affiliate_orders", _("Affiliate Center affiliate orders")
    FINANCE_TRANSACTIONS = "finance_transactions", _("Finance statement transactions")
    RETURNS = "returns", _("Returns and refunds export")


class ImportSource(models.TextChoices):
    UI = "ui", _("Web page")
    CLI = "cli", _("Command line")
    API = "api", _("API")


class ImportStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Imported")
    FAILED = "failed", _("Refused")


class IssueSeverity(models.TextChoices):
    # The order (or record) on this row was not imported.
    ERROR = "error", _("Error")
    # Imported, but something in it needs a look (e.g. a state name aftershow does not know).
    WARNING = "warning", _("Warning")
    # A row left out on purpose (e.g. an exact duplicate of the row before).
    SKIPPED = "skipped", _("Skipped")


class ImportRun(models.Model):
    """One file imported (or refused): what it was, and what became of each of its rows."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="import_runs")
    file_name = models.CharField(max_length=255)
    file_size = models.PositiveBigIntegerField(default=0)
    source = models.CharField(max_length=8, choices=ImportSource.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    detected_format = models.CharField(max_length=24, choices=FileFormat.choices, blank=True)
    layout = models.CharField(
        max_length=24, blank=True, help_text=_("Layout variant, e.g. us_2026")
    )
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.RUNNING
    )
    fatal_error = models.TextField(blank=True, help_text=_("Why nothing was imported"))
    rows_read = models.PositiveIntegerField(default=0)
    rows_skipped = models.PositiveIntegerField(default=0)
    orders_in_file = models.PositiveIntegerField(default=0)
    orders_created = models.PositiveIntegerField(default=0)
    orders_updated = models.PositiveIntegerField(default=0)
    orders_unchanged = models.PositiveIntegerField(default=0)
    # Older than what aftershow already has (e.g. from the API): left as they are.
    orders_stale = models.PositiveIntegerField(default=0)
    records_created = models.PositiveIntegerField(default=0)
    records_updated = models.PositiveIntegerField(default=0)
    records_unchanged = models.PositiveIntegerField(default=0)
    errors_count = models.PositiveIntegerField(default=0)
    warnings_count = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["shop", "-started_at"], name="importrun_shop_started")]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"


class ImportIssue(models.Model):
    """A row-level finding: which row (as a spreadsheet numbers it), which column, what."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="issues")
    row_number = models.PositiveIntegerField(null=True, blank=True)
    column = models.CharField(max_length=80, blank=True)
    severity = models.CharField(max_length=8, choices=IssueSeverity.choices)
    message = models.CharField(max_length=500)

    class Meta:
        ordering = ["row_number", "id"]

    def __str__(self) -> str:
        return f"row {self.row_number} {self.column}: {self.message}"


class AffiliateOrderRow(models.Model):
    """One row of the Affiliate Center "Affiliate orders" export (reference §3a).

    Rates are percentages (10.00 = 10 %). ``Est.`` amounts accrue until TikTok pays the
    commission; the ``Actual`` ones are what it paid.
    """

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    # Order ID | SKU ID | Creator Username | Content Type | Content ID (+ "#n" for repeats).
    row_key = models.CharField(max_length=255)
    remote_order_id = models.CharField(max_length=64, db_index=True)
    remote_sku_id = models.CharField(max_length=64, blank=True)
    remote_product_id = models.CharField(max_length=64, blank=True)
    product_name = models.CharField(max_length=255, blank=True)
    creator_username = models.CharField(max_length=120)
    content_type = models.CharField(max_length=40, blank=True)
    content_id = models.CharField(max_length=64, blank=True)
    order_status = models.CharField(max_length=40, blank=True)
    is_fully_returned = models.BooleanField(default=False)
    quantity = models.PositiveIntegerField(default=0)
    currency = currency_field()
    price = MoneyField()
    payment_amount = MoneyField()
    commission_model = models.CharField(max_length=60, blank=True)
    standard_commission_rate = models.DecimalField(
        max_digits=7, decimal_places=2, null=True, blank=True
    )
    shop_ads_commission_rate = models.DecimalField(
        max_digits=7, decimal_places=2, null=True, blank=True
    )
    est_commission_base = MoneyField()
    est_standard_commission = MoneyField()
    est_shop_ads_commission = MoneyField()
    est_cofunded_bonus = MoneyField()
    actual_commission_base = MoneyField()
    actual_commission = MoneyField()
    actual_shop_ads_commission = MoneyField()
    actual_cofunded_bonus = MoneyField()
    created_time = models.DateTimeField(null=True, blank=True)
    paid_time = models.DateTimeField(null=True, blank=True)
    delivered_time = models.DateTimeField(null=True, blank=True)
    commission_paid_time = models.DateTimeField(null=True, blank=True)
    platform = models.CharField(max_length=40, blank=True)
    import_run = models.ForeignKey(
        ImportRun, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "row_key"], name="affiliate_row_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.remote_order_id} @{self.creator_username}"


class StatementTransaction(models.Model):
    """One row of a Finance → Transactions / statement export (reference §4a, §4b, §4d).

    Sign convention as TikTok's: costs negative, inflows positive. Every money column that has
    no field of its own is kept in ``other_amounts`` (header → decimal string), so nothing in
    the file is lost before the commissions domain reads it.
    """

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    # Statement (or settled time) | Order/adjustment ID | Type | SKU ID (+ "#n" for repeats).
    row_key = models.CharField(max_length=255)
    statement_id = models.CharField(max_length=64, blank=True)
    payment_id = models.CharField(max_length=64, blank=True)
    statement_status = models.CharField(max_length=40, blank=True)
    transaction_type = models.CharField(max_length=60, blank=True)
    order_or_adjustment_id = models.CharField(max_length=64, db_index=True)
    related_order_id = models.CharField(max_length=64, blank=True)
    remote_sku_id = models.CharField(max_length=64, blank=True)
    quantity = models.IntegerField(default=0)
    product_name = models.CharField(max_length=255, blank=True)
    currency = currency_field()
    statement_time = models.DateTimeField(null=True, blank=True)
    order_created_time = models.DateTimeField(null=True, blank=True)
    order_delivered_time = models.DateTimeField(null=True, blank=True)
    settled_time = models.DateTimeField(null=True, blank=True)
    total_settlement_amount = MoneyField()
    net_sales = MoneyField()
    gross_sales = MoneyField()
    fees = MoneyField()
    referral_fee = MoneyField()
    transaction_fee = MoneyField()
    affiliate_commission = MoneyField()
    shipping = MoneyField()
    customer_payment = MoneyField()
    sales_tax_payment = MoneyField()
    adjustment_amount = MoneyField()
    adjustment_reason = models.CharField(max_length=255, blank=True)
    other_amounts = models.JSONField(default=dict)
    import_run = models.ForeignKey(
        ImportRun, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "row_key"], name="statement_row_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.transaction_type} {self.order_or_adjustment_id}"


class ReturnSource(models.TextChoices):
    RETURNS_EXPORT = "returns_export", _("Returns export")
    # The order export's own return columns (Cancelation/Return Type, Sku Quantity of return).
    ORDER_EXPORT = "order_export", _("Order export")


class ReturnRecord(models.Model):
    """A return or refund of one SKU of one order (reference §5, and §1e's return columns)."""

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")
    # Returns export: Return Order ID | SKU ID; order export: "order" | Order ID | SKU ID.
    return_key = models.CharField(max_length=200)
    source = models.CharField(max_length=16, choices=ReturnSource.choices)
    return_order_id = models.CharField(max_length=64, blank=True)
    remote_order_id = models.CharField(max_length=64, db_index=True)
    remote_sku_id = models.CharField(max_length=64, blank=True)
    seller_sku = models.CharField(max_length=64, blank=True)
    product_name = models.CharField(max_length=255, blank=True)
    return_type = models.CharField(max_length=60, blank=True)
    return_reason = models.CharField(max_length=255, blank=True)
    return_status = models.CharField(max_length=60, blank=True)
    return_sub_status = models.CharField(max_length=60, blank=True)
    quantity = models.PositiveIntegerField(default=0)
    currency = currency_field()
    unit_price = MoneyField()
    refund_amount = MoneyField()
    requested_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    return_tracking_id = models.CharField(max_length=64, blank=True)
    # The file's notion of "as of when" (see docs/decisions-imports.md); an older file never
    # overwrites a newer record.
    remote_updated_at = models.DateTimeField(null=True, blank=True)
    import_run = models.ForeignKey(
        ImportRun, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "return_key"], name="return_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.return_order_id or self.remote_order_id} {self.remote_sku_id}"
