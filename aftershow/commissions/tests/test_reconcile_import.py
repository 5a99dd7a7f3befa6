"""Platform-paid commission against TikTok's own figures, and the seller-paid CSV import."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from aftershow.commissions.importer import commission_lines_import
from aftershow.commissions.ledger import (
    commission_lines_accrue,
    commission_lines_settle,
    unaccrued_order_lines,
)
from aftershow.commissions.models import CommissionLine, LineKind, Payer
from aftershow.commissions.reconcile import (
    platform_commission_reconcile,
    reconciliation_differences,
)
from aftershow.commissions.tests.conftest import OrderMaker
from aftershow.creators.models import Creator
from aftershow.imports.models import AffiliateOrderRow, StatementTransaction

pytestmark = pytest.mark.django_db

IN_OCTOBER = datetime(2026, 10, 10, 12, 0, tzinfo=UTC)


def _affiliate_row(order, paid: str) -> None:  # type: ignore[no-untyped-def]
    AffiliateOrderRow.objects.create(
        shop=order.shop,
        row_key=f"{order.remote_order_id}|sku1",
        remote_order_id=order.remote_order_id,
        remote_sku_id="sku1",
        creator_username="mia.live",
        actual_commission=Decimal(paid),
        commission_paid_time=IN_OCTOBER,
    )


def test_platform_commission_matches_or_shows_the_difference(
    creator: Creator, make_order: OrderMaker
) -> None:
    matching = make_order(creator=creator, placed_at=IN_OCTOBER)
    short = make_order(creator=creator, placed_at=IN_OCTOBER)
    make_order(creator=creator, placed_at=IN_OCTOBER)  # not yet reported by TikTok
    commission_lines_accrue(order_lines=unaccrued_order_lines())
    commission_lines_settle(now=datetime(2026, 10, 31, tzinfo=UTC))
    _affiliate_row(matching, "6.00")  # 15 % of 40.00
    _affiliate_row(short, "4.50")
    StatementTransaction.objects.create(
        shop=short.shop,
        row_key="st1",
        order_or_adjustment_id=short.remote_order_id,
        affiliate_commission=Decimal("-4.50"),
    )

    result = platform_commission_reconcile()
    assert (result.matched, result.different, result.unreported) == (1, 1, 1)
    (difference,) = reconciliation_differences()
    assert difference.remote_order_id == short.remote_order_id
    assert (difference.ours, difference.reported, difference.difference) == (
        Decimal("6.00"), Decimal("4.50"), Decimal("-1.50")
    )  # fmt: skip
    assert difference.statement_transactions == Decimal("4.50")
    # Reconciling never touches the seller's rows.
    assert not CommissionLine.objects.filter(
        payer=Payer.SELLER, platform_reported_amount__isnull=False
    ).exists()


CSV_OK = """creator,kind,amount,currency,date,reference,note
@mia.live,flat_fee,150.00,USD,2026-10-05,fee-oct,October live fee
mia.live,bonus,25,usd,2026-10-20,bonus-oct,
"""


def test_import_books_seller_amounts_once(creator: Creator) -> None:
    report = commission_lines_import(text=CSV_OK)
    assert (report.created, report.already_booked, report.errors) == (2, 0, [])
    again = commission_lines_import(text=CSV_OK)
    assert (again.created, again.already_booked) == (0, 2)
    rows = CommissionLine.objects.order_by("amount")
    assert [(r.kind, r.amount, r.payer) for r in rows] == [
        (LineKind.BONUS, Decimal("25.00"), Payer.SELLER),
        (LineKind.FLAT_FEE, Decimal("150.00"), Payer.SELLER),
    ]


def test_a_bad_row_refuses_the_whole_file(creator: Creator) -> None:
    text = (
        "creator,kind,amount,currency,date,reference\n"
        "mia.live,flat_fee,150.00,USD,2026-10-05,ok-1\n"
        "nobody,bonus,10,USD,2026-10-05,ok-2\n"
        "mia.live,commission,10,EUR,2026-13-01,\n"
        "mia.live,bonus,-5,USD,2026-10-05,ok-3\n"
    )
    report = commission_lines_import(text=text)
    assert [(e.row, e.column) for e in report.errors] == [
        (3, "creator"), (4, "kind"), (4, "currency"), (4, "date"), (4, "reference"),
        (5, "amount"),
    ]  # fmt: skip
    assert report.created == 0
    assert not CommissionLine.objects.exists()
