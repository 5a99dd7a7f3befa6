from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from aftershow.commissions.ledger import (
    commission_lines_accrue,
    commission_lines_settle,
    unaccrued_order_lines,
)
from aftershow.commissions.reconcile import platform_commission_reconcile


class Command(BaseCommand):
    help = "Bring the commission ledger up to date and reconcile TikTok-paid commission."

    def handle(self, *args: Any, **options: Any) -> None:
        created = commission_lines_accrue(order_lines=unaccrued_order_lines())
        settled = commission_lines_settle()
        checked = platform_commission_reconcile()
        self.stdout.write(
            f"{created} new rows; {settled.earned} earned, {settled.voided} void, "
            f"{settled.clawbacks} clawbacks; TikTok: {checked.matched} match, "
            f"{checked.different} differ, {checked.unreported} not reported yet"
        )
