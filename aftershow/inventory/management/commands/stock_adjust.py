"""``aftershow stock_adjust --sku X --warehouse W --quantity N --reason R``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aftershow.catalog.models import Sku
from aftershow.inventory.ledger import StockError
from aftershow.inventory.management.options import user_from_option
from aftershow.inventory.models import AdjustmentReason, StockLevel, Warehouse
from aftershow.inventory.selectors import default_warehouse
from aftershow.inventory.services import stock_adjust


class Command(BaseCommand):
    help = (
        "Add (positive --quantity) or remove (negative) units on hand, with a reason. If on hand "
        "drops below what orders hold, the newest orders go back to backorder."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sku", required=True, help="seller SKU code")
        parser.add_argument("--warehouse", help="warehouse code (default: the default warehouse)")
        parser.add_argument("--quantity", type=int, required=True, help="signed change, e.g. -3")
        parser.add_argument(
            "--reason", choices=AdjustmentReason.values, default=AdjustmentReason.CORRECTION
        )
        parser.add_argument("--note", default="", help="free text kept in the ledger")
        parser.add_argument(
            "--key", help="idempotency key: running the command again with it changes nothing"
        )
        parser.add_argument("--user", help="username recorded as the person who made the change")

    def handle(self, *args: Any, **options: Any) -> None:
        sku = Sku.objects.filter(code=options["sku"]).first()
        if sku is None:
            raise CommandError(f"unknown SKU {options['sku']!r}")
        code = options["warehouse"]
        warehouse = Warehouse.objects.filter(code=code).first() if code else default_warehouse()
        if warehouse is None:
            raise CommandError(
                f"unknown warehouse {code!r}" if code else "no default warehouse is set"
            )
        try:
            movement = stock_adjust(
                sku=sku,
                warehouse=warehouse,
                quantity=options["quantity"],
                reason=AdjustmentReason(options["reason"]),
                key=options["key"],
                note=options["note"],
                by=user_from_option(options["user"]),
                actor_label="cli",
            )
        except StockError as error:
            raise CommandError(str(error)) from None
        level = StockLevel.objects.get(sku=sku, warehouse=warehouse)
        done = "already applied, nothing changed" if movement is None else "adjusted"
        self.stdout.write(
            f"{sku.code} @ {warehouse.code}: {done}; on hand {level.on_hand}, "
            f"allocated {level.allocated}, available {level.available}"
        )
