"""``aftershow stock_plan SESSION_ID [--followers N --view-rate 0.1 … --sku CODE:SHARE …]``.

Without options it prints the session's plan; with any, it saves the inputs first.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError

from aftershow.catalog.models import Sku
from aftershow.creators.models import LiveSession
from aftershow.inventory.planning import StockPlan, stock_plan_for, stock_plan_save


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise CommandError(f"not a number: {text!r}") from None


class Command(BaseCommand):
    help = (
        "Show (or set, then show) the stock plan of a live session: followers x view rate x "
        "conversion x safety factor, the first batch, the rule of thumb and per-SKU shortfall."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("session", type=int, help="live session id")
        parser.add_argument("--followers", type=int)
        parser.add_argument("--view-rate", help="fraction, e.g. 0.10")
        parser.add_argument("--conversion", help="fraction, e.g. 0.08")
        parser.add_argument("--safety-factor", help="e.g. 1.2")
        parser.add_argument("--first-batch-share", help="fraction stocked first, e.g. 0.5")
        parser.add_argument(
            "--sku", action="append", default=[], help="CODE or CODE:SHARE (repeat; replaces all)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        session = LiveSession.objects.select_related("creator").filter(pk=options["session"])
        found = session.first()
        if found is None:
            raise CommandError(f"no live session {options['session']}")
        changes = [
            options[name]
            for name in ("followers", "view_rate", "conversion", "safety_factor")
            if options[name] is not None
        ]
        if changes or options["first_batch_share"] is not None or options["sku"]:
            self._save(found, options)
        self._print(stock_plan_for(found))

    def _save(self, session: LiveSession, options: dict[str, Any]) -> None:
        current = stock_plan_for(session)
        lines = [(line.sku, line.share) for line in current.lines]
        if options["sku"]:
            lines = []
            for spec in options["sku"]:
                code, _, share = spec.partition(":")
                sku = Sku.objects.filter(code=code, is_bundle=False).first()
                if sku is None:
                    raise CommandError(f"unknown SKU (or a bundle): {code!r}")
                if share and (not share.isdigit() or int(share) < 1):
                    raise CommandError(f"share must be a whole number >= 1: {spec!r}")
                lines.append((sku, int(share or 1)))
            if len({sku.pk for sku, _ in lines}) != len(lines):
                raise CommandError("a SKU is listed twice")
        values: dict[str, Any] = {
            "followers": options["followers"]
            if options["followers"] is not None
            else current.followers,
            "view_rate": _decimal(options["view_rate"])
            if options["view_rate"]
            else current.view_rate,
            "conversion_rate": _decimal(options["conversion"])
            if options["conversion"]
            else current.conversion_rate,
            "safety_factor": _decimal(options["safety_factor"])
            if options["safety_factor"]
            else current.safety_factor,
            "first_batch_share": _decimal(options["first_batch_share"])
            if options["first_batch_share"]
            else current.first_batch_share,
        }
        for name in ("view_rate", "conversion_rate", "first_batch_share"):
            if not Decimal("0") < values[name] <= Decimal("1"):
                raise CommandError(f"{name.replace('_', ' ')} must be a fraction in (0, 1]")
        if values["safety_factor"] < 1:
            raise CommandError("safety factor must be at least 1")
        try:
            stock_plan_save(session=session, lines=lines, **values)
        except IntegrityError as error:
            raise CommandError(f"plan refused: {error}") from None

    def _print(self, plan: StockPlan) -> None:
        write = self.stdout.write
        session = plan.session
        write(f"Stock plan for {session.creator} at {session.starts_at:%Y-%m-%d %H:%M} UTC")
        write(
            f"  {plan.followers:,} x {plan.view_rate} x {plan.conversion_rate} x "
            f"{plan.safety_factor} = {plan.total_units:,} units"
        )
        write(f"  first batch ({plan.first_batch_share}): {plan.first_batch:,} units")
        if plan.rule_of_thumb:
            rule = plan.rule_of_thumb
            write(f"  rule of thumb, {rule.label}: {rule.low:,}-{rule.high:,} units")
        else:
            write("  no rule of thumb for this creator size")
        if not plan.saved:
            write("  (not saved: defaults with the creator's followers)")
        for line in plan.lines:
            write(
                f"  {line.sku.code:<16} share {line.share:>3}  plan {line.units:>6,}  "
                f"first {line.first_batch:>6,}  available {line.available:>6,}  "
                f"short {line.shortfall:>6,}"
            )
