"""Payouts over real HTTP against the PayPal sandbox on 127.0.0.1, and the payout files."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from aftershow.commissions.ledger import (
    commission_lines_accrue,
    commission_lines_settle,
    unaccrued_order_lines,
)
from aftershow.commissions.models import (
    BatchStatus,
    ItemStatus,
    PayoutBatch,
    PayoutChannel,
    PayoutDetails,
    PayoutItem,
    PayoutMethod,
    Statement,
    StatementStatus,
)
from aftershow.commissions.payouts import (
    PayoutError,
    payout_batch_create,
    payout_batch_mark_paid,
    payout_batch_poll,
    payout_batch_submit,
    paypal_bulk_csv,
    wise_batch_csv,
)
from aftershow.commissions.paypal import PayPalClient, PayPalSettings
from aftershow.commissions.statements import statement_approve, statements_generate
from aftershow.commissions.tests.conftest import OrderMaker, collaborate
from aftershow.creators.models import Creator
from aftershow.orders.tests.factories import CreatorFactory
from aftershow.sandbox.paypal import PayPalSandbox

pytestmark = pytest.mark.django_db

CLIENT_ID = "AYSq3RDGsmBLJE-otTkBtM-jBRd1TCQwFf9RGfwddNXWz0uFU9ztymylOhRS"
SECRET = "EGnHDxD_qRPdaLdZz8iCr8N7_MzF-YHPTkjs6NKYQvQSBngp4PTTVWkPZRbL"
IN_OCTOBER = datetime(2026, 10, 10, 12, 0, tzinfo=UTC)
NOV_2 = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)


@pytest.fixture
def paypal() -> Iterator[PayPalSandbox]:
    with PayPalSandbox(client_id=CLIENT_ID, client_secret=SECRET) as sandbox:
        yield sandbox


def _client(sandbox: PayPalSandbox, *, secret: str = SECRET, timeout: float = 5.0) -> PayPalClient:
    settings = PayPalSettings(base_url=sandbox.base_url, client_id=CLIENT_ID, client_secret=secret)
    return PayPalClient(settings, timeout=timeout, max_attempts=3)


def _approved_statement(creator: Creator, make_order: OrderMaker, orders: int = 20) -> Statement:
    for _ in range(orders):
        make_order(creator=creator, placed_at=IN_OCTOBER)
    commission_lines_accrue(order_lines=unaccrued_order_lines())
    commission_lines_settle(now=datetime(2026, 10, 31, tzinfo=UTC))
    result = statements_generate(period=date(2026, 10, 1), now=NOV_2, creator_ids=[creator.pk])
    (statement,) = result.statements
    return statement_approve(statement=statement)


def _paypal_details(creator: Creator, email: str = "mia@example.com") -> None:
    PayoutDetails.objects.create(creator=creator, method=PayoutMethod.PAYPAL, paypal_email=email)


def test_timeout_then_retry_pays_once_and_platform_commission_is_never_paid(
    paypal: PayPalSandbox, creator: Creator, make_order: OrderMaker
) -> None:
    statement = _approved_statement(creator, make_order)
    # 20 x 40.00: TikTok's 15 % (120.00) is not the seller's to pay; the 5 % (40.00) is.
    assert statement.platform_commission == Decimal("120.00")
    assert statement.payable == Decimal("40.00")
    _paypal_details(creator)
    plan = payout_batch_create(channel=PayoutChannel.PAYPAL_API)
    assert plan.batch is not None and plan.held == []
    # The sandbox takes the batch, then holds the answer past the client's timeout.
    paypal.faults.timeout_seconds = 3.0
    paypal.faults.fail_next(1, "timeout")
    client = _client(paypal, timeout=0.5)
    batch = payout_batch_submit(batch=plan.batch, client=client)

    # The first call was dropped (it is recorded only once the sandbox lets go of it); the
    # retry, with the same sender_batch_id, got PayPal's duplicate answer and its link.
    assert paypal.faults.injected["timeout"] == 1
    answered = [call for call in paypal.calls if call.status is not None]
    assert [(c.method, c.status) for c in answered if c.path.startswith("/v1/payments")] == [
        ("POST", 400), ("GET", 200)
    ]  # fmt: skip
    assert len(paypal.batches) == 1
    (remote,) = paypal.batches.values()
    assert batch.remote_batch_id == remote.payout_batch_id
    assert [item.payout_item["amount"] for item in paypal.paid_items()] == [
        {"value": "40.00", "currency": "USD"}
    ]
    # Submitting again (a second worker, a re-run) sends nothing new.
    payout_batch_submit(batch=batch, client=client)
    assert len(paypal.batches) == 1

    statement.refresh_from_db()
    assert statement.status == StatementStatus.APPROVED  # sent, not yet paid
    while batch.status != BatchStatus.SUCCESS:  # PENDING -> PROCESSING -> SUCCESS
        batch = payout_batch_poll(batch=batch, client=client)
    assert batch.status == BatchStatus.SUCCESS
    statement.refresh_from_db()
    assert statement.status == StatementStatus.PAID
    assert PayoutItem.objects.get().status == ItemStatus.SUCCESS
    # Paid: no new batch can take it.
    assert payout_batch_create(channel=PayoutChannel.PAYPAL_API).batch is None


def test_creator_without_payout_details_is_held_with_the_reason(
    paypal: PayPalSandbox, creator: Creator, make_order: OrderMaker
) -> None:
    _approved_statement(creator, make_order)
    plan = payout_batch_create(channel=PayoutChannel.PAYPAL_API)
    assert plan.batch is None
    assert [(s.creator_id, reason) for s, reason in plan.held] == [
        (creator.pk, "No payout details on file")
    ]
    assert not PayoutBatch.objects.exists()
    PayoutDetails.objects.create(creator=creator, method=PayoutMethod.PAYPAL)
    plan = payout_batch_create(channel=PayoutChannel.PAYPAL_API)
    assert [reason for _, reason in plan.held] == ["No PayPal e-mail on file"]


def test_statement_in_a_live_batch_cannot_be_batched_again(
    creator: Creator, make_order: OrderMaker
) -> None:
    statement = _approved_statement(creator, make_order)
    _paypal_details(creator)
    first = payout_batch_create(channel=PayoutChannel.PAYPAL_CSV).batch
    assert first is not None
    assert payout_batch_create(channel=PayoutChannel.PAYPAL_API).batch is None
    # Even a race past the selection is stopped by the one-live-item constraint.
    with pytest.raises(PayoutError, match="already in another batch"):
        from aftershow.commissions import payouts

        real = payouts.Exists
        try:
            payouts.Exists = lambda queryset: ~real(queryset)  # type: ignore[assignment,operator]
            payout_batch_create(channel=PayoutChannel.PAYPAL_CSV)
        finally:
            payouts.Exists = real  # type: ignore[misc]
    assert PayoutItem.objects.filter(statement=statement).count() == 1
    assert PayoutBatch.objects.count() == 1


def test_failed_item_frees_the_statement_for_a_new_batch(
    paypal: PayPalSandbox, creator: Creator, make_order: OrderMaker
) -> None:
    statement = _approved_statement(creator, make_order)
    _paypal_details(creator, email="mia@fail.example")
    client = _client(paypal)
    batch = payout_batch_create(channel=PayoutChannel.PAYPAL_API).batch
    assert batch is not None
    payout_batch_submit(batch=batch, client=client)
    payout_batch_poll(batch=batch, client=client)
    payout_batch_poll(batch=batch, client=client)
    item = PayoutItem.objects.get()
    assert (item.status, item.is_live) == (ItemStatus.FAILED, False)
    statement.refresh_from_db()
    assert statement.status == StatementStatus.APPROVED
    PayoutDetails.objects.filter(creator=creator).update(paypal_email="mia@example.com")
    again = payout_batch_create(channel=PayoutChannel.PAYPAL_API).batch
    assert again is not None and again.sender_batch_id != batch.sender_batch_id


def test_paypal_sandbox_refuses_bad_credentials_and_bad_payloads(paypal: PayPalSandbox) -> None:
    from aftershow.commissions.paypal import PayPalError

    with pytest.raises(PayPalError, match="invalid_client"):
        _client(paypal, secret="wrong").access_token()
    client = _client(paypal)
    body = {
        "sender_batch_header": {"sender_batch_id": "b1"},
        "items": [
            {"amount": {"value": 5, "currency": "usd"}, "receiver": "not-an-email",
             "recipient_type": "EMAIL", "colour": "red"},
        ],
    }  # fmt: skip
    with pytest.raises(PayPalError) as refused:
        client.payout_create(body)
    assert refused.value.name == "VALIDATION_ERROR"
    assert {detail["field"] for detail in refused.value.details} == {
        "items[0].amount.value", "items[0].amount.currency", "items[0].receiver",
        "items[0].colour",
    }  # fmt: skip
    assert paypal.batches == {}


def test_paypal_csv_and_wise_csv(creator: Creator, make_order: OrderMaker) -> None:
    _approved_statement(creator, make_order)
    other = collaborate(CreatorFactory(handle="leo.shop"))
    _approved_statement(other, make_order, orders=30)
    _paypal_details(creator)
    PayoutDetails.objects.create(
        creator=other,
        method=PayoutMethod.WISE,
        wise_recipient_name="Leo Park",
        wise_email="leo@example.com",
        wise_account_number="12345678",
        wise_routing_number="026009593",
        wise_account_type="CHECKING",
        wise_city="Austin",
        wise_address_line="1 Main St",
        wise_postal_code="73301",
        wise_state="TX",
    )
    paypal_plan = payout_batch_create(channel=PayoutChannel.PAYPAL_CSV)
    assert paypal_plan.batch is not None
    assert [s.creator_id for s, _ in paypal_plan.held] == [other.pk]
    rows = list(csv.reader(io.StringIO(paypal_bulk_csv(paypal_plan.batch))))
    statement_id = Statement.objects.get(creator=creator).pk
    assert rows == [
        ["mia@example.com", "40.00", "USD", f"S{statement_id}", "Creator statement 2026-10",
         "PAYPAL"]
    ]  # fmt: skip
    wise_plan = payout_batch_create(channel=PayoutChannel.WISE_CSV)
    assert wise_plan.batch is not None
    table = list(csv.DictReader(io.StringIO(wise_batch_csv(wise_plan.batch))))
    assert len(table) == 1
    assert (table[0]["name"], table[0]["amount"], table[0]["amountCurrency"]) == (
        "Leo Park", "60.00", "target"
    )  # fmt: skip
    assert payout_batch_mark_paid(batch=wise_plan.batch) == 1
    assert Statement.objects.get(creator=other).status == StatementStatus.PAID
    assert Statement.objects.get(creator=creator).status == StatementStatus.APPROVED
