"""Template tags other apps' pages use to show fulfillment facts (the order page's parcels)."""

from __future__ import annotations

from django import template
from django.db.models import QuerySet

from aftershow.fulfillment.models import Package
from aftershow.fulfillment.selectors import packages_for_order

register = template.Library()


@register.simple_tag
def order_packages(order_id: int) -> QuerySet[Package]:
    """``{% order_packages order.pk as packages %}``: the parcels holding the order's lines,
    with the carrier choice and its reason."""
    return packages_for_order(order_id)
