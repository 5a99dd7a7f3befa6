"""Reads for release and review: the review queue, held orders, clean orders, rules, policies."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet

from aftershow.orders.models import Order, OrderState, PlatformStatus
from aftershow.orders.selectors import DEADLINE_ORDERING
from aftershow.risk.models import FlagStatus, ReleasePolicy, RiskFlag, RiskRule
from aftershow.shops.models import Shop


def clean_orders_queryset(*, shop: Shop | None = None) -> QuerySet[Order]:
    """READY orders that were screened, have no open flag, and that TikTok still wants shipped
    (awaiting shipment, no cancellation requested): what "confirm all clean" confirms."""
    open_flags = RiskFlag.objects.filter(order=OuterRef("pk"), status=FlagStatus.OPEN)
    orders = Order.objects.filter(
        ~Exists(open_flags),
        state=OrderState.READY,
        release__screened_at__isnull=False,
        platform_status=PlatformStatus.AWAITING_SHIPMENT,
        is_buyer_request_cancel=False,
    )
    if shop is not None:
        orders = orders.filter(shop=shop)
    return orders


def review_queue_queryset(*, shop_id: int | None = None) -> QuerySet[Order]:
    """Orders waiting for a reviewer, soonest ship-by first, each with ``open_flags``."""
    orders = (
        Order.objects.filter(state=OrderState.IN_REVIEW)
        .select_related("shop", "buyer", "shipping_address")
        .prefetch_related(
            Prefetch(
                "risk_flags",
                queryset=RiskFlag.objects.filter(status=FlagStatus.OPEN).order_by(
                    "rule__position", "rule_id"
                ),
                to_attr="open_flags",
            )
        )
    )
    if shop_id is not None:
        orders = orders.filter(shop_id=shop_id)
    return orders.order_by(*DEADLINE_ORDERING)


def held_orders_queryset(*, shop_id: int | None = None) -> QuerySet[Order]:
    """Held orders with why and until when: those released soonest first."""
    orders = Order.objects.filter(state=OrderState.HELD).select_related("shop", "buyer", "release")
    if shop_id is not None:
        orders = orders.filter(shop_id=shop_id)
    return orders.order_by(F("hold_until").asc(nulls_last=True), *DEADLINE_ORDERING)


@dataclass(frozen=True)
class QueueCounts:
    in_review: int
    held: int
    clean: int


def queue_counts(*, shop: Shop | None = None) -> QueueCounts:
    orders = Order.objects.all() if shop is None else Order.objects.filter(shop=shop)
    counts = orders.aggregate(
        in_review=Count("pk", filter=Q(state=OrderState.IN_REVIEW)),
        held=Count("pk", filter=Q(state=OrderState.HELD)),
    )
    return QueueCounts(
        in_review=counts["in_review"],
        held=counts["held"],
        clean=clean_orders_queryset(shop=shop).count(),
    )


def rules_queryset() -> QuerySet[RiskRule]:
    return RiskRule.objects.select_related("updated_by").order_by("position", "id")


def release_policy_for(shop: Shop) -> ReleasePolicy:
    """The shop's policy, or the defaults (unsaved) when it has none."""
    policy = ReleasePolicy.objects.filter(shop=shop).first()
    return policy if policy is not None else ReleasePolicy(shop=shop)


def order_flags(order: Order) -> QuerySet[RiskFlag]:
    """Every flag of an order, open first."""
    return (
        RiskFlag.objects.filter(order=order)
        .select_related("rule", "resolved_by")
        .order_by("status", "rule__position", "rule_id")
    )
