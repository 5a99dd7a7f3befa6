"""Writes on screening and review: screen, approve, correct the address, hold, cancel, confirm
all clean orders, edit rules and release policies, record returns.

Every change of an order's state is an ``OrderStatusChange`` row (who, when, why) and every act
of a person also an ``AuditEvent``. Review actions lock the order row first and check its state
under the lock, so two reviewers acting on one order cannot both succeed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from pydantic import ValidationError

from aftershow.accounts.models import Role, User
from aftershow.audit.models import AuditAction, AuditEvent
from aftershow.core.timeutils import utcnow
from aftershow.inventory.allocation import order_deallocate
from aftershow.orders.models import (
    Address,
    ChangeSource,
    Order,
    OrderState,
    OrderStatusChange,
)
from aftershow.orders.services import address_match_key
from aftershow.orders.types import IncomingAddress
from aftershow.risk.evaluators import EVALUATORS
from aftershow.risk.models import (
    AddressCorrection,
    FlagStatus,
    HoldKind,
    OrderRelease,
    OrderReturn,
    ReleasePolicy,
    RiskFlag,
    RiskRule,
)
from aftershow.risk.rows import status_changes_insert
from aftershow.risk.screening import SCREENED_STATES, ScreenReport, chunked, screen_orders
from aftershow.shops.models import Shop

CONFIRM_CHUNK = 500
HOLD_REASON_MAX_LENGTH = 200


class ReviewError(Exception):
    """The action does not apply to the order as it stands (already confirmed, say)."""


class RuleParametersError(ValueError):
    """Parameters that the rule's kind does not accept; ``errors`` maps field → message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))
        self.errors = errors


def can_review(user: User | None) -> bool:
    """Owners and operators review and confirm; packers and deactivated accounts do not."""
    return user is not None and user.has_role(Role.OPERATOR)


def can_configure(user: User | None) -> bool:
    """Rules and release policies are the owner's."""
    return user is not None and user.has_role()


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied(gettext("Your role may not do this."))


def _site_text(message: Promise, **values: str) -> str:
    """Text stored in history rows, in the site's language whoever acted."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(message) % values


def _audit(
    *, by: User, order: Order, action: AuditAction, message: str, data: dict[str, Any]
) -> None:
    AuditEvent.objects.create(
        actor=by,
        actor_label="user",
        action=action,
        object_type="order",
        object_id=str(order.pk),
        message=message,
        data=data,
    )


def _locked(order: Order, allowed: Iterable[str]) -> Order:
    locked = (
        Order.objects.select_for_update(of=("self",))
        .select_related("shipping_address")
        .get(pk=order.pk)
    )
    if locked.state not in set(allowed):
        raise ReviewError(
            gettext("Order %(order)s is %(state)s: this action does not apply to it.")
            % {"order": locked.remote_order_id, "state": locked.get_state_display()}
        )
    return locked


def _move(
    *,
    order: Order,
    to_state: str,
    by: User | None,
    reason: str,
    hold_reason: str = "",
    hold_until: datetime | None = None,
    source: ChangeSource = ChangeSource.USER,
) -> None:
    now = utcnow()
    Order.objects.filter(pk=order.pk, state=order.state).update(
        state=to_state, hold_reason=hold_reason, hold_until=hold_until, updated_at=now
    )
    OrderStatusChange.objects.create(
        order=order,
        source=source,
        actor=by,
        from_state=order.state,
        to_state=to_state,
        reason=reason[:255],
    )
    order.state, order.hold_reason, order.hold_until = to_state, hold_reason, hold_until


def orders_screen(
    *,
    now: datetime,
    shop: Shop | None = None,
    order_ids: Sequence[int] | None = None,
    by: User | None = None,
) -> ScreenReport:
    """Screen orders waiting for confirmation (READY) or review (IN_REVIEW): all of them, the
    shop's, or those listed. Idempotent: screening again writes nothing new."""
    if order_ids is None:
        waiting = Order.objects.filter(state__in=SCREENED_STATES)
        if shop is not None:
            waiting = waiting.filter(shop=shop)
        order_ids = list(waiting.values_list("pk", flat=True))
    source = ChangeSource.USER if by is not None else ChangeSource.SYSTEM
    return screen_orders(order_ids=order_ids, now=now, actor=by, source=source)


def order_approve(*, order: Order, by: User, note: str = "") -> Order:
    """A reviewer lets a flagged (or reviewer-held) order go: READY, its open flags approved."""
    _require(can_review(by))
    now = utcnow()
    with transaction.atomic():
        order = _locked(order, (OrderState.IN_REVIEW, OrderState.HELD))
        if (
            order.state == OrderState.HELD
            and not OrderRelease.objects.filter(order=order, hold_kind=HoldKind.REVIEWER).exists()
        ):
            raise ReviewError(gettext("Only orders held by a reviewer can be approved while held."))
        flags = list(
            RiskFlag.objects.filter(order=order, status=FlagStatus.OPEN).values_list(
                "reason", flat=True
            )
        )
        RiskFlag.objects.filter(order=order, status=FlagStatus.OPEN).update(
            status=FlagStatus.APPROVED, resolved_at=now, resolved_by=by, updated_at=now
        )
        from_state = order.state
        _move(
            order=order,
            to_state=OrderState.READY,
            by=by,
            reason=_site_text(_("Approved after review: %(note)s"), note=note or "—"),
        )
        OrderRelease.objects.update_or_create(
            order=order, defaults={"hold_kind": HoldKind.NONE, "screened_at": now}
        )
        _audit(
            by=by,
            order=order,
            action=AuditAction.ORDER_STATE_CHANGED,
            message=f"Approved order {order.remote_order_id}",
            data={
                "action": "approve",
                "note": note,
                "from_state": from_state,
                "to_state": OrderState.READY,
                "approved_flags": flags,
            },
        )
    return order


def order_address_correct(
    *, order: Order, by: User, address: IncomingAddress, note: str = ""
) -> Order:
    """Point the order at a NEW address row (the old one stays, as received) and screen again.

    Local only: the corrected address is not sent to TikTok.
    """
    _require(can_review(by))
    now = utcnow()
    with transaction.atomic():
        order = _locked(
            order,
            (OrderState.HELD, OrderState.IN_REVIEW, OrderState.READY),
        )
        old = order.shipping_address
        new = Address.objects.create(
            name=address.name,
            phone=address.phone,
            line1=address.line1,
            line2=address.line2,
            city=address.city,
            state=address.state.upper(),
            postal_code=address.postal_code,
            country=address.country or "US",
            full_address=address.full_address,
            match_key=address_match_key(address),
        )
        Order.objects.filter(pk=order.pk).update(shipping_address=new, updated_at=now)
        order.shipping_address = new
        AddressCorrection.objects.create(
            order=order, from_address=old, to_address=new, by=by, note=note
        )
        OrderStatusChange.objects.create(
            order=order,
            source=ChangeSource.USER,
            actor=by,
            from_state=order.state,
            to_state=order.state,
            reason=_site_text(_("Address corrected: %(note)s"), note=note or "—")[:255],
        )
        _audit(
            by=by,
            order=order,
            action=AuditAction.USER_ACTION,
            message=f"Corrected the address of order {order.remote_order_id}",
            data={
                "action": "correct_address",
                "note": note,
                "from_address_id": old.pk if old else None,
                "to_address_id": new.pk,
                "to_address": str(new),
            },
        )
        if order.state in SCREENED_STATES:
            screen_orders(order_ids=[order.pk], now=now, actor=by, source=ChangeSource.USER)
    order.refresh_from_db()
    return order


def order_hold(*, order: Order, by: User, until: datetime, note: str) -> Order:
    """Hold a flagged or ready order until a moment; then it comes back to the review queue."""
    _require(can_review(by))
    now = utcnow()
    if until.tzinfo is None:
        raise ValueError("until must be an aware datetime")
    if until <= now:
        raise ReviewError(gettext("The hold must end in the future."))
    with transaction.atomic():
        order = _locked(order, (OrderState.IN_REVIEW, OrderState.READY))
        from_state = order.state
        with translation.override(settings.LANGUAGE_CODE):
            hold_reason = gettext("Held by %(user)s: %(note)s") % {
                "user": by.get_username(),
                "note": note or "—",
            }
        _move(
            order=order,
            to_state=OrderState.HELD,
            by=by,
            reason=hold_reason,
            hold_reason=hold_reason[:HOLD_REASON_MAX_LENGTH],
            hold_until=until,
        )
        OrderRelease.objects.update_or_create(
            order=order, defaults={"hold_kind": HoldKind.REVIEWER}
        )
        _audit(
            by=by,
            order=order,
            action=AuditAction.ORDER_STATE_CHANGED,
            message=f"Held order {order.remote_order_id} until {until.isoformat()}",
            data={
                "action": "hold",
                "note": note,
                "until": until.isoformat(),
                "from_state": from_state,
                "to_state": OrderState.HELD,
            },
        )
    return order


def order_cancel_locally(*, order: Order, by: User, note: str) -> Order:
    """Cancel the order in aftershow so nobody ships it.

    Cancelling it on TikTok (the Cancel Order API, with a reason) is not done here yet: the
    history row and the audit event say so, and TikTok's status shows until someone does.
    """
    _require(can_review(by))
    if not note.strip():
        raise ReviewError(gettext("Say why the order is cancelled."))
    with transaction.atomic():
        order = _locked(
            order,
            (OrderState.NEW, OrderState.HELD, OrderState.IN_REVIEW, OrderState.READY),
        )
        from_state = order.state
        _move(
            order=order,
            to_state=OrderState.CANCELLED,
            by=by,
            reason=_site_text(
                _("Cancelled by a reviewer (not cancelled on the platform): %(note)s"), note=note
            ),
        )
        OrderRelease.objects.update_or_create(order=order, defaults={"hold_kind": HoldKind.NONE})
        # Its reserved units go back on sale (and to waiting backorders, after the commit).
        order_deallocate(order_ids=[order.pk], actor_label="review")
        _audit(
            by=by,
            order=order,
            action=AuditAction.ORDER_STATE_CHANGED,
            message=f"Cancelled order {order.remote_order_id} in aftershow",
            data={
                "action": "cancel",
                "note": note,
                "from_state": from_state,
                "to_state": OrderState.CANCELLED,
                "cancelled_on_platform": False,
            },
        )
    return order


def orders_confirm_clean(*, by: User | None, shop: Shop | None = None) -> int:
    """Confirm every screened, unflagged READY order still awaiting shipment, in one
    transaction; returns how many. ``by`` None is the system (the CLI run by an admin)."""
    if by is not None:
        _require(can_review(by))
    from aftershow.risk.selectors import clean_orders_queryset

    now = utcnow()
    source = ChangeSource.USER if by is not None else ChangeSource.SYSTEM
    reason = _site_text(_("Confirmed with all clean orders"))
    with transaction.atomic():
        ids = list(
            clean_orders_queryset(shop=shop)
            .select_for_update(of=("self",))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        confirmed = 0
        for chunk in chunked(ids, CONFIRM_CHUNK):
            confirmed += Order.objects.filter(pk__in=chunk, state=OrderState.READY).update(
                state=OrderState.CONFIRMED, updated_at=now
            )
        status_changes_insert(
            changes=[
                (order_id, OrderState.READY, OrderState.CONFIRMED, reason) for order_id in ids
            ],
            source=source,
            actor_id=by.pk if by is not None else None,
            at=utcnow(),
        )
        # One event for the batch (each order's own trail is its history row above).
        if ids:
            AuditEvent.objects.create(
                actor=by,
                actor_label="user" if by is not None else "system",
                action=AuditAction.ORDER_STATE_CHANGED,
                object_type="order_batch",
                object_id=str(shop.pk) if shop else "",
                message=f"Confirmed {len(ids)} clean orders",
                data={
                    "action": "confirm_clean",
                    "shop_id": shop.pk if shop else None,
                    "orders": ids,
                },
            )
        if confirmed != len(ids):
            # The rows were locked above; a difference means a bug, not a race.
            raise RuntimeError(f"confirmed {confirmed} of {len(ids)} locked orders")
    return confirmed


def risk_rule_update(
    *,
    rule: RiskRule,
    by: User,
    parameters: dict[str, Any] | None = None,
    is_active: bool | None = None,
    position: int | None = None,
) -> RiskRule:
    """Change a rule's thresholds, switch it on or off, or move it. Takes effect at the next
    screening; orders already screened keep their flags until screened again."""
    _require(can_configure(by))
    before = {"parameters": rule.parameters, "is_active": rule.is_active, "position": rule.position}
    if parameters is not None:
        try:
            parsed = EVALUATORS[rule.kind].parameters.model_validate(parameters)
        except ValidationError as error:
            raise RuleParametersError(
                {
                    ".".join(str(p) for p in e["loc"]) or "parameters": e["msg"]
                    for e in error.errors()
                }
            ) from error
        rule.parameters = parsed.model_dump(mode="json")
    if is_active is not None:
        rule.is_active = is_active
    if position is not None:
        rule.position = position
    rule.updated_by = by
    with transaction.atomic():
        rule.save()
        AuditEvent.objects.create(
            actor=by,
            actor_label="user",
            action=AuditAction.USER_ACTION,
            object_type="risk_rule",
            object_id=str(rule.pk),
            message=f"Changed risk rule {rule.kind} #{rule.pk}",
            data={
                "before": before,
                "after": {
                    "parameters": rule.parameters,
                    "is_active": rule.is_active,
                    "position": rule.position,
                },
            },
        )
    return rule


def release_policy_update(
    *, shop: Shop, by: User, hold_live_orders_until_stream_end: bool, combine_window_minutes: int
) -> ReleasePolicy:
    _require(can_configure(by))
    if not 0 <= combine_window_minutes <= 24 * 60:
        raise ValueError("combine_window_minutes must be between 0 and 1440")
    with transaction.atomic():
        policy, _ = ReleasePolicy.objects.update_or_create(
            shop=shop,
            defaults={
                "hold_live_orders_until_stream_end": hold_live_orders_until_stream_end,
                "combine_window_minutes": combine_window_minutes,
            },
        )
        AuditEvent.objects.create(
            actor=by,
            actor_label="user",
            action=AuditAction.USER_ACTION,
            object_type="shop",
            object_id=str(shop.pk),
            message=f"Changed the release policy of shop {shop.pk}",
            data={
                "hold_live_orders_until_stream_end": hold_live_orders_until_stream_end,
                "combine_window_minutes": combine_window_minutes,
            },
        )
    return policy


def order_return_record(
    *, order: Order, remote_return_id: str, returned_at: datetime, reason: str = ""
) -> bool:
    """Record a completed return of a delivered order (idempotent); True if it is new."""
    _, created = OrderReturn.objects.get_or_create(
        order=order,
        remote_return_id=remote_return_id,
        defaults={"returned_at": returned_at, "reason": reason[:255]},
    )
    return created
