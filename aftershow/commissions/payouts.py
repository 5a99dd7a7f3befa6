"""Payout batches from approved statements: PayPal Payouts API, PayPal bulk CSV, Wise CSV.

Never paid twice, by construction:

- a statement has at most one *live* payout item (a partial unique constraint), so two
  batches cannot both carry it, whoever builds them concurrently;
- a batch's ``sender_batch_id`` is stored before the first call and sent on every retry, and
  PayPal pays a ``sender_batch_id`` only once (a repeat is answered with the original batch);
- only a dead item (FAILED, RETURNED, …, as PayPal reports it) frees its statement for a new
  batch; a statement becomes ``paid`` only when its item is SUCCESS (or a file batch is marked
  paid by a person).

Only seller-paid money is in a statement's ``payable``; platform-paid commission is never on a
statement, so it can never reach a payout.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Sum
from django.utils.translation import gettext as _

from aftershow.accounts.models import User
from aftershow.commissions.models import (
    DEAD_ITEM_STATUSES,
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
from aftershow.commissions.paypal import PayPalClient
from aftershow.core.timeutils import utcnow

PAYPAL_CSV_MAX_ROWS = 5_000
WISE_CSV_MAX_ROWS = 1_000
PAYPAL_API_MAX_ITEMS = 15_000


class PayoutError(ValidationError):
    """A payout request refused; nothing was written or sent."""


@dataclass
class BatchPlan:
    batch: PayoutBatch | None
    # (statement, why it was not paid) for every approved statement left out.
    held: list[tuple[Statement, str]] = field(default_factory=list)


def _method_for(channel: str) -> str:
    return PayoutMethod.WISE if channel == PayoutChannel.WISE_CSV else PayoutMethod.PAYPAL


def _hold_reason(details: PayoutDetails | None, channel: str) -> str:
    if details is None:
        return _("No payout details on file")
    missing = details.missing_reason()
    if missing:
        return missing
    if details.method != _method_for(channel):
        return _("Paid by %(method)s, not in this batch") % {"method": details.get_method_display()}
    return ""


def _receiver(details: PayoutDetails) -> str:
    if details.method == PayoutMethod.PAYPAL:
        return details.paypal_email
    return details.wise_email or details.wise_account_number or details.wise_iban


def payable_statements() -> list[Statement]:
    """Approved statements with money to pay and no live payout item."""
    live = PayoutItem.objects.filter(statement=OuterRef("pk"), is_live=True)
    return list(
        Statement.objects.filter(status=StatementStatus.APPROVED, payable__gt=0)
        .filter(~Exists(live))
        .select_related("creator")
        .order_by("pk")
    )


def payout_batch_create(
    *,
    channel: str,
    currency: str = "USD",
    statement_ids: list[int] | None = None,
    by: User | None = None,
) -> BatchPlan:
    """Build a batch of every approved, unpaid statement (or the ones named) in ``currency``.

    Statements whose creator has no usable payout details are held, with the reason.
    """
    limit = {
        PayoutChannel.PAYPAL_API: PAYPAL_API_MAX_ITEMS,
        PayoutChannel.PAYPAL_CSV: PAYPAL_CSV_MAX_ROWS,
        PayoutChannel.WISE_CSV: WISE_CSV_MAX_ROWS,
    }[PayoutChannel(channel)]
    live = PayoutItem.objects.filter(statement=OuterRef("pk"), is_live=True)
    plan = BatchPlan(batch=None)
    try:
        with transaction.atomic():
            candidates = (
                Statement.objects.select_for_update(of=("self",))
                .filter(status=StatementStatus.APPROVED, payable__gt=0, currency=currency)
                .filter(~Exists(live))
                .select_related("creator")
                .order_by("pk")
            )
            if statement_ids is not None:
                candidates = candidates.filter(pk__in=statement_ids)
            statements = list(candidates)
            details = {
                row.creator_id: row
                for row in PayoutDetails.objects.filter(
                    creator_id__in=[statement.creator_id for statement in statements]
                )
            }
            chosen: list[tuple[Statement, PayoutDetails]] = []
            for statement in statements:
                creator_details = details.get(statement.creator_id)
                reason = _hold_reason(creator_details, channel)
                if reason or creator_details is None:
                    plan.held.append((statement, reason))
                else:
                    chosen.append((statement, creator_details))
            if len(chosen) > limit:
                raise PayoutError(
                    _("A batch holds at most %(limit)s payments; select fewer statements.")
                    % {"limit": limit}
                )
            if not chosen:
                return plan
            batch = PayoutBatch.objects.create(
                channel=channel,
                sender_batch_id=f"aftershow-{utcnow():%Y%m%d}-{uuid.uuid4().hex[:12]}",
                currency=currency,
                total=sum((statement.payable for statement, _ in chosen), Decimal("0.00")),
                created_by=by,
            )
            PayoutItem.objects.bulk_create(
                [
                    PayoutItem(
                        batch=batch,
                        statement=statement,
                        creator_id=statement.creator_id,
                        amount=statement.payable,
                        currency=statement.currency,
                        receiver=_receiver(creator_details),
                        sender_item_id=f"stmt-{statement.pk}-b{batch.pk}",
                    )
                    for statement, creator_details in chosen
                ]
            )
            plan.batch = batch
    except IntegrityError as error:
        raise PayoutError(
            _("A statement in this selection is already in another batch; nothing was created.")
        ) from error
    return plan


def paypal_payout_body(batch: PayoutBatch) -> dict[str, object]:
    items = list(batch.items.select_related("statement").order_by("pk"))
    return {
        "sender_batch_header": {
            "sender_batch_id": batch.sender_batch_id,
            "recipient_type": "EMAIL",
            "email_subject": "You have a payout from your creator statement",
            "email_message": "Thank you for the collaboration.",
        },
        "items": [
            {
                "amount": {"value": f"{item.amount:.2f}", "currency": item.currency},
                "receiver": item.receiver,
                "note": f"Statement {item.statement.period:%Y-%m}",
                "sender_item_id": item.sender_item_id,
                "recipient_wallet": "PAYPAL",
            }
            for item in items
        ],
    }


def payout_batch_submit(*, batch: PayoutBatch, client: PayPalClient) -> PayoutBatch:
    """Send a PayPal API batch. Safe to call again (after a crash or a timeout): the same
    ``sender_batch_id`` goes out and PayPal answers with the batch it already has."""
    if batch.channel != PayoutChannel.PAYPAL_API:
        raise PayoutError(_("Only a PayPal API batch is sent; export the file for this one."))
    if batch.remote_batch_id:
        return batch
    PayoutBatch.objects.filter(pk=batch.pk, status=BatchStatus.CREATED).update(
        status=BatchStatus.SUBMITTED, submitted_at=utcnow()
    )
    response = client.payout_create(paypal_payout_body(batch))
    header = response["batch_header"]
    PayoutBatch.objects.filter(pk=batch.pk).update(
        remote_batch_id=header["payout_batch_id"], status=header["batch_status"]
    )
    batch.refresh_from_db()
    if response.get("items"):
        _apply_items(batch, response["items"])
    return batch


def payout_batch_poll(*, batch: PayoutBatch, client: PayPalClient) -> PayoutBatch:
    """Read the batch and its items from PayPal and apply their statuses."""
    if not batch.remote_batch_id:
        return payout_batch_submit(batch=batch, client=client)
    response = client.payout_get(batch.remote_batch_id)
    PayoutBatch.objects.filter(pk=batch.pk).update(
        status=response["batch_header"]["batch_status"], polled_at=utcnow()
    )
    _apply_items(batch, response.get("items") or [])
    batch.refresh_from_db()
    return batch


def _apply_items(batch: PayoutBatch, remote_items: list[dict[str, object]]) -> None:
    now = utcnow()
    for remote in remote_items:
        payout_item = remote.get("payout_item")
        if not isinstance(payout_item, dict):
            continue
        sender_item_id = str(payout_item.get("sender_item_id", ""))
        status = str(remote.get("transaction_status", ""))
        if status not in ItemStatus.values:
            continue
        with transaction.atomic():
            item = (
                PayoutItem.objects.select_for_update()
                .filter(batch=batch, sender_item_id=sender_item_id)
                .first()
            )
            if item is None:
                continue
            item.status = status
            item.remote_item_id = str(remote.get("payout_item_id", ""))
            item.is_live = status not in DEAD_ITEM_STATUSES
            item.save(update_fields=["status", "remote_item_id", "is_live", "updated_at"])
            if status == ItemStatus.SUCCESS:
                Statement.objects.filter(
                    pk=item.statement_id, status=StatementStatus.APPROVED
                ).update(status=StatementStatus.PAID, paid_at=now)


def payout_batch_mark_paid(*, batch: PayoutBatch) -> int:
    """A file batch (PayPal CSV, Wise CSV) went through: its statements are paid."""
    if batch.channel == PayoutChannel.PAYPAL_API:
        raise PayoutError(_("A PayPal API batch is paid by PayPal's item statuses, not by hand."))
    now = utcnow()
    with transaction.atomic():
        items = PayoutItem.objects.filter(batch=batch, is_live=True)
        statement_ids = list(items.values_list("statement_id", flat=True))
        items.update(status=ItemStatus.PAID)
        paid = Statement.objects.filter(
            pk__in=statement_ids, status=StatementStatus.APPROVED
        ).update(status=StatementStatus.PAID, paid_at=now)
        PayoutBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.COMPLETED)
    return paid


def _file_items(batch: PayoutBatch, channel: str) -> list[PayoutItem]:
    if batch.channel != channel:
        raise PayoutError(_("This batch was built for another payout channel."))
    PayoutBatch.objects.filter(pk=batch.pk, status=BatchStatus.CREATED).update(
        status=BatchStatus.EXPORTED
    )
    PayoutItem.objects.filter(batch=batch, status=ItemStatus.QUEUED).update(
        status=ItemStatus.EXPORTED
    )
    return list(
        batch.items.filter(is_live=True)
        .select_related("statement", "creator", "creator__payout_details")
        .order_by("pk")
    )


def paypal_bulk_csv(batch: PayoutBatch) -> str:
    """PayPal Payouts Web bulk file: recipient, amount, currency, customer id, note, wallet.

    No header row (PayPal's template has none); one currency per file, at most 5,000 rows.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for item in _file_items(batch, PayoutChannel.PAYPAL_CSV):
        writer.writerow(
            [
                item.receiver,
                f"{item.amount:.2f}",
                item.currency,
                f"S{item.statement_id}"[:30],
                f"Creator statement {item.statement.period:%Y-%m}"[:400],
                "PAYPAL",
            ]
        )
    return buffer.getvalue()


WISE_HEADER = (
    "name", "recipientEmail", "paymentReference", "receiverType", "amountCurrency", "amount",
    "sourceCurrency", "targetCurrency", "accountNumber", "abartn", "accountType", "IBAN", "BIC",
    "addressCountryCode", "addressCity", "addressFirstLine", "addressPostCode", "addressState",
)  # fmt: skip


def wise_batch_csv(batch: PayoutBatch) -> str:
    """Wise "Send to bank accounts" batch file (at most 1,000 rows): fixed *target* amounts,
    so the creator receives exactly the statement's payable and the fee is the seller's."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(WISE_HEADER)
    for item in _file_items(batch, PayoutChannel.WISE_CSV):
        details = item.creator.payout_details
        writer.writerow(
            [
                details.wise_recipient_name,
                details.wise_email,
                f"Statement {item.statement.period:%Y-%m}"[:35],
                details.wise_recipient_type or "PRIVATE",
                "target",
                f"{item.amount:.2f}",
                item.currency,
                item.currency,
                details.wise_account_number,
                details.wise_routing_number,
                details.wise_account_type,
                details.wise_iban,
                details.wise_bic,
                details.wise_country,
                details.wise_city,
                details.wise_address_line,
                details.wise_postal_code,
                details.wise_state,
            ]
        )
    return buffer.getvalue()


def batch_totals(batch: PayoutBatch) -> Decimal:
    return batch.items.filter(is_live=True).aggregate(total=Sum("amount"))["total"] or Decimal(0)
