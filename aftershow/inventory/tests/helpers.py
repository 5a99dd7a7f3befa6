"""Stock test data: SKUs, incoming orders as a channel sends them, and a whole-state snapshot."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from aftershow.catalog.models import BundleComponent, Product, Sku
from aftershow.inventory.models import StockAllocation, StockLevel, StockMovement, Warehouse
from aftershow.inventory.selectors import ledger_totals
from aftershow.orders.models import Order
from aftershow.orders.types import IncomingAddress, IncomingLine, IncomingOrder

T0 = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)


def make_sku(code: str, *, bundle_of: dict[Sku, int] | None = None) -> Sku:
    product, _ = Product.objects.get_or_create(name="Cloud Tee")
    sku = Sku.objects.create(product=product, code=code, is_bundle=bundle_of is not None)
    for component, quantity in (bundle_of or {}).items():
        BundleComponent.objects.create(bundle=sku, component=component, quantity=quantity)
    return sku


def incoming_order(
    order_id: str,
    lines: list[tuple[str, int]],
    *,
    status: str = "AWAITING_SHIPMENT",
    placed: datetime = T0,
    updated: datetime | None = None,
    remote_warehouse_id: str = "",
) -> IncomingOrder:
    """An order as a connector hands it over; ``lines`` are (seller SKU, quantity)."""
    return IncomingOrder(
        remote_order_id=order_id,
        platform_status=status,
        placed_at=placed,
        remote_updated_at=updated or placed,
        buyer_user_id=f"buyer-{order_id}",
        buyer_nickname="sunny",
        address=IncomingAddress(),
        lines=[
            IncomingLine(
                remote_line_id=f"{order_id}-{number}",
                remote_product_id="500",
                remote_sku_id=f"remote-{code}",
                seller_sku=code,
                product_name="Cloud Tee",
                sku_name=code,
                quantity=quantity,
                currency="USD",
                original_price=Decimal("19.99"),
                sale_price=Decimal("19.99"),
                platform_discount=Decimal("0"),
                seller_discount=Decimal("0"),
                display_status=status,
            )
            for number, (code, quantity) in enumerate(lines, start=1)
        ],
        currency="USD",
        subtotal=Decimal("19.99"),
        shipping_fee=Decimal("0"),
        tax=Decimal("0"),
        seller_discount=Decimal("0"),
        platform_discount=Decimal("0"),
        total_amount=Decimal("19.99"),
        ship_by=placed + timedelta(days=2),
        remote_warehouse_id=remote_warehouse_id,
    )


def cancelled(order: IncomingOrder, *, minutes_later: int = 5) -> IncomingOrder:
    """The same order, cancelled by the buyer a few minutes later (a newer update time)."""
    return replace(
        order,
        platform_status="CANCELLED",
        remote_updated_at=order.remote_updated_at + timedelta(minutes=minutes_later),
    )


def level_of(sku: Sku, warehouse: Warehouse) -> tuple[int, int, int]:
    """(on hand, allocated, incoming), read fresh."""
    level = StockLevel.objects.filter(sku=sku, warehouse=warehouse).first()
    return (level.on_hand, level.allocated, level.incoming) if level else (0, 0, 0)


def assert_ledger_matches_levels() -> None:
    """Every level equals the sum of its movements, field by field."""
    for level in StockLevel.objects.all():
        totals = ledger_totals(sku_id=level.sku_id, warehouse_id=level.warehouse_id)
        assert (totals.on_hand, totals.allocated, totals.incoming) == (
            level.on_hand,
            level.allocated,
            level.incoming,
        ), f"level {level.pk} disagrees with its ledger"


@dataclass(frozen=True)
class Snapshot:
    levels: tuple[tuple[int, int, int, int, int, int], ...]
    movements: tuple[tuple[str, str, int, int, int], ...]
    allocations: tuple[tuple[int, int, str, int, int], ...]
    order_states: tuple[tuple[int, str], ...]


def snapshot() -> Snapshot:
    """Everything stock-related, to assert that a rejected or repeated call changed nothing."""
    return Snapshot(
        levels=tuple(
            StockLevel.objects.order_by("pk").values_list(
                "pk", "sku_id", "warehouse_id", "on_hand", "allocated", "incoming"
            )
        ),
        movements=tuple(
            StockMovement.objects.order_by("pk").values_list(
                "idempotency_key", "kind", "on_hand_delta", "allocated_delta", "incoming_delta"
            )
        ),
        allocations=tuple(
            StockAllocation.objects.order_by("pk").values_list(
                "order_line_id", "sku_id", "status", "round", "returned_quantity"
            )
        ),
        order_states=tuple(Order.objects.order_by("pk").values_list("pk", "state")),
    )
