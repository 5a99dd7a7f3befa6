"""Showing figures: n/a for what cannot be computed, percents and ROI with fixed decimals."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils.translation import gettext

from aftershow.metrics.models import Tier

register = template.Library()


@register.filter
def pct(value: Decimal | None) -> str:
    """0.0812 → "8.12 %"; None → "n/a"."""
    if value is None:
        return gettext("n/a")
    return f"{(Decimal(value) * 100).quantize(Decimal('0.01'), ROUND_HALF_UP)} %"


@register.filter
def ratio2(value: Decimal | None) -> str:
    """An ROI to 2 decimals; None → "n/a"."""
    if value is None:
        return gettext("n/a")
    return f"{Decimal(value).quantize(Decimal('0.01'), ROUND_HALF_UP)}"


@register.filter
def money(value: Decimal | None) -> str:
    """1234.5 → "1,234.50"; None → "n/a"."""
    if value is None:
        return gettext("n/a")
    return f"{Decimal(value).quantize(Decimal('0.01'), ROUND_HALF_UP):,}"


@register.filter
def tier_label(value: str) -> str:
    try:
        return str(Tier(value).label)
    except ValueError:
        return value


@register.inclusion_tag("metrics/_tier.html")
def tier_badge(value: str) -> dict[str, str]:
    return {"tier": value, "label": tier_label(value)}
