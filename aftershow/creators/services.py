"""Writes on creators, collaborations and live sessions, and the commission terms in force."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from aftershow.creators.models import (
    RATE_ERROR,
    RATE_MAX,
    RATE_MIN,
    Collaboration,
    CollaborationKind,
    CollaborationRate,
    Creator,
    LiveSession,
    LiveSessionSku,
    LiveSessionStatus,
    SampleShipment,
)
from aftershow.orders.models import Order, OrderLine


@dataclass(frozen=True)
class CommissionTerms:
    """The commission in force for one creator, SKU and moment (percents)."""

    platform_rate: Decimal
    seller_rate: Decimal
    collaboration_id: int | None
    rate_id: int | None = None


# When several collaborations apply, the most specific wins: a SKU's own rate beats an
# all-SKU rate, then a targeted collaboration beats an off-platform agreement beats an open one
# (TikTok applies a targeted plan's rate over the open plan's for the creators it names).
_KIND_PRIORITY = {
    CollaborationKind.TARGETED: 0,
    CollaborationKind.OFF_PLATFORM: 1,
    CollaborationKind.OPEN: 2,
}


def validate_rate(value: Decimal, *, field: str) -> Decimal:
    if not (RATE_MIN <= value <= RATE_MAX):
        raise ValidationError({field: RATE_ERROR})
    return value


def commission_terms_at(
    *, creator_id: int, sku_id: int | None, at: datetime, shop_id: int | None = None
) -> CommissionTerms | None:
    """The rates agreed with the creator that were in force at ``at`` (the order time).

    A collaboration applies on its dates (``starts_on`` .. ``ends_on``, inclusive, in UTC) and,
    when it names a shop, only to that shop's orders. A rate applies on
    ``[valid_from, valid_to)``. Returns ``None`` when no collaboration covers the order.
    """
    if timezone.is_naive(at):
        raise ValueError("commission_terms_at needs an aware datetime")
    day = at.astimezone(UTC).date()
    rates = CollaborationRate.objects.filter(
        Q(sku_id=sku_id) | Q(sku__isnull=True) if sku_id is not None else Q(sku__isnull=True),
        Q(valid_to__isnull=True) | Q(valid_to__gt=at),
        collaboration__creator_id=creator_id,
        collaboration__starts_on__lte=day,
        valid_from__lte=at,
    ).filter(Q(collaboration__ends_on__isnull=True) | Q(collaboration__ends_on__gte=day))
    if shop_id is not None:
        rates = rates.filter(
            Q(collaboration__shop_id=shop_id) | Q(collaboration__shop__isnull=True)
        )
    candidates = list(
        rates.values(
            "id", "sku_id", "platform_rate", "seller_rate", "valid_from", "collaboration_id",
            "collaboration__kind",
        )
    )  # fmt: skip
    if not candidates:
        return None
    best = min(
        candidates,
        key=lambda row: (
            row["sku_id"] is None,
            _KIND_PRIORITY[CollaborationKind(row["collaboration__kind"])],
            -row["valid_from"].timestamp(),
            -row["id"],
        ),
    )
    return CommissionTerms(
        platform_rate=best["platform_rate"],
        seller_rate=best["seller_rate"],
        collaboration_id=best["collaboration_id"],
        rate_id=best["id"],
    )


class LiveSessionTransitionError(ValidationError):
    """A status change the session's current status does not allow."""


_ALLOWED = {
    LiveSessionStatus.PLANNED: {LiveSessionStatus.LIVE},
    LiveSessionStatus.LIVE: {LiveSessionStatus.ENDED},
    LiveSessionStatus.ENDED: set(),
}


def _transition(*, session: LiveSession, to: LiveSessionStatus) -> LiveSession:
    """Move ``session`` to ``to`` with a conditional UPDATE, so two clicks cannot both win."""
    current = LiveSessionStatus(session.status)
    if to not in _ALLOWED[current]:
        raise LiveSessionTransitionError(
            _("This session is %(current)s; it cannot become %(target)s.")
            % {"current": current.label, "target": to.label}
        )
    return session


def live_session_start(*, session: LiveSession, at: datetime | None = None) -> LiveSession:
    """planned → live. ``starts_at`` becomes the actual start."""
    at = at or timezone.now()
    _transition(session=session, to=LiveSessionStatus.LIVE)
    updated = LiveSession.objects.filter(pk=session.pk, status=LiveSessionStatus.PLANNED).update(
        status=LiveSessionStatus.LIVE, starts_at=at, ends_at=None
    )
    if updated != 1:
        raise LiveSessionTransitionError(_("The session was changed by someone else; reload it."))
    session.refresh_from_db()
    return session


def live_session_end(*, session: LiveSession, at: datetime | None = None) -> LiveSession:
    """live → ended. ``ends_at`` becomes the actual end; it cannot precede the start."""
    at = at or timezone.now()
    _transition(session=session, to=LiveSessionStatus.ENDED)
    if at < session.starts_at:
        raise LiveSessionTransitionError(_("A session cannot end before it started."))
    updated = LiveSession.objects.filter(pk=session.pk, status=LiveSessionStatus.LIVE).update(
        status=LiveSessionStatus.ENDED, ends_at=at
    )
    if updated != 1:
        raise LiveSessionTransitionError(_("The session was changed by someone else; reload it."))
    session.refresh_from_db()
    return session


def live_session_record_viewers(*, session: LiveSession, viewers: int) -> None:
    """The viewer count so far (TikTok LIVE shows unique viewers); only grows during a stream."""
    if viewers < 0:
        raise ValidationError({"viewers": _("Viewers cannot be negative.")})
    LiveSession.objects.filter(pk=session.pk, viewers__lt=viewers).update(viewers=viewers)
    session.refresh_from_db(fields=["viewers"])


def live_session_feature_sku(
    *,
    session: LiveSession,
    sku_id: int,
    platform_rate: Decimal,
    seller_rate: Decimal = Decimal("0.00"),
    planned_units: int = 0,
) -> LiveSessionSku:
    """Add or update a featured SKU with its rates. Refused once the session has ended."""
    validate_rate(platform_rate, field="platform_rate")
    validate_rate(seller_rate, field="seller_rate")
    if session.status == LiveSessionStatus.ENDED:
        raise LiveSessionTransitionError(_("An ended session's featured SKUs are final."))
    featured, _created = LiveSessionSku.objects.update_or_create(
        session=session,
        sku_id=sku_id,
        defaults={
            "platform_rate": platform_rate,
            "seller_rate": seller_rate,
            "planned_units": planned_units,
        },
    )
    return featured


def _featured_rates(session: LiveSession) -> dict[int, LiveSessionSku]:
    return {featured.sku_id: featured for featured in session.skus.all()}


def live_session_attribute_orders(*, session: LiveSession) -> int:
    """Attribute the shop's unattributed orders placed during the session to its creator.

    The rule for channels that do not report attribution themselves: the session's shop and
    time window, and, when the session features SKUs, only orders containing one of them (only
    those lines are attributed, at the featured rate). TikTok's affiliate orders, where
    available, are the better source and win (they overwrite this).
    """
    window = Order.objects.filter(
        shop=session.shop, creator__isnull=True, placed_at__gte=session.starts_at
    )
    if session.ends_at is not None:
        window = window.filter(placed_at__lte=session.ends_at)
    featured = _featured_rates(session)
    with transaction.atomic():
        if featured:
            window = window.filter(lines__sku_id__in=featured).distinct()
        order_ids = list(window.values_list("id", flat=True))
        Order.objects.filter(id__in=order_ids).update(creator=session.creator, live_session=session)
        lines = OrderLine.objects.filter(order_id__in=order_ids, creator__isnull=True)
        if not featured:
            lines.update(creator=session.creator, live_session=session)
        else:
            for sku_id, featured_sku in featured.items():
                lines.filter(sku_id=sku_id).update(
                    creator=session.creator,
                    live_session=session,
                    commission_rate=featured_sku.platform_rate,
                )
    return len(order_ids)


# -- CRM writes (the pages call these with validated form data) ----------------------------


def creator_save(*, creator: Creator, fields: Mapping[str, Any]) -> Creator:
    """Create or update a creator's profile; ``full_clean`` keeps the model's rules."""
    for name, value in fields.items():
        setattr(creator, name, value)
    creator.full_clean()
    creator.save()
    return creator


def sample_shipment_record(*, creator: Creator, fields: Mapping[str, Any]) -> SampleShipment:
    """A sample sent to the creator: a marketing cost (ROI's invested cost), never COGS."""
    sample = SampleShipment(creator=creator, **fields)
    sample.full_clean()
    sample.save()
    return sample


def collaboration_create(*, creator: Creator, fields: Mapping[str, Any]) -> Collaboration:
    collaboration = Collaboration(creator=creator, **fields)
    collaboration.full_clean()
    collaboration.save()
    return collaboration


def collaboration_rate_add(
    *, collaboration: Collaboration, fields: Mapping[str, Any]
) -> CollaborationRate:
    """Add a rate; it may not overlap another rate of the same SKU in the same collaboration
    (two rates in force at once would make the order-time rate ambiguous)."""
    rate = CollaborationRate(collaboration=collaboration, **fields)
    rate.full_clean()
    with transaction.atomic():
        overlapping = CollaborationRate.objects.select_for_update().filter(
            Q(valid_to__isnull=True) | Q(valid_to__gt=rate.valid_from),
            collaboration=collaboration,
            sku=rate.sku,
        )
        if rate.valid_to is not None:
            overlapping = overlapping.filter(valid_from__lt=rate.valid_to)
        if overlapping.exists():
            raise ValidationError(
                {"valid_from": _("Another rate for this SKU is in force during this period.")}
            )
        rate.save()
    return rate


def live_session_plan(*, creator: Creator, fields: Mapping[str, Any]) -> LiveSession:
    session = LiveSession(creator=creator, status=LiveSessionStatus.PLANNED, **fields)
    session.full_clean()
    session.save()
    return session
