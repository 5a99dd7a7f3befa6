"""The ledger and the monthly statements, end to end on the real database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook

from aftershow.commissions.exports import statement_csv, statement_xlsx
from aftershow.commissions.ledger import (
    LedgerError,
    commission_line_book,
    commission_lines_accrue,
    commission_lines_settle,
    unaccrued_order_lines,
)
from aftershow.commissions.models import (
    CommissionLine,
    LineKind,
    LineStatus,
    Payer,
    Statement,
    StatementStatus,
)
from aftershow.commissions.statements import (
    StatementError,
    statement_approve,
    statements_generate,
)
from aftershow.commissions.tests.conftest import OrderMaker
from aftershow.creators.models import Creator
from aftershow.orders.models import PlatformStatus
from aftershow.risk.services import order_return_record

pytestmark = pytest.mark.django_db

OCTOBER = date(2026, 10, 1)
NOVEMBER = date(2026, 11, 1)
IN_OCTOBER = datetime(2026, 10, 10, 12, 0, tzinfo=UTC)
NOV_2 = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
DEC_2 = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)


def _sync(now: datetime) -> None:
    commission_lines_accrue(order_lines=unaccrued_order_lines())
    commission_lines_settle(now=now)


def test_200_orders_with_30_returned_earn_on_170(creator: Creator, make_order: OrderMaker) -> None:
    orders = [make_order(creator=creator, placed_at=IN_OCTOBER) for _ in range(200)]
    for order in orders[:30]:
        order_return_record(order=order, remote_return_id=f"r{order.pk}", returned_at=IN_OCTOBER)
    _sync(datetime(2026, 10, 31, tzinfo=UTC))

    seller = CommissionLine.objects.filter(payer=Payer.SELLER)
    assert seller.filter(status=LineStatus.EARNED).count() == 170
    assert seller.filter(status=LineStatus.VOID).count() == 30
    (statement,) = statements_generate(period=OCTOBER, now=NOV_2).statements
    assert statement.orders_count == 200
    assert statement.valid_orders_count == 170
    assert statement.sales == Decimal("8000.00")
    assert statement.valid_sales == Decimal("6800.00")
    # 170 x 5 % of 40.00 (seller-paid); TikTok's 15 % is shown but never payable.
    assert statement.commission_payable == Decimal("340.00")
    assert statement.platform_commission == Decimal("1020.00")
    assert statement.payable == Decimal("340.00")
    assert statement.lines.count() == 170
    assert not statement.lines.filter(payer=Payer.PLATFORM).exists()


def test_return_after_payment_is_next_months_clawback(
    creator: Creator, make_order: OrderMaker
) -> None:
    orders = [make_order(creator=creator, placed_at=IN_OCTOBER) for _ in range(20)]
    _sync(datetime(2026, 10, 31, tzinfo=UTC))
    (october,) = statements_generate(period=OCTOBER, now=NOV_2).statements
    assert october.payable == Decimal("40.00")
    statement_approve(statement=october)
    Statement.objects.filter(pk=october.pk).update(status=StatementStatus.PAID)

    order_return_record(order=orders[0], remote_return_id="late", returned_at=NOV_2)
    _sync(NOV_2 + timedelta(hours=1))
    _sync(NOV_2 + timedelta(hours=2))  # idempotent: still one clawback

    clawback = CommissionLine.objects.get(kind=LineKind.CLAWBACK)
    assert clawback.amount == Decimal("-2.00")
    assert clawback.statement is None
    october.refresh_from_db()
    assert october.lines.count() == 20  # the paid statement is untouched
    (november,) = statements_generate(period=NOVEMBER, now=DEC_2).statements
    assert november.commission_payable == Decimal("-2.00")
    assert november.payable == Decimal("0.00")
    assert november.carried_forward == Decimal("-2.00")
    assert list(november.lines.values_list("kind", flat=True)) == [LineKind.CLAWBACK]


def test_small_balance_carries_forward_until_minimum(
    creator: Creator, make_order: OrderMaker
) -> None:
    for _ in range(5):  # 5 x 2.00 = 10.00 < 25.00 minimum
        make_order(creator=creator, placed_at=IN_OCTOBER)
    _sync(datetime(2026, 10, 31, tzinfo=UTC))
    (october,) = statements_generate(period=OCTOBER, now=NOV_2).statements
    assert (october.payable, october.carried_forward) == (Decimal("0.00"), Decimal("10.00"))
    commission_line_book(
        creator_id=creator.pk,
        kind=LineKind.FLAT_FEE,
        amount=Decimal("20.00"),
        currency="USD",
        occurred_at=datetime(2026, 11, 5, tzinfo=UTC),
        idempotency_key="fee-nov",
    )
    (november,) = statements_generate(period=NOVEMBER, now=DEC_2).statements
    assert november.minimum_carried_in == Decimal("10.00")
    assert november.payable == Decimal("30.00")


def test_future_month_currency_mismatch_and_bad_rate_are_refused(
    creator: Creator, make_order: OrderMaker
) -> None:
    with pytest.raises(StatementError, match="not over yet"):
        statements_generate(period=NOVEMBER, now=datetime(2026, 11, 30, tzinfo=UTC))
    make_order(creator=creator, placed_at=IN_OCTOBER, currency="EUR")
    _sync(datetime(2026, 10, 31, tzinfo=UTC))
    with pytest.raises(StatementError, match=r"Currency mismatch.*@mia.live \(EUR\)"):
        statements_generate(period=OCTOBER, now=NOV_2)
    assert not Statement.objects.exists()
    assert not CommissionLine.objects.filter(statement__isnull=False).exists()

    order = make_order(creator=creator, placed_at=IN_OCTOBER)
    order.lines.update(commission_rate=Decimal("120.00"))
    before = CommissionLine.objects.count()
    with pytest.raises(LedgerError, match="between 0 and 100"):
        commission_lines_accrue(order_lines=unaccrued_order_lines())
    assert CommissionLine.objects.count() == before


def test_approved_statement_is_locked_and_late_rows_go_to_next_month(
    creator: Creator, make_order: OrderMaker
) -> None:
    for _ in range(15):
        make_order(creator=creator, placed_at=IN_OCTOBER)
    _sync(datetime(2026, 10, 31, tzinfo=UTC))
    (october,) = statements_generate(period=OCTOBER, now=NOV_2).statements
    statement_approve(statement=october)
    late = make_order(creator=creator, placed_at=IN_OCTOBER)
    _sync(NOV_2)
    result = statements_generate(period=OCTOBER, now=NOV_2)
    assert result.statements == [] and [s.pk for s in result.locked] == [october.pk]
    october.refresh_from_db()
    assert october.lines.count() == 15
    with pytest.raises(StatementError):
        statement_approve(statement=october)
    (november,) = statements_generate(period=NOVEMBER, now=DEC_2).statements
    assert list(november.lines.values_list("order_id", flat=True)) == [late.pk]


def test_pending_until_delivered_and_return_window_over(
    creator: Creator, make_order: OrderMaker
) -> None:
    order = make_order(creator=creator, placed_at=IN_OCTOBER, status=PlatformStatus.IN_TRANSIT)
    _sync(IN_OCTOBER + timedelta(days=1))
    assert set(CommissionLine.objects.values_list("status", flat=True)) == {LineStatus.PENDING}
    delivered = IN_OCTOBER + timedelta(days=3)
    order.platform_status = PlatformStatus.DELIVERED
    order.delivered_at = delivered
    order.save()
    _sync(delivered + timedelta(days=29))
    assert set(CommissionLine.objects.values_list("status", flat=True)) == {LineStatus.PENDING}
    _sync(delivered + timedelta(days=30))
    assert set(CommissionLine.objects.values_list("status", flat=True)) == {LineStatus.EARNED}


def test_xlsx_and_csv_read_back_with_totals(creator: Creator, make_order: OrderMaker) -> None:
    prices = [Decimal("19.99"), Decimal("40.00"), Decimal("7.35")]
    for price in prices:
        make_order(creator=creator, placed_at=IN_OCTOBER, price=price)
    _sync(datetime(2026, 10, 31, tzinfo=UTC))
    (statement,) = statements_generate(period=OCTOBER, now=NOV_2).statements

    workbook = load_workbook(BytesIO(statement_xlsx(statement)))
    assert workbook.sheetnames == ["Summary", "Detail"]
    detail = workbook["Detail"]
    assert detail.freeze_panes == "A2"
    rows = list(detail.iter_rows(values_only=True))
    assert rows[0][:3] == ("Order ID", "Placed at (UTC)", "Seller SKU")
    body, total = rows[1:-1], rows[-1]
    assert len(body) == 3
    # 5 % of 19.99 = 1.00 (half-up), of 40.00 = 2.00, of 7.35 = 0.37
    assert sorted(Decimal(str(row[8])) for row in body) == [
        Decimal("0.37"), Decimal("1.00"), Decimal("2.00")
    ]  # fmt: skip
    assert total[0] == "Total (3 rows)"
    assert Decimal(str(total[6])) == Decimal("67.34")
    assert Decimal(str(total[8])) == Decimal("3.37") == statement.commission_payable
    assert detail.cell(row=2, column=9).number_format == "#,##0.00;-#,##0.00"
    assert detail.cell(row=2, column=2).value == IN_OCTOBER.replace(tzinfo=None)
    assert detail.cell(row=2, column=2).number_format == "yyyy-mm-dd hh:mm"
    assert detail.cell(row=5, column=1).font.bold
    summary = {row[0]: row[1] for row in workbook["Summary"].iter_rows(values_only=True)}
    assert Decimal(str(summary["Payable now"])) == Decimal("0.00")  # below the 25.00 minimum
    assert Decimal(str(summary["Commission payable (seller-paid)"])) == Decimal("3.37")

    csv_lines = statement_csv(statement).splitlines()
    assert csv_lines[-1].split(",")[6:10] == ["67.34", "", "3.37", "USD"]
    assert len(csv_lines) == 5


def test_remaking_a_draft_keeps_due_rows_and_releases_the_rest(
    creator: Creator, make_order: OrderMaker
) -> None:
    orders = [make_order(creator=creator, placed_at=IN_OCTOBER) for _ in range(20)]
    _sync(datetime(2026, 10, 31, tzinfo=UTC))
    (first,) = statements_generate(period=OCTOBER, now=NOV_2).statements
    kept = set(first.lines.values_list("pk", flat=True))
    assert len(kept) == 20 and first.payable == Decimal("40.00")

    # Returned before approval: its row is voided (and leaves the draft); the rest stay put.
    order_return_record(order=orders[0], remote_return_id="early", returned_at=NOV_2)
    _sync(NOV_2 + timedelta(hours=1))
    voided = CommissionLine.objects.get(order=orders[0], payer=Payer.SELLER)
    assert (voided.status, voided.statement_id) == (LineStatus.VOID, None)
    (second,) = statements_generate(period=OCTOBER, now=NOV_2 + timedelta(hours=2)).statements
    assert second.pk == first.pk
    assert set(second.lines.values_list("pk", flat=True)) == kept - {voided.pk}
    assert (second.valid_orders_count, second.commission_payable) == (19, Decimal("38.00"))

    # Remade as of a moment before the rows were earned: every row leaves, none is lost.
    seller_rows = CommissionLine.objects.filter(payer=Payer.SELLER, status=LineStatus.EARNED)
    seller_rows.update(earned_at=NOV_2 + timedelta(hours=3))
    (early,) = statements_generate(period=OCTOBER, now=NOV_2 + timedelta(hours=2)).statements
    assert early.pk == first.pk and not early.lines.exists()
    assert early.commission_payable == Decimal("0.00")
    assert seller_rows.filter(statement__isnull=True).count() == 19
    (again,) = statements_generate(period=OCTOBER, now=NOV_2 + timedelta(hours=3)).statements
    assert again.lines.count() == 19 and again.commission_payable == Decimal("38.00")
    assert Statement.objects.count() == 1


def test_a_draft_with_only_a_fee_is_remade(creator: Creator) -> None:
    commission_line_book(
        creator_id=creator.pk,
        kind=LineKind.FLAT_FEE,
        amount=Decimal("120.00"),
        currency="USD",
        occurred_at=IN_OCTOBER,
        idempotency_key="fee-oct",
    )
    (first,) = statements_generate(period=OCTOBER, now=NOV_2).statements
    (second,) = statements_generate(period=OCTOBER, now=NOV_2).statements
    assert second.pk == first.pk
    assert (second.orders_count, second.commission_payable, second.payable) == (
        0, Decimal("120.00"), Decimal("120.00")
    )  # fmt: skip
    assert second.lines.count() == 1


def test_xlsx_is_a_valid_package_with_escaped_text_clawbacks_and_a_filter(
    creator: Creator, make_order: OrderMaker
) -> None:
    import zipfile
    from xml.dom import minidom

    orders = [make_order(creator=creator, placed_at=IN_OCTOBER) for _ in range(30)]
    orders[0].lines.update(product_name='Lip tint "Rose" & <Gloss>\x01', seller_sku="")
    _sync(datetime(2026, 10, 31, tzinfo=UTC))
    (october,) = statements_generate(period=OCTOBER, now=NOV_2).statements
    statement_approve(statement=october)
    order_return_record(order=orders[1], remote_return_id="late", returned_at=NOV_2)
    _sync(NOV_2 + timedelta(hours=1))
    commission_line_book(
        creator_id=creator.pk,
        kind=LineKind.BONUS,
        amount=Decimal("10.00"),
        currency="USD",
        occurred_at=NOV_2,
        idempotency_key="bonus-nov",
        note="Top seller & more",
    )
    (november,) = statements_generate(period=NOVEMBER, now=DEC_2).statements
    assert november.commission_payable == Decimal("8.00")  # 10.00 bonus - 2.00 clawback

    october_file = statement_xlsx(october)
    package = zipfile.ZipFile(BytesIO(october_file))
    assert package.testzip() is None
    for name in package.namelist():
        minidom.parseString(package.read(name))  # every part is well-formed XML
    workbook = load_workbook(BytesIO(october_file))
    detail = workbook["Detail"]
    assert detail.auto_filter.ref == "A1:L31"
    rows = list(detail.iter_rows(values_only=True))
    assert len(rows) == 32
    first = rows[1]
    assert first[2] is None  # an empty SKU is an empty cell
    assert first[3] == 'Lip tint "Rose" & <Gloss>'  # escaped; the control character dropped
    assert Decimal(str(rows[-1][8])) == Decimal("60.00") == october.commission_payable

    workbook = load_workbook(BytesIO(statement_xlsx(november)))
    rows = list(workbook["Detail"].iter_rows(values_only=True))
    assert [row[4] for row in rows[1:-1]] == [LineKind.CLAWBACK, LineKind.BONUS]  # no order: last
    by_kind = {row[4]: row for row in rows[1:-1]}
    assert Decimal(str(by_kind[LineKind.CLAWBACK][8])) == Decimal("-2.00")
    assert by_kind[LineKind.BONUS][11] == "Top seller & more"
    assert by_kind[LineKind.BONUS][0] is None  # no order
    assert rows[-1][0] == "Total (2 rows)"
    assert Decimal(str(rows[-1][8])) == Decimal("8.00")
    assert workbook["Detail"].cell(row=len(rows), column=9).font.bold
    csv_total = statement_csv(november).splitlines()[-1].split(",")
    assert csv_total[8] == "8.00"
