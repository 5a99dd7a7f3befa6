"""The demo path from the command line: time moves on, statements, XLSX, a PayPal batch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from aftershow.commissions.models import (
    CommissionLine,
    ItemStatus,
    PayoutItem,
    Statement,
    StatementStatus,
)
from aftershow.orders.models import OrderStatusChange, PlatformStatus
from aftershow.orders.tests.factories import CreatorFactory, OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_advance_sync_statements_and_paypal_batch_from_the_cli(tmp_path: Path) -> None:
    creators = [CreatorFactory(handle=handle) for handle in ("glowwithmia", "leo.shop")]
    for index in range(40):
        order = OrderFactory(
            creator=creators[index % 2],
            placed_at=NOW - timedelta(days=2),
            platform_status=PlatformStatus.IN_TRANSIT,
        )
        OrderLineFactory(order=order, creator=order.creator, sale_price="50.00")
    with time_machine.travel(NOW, tick=False):
        advanced = _run("commissions_advance", "--days", "40", "--return-rate", "0.1")
        assert "2 creators given demo terms; 40 days passed: 40 delivered" in advanced
        returned = int(advanced.split("delivered, ")[1].split(" returned")[0])
        assert 0 < returned < 40
        assert OrderStatusChange.objects.filter(to_status=PlatformStatus.COMPLETED).count() == (
            40 - returned
        )
        _run("commissions_sync")
        listing = _run(
            "commissions_statements",
            "--month",
            "2026-10",
            "--approve",
            "--export-dir",
            str(tmp_path),
        )
        assert "approved 2 statements" in listing
        with pytest.raises(CommandError, match="not over yet"):
            _run("commissions_statements", "--month", "2026-11")
        paid = _run("commissions_payout", "--channel", "paypal_api", "--sandbox")
    statements = Statement.objects.order_by("creator__handle")
    assert [s.status for s in statements] == [StatementStatus.PAID, StatementStatus.PAID]
    # 5 % of 50.00 on every order that was not returned.
    earned = CommissionLine.objects.filter(payer="seller", status="earned").count()
    assert earned == 40 - returned
    assert sum(s.payable for s in statements) == earned * Decimal("2.50")
    assert "SUCCESS" in paid
    assert set(PayoutItem.objects.values_list("status", flat=True)) == {ItemStatus.SUCCESS}
    workbook = load_workbook(tmp_path / "statement-glowwithmia-2026-10.xlsx")
    total_row = list(workbook["Detail"].iter_rows(values_only=True))[-1]
    assert total_row[8] == float(statements[0].commission_payable)
