"""Writes on creators and live sessions."""

from __future__ import annotations

from django.db import transaction

from aftershow.creators.models import LiveSession
from aftershow.orders.models import Order, OrderLine


def live_session_attribute_orders(*, session: LiveSession) -> int:
    """Attribute the shop's unattributed orders placed during the session to its creator.

    The rule for channels that do not report attribution themselves: the session's shop and
    time window. TikTok's affiliate orders, where available, are the better source and win.
    """
    window = Order.objects.filter(
        shop=session.shop, creator__isnull=True, placed_at__gte=session.starts_at
    )
    if session.ends_at is not None:
        window = window.filter(placed_at__lte=session.ends_at)
    with transaction.atomic():
        order_ids = list(window.values_list("id", flat=True))
        Order.objects.filter(id__in=order_ids).update(creator=session.creator, live_session=session)
        OrderLine.objects.filter(order_id__in=order_ids, creator__isnull=True).update(
            creator=session.creator, live_session=session
        )
    return len(order_ids)
