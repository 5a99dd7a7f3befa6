"""Reads on orders."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from aftershow.orders.models import Order, OrderLine


def order_list_queryset(
    *,
    status: str = "",
    shop_id: int | None = None,
    creator_id: int | None = None,
    search: str = "",
) -> QuerySet[Order]:
    """Orders for the list page, soonest ship-by deadline first (no deadline last)."""
    queryset = Order.objects.all()
    if status:
        queryset = queryset.filter(platform_status=status)
    if shop_id:
        queryset = queryset.filter(shop_id=shop_id)
    if creator_id:
        queryset = queryset.filter(creator_id=creator_id)
    search = search.strip()
    if search:
        queryset = queryset.filter(
            Q_search(search)
        )
    return queryset.order_by("ship_by", "id")


def Q_search(term: str):  # type: ignore[no-untyped-def]
    from django.db.models import Q

    sku_match = Exists(OrderLine.objects.filter(order=OuterRef("pk"), seller_sku=term))
    return Q(remote_order_id=term) | Q(buyer__nickname__iexact=term) | Q(sku_match)
