"""The commission pages, as the finance team and as a creator with a signed link."""

from __future__ import annotations

from datetime import UTC, date, datetime
from io import BytesIO

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import load_workbook

from aftershow.commissions.exports import statement_link_token
from aftershow.commissions.ledger import (
    commission_lines_accrue,
    commission_lines_settle,
    unaccrued_order_lines,
)
from aftershow.commissions.models import (
    CommissionLine,
    PayoutBatch,
    PayoutDetails,
    PayoutMethod,
    Statement,
    StatementStatus,
)
from aftershow.commissions.statements import statements_generate
from aftershow.commissions.tests.conftest import OrderMaker
from aftershow.creators.models import Creator
from aftershow.orders.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

IN_OCTOBER = datetime(2026, 10, 10, 12, 0, tzinfo=UTC)
NOV_2 = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)


@pytest.fixture
def owner_client(client: Client) -> Client:
    client.force_login(UserFactory(owner=True))
    return client


def _october(creator: Creator, make_order: OrderMaker) -> None:
    for _ in range(20):
        make_order(creator=creator, placed_at=IN_OCTOBER)
    commission_lines_accrue(order_lines=unaccrued_order_lines())
    commission_lines_settle(now=datetime(2026, 10, 31, tzinfo=UTC))


def test_make_approve_download_and_pay_from_the_pages(
    owner_client: Client, creator: Creator, make_order: OrderMaker
) -> None:
    _october(creator, make_order)
    with time_machine.travel(NOV_2, tick=False):
        page = owner_client.get("/commissions/?month=2026-10")
        assert page.status_code == 200
        response = owner_client.post("/commissions/statements/make/", {"month": "2026-10"})
        assert response.status_code == 302
        future = owner_client.post(
            "/commissions/statements/make/", {"month": "2026-11"}, follow=True
        )
        assert "not over yet" in future.content.decode()
    statement = Statement.objects.get()
    page = owner_client.get(f"/commissions/statements/{statement.pk}/")
    assert "@mia.live" in page.content.decode() and "40.00" in page.content.decode()
    xlsx = owner_client.get(f"/commissions/statements/{statement.pk}/statement.xlsx")
    workbook = load_workbook(BytesIO(xlsx.content))
    assert workbook["Detail"].max_row == 22  # header, 20 rows, totals
    owner_client.post(f"/commissions/statements/{statement.pk}/approve/")
    statement.refresh_from_db()
    assert statement.status == StatementStatus.APPROVED

    held = owner_client.post("/commissions/payouts/new/", {"channel": "paypal_csv"}, follow=True)
    assert "No payout details on file" in held.content.decode()
    assert not PayoutBatch.objects.exists()
    PayoutDetails.objects.create(
        creator=creator, method=PayoutMethod.PAYPAL, paypal_email="mia@example.com"
    )
    made = owner_client.post("/commissions/payouts/new/", {"channel": "paypal_csv"})
    batch = PayoutBatch.objects.get()
    assert made["Location"] == f"/commissions/payouts/{batch.pk}/"
    file = owner_client.get(f"/commissions/payouts/{batch.pk}/file.csv")
    assert file.content.decode().startswith("mia@example.com,40.00,USD,")
    owner_client.post(f"/commissions/payouts/{batch.pk}/paid/")
    statement.refresh_from_db()
    assert statement.status == StatementStatus.PAID


def test_creator_link_works_without_an_account_and_expires(
    client: Client, creator: Creator, make_order: OrderMaker
) -> None:
    _october(creator, make_order)
    (statement,) = statements_generate(period=date(2026, 10, 1), now=NOV_2).statements
    with time_machine.travel(NOV_2, tick=False):
        token = statement_link_token(statement)
    with time_machine.travel(datetime(2026, 11, 20, tzinfo=UTC), tick=False):
        page = client.get(f"/commissions/s/{token}/")
        assert page.status_code == 200
        assert "Statement for @mia.live, 2026-10" in page.content.decode()
        xlsx = client.get(f"/commissions/s/{token}/statement.xlsx")
        assert xlsx.status_code == 200
        assert client.get(f"/commissions/s/{token[:-2]}xx/").status_code == 404
    with time_machine.travel(datetime(2026, 12, 3, tzinfo=UTC), tick=False):
        assert client.get(f"/commissions/s/{token}/").status_code == 404


def test_packer_may_not_see_commissions_and_import_errors_are_listed(
    client: Client, creator: Creator
) -> None:
    client.force_login(UserFactory(packer=True))
    assert client.get("/commissions/").status_code == 403
    assert client.get("/commissions/payouts/").status_code == 403
    client.force_login(UserFactory(username="fiona", role="finance"))
    bad = SimpleUploadedFile(
        "fees.csv",
        b"creator,kind,amount,currency,date,reference\nmia.live,bonus,10,EUR,2026-10-01,r1\n",
    )
    page = client.post("/commissions/import/", {"file": bad})
    assert "Nothing was imported." in page.content.decode()
    assert "Currency mismatch" in page.content.decode()
    assert not CommissionLine.objects.exists()
    assert client.get("/commissions/reconciliation/").status_code == 200
