from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from aftershow.commissions.models import BatchStatus, PayoutChannel
from aftershow.commissions.payouts import (
    payout_batch_create,
    payout_batch_poll,
    payout_batch_submit,
    paypal_bulk_csv,
    wise_batch_csv,
)
from aftershow.commissions.paypal import PayPalClient, PayPalSettings

SANDBOX_ID = "demo-client-id"
SANDBOX_SECRET = "demo-client-secret"  # the loopback sandbox's own, not a real secret


class Command(BaseCommand):
    help = "Pay every approved, unpaid statement: PayPal Payouts API, or a PayPal/Wise file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--channel", choices=PayoutChannel.values, required=True)
        parser.add_argument("--currency", default="USD")
        parser.add_argument("--out", type=Path, help="file to write (PayPal CSV, Wise CSV)")
        parser.add_argument(
            "--sandbox",
            action="store_true",
            help="send to a PayPal sandbox started on 127.0.0.1 for this run (demo)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        channel = options["channel"]
        try:
            plan = payout_batch_create(channel=channel, currency=options["currency"])
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        for statement, reason in plan.held:
            self.stdout.write(
                f"held: @{statement.creator.handle} {statement.period:%Y-%m} "
                f"{statement.payable} {statement.currency}: {reason}"
            )
        batch = plan.batch
        if batch is None:
            self.stdout.write("nothing to pay")
            return
        self.stdout.write(f"batch {batch.sender_batch_id}: {batch.total} {batch.currency}")
        if channel == PayoutChannel.PAYPAL_API:
            self._send(batch, sandbox=options["sandbox"])
            return
        text = (
            paypal_bulk_csv(batch) if channel == PayoutChannel.PAYPAL_CSV else wise_batch_csv(batch)
        )
        out: Path = options["out"] or Path(f"{channel}-{batch.sender_batch_id}.csv")
        out.write_text(text, encoding="utf-8")
        self.stdout.write(f"file written to {out}; mark the batch paid once the transfer is done")

    def _send(self, batch: Any, *, sandbox: bool) -> None:
        if sandbox:
            from aftershow.sandbox.paypal import PayPalSandbox

            with PayPalSandbox(client_id=SANDBOX_ID, client_secret=SANDBOX_SECRET) as paypal:
                settings = PayPalSettings(paypal.base_url, SANDBOX_ID, SANDBOX_SECRET)
                self._submit_and_poll(batch, PayPalClient(settings))
            return
        configured = PayPalSettings.from_environment()
        if configured is None:
            raise CommandError(
                "PayPal is not set up: set AFTERSHOW_PAYPAL_CLIENT_ID, _SECRET and _BASE_URL "
                "(or pass --sandbox). The batch is kept; run again to send it."
            )
        self._submit_and_poll(batch, PayPalClient(configured))

    def _submit_and_poll(self, batch: Any, client: PayPalClient) -> None:
        try:
            batch = payout_batch_submit(batch=batch, client=client)
            self.stdout.write(f"sent: PayPal batch {batch.remote_batch_id} {batch.status}")
            for _attempt in range(5):
                batch = payout_batch_poll(batch=batch, client=client)
                if batch.status in (BatchStatus.SUCCESS, BatchStatus.DENIED, BatchStatus.CANCELED):
                    break
            for item in batch.items.select_related("creator").order_by("pk"):
                self.stdout.write(f"  @{item.creator.handle} {item.amount} {item.status}")
        finally:
            client.close()
