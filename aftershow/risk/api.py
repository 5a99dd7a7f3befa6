"""Review over HTTP: the queue, held orders, the four review actions, confirm all clean orders,
and the rules. Mounted at ``/api/risk/``; session authentication with CSRF (``aftershow.api``).

Owners and operators act (403 otherwise); only owners change rules. An action that does not
apply to the order as it stands answers 409 with the reason.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from aftershow.accounts.models import User
from aftershow.orders.api import AddressOut, ShopOut
from aftershow.orders.models import Order, OrderState
from aftershow.orders.types import IncomingAddress
from aftershow.risk import services
from aftershow.risk.models import FlagStatus, HoldKind, RiskFlag, RiskRule, RuleKind
from aftershow.risk.selectors import held_orders_queryset, review_queue_queryset, rules_queryset
from aftershow.shops.models import Shop

router = Router(tags=["risk"])

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _reviewer(request: HttpRequest) -> User:
    user = _user(request)
    if not services.can_review(user):
        raise HttpError(403, gettext("Owners and operators review orders."))
    return user


class PageQuery(Schema):
    shop: int | None = Field(None, description="Shop id")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0)


class FlagOut(Schema):
    rule_id: int
    kind: RuleKind
    reason: str = Field(description="With its concrete values, in the site's language")
    status: FlagStatus
    created_at: datetime


class ReviewOrderOut(Schema):
    id: int
    remote_order_id: str
    shop: ShopOut
    state: OrderState
    ship_by: datetime | None
    buyer_nickname: str
    currency: str
    total_amount: Decimal
    shipping_address: AddressOut | None
    flags: list[FlagOut] = Field(description="Open flags, in rule order")

    @staticmethod
    def resolve_buyer_nickname(order: Order) -> str:
        return order.buyer.nickname if order.buyer else ""

    @staticmethod
    def resolve_flags(order: Order) -> list[RiskFlag]:
        flags: list[RiskFlag] | None = getattr(order, "open_flags", None)
        if flags is None:
            flags = list(
                RiskFlag.objects.filter(order=order, status=FlagStatus.OPEN).order_by(
                    "rule__position", "rule_id"
                )
            )
        return flags


class ReviewPageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[ReviewOrderOut]


class HeldOrderOut(Schema):
    id: int
    remote_order_id: str
    shop: ShopOut
    hold_kind: HoldKind
    hold_reason: str
    hold_until: datetime | None = Field(description="Null: until the platform or stream moves")
    ship_by: datetime | None

    @staticmethod
    def resolve_hold_kind(order: Order) -> str:
        release = getattr(order, "release", None)
        return release.hold_kind if release else HoldKind.NONE


class HeldPageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[HeldOrderOut]


class NoteIn(Schema):
    note: str = Field("", max_length=500)


class CancelIn(Schema):
    note: str = Field(min_length=1, max_length=500)


class HoldIn(Schema):
    until: datetime = Field(description="Aware datetime (with offset)")
    note: str = Field("", max_length=500)


class AddressIn(Schema):
    name: str = Field("", max_length=200)
    phone: str = Field("", max_length=40)
    line1: str = Field(min_length=1, max_length=255)
    line2: str = Field("", max_length=255)
    city: str = Field(min_length=1, max_length=100)
    state: str = Field(min_length=2, max_length=3)
    postal_code: str = Field(min_length=1, max_length=12)
    country: str = Field("US", min_length=2, max_length=2)
    note: str = Field("", max_length=500)


class ConfirmIn(Schema):
    shop: int | None = Field(None, description="Only this shop's orders")


class ConfirmOut(Schema):
    confirmed: int


class RuleOut(Schema):
    id: int
    kind: RuleKind
    parameters: dict[str, Any]
    is_active: bool
    position: int
    updated_at: datetime


class RulePatchIn(Schema):
    parameters: dict[str, Any] | None = None
    is_active: bool | None = None
    position: int | None = Field(None, ge=0, le=32767)


def _page(orders: Any, query: PageQuery) -> dict[str, Any]:
    return {
        "count": orders.count(),
        "limit": query.limit,
        "offset": query.offset,
        "items": list(orders[query.offset : query.offset + query.limit]),
    }


@router.get("/queue", response=ReviewPageOut, summary="Flagged orders, soonest ship-by first")
def queue(request: HttpRequest, query: Query[PageQuery]) -> dict[str, Any]:
    return _page(review_queue_queryset(shop_id=query.shop), query)


@router.get("/held", response=HeldPageOut, summary="Held orders with why and until when")
def held(request: HttpRequest, query: Query[PageQuery]) -> dict[str, Any]:
    return _page(held_orders_queryset(shop_id=query.shop), query)


def _reviewed(order_id: int) -> Order:
    order = review_queue_queryset().filter(pk=order_id).first()
    if order is not None:
        return order
    return get_object_or_404(
        Order.objects.select_related("shop", "buyer", "shipping_address"), pk=order_id
    )


def _action(request: HttpRequest, order_id: int, act: Any) -> Order:
    user = _reviewer(request)
    order = get_object_or_404(Order, pk=order_id)
    try:
        act(order, user)
    except services.ReviewError as problem:
        raise HttpError(409, str(problem)) from problem
    return _reviewed(order_id)


@router.post("/orders/{order_id}/approve", response=ReviewOrderOut, summary="Approve")
def approve(request: HttpRequest, order_id: int, body: NoteIn) -> Order:
    return _action(
        request,
        order_id,
        lambda order, user: services.order_approve(order=order, by=user, note=body.note),
    )


@router.post("/orders/{order_id}/hold", response=ReviewOrderOut, summary="Hold until a moment")
def hold(request: HttpRequest, order_id: int, body: HoldIn) -> Order:
    if body.until.tzinfo is None:
        raise HttpError(422, gettext("until needs a UTC offset"))
    return _action(
        request,
        order_id,
        lambda order, user: services.order_hold(
            order=order, by=user, until=body.until, note=body.note
        ),
    )


@router.post(
    "/orders/{order_id}/cancel",
    response=ReviewOrderOut,
    summary="Cancel in aftershow (not yet on the platform)",
)
def cancel(request: HttpRequest, order_id: int, body: CancelIn) -> Order:
    return _action(
        request,
        order_id,
        lambda order, user: services.order_cancel_locally(order=order, by=user, note=body.note),
    )


@router.post(
    "/orders/{order_id}/address",
    response=ReviewOrderOut,
    summary="Correct the address (a new address row) and screen again",
)
def correct_address(request: HttpRequest, order_id: int, body: AddressIn) -> Order:
    address = IncomingAddress(
        name=body.name,
        phone=body.phone,
        line1=body.line1,
        line2=body.line2,
        city=body.city,
        state=body.state.upper(),
        postal_code=body.postal_code,
        country=body.country.upper(),
    )
    return _action(
        request,
        order_id,
        lambda order, user: services.order_address_correct(
            order=order, by=user, address=address, note=body.note
        ),
    )


@router.post("/confirm-clean", response=ConfirmOut, summary="Confirm all clean orders")
def confirm_clean(request: HttpRequest, body: ConfirmIn) -> dict[str, int]:
    user = _reviewer(request)
    shop = get_object_or_404(Shop, pk=body.shop) if body.shop is not None else None
    return {"confirmed": services.orders_confirm_clean(by=user, shop=shop)}


@router.get("/rules", response=list[RuleOut], summary="Screening rules, in the order they run")
def list_rules(request: HttpRequest) -> list[RiskRule]:
    return list(rules_queryset())


@router.patch("/rules/{rule_id}", response=RuleOut, summary="Change a rule (owner only)")
def patch_rule(request: HttpRequest, rule_id: int, body: RulePatchIn) -> RiskRule:
    user = _user(request)
    if not services.can_configure(user):
        raise HttpError(403, gettext("Only the owner changes rules."))
    rule = get_object_or_404(RiskRule, pk=rule_id)
    try:
        return services.risk_rule_update(
            rule=rule,
            by=user,
            parameters=body.parameters,
            is_active=body.is_active,
            position=body.position,
        )
    except services.RuleParametersError as problem:
        raise HttpError(422, str(problem)) from problem


@router.post("/screen", summary="Screen every order waiting for confirmation or review")
def screen(request: HttpRequest) -> dict[str, int]:
    user = _reviewer(request)
    report = services.orders_screen(now=timezone.now(), by=user)
    return {"screened": report.screened, "in_review": report.in_review}
