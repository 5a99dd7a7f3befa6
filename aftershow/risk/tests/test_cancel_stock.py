"""Cancelling an order in the review queue gives its reserved stock back."""

from __future__ import annotations

import pytest

from aftershow.accounts.models import User
from aftershow.catalog.models import Product, Sku
from aftershow.inventory.allocation import order_lines_allocate
from aftershow.inventory.models import (
    AllocationStatus,
    MovementKind,
    StockAllocation,
    StockLevel,
    StockMovement,
    Warehouse,
)
from aftershow.orders.models import OrderState
from aftershow.orders.tests.factories import OrderLineFactory
from aftershow.risk.services import order_cancel_locally
from aftershow.risk.tests.conftest import ready_order

pytestmark = pytest.mark.django_db


def test_a_locally_cancelled_order_releases_its_stock(operator: User) -> None:
    warehouse = Warehouse.objects.create(code="ROA", name="Roanoke", is_default=True)
    sku = Sku.objects.create(product=Product.objects.create(name="Tee"), code="TEE", name="Tee")
    StockLevel.objects.create(sku=sku, warehouse=warehouse, on_hand=5)
    order = ready_order(state=OrderState.IN_REVIEW)
    OrderLineFactory(order=order, sku=sku, seller_sku="TEE", quantity=2)
    order_lines_allocate(order_ids=[order.pk])
    assert StockLevel.objects.values_list("on_hand", "allocated").get() == (5, 2)

    order_cancel_locally(order=order, by=operator, note="fraud")

    assert StockLevel.objects.values_list("on_hand", "allocated").get() == (5, 0)
    assert StockAllocation.objects.get(order=order).status == AllocationStatus.RELEASED
    movement = StockMovement.objects.get(kind=MovementKind.DEALLOCATION)
    assert (movement.quantity, movement.allocated_delta, movement.actor_label) == (2, -2, "review")
    order.refresh_from_db()
    assert order.state == OrderState.CANCELLED
