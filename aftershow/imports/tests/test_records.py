"""Affiliate orders, finance statements and returns: typed rows, unique keys, re-imports."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from aftershow.imports.models import (
    AffiliateOrderRow,
    ImportStatus,
    ReturnRecord,
    ReturnSource,
    StatementTransaction,
)
from aftershow.imports.tests.conftest import ImportFile, fingerprint
from aftershow.imports.tests.files import ORDER_ID, SKU_BLACK, SKU_WHITE, write_table

pytestmark = pytest.mark.django_db

AFFILIATE_HEADER = [
    "Order ID", "Product ID", "Product Name", "SKU ID", "Price", "Payment Amount", "Quantity",
    "Currency", "Payment method", "Order Status", "Fully returned or refunded",
    "Creator Username", "Content Type", "Content ID", "commission model",
    "Standard commission rate", "Shop Ads commission rate", "Est. Commission Base",
    "Est. standard commission payment", "Est. Shop Ads commission payment",
    "Est. co-funded creator bonus", "Actual Commission Base", "Actual Commission Payment",
    "Actual Shop Ads commission payment", "Actual co-funded creator bonus", "Time Created",
    "Payment time", "Order Delivery Time", "Time Commission Paid", "Platform",
]  # fmt: skip


def affiliate_row(sku: str = SKU_BLACK, *, paid: str = "", actual: str = "") -> list[str]:
    return [
        f"{ORDER_ID}\t", "1722027977041418518\t", "Oversized Logo Tee", f"{sku}\t", "$19.99",
        "$16.99", "1", "USD", "PayPal", "Completed", "No", "mia.live", "Livestream",
        "7471234567890123456\t", "Standard", "15%", "0%", "$16.99", "$2.55", "$0.00", "$0.00",
        "$16.99" if actual else "", actual, "", "", "25/03/2026 14:05:00\t",
        "25/03/2026 14:05:31\t", "", paid, "TikTok",
    ]  # fmt: skip


def test_affiliate_orders_are_typed_rows_keyed_by_order_sku_and_creator(
    import_path: ImportFile, tmp_path: Path
) -> None:
    path = write_table(
        tmp_path / "all_20260325.csv", AFFILIATE_HEADER, [affiliate_row(), affiliate_row(SKU_WHITE)]
    )

    run = import_path(path)

    assert (run.status, run.detected_format, run.records_created) == (
        ImportStatus.SUCCEEDED,
        "affiliate_orders",
        2,
    )
    row = AffiliateOrderRow.objects.get(remote_sku_id=SKU_BLACK)
    assert (row.remote_order_id, row.creator_username, row.content_type, row.content_id) == (
        ORDER_ID,
        "mia.live",
        "Livestream",
        "7471234567890123456",
    )
    assert (row.price, row.payment_amount, row.standard_commission_rate) == (
        Decimal("19.99"),
        Decimal("16.99"),
        Decimal("15.00"),
    )
    assert (row.est_standard_commission, row.actual_commission, row.is_fully_returned) == (
        Decimal("2.55"),
        Decimal("0.00"),
        False,
    )
    # Day-first, Pacific (PDT since March 8th): 14:05 on March 25th is 21:05 UTC.
    assert row.created_time == datetime(2026, 3, 25, 21, 5, tzinfo=UTC)
    assert row.row_key == f"{ORDER_ID}|{SKU_BLACK}|mia.live|Livestream|7471234567890123456"

    again = import_path(path)
    assert (again.records_created, again.records_updated, again.records_unchanged) == (0, 0, 2)

    paid = write_table(
        tmp_path / "later.csv",
        AFFILIATE_HEADER,
        [affiliate_row(paid="02/04/2026 09:00:00", actual="$2.55"), affiliate_row(SKU_WHITE)],
    )
    later = import_path(paid)
    assert (later.records_created, later.records_updated, later.records_unchanged) == (0, 1, 1)
    row.refresh_from_db()
    assert (row.actual_commission, row.commission_paid_time) == (
        Decimal("2.55"),
        datetime(2026, 4, 2, 16, 0, tzinfo=UTC),
    )
    assert AffiliateOrderRow.objects.count() == 2


def test_a_row_repeated_with_the_same_key_is_kept_twice_and_re_imported_once(
    import_path: ImportFile, tmp_path: Path
) -> None:
    path = write_table(tmp_path / "x.csv", AFFILIATE_HEADER, [affiliate_row(), affiliate_row()])
    import_path(path)
    import_path(path)
    assert sorted(AffiliateOrderRow.objects.values_list("row_key", flat=True)) == [
        f"{ORDER_ID}|{SKU_BLACK}|mia.live|Livestream|7471234567890123456",
        f"{ORDER_ID}|{SKU_BLACK}|mia.live|Livestream|7471234567890123456#2",
    ]


def test_an_affiliate_file_mixing_date_orders_is_refused(
    import_path: ImportFile, tmp_path: Path
) -> None:
    month_first = affiliate_row()
    month_first[25] = "03/25/2026 14:05:00"
    before = fingerprint()
    run = import_path(
        write_table(tmp_path / "x.csv", AFFILIATE_HEADER, [affiliate_row(), month_first])
    )
    assert run.status == ImportStatus.FAILED
    assert "mixes day-first dates (row 2) and month-first dates (row 3)" in run.fatal_error
    assert fingerprint() == before


FINANCE_HEADER = [
    "Statement date (UTC)", "Statement ID", "Payment ID", "Status", "Currency", "Type",
    "Order/adjustment ID  ", "SKU ID", "Quantity", "Product name", "Order created date",
    "Order delivery date", "Total settlement amount", "Net sales", "Gross sales",
    "Gross sales refund", "Fees", "Transaction fee", "Referral fee", "Affiliate commission ",
    "Shipping", "Adjustment amount", "Adjustment reason", "Related order ID", "Customer payment",
    "Sales tax payment", "Collection methods",
]  # fmt: skip


def finance_row(kind: str = "Order", reference: str = ORDER_ID, total: str = "12.34") -> list[str]:
    return [
        "2026/03/31", "7481111111111111111", "7482222222222222222", "Paid", "USD", kind,
        reference, SKU_BLACK, "1", "Oversized Logo Tee", "2026/03/06", "2026/03/10", total,
        "16.99", "19.99", "-5.00", "-2.10", "-0.50", "-1.60", "-2.55", "-5.99", "0", "", "",
        "27.58", "1.60", "Bank transfer",
    ]  # fmt: skip


def test_statement_rows_keep_every_amount(import_path: ImportFile, tmp_path: Path) -> None:
    adjustment = finance_row("Logistics reimbursement", "7490000000000000123", "3.00")
    adjustment[13:22] = ["0"] * 8 + ["3.00"]
    adjustment[22:24] = ["Lost parcel", ORDER_ID]
    path = write_table(tmp_path / "statement.csv", FINANCE_HEADER, [finance_row(), adjustment])

    run = import_path(path)

    assert (run.detected_format, run.layout, run.records_created) == (
        "finance_transactions",
        "us_statement",
        2,
    )
    order = StatementTransaction.objects.get(transaction_type="Order")
    assert (order.order_or_adjustment_id, order.remote_sku_id, order.quantity) == (
        ORDER_ID,
        SKU_BLACK,
        1,
    )
    assert (order.total_settlement_amount, order.referral_fee, order.affiliate_commission) == (
        Decimal("12.34"),
        Decimal("-1.60"),
        Decimal("-2.55"),
    )
    assert order.statement_time == datetime(2026, 3, 31, tzinfo=UTC)  # the header says UTC
    assert order.order_created_time == datetime(2026, 3, 6, 8, tzinfo=UTC)  # Pacific midnight
    assert order.other_amounts == {"Gross sales refund": "-5.00"}
    reimbursement = StatementTransaction.objects.get(transaction_type="Logistics reimbursement")
    assert (reimbursement.adjustment_amount, reimbursement.related_order_id) == (
        Decimal("3.00"),
        ORDER_ID,
    )
    assert import_path(path).records_unchanged == 2
    assert StatementTransaction.objects.count() == 2


RETURNS_HEADER = [
    "Return Order ID", "Order ID", "Order Amount", "Order Status", "Order Substatus",
    "Payment Method", "SKU ID", "Seller SKU", "Product Name", "SKU Name", "Buyer Username",
    "Return Type", "Time Requested", "Return Reason", "Return unit price", "Return Quantity",
    "Return Logistics Tracking ID", "Return Status", "Return Sub Status", "Refund Time",
    "Dispute Status", "Appeal Status", "Compensation Status", "Compensation Amount", "Buyer Note",
]  # fmt: skip


def return_row(status: str, refunded: str) -> list[str]:
    return [
        "4031234567890123\t", f"{ORDER_ID}\t", "$27.58", "Completed", "Completed", "PayPal",
        f"{SKU_BLACK}\t", "TEE-BLK-M", "Oversized Logo Tee", "Black, M", "sunny.days",
        "Return and refund", "12/03/2026 10:00:00\t", "Item doesn't fit", "$19.99", "1",
        "9405511899223345566771\t", status, status, refunded, "", "", "", "", "",
    ]  # fmt: skip


def test_returns_follow_their_status_and_never_go_back(
    import_path: ImportFile, tmp_path: Path
) -> None:
    requested = write_table(tmp_path / "a.csv", RETURNS_HEADER, [return_row("Awaiting return", "")])
    refunded = write_table(
        tmp_path / "b.csv", RETURNS_HEADER, [return_row("Refunded", "20/03/2026 09:30:00\t")]
    )

    import_path(requested)
    run = import_path(refunded)
    stale = import_path(requested)

    record = ReturnRecord.objects.get()
    assert (record.source, record.return_order_id, record.remote_order_id) == (
        ReturnSource.RETURNS_EXPORT,
        "4031234567890123",
        ORDER_ID,
    )
    assert (record.quantity, record.unit_price, record.return_status) == (
        1,
        Decimal("19.99"),
        "Refunded",
    )
    assert record.requested_at == datetime(2026, 3, 12, 17, 0, tzinfo=UTC)
    assert record.refunded_at == datetime(2026, 3, 20, 16, 30, tzinfo=UTC)
    assert record.return_tracking_id == "9405511899223345566771"
    assert (run.records_updated, stale.records_updated, stale.records_unchanged) == (1, 0, 1)
