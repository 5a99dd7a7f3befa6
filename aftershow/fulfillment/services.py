"""The fulfillment app's writes, in one place: what views, the API, the CLI, the demo and the
scan station call. Each lives in the module named after its step."""

from __future__ import annotations

from django.db import transaction

from aftershow.fulfillment.batches import (
    BatchReport,
    label_batch_process,
    label_batch_retry,
    label_batches_create,
    labels_batch_run,
)
from aftershow.fulfillment.choosing import package_select, packages_select
from aftershow.fulfillment.documents import batch_pdf, batch_zpl
from aftershow.fulfillment.models import CarrierRule
from aftershow.fulfillment.packing import BuildReport, packages_build
from aftershow.fulfillment.purchasing import PurchaseOutcome, label_buy, labels_buy
from aftershow.fulfillment.shipping import ScanOutcome, ShipReport, package_scan, packages_ship

__all__ = [
    "BatchReport",
    "BuildReport",
    "PurchaseOutcome",
    "ScanOutcome",
    "ShipReport",
    "batch_pdf",
    "batch_zpl",
    "carrier_rule_move",
    "carrier_rule_next_position",
    "label_batch_process",
    "label_batch_retry",
    "label_batches_create",
    "label_buy",
    "labels_batch_run",
    "labels_buy",
    "package_scan",
    "package_select",
    "packages_build",
    "packages_select",
    "packages_ship",
]


def carrier_rule_move(*, rule: CarrierRule, up: bool) -> None:
    """Swap ``rule`` with its neighbour above (or below); positions are renumbered 10, 20, …
    so the order stays unambiguous."""
    with transaction.atomic():
        rules = list(CarrierRule.objects.select_for_update().order_by("position", "id"))
        index = next(i for i, candidate in enumerate(rules) if candidate.pk == rule.pk)
        other = index - 1 if up else index + 1
        if 0 <= other < len(rules):
            rules[index], rules[other] = rules[other], rules[index]
        for position, candidate in enumerate(rules, start=1):
            candidate.position = position * 10
        CarrierRule.objects.bulk_update(rules, ["position"])
    rule.refresh_from_db(fields=["position"])


def carrier_rule_next_position() -> int:
    last = CarrierRule.objects.order_by("-position").values_list("position", flat=True).first()
    return (last or 0) + 10
