"""Reads on stock: levels, the ledger's totals, backorders."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet, Sum
from django.db.models.functions import Coalesce

from aftershow.inventory.models import (
    AllocationStatus,
    StockAllocation,
    StockMovement,
    Warehouse,
)


@dataclass(frozen=True)
class LedgerTotals:
    on_hand: int
    allocated: int
    incoming: int


def default_warehouse() -> Warehouse | None:
    return Warehouse.objects.filter(is_default=True).first()


def ledger_totals(*, sku_id: int, warehouse_id: int) -> LedgerTotals:
    """What the movements add up to: equal to the level, always (the tests check it)."""
    totals = StockMovement.objects.filter(sku_id=sku_id, warehouse_id=warehouse_id).aggregate(
        on_hand=Coalesce(Sum("on_hand_delta"), 0),
        allocated=Coalesce(Sum("allocated_delta"), 0),
        incoming=Coalesce(Sum("incoming_delta"), 0),
    )
    return LedgerTotals(**totals)


def backorders(*, sku_id: int | None = None) -> QuerySet[StockAllocation]:
    """Lines waiting for stock, oldest order first (the order they will be filled in)."""
    waiting = StockAllocation.objects.filter(status=AllocationStatus.BACKORDERED)
    if sku_id is not None:
        waiting = waiting.filter(sku_id=sku_id)
    return waiting.select_related("order", "order_line", "sku", "warehouse").order_by(
        "order__placed_at", "order_id", "pk"
    )
