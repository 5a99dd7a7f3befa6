"""What allocation does to an order's processing state: backordered, and back again.

Called with the orders already locked (see ``inventory.ledger``). Every change is an
``OrderStatusChange`` row saying why, like any other state change.
"""

from __future__ import annotations

from collections import defaultdict

from django.utils import timezone
from django.utils.translation import gettext as _

from aftershow.catalog.models import Sku
from aftershow.inventory.models import AllocationStatus, StockAllocation
from aftershow.orders.models import ChangeSource, Order, OrderState, OrderStatusChange

# Processing states an order may leave for BACKORDERED (and return to once its stock is
# there). Later states (labelled, shipped, done, cancelled) are never overwritten.
BACKORDERABLE_STATES = frozenset(
    {
        OrderState.NEW,
        OrderState.HELD,
        OrderState.IN_REVIEW,
        OrderState.READY,
        OrderState.CONFIRMED,
    }
)


def backordered_codes(
    allocations: list[StockAllocation], order_ids: set[int]
) -> dict[int, list[str]]:
    """The SKU codes each order is short of: what its history row will name."""
    names = dict(
        Sku.objects.filter(pk__in={a.sku_id for a in allocations}).values_list("pk", "code")
    )
    codes: dict[int, list[str]] = defaultdict(list)
    for allocation in allocations:
        if allocation.order_id in order_ids and allocation.status == AllocationStatus.BACKORDERED:
            codes[allocation.order_id].append(names[allocation.sku_id])
    return codes


def orders_mark_backordered(orders: list[Order], *, skus: dict[int, list[str]]) -> None:
    """Make the shortage visible on the order itself, with a history row saying why."""
    changes = []
    for order in orders:
        if order.state not in BACKORDERABLE_STATES:
            continue
        reason = _("Out of stock: %(skus)s") % {"skus": ", ".join(sorted(set(skus[order.pk])))}
        changes.append(
            OrderStatusChange(
                order=order,
                source=ChangeSource.SYSTEM,
                from_status=order.platform_status,
                to_status=order.platform_status,
                from_state=order.state,
                to_state=OrderState.BACKORDERED,
                reason=reason[:255],
            )
        )
        order.state = OrderState.BACKORDERED
    if changes:
        Order.objects.filter(pk__in=[change.order_id for change in changes]).update(
            state=OrderState.BACKORDERED, updated_at=timezone.now()
        )
        OrderStatusChange.objects.bulk_create(changes)


def orders_restore_filled(orders: list[Order]) -> None:
    """Orders whose last backorder was filled go back to the state they were in before."""
    backordered = [order for order in orders if order.state == OrderState.BACKORDERED]
    still_waiting = set(
        StockAllocation.objects.filter(
            order__in=backordered, status=AllocationStatus.BACKORDERED
        ).values_list("order_id", flat=True)
    )
    ready = [order for order in backordered if order.pk not in still_waiting]
    if not ready:
        return
    before: dict[int, str] = {}
    for order_id, from_state in (
        OrderStatusChange.objects.filter(order__in=ready, to_state=OrderState.BACKORDERED)
        .order_by("at", "pk")
        .values_list("order_id", "from_state")
    ):
        before[order_id] = from_state  # the latest one wins
    changes = []
    now = timezone.now()
    for order in ready:
        state = before.get(order.pk) or OrderState.NEW
        Order.objects.filter(pk=order.pk).update(state=state, updated_at=now)
        changes.append(
            OrderStatusChange(
                order=order,
                source=ChangeSource.SYSTEM,
                from_status=order.platform_status,
                to_status=order.platform_status,
                from_state=OrderState.BACKORDERED,
                to_state=state,
                reason=_("Stock arrived for every backordered line"),
            )
        )
    OrderStatusChange.objects.bulk_create(changes)
