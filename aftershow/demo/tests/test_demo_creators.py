"""The demo's stream sells through several creators, and TikTok's affiliate orders say who."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from aftershow.creators.models import AffiliateOrderSku, Creator, LiveSession
from aftershow.orders.models import Order, OrderLine


@pytest.mark.django_db(transaction=True)
def test_demo_attributes_orders_to_several_creators():
    out = StringIO()
    call_command("demo", orders=60, no_serve=True, stream_seconds=1.5, stdout=out)
    text = out.getvalue()
    session = LiveSession.objects.get()
    by_creator = {
        creator.handle: Order.objects.filter(creator=creator).count()
        for creator in Creator.objects.all()
    }
    assert set(by_creator) == {"glowwithmia", "dealsbydan", "lena.livesells"}
    assert all(count > 0 for count in by_creator.values())
    assert sum(by_creator.values()) == 60
    # Every order is in the host's multi-guest LIVE; the guests' orders carry their own creator.
    assert Order.objects.filter(live_session=session).count() == 60
    assert AffiliateOrderSku.objects.filter(order__isnull=True).count() == 0
    pulled = AffiliateOrderSku.objects.values("remote_order_id").distinct().count()
    assert f"affiliate orders pulled from TikTok {pulled}" in text
    # The host sells under her targeted collaboration (20 %), guests under the open one (15 %).
    assert set(
        OrderLine.objects.filter(order__creator__handle="dealsbydan").values_list(
            "commission_rate", flat=True
        )
    ) == {15}
    assert 20 in set(
        OrderLine.objects.filter(creator__handle="glowwithmia").values_list(
            "commission_rate", flat=True
        )
    )
