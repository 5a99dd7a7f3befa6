"""Reads on orders: the list (filters, search, deadline order) and one order with its history."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import F, Prefetch, Q, QuerySet, Value
from django.db.models.functions import Lower

from aftershow.orders.models import Buyer, Order, OrderLine, OrderStatusChange

# Soonest ship-by deadline first, orders without one last, then by id so pages are stable.
# Both databases walk the (ship_by, id) index for this: PostgreSQL's btree is ASC NULLS LAST
# already, and SQLite (3.30+) scans the non-null range and then the nulls from the same index.
DEADLINE_ORDERING = (F("ship_by").asc(nulls_last=True), "id")


def _search_filter(term: str) -> Q:
    """Exact order id, buyer nickname (any case) or seller SKU.

    The three lookups are a UNION of primary keys, each answered from its own index (order id,
    buyer, seller SKU), and the orders are then fetched by primary key. An ``OR`` of the three
    would be simpler to write, but PostgreSQL answers it by filtering every order in deadline
    order: a full scan whenever the term matches nothing. The nickname is compared as
    ``LOWER(nickname) = LOWER(term)``, both sides folded by the database, which an expression
    index on ``Lower("nickname")`` can serve.
    """
    matching_buyers = (
        Buyer.objects.alias(nickname_lower=Lower("nickname"))
        .filter(nickname_lower=Lower(Value(term)))
        .values("pk")
    )
    by_order_id = Order.objects.filter(remote_order_id=term).values("pk")
    by_buyer = Order.objects.filter(buyer_id__in=matching_buyers).values("pk")
    by_sku = OrderLine.objects.filter(seller_sku=term).values("order_id")
    return Q(pk__in=by_order_id.union(by_buyer, by_sku))


def order_list_queryset(
    *,
    status: str = "",
    shop_id: int | None = None,
    creator_id: int | None = None,
    search: str = "",
) -> QuerySet[Order]:
    """Orders for the list page and the API, soonest ship-by deadline first (no deadline last).

    Shop, buyer and creator come in the same query, lines in one more (with the page), so a
    page costs the same number of queries whatever its size.
    """
    queryset = Order.objects.select_related("shop", "buyer", "creator").prefetch_related(
        Prefetch(
            "lines",
            queryset=OrderLine.objects.only("order_id", "seller_sku", "quantity").order_by("id"),
        )
    )
    if status:
        queryset = queryset.filter(platform_status=status)
    if shop_id is not None:
        queryset = queryset.filter(shop_id=shop_id)
    if creator_id is not None:
        queryset = queryset.filter(creator_id=creator_id)
    search = search.strip()
    if search:
        queryset = queryset.filter(_search_filter(search))
    return queryset.order_by(*DEADLINE_ORDERING)


def order_detail_queryset() -> QuerySet[Order]:
    """One order with everything its page shows: lines, and its history newest first."""
    return Order.objects.select_related(
        "shop", "buyer", "shipping_address", "creator", "live_session"
    ).prefetch_related(
        Prefetch(
            "lines",
            queryset=OrderLine.objects.select_related("creator").order_by("id"),
        ),
        Prefetch(
            "status_changes",
            queryset=OrderStatusChange.objects.select_related("actor").order_by("-at", "-id"),
        ),
    )


@dataclass(frozen=True)
class SkuCount:
    seller_sku: str
    quantity: int


@dataclass(frozen=True)
class LineSummary:
    """What an order contains at a glance: units in total and units per seller SKU."""

    items: int
    skus: tuple[SkuCount, ...]


def line_summary(lines: Iterable[OrderLine]) -> LineSummary:
    """Units per seller SKU, in the order the SKUs first appear.

    TikTok sends one line per unit, so three identical shirts are three lines of one SKU.
    """
    per_sku: Counter[str] = Counter()
    for line in lines:
        per_sku[line.seller_sku] += line.quantity
    return LineSummary(
        items=sum(per_sku.values()),
        skus=tuple(SkuCount(seller_sku=sku, quantity=count) for sku, count in per_sku.items()),
    )
