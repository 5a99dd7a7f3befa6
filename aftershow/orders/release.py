"""Release rules: when a paid order becomes processable, and why it is held until then.

An order waits (state HELD, with ``hold_reason`` and ``hold_until`` filled in) while:

- it is unpaid, or the buyer has asked to cancel it;
- TikTok's cancellation window is open: the buyer may cancel freely for
  ``Shop.cancel_window_minutes`` (60 on TikTok US) after payment; TikTok shows such orders
  as ON_HOLD, address hidden;
- TikTok still has it ON_HOLD after the window (until TikTok moves it on; no end is known);
- it came from a live stream and the shop chose to hold live orders until the stream ends
  plus the combine window (``ReleasePolicy``), as TikTok recommends for live auto-combine;
- a partner order (same buyer and address, placed within the combine window) is still in its
  own window: the two are released together, so they can travel in one parcel.

``is_on_hold_order`` alone does not hold an order: TikTok documents it as "the order has
experienced or will experience ON_HOLD status", so it stays true after the hold ends; the
status (ON_HOLD) says whether the hold is on now.

Then the order becomes READY and is screened at once (READY, or IN_REVIEW when flagged).
Orders of one buyer and address share a ``combine_key`` (``OrderRelease``), TikTok's
``auto_combine_group_id`` first. A reviewer's hold that ends sends the order back to review.

``orders_release_due`` is idempotent and safe to run every minute: an order whose decision has
not changed is not written to, and every state change is an ``OrderStatusChange`` (SYSTEM).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from aftershow.orders.models import (
    ChangeSource,
    Order,
    OrderState,
    PlatformStatus,
)
from aftershow.risk.models import HoldKind, OrderRelease, ReleasePolicy
from aftershow.risk.rows import ReleaseRow, StateChange, releases_upsert, status_changes_insert
from aftershow.risk.screening import ScreenReport, chunked, screen_orders
from aftershow.shops.models import Shop

RELEASABLE_STATUSES = (
    PlatformStatus.UNPAID,
    PlatformStatus.ON_HOLD,
    PlatformStatus.AWAITING_SHIPMENT,
)
# Holds whose end is a known moment: a partner order waits for them, not for open-ended ones.
TIMED_HOLDS = (HoldKind.CANCEL_WINDOW, HoldKind.LIVE_STREAM)
HOLD_REASON_MAX_LENGTH = 200
# What release reads of an order, as plain values: building the order, live session, address
# and release instances cost more than deciding (``Candidate`` has these, in this order).
CANDIDATE_FIELDS = (
    "id",
    "shop_id",
    "remote_order_id",
    "buyer_id",
    "state",
    "platform_status",
    "placed_at",
    "paid_at",
    "is_buyer_request_cancel",
    "hold_reason",
    "hold_until",
    "auto_combine_group_id",
    "shipping_type",
    "live_session_id",
    "live_session__ends_at",
    "shipping_address_id",
    "shipping_address__match_key",
    "release__hold_kind",
    "release__combine_key",
)
UPDATE_CHUNK = 500

MESSAGES: dict[str, Promise] = {
    "unpaid": _("Not paid yet"),
    "cancel_request": _("The buyer asked to cancel: waiting for the platform to settle it"),
    "cancel_window": _("The buyer may still cancel: %(minutes)s-minute cancellation window"),
    "platform_hold": _("The platform still has the order on hold"),
    "live_running": _(
        "Live stream still running: held until it ends, then %(minutes)s minutes to combine"
    ),
    "live_ended": _("Live stream ended: held %(minutes)s more minutes to combine orders"),
    "combine": _("Ships with order %(order)s of the same buyer and address"),
    "released": _("Released: ready to process"),
    "reviewer_hold_ended": _("Reviewer hold ended: back to review"),
}


def _text(code: str, **values: object) -> str:
    """A stored reason, in the site's language whoever triggered the run."""
    return _site_text(code, tuple(sorted(values.items())))


@lru_cache(maxsize=1024)
def _site_text(code: str, values: tuple[tuple[str, object], ...]) -> str:
    # Switching the language costs more than deciding an order: once per distinct text.
    with translation.override(settings.LANGUAGE_CODE):
        return str(MESSAGES[code]) % dict(values)


@dataclass(frozen=True)
class Hold:
    kind: HoldKind
    reason: str
    until: datetime | None


@dataclass
class ReleaseReport:
    held: int = 0  # orders held after this run
    released: int = 0  # moved to READY (then screened)
    back_to_review: int = 0  # reviewer holds that ended
    held_by_kind: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    screening: ScreenReport = field(default_factory=ScreenReport)


@dataclass(frozen=True, slots=True)
class Candidate:
    """What release reads of an order (``CANDIDATE_FIELDS``), and of its live session, address
    and release row when it has them."""

    pk: int
    shop_id: int
    remote_order_id: str
    buyer_id: int | None
    state: str
    platform_status: str
    placed_at: datetime
    paid_at: datetime | None
    is_buyer_request_cancel: bool
    hold_reason: str
    hold_until: datetime | None
    auto_combine_group_id: str
    shipping_type: str
    live_session_id: int | None
    live_session_ends_at: datetime | None
    shipping_address_id: int | None
    address_match_key: str | None
    release_hold_kind: str | None  # None: no release row yet
    release_combine_key: str | None


def combine_key(order: Candidate) -> str:
    """Orders of one shop with the same key may share a parcel: TikTok's auto-combine group
    when it gives one, else the same buyer, shipping type and address."""
    if order.auto_combine_group_id:
        return f"{order.shop_id}:tiktok:{order.auto_combine_group_id}"[:100]
    if order.buyer_id and order.shipping_address_id is not None and order.address_match_key:
        parts = (
            order.shop_id,
            "buyer",
            order.buyer_id,
            order.shipping_type,
            order.address_match_key[:32],
        )
        return ":".join(str(part) for part in parts)
    return ""


def own_hold(
    order: Candidate, *, now: datetime, policy: ReleasePolicy, cancel_window_minutes: int
) -> Hold | None:
    """Why this order, by itself, may not be processed yet (None: it may)."""
    if order.platform_status == PlatformStatus.UNPAID:
        return Hold(HoldKind.PLATFORM, _text("unpaid"), None)
    if order.is_buyer_request_cancel:
        return Hold(HoldKind.CANCEL_REQUEST, _text("cancel_request"), None)
    minutes = cancel_window_minutes
    window_end = (order.paid_at or order.placed_at) + timedelta(minutes=minutes)
    if now < window_end:
        return Hold(HoldKind.CANCEL_WINDOW, _text("cancel_window", minutes=minutes), window_end)
    if order.platform_status == PlatformStatus.ON_HOLD:
        return Hold(HoldKind.PLATFORM, _text("platform_hold"), None)
    if order.live_session_id is not None and policy.hold_live_orders_until_stream_end:
        combine = policy.combine_window_minutes
        if order.live_session_ends_at is None:
            return Hold(HoldKind.LIVE_STREAM, _text("live_running", minutes=combine), None)
        until = order.live_session_ends_at + timedelta(minutes=combine)
        if now < until:
            return Hold(HoldKind.LIVE_STREAM, _text("live_ended", minutes=combine), until)
    return None


def _decide(
    orders: list[Candidate],
    *,
    now: datetime,
    policies: dict[int, ReleasePolicy],
    windows: dict[int, int],
    keys: dict[int, str],
) -> dict[int, Hold | None]:
    own = {
        order.pk: own_hold(
            order,
            now=now,
            policy=policies[order.shop_id],
            cancel_window_minutes=windows[order.shop_id],
        )
        for order in orders
    }
    groups: dict[str, list[Candidate]] = defaultdict(list)
    for order in orders:
        if keys[order.pk]:
            groups[keys[order.pk]].append(order)
    decisions = dict(own)
    for members in groups.values():
        for order in members:
            if own[order.pk] is not None:
                continue
            window = timedelta(minutes=policies[order.shop_id].combine_window_minutes)
            waits = [
                (hold.until, partner)
                for partner in members
                if (hold := own[partner.pk]) is not None
                and hold.kind in TIMED_HOLDS
                and hold.until is not None
                and abs(partner.placed_at - order.placed_at) <= window
            ]
            if waits:
                until, partner = max(waits, key=lambda wait: (wait[0], wait[1].pk))
                reason = _text("combine", order=partner.remote_order_id)
                decisions[order.pk] = Hold(HoldKind.COMBINE, reason, until)
    return decisions


def orders_release_due(*, now: datetime, shop: Shop | None = None) -> ReleaseReport:
    """Hold what must wait, release what may go (and screen it), end reviewers' holds that are
    due. One transaction, order rows locked in primary-key order."""
    report = ReleaseReport()
    with transaction.atomic():
        scope = Order.objects.all() if shop is None else Order.objects.filter(shop=shop)
        _end_reviewer_holds(scope, now=now, report=report)
        candidates = _locked_candidates(scope)
        shop_ids = {order.shop_id for order in candidates}
        # Shops apart (a few rows), not joined: a shop row decrypts its credentials on load.
        windows = dict(
            Shop.objects.filter(pk__in=shop_ids).values_list("pk", "cancel_window_minutes")
        )
        policies = {
            policy.shop_id: policy for policy in ReleasePolicy.objects.filter(shop_id__in=shop_ids)
        }
        for shop_id in shop_ids - set(policies):
            policies[shop_id] = ReleasePolicy(shop_id=shop_id)
        keys = {order.pk: combine_key(order) for order in candidates}
        decisions = _decide(candidates, now=now, policies=policies, windows=windows, keys=keys)
        released = _apply(candidates, decisions, keys, now=now, report=report)
        if released:
            report.screening = screen_orders(
                order_ids=released, now=now, actor=None, source=ChangeSource.SYSTEM
            )
    return report


def _locked_candidates(scope: QuerySet[Order]) -> list[Candidate]:
    """Orders release may decide on, locked in primary-key order, as plain values.

    Locked first without joins (PostgreSQL refuses ``FOR UPDATE`` on the nullable side of the
    outer joins the values need, and a values query cannot name ``of``), then read by id.
    """
    reviewer_held = OrderRelease.objects.filter(hold_kind=HoldKind.REVIEWER).values("order_id")
    ids = list(
        scope.select_for_update()
        .filter(
            Q(state=OrderState.NEW) | (Q(state=OrderState.HELD) & ~Q(pk__in=reviewer_held)),
            platform_status__in=RELEASABLE_STATUSES,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    candidates: list[Candidate] = []
    for chunk in chunked(ids, UPDATE_CHUNK):
        rows = Order.objects.filter(pk__in=chunk).order_by("pk").values_list(*CANDIDATE_FIELDS)
        candidates += [Candidate(*row) for row in rows]
    return candidates


def _apply(
    candidates: list[Candidate],
    decisions: dict[int, Hold | None],
    keys: dict[int, str],
    *,
    now: datetime,
    report: ReleaseReport,
) -> list[int]:
    history: list[StateChange] = []
    release_rows: list[ReleaseRow] = []
    released: list[Candidate] = []
    released_reason = _text("released")
    for order in candidates:
        hold = decisions[order.pk]
        key = keys[order.pk]
        current_kind = order.release_hold_kind or HoldKind.NONE
        current_key = order.release_combine_key
        if hold is None:
            released.append(order)
            release_rows.append((order.pk, HoldKind.NONE, key, now))
            history.append((order.pk, order.state, OrderState.READY, released_reason))
            continue
        report.held += 1
        report.held_by_kind[hold.kind] += 1
        reason = hold.reason[:HOLD_REASON_MAX_LENGTH]
        same_hold = (
            order.state == OrderState.HELD
            and current_kind == hold.kind
            and order.hold_reason == reason
            and order.hold_until == hold.until
        )
        if not same_hold:
            Order.objects.filter(pk=order.pk, state=order.state).update(
                state=OrderState.HELD, hold_reason=reason, hold_until=hold.until, updated_at=now
            )
        if order.state != OrderState.HELD or current_kind != hold.kind:
            history.append((order.pk, order.state, OrderState.HELD, reason))
        if current_kind != hold.kind or current_key != key:
            release_rows.append((order.pk, hold.kind, key, None))
    released_ids = [order.pk for order in released]
    for chunk in chunked(released_ids, UPDATE_CHUNK):
        Order.objects.filter(pk__in=chunk, state__in=(OrderState.NEW, OrderState.HELD)).update(
            state=OrderState.READY, hold_reason="", hold_until=None, updated_at=now
        )
    report.released = len(released_ids)
    releases_upsert(release_rows)
    status_changes_insert(
        changes=history, source=ChangeSource.SYSTEM, actor_id=None, at=timezone.now()
    )
    return released_ids


def _end_reviewer_holds(scope: QuerySet[Order], *, now: datetime, report: ReleaseReport) -> None:
    due = list(
        scope.select_for_update(of=("self",))
        .filter(
            state=OrderState.HELD,
            release__hold_kind=HoldKind.REVIEWER,
            hold_until__lte=now,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not due:
        return
    for chunk in chunked(due, UPDATE_CHUNK):
        Order.objects.filter(pk__in=chunk, state=OrderState.HELD).update(
            state=OrderState.IN_REVIEW, hold_reason="", hold_until=None, updated_at=now
        )
        OrderRelease.objects.filter(order_id__in=chunk).update(hold_kind=HoldKind.NONE)
    reason = _text("reviewer_hold_ended")
    status_changes_insert(
        changes=[(order_id, OrderState.HELD, OrderState.IN_REVIEW, reason) for order_id in due],
        source=ChangeSource.SYSTEM,
        actor_id=None,
        at=timezone.now(),
    )
    report.back_to_review = len(due)
