"""Presentation helpers for order pages: the ship-by countdown, status labels, line summaries.

The countdown is computed on the server, in the reader's language, against one ``now`` per
request so every row of a page agrees; the list page re-fetches it every few seconds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django import template
from django.db import models
from django.utils.translation import gettext

from aftershow.orders.models import (
    CLOSED_STATUSES,
    Order,
    OrderLine,
    OrderState,
    PlatformStatus,
)
from aftershow.orders.selectors import LineSummary, line_summary

register = template.Library()

# Under this much time left, a deadline turns amber: time to pack it now.
SOON = timedelta(hours=6)


class Urgency(StrEnum):
    OVERDUE = "overdue"
    SOON = "soon"
    LATER = "later"


@dataclass(frozen=True)
class Countdown:
    text: str
    urgency: Urgency


def format_duration(duration: timedelta) -> str:
    """Two units at most, rounded down: "2 d 3 h", "5 h 12 min", "12 min", "< 1 min"."""
    minutes = int(abs(duration).total_seconds()) // 60
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        parts = [gettext("%(count)d d") % {"count": days}]
        if hours:
            parts.append(gettext("%(count)d h") % {"count": hours})
    elif hours:
        parts = [gettext("%(count)d h") % {"count": hours}]
        if minutes:
            parts.append(gettext("%(count)d min") % {"count": minutes})
    elif minutes:
        parts = [gettext("%(count)d min") % {"count": minutes}]
    else:
        parts = [gettext("< 1 min")]
    return " ".join(parts)


def deadline_countdown(*, order: Order, now: datetime) -> Countdown | None:
    """Time left to ship, or how late the order is; ``None`` when nothing is left to ship."""
    if order.ship_by is None or order.platform_status in CLOSED_STATUSES:
        return None
    remaining = order.ship_by - now
    duration = format_duration(remaining)
    if remaining <= timedelta(0):
        return Countdown(
            gettext("overdue by %(duration)s") % {"duration": duration}, Urgency.OVERDUE
        )
    urgency = Urgency.SOON if remaining < SOON else Urgency.LATER
    return Countdown(gettext("in %(duration)s") % {"duration": duration}, urgency)


@register.inclusion_tag("orders/_deadline.html")
def deadline(order: Order, now: datetime) -> dict[str, object]:
    """``{% deadline order now %}``: the ship-by time and its countdown."""
    return {"order": order, "countdown": deadline_countdown(order=order, now=now)}


def _label(choices: type[models.TextChoices], value: str) -> str:
    """The translated label of a stored code; an unknown code is shown as it is."""
    try:
        return str(choices(value).label)
    except ValueError:
        return value


@register.filter
def platform_status_label(value: str) -> str:
    return _label(PlatformStatus, value)


@register.filter
def order_state_label(value: str) -> str:
    return _label(OrderState, value)


@register.filter
def summarize_lines(lines: Iterable[OrderLine]) -> LineSummary:
    return line_summary(lines)
