from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.http import HttpRequest
from ninja import Router, Schema

from aftershow.orders.selectors import order_list_queryset

router = Router(tags=["orders"])


class OrderOut(Schema):
    id: int
    remote_order_id: str
    shop_id: int
    platform_status: str
    state: str
    placed_at: datetime
    ship_by: datetime | None
    currency: str
    total_amount: Decimal


@router.get("/", response=list[OrderOut])
def list_orders(
    request: HttpRequest,
    status: str = "",
    shop: int | None = None,
    q: str = "",
    limit: int = 50,
    offset: int = 0,
) -> list[OrderOut]:
    queryset = order_list_queryset(status=status, shop_id=shop, search=q)
    limit = max(1, min(limit, 200))
    return list(queryset[offset : offset + limit])  # type: ignore[arg-type]
