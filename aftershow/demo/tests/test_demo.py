"""`aftershow demo --no-serve`: the whole stream arrives, by webhook and poll, and the command
says so."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from aftershow.accounts.models import Role, User
from aftershow.creators.models import LiveSession, LiveSessionStatus
from aftershow.integrations.models import PendingOrderFetch, WebhookReceipt
from aftershow.orders.models import Order


@pytest.mark.django_db(transaction=True)
def test_demo_runs_a_stream_to_completion_without_serving():
    out = StringIO()
    call_command("demo", orders=60, no_serve=True, stream_seconds=1.5, stdout=out)
    text = out.getvalue()
    assert Order.objects.count() == 60
    assert "orders pulled into aftershow 60" in text
    # Every order came in by webhook first: ON_HOLD, then AWAITING_SHIPMENT (or CANCELLED);
    # the burst then ships, and TikTok reports the shipped ones as AWAITING_COLLECTION.
    assert WebhookReceipt.objects.count() >= 120
    assert PendingOrderFetch.objects.count() == 0
    assert set(Order.objects.values_list("platform_status", flat=True)) <= {
        "AWAITING_SHIPMENT",
        "AWAITING_COLLECTION",
        "CANCELLED",
    }
    # After the remorse hour the addresses are in.
    assert (
        not Order.objects.exclude(platform_status="CANCELLED")
        .filter(shipping_address__isnull=True)
        .exists()
    )
    session = LiveSession.objects.get()
    assert session.status == LiveSessionStatus.ENDED
    assert Order.objects.filter(live_session=session).count() == 60
    assert User.objects.get(username="owner").role == Role.OWNER
    # Then the burst is processed in one action and its summary printed: the flagged orders by
    # reason and the time of each step.
    assert "Burst processed for shop" in text
    in_review = Order.objects.filter(state="in_review").count()
    assert f"flagged, waiting in review: {in_review}" in text
    for step in ("release and screen", "buy labels", "batch PDF", "ship"):
        assert f"    {step} " in text


def test_demo_refuses_a_stream_without_orders():
    with pytest.raises(SystemExit) as raised:
        call_command("demo", orders=0, no_serve=True, stderr=StringIO())
    assert raised.value.code == 2
