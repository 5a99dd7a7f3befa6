"""Live session status transitions and the window + featured-SKU attribution rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from aftershow.creators.models import LiveSessionStatus
from aftershow.creators.services import (
    LiveSessionTransitionError,
    live_session_attribute_orders,
    live_session_end,
    live_session_feature_sku,
    live_session_record_viewers,
    live_session_start,
)
from aftershow.creators.tests.factories import LiveSessionFactory, SkuFactory
from aftershow.orders.models import OrderLine
from aftershow.orders.tests.factories import OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)


def test_planned_live_ended_and_nothing_else() -> None:
    session = LiveSessionFactory(ends_at=None)
    with pytest.raises(
        LiveSessionTransitionError, match="This session is Planned; it cannot become Ended"
    ):
        live_session_end(session=session, at=START)
    live_session_start(session=session, at=START)
    assert (session.status, session.starts_at) == (LiveSessionStatus.LIVE, START)
    with pytest.raises(LiveSessionTransitionError):
        live_session_start(session=session, at=START)
    with pytest.raises(LiveSessionTransitionError, match="cannot end before it started"):
        live_session_end(session=session, at=START - timedelta(seconds=1))
    session.refresh_from_db()
    assert session.status == LiveSessionStatus.LIVE and session.ends_at is None
    live_session_end(session=session, at=START + timedelta(hours=2))
    assert session.status == LiveSessionStatus.ENDED
    assert session.ends_at == START + timedelta(hours=2)


def test_stale_copy_cannot_start_twice() -> None:
    session = LiveSessionFactory(ends_at=None)
    stale = type(session).objects.get(pk=session.pk)
    live_session_start(session=session, at=START)
    with pytest.raises(LiveSessionTransitionError, match="changed by someone else"):
        live_session_start(session=stale, at=START + timedelta(minutes=5))
    session.refresh_from_db()
    assert session.starts_at == START


def test_viewers_only_grow_and_featured_rates_are_validated() -> None:
    session = LiveSessionFactory()
    live_session_record_viewers(session=session, viewers=120)
    live_session_record_viewers(session=session, viewers=80)
    assert session.viewers == 120
    sku = SkuFactory()
    with pytest.raises(ValidationError):
        live_session_feature_sku(session=session, sku_id=sku.pk, platform_rate=Decimal("101"))
    assert session.skus.count() == 0
    live_session_feature_sku(
        session=session, sku_id=sku.pk, platform_rate=Decimal("20"), planned_units=50
    )
    live_session_feature_sku(
        session=session, sku_id=sku.pk, platform_rate=Decimal("22"), planned_units=60
    )
    assert list(session.skus.values_list("platform_rate", "planned_units")) == [
        (Decimal("22.00"), 60)
    ]


def test_window_rule_with_featured_skus_attributes_only_featured_lines() -> None:
    session = LiveSessionFactory(starts_at=START, ends_at=START + timedelta(hours=2))
    featured, other = SkuFactory(), SkuFactory()
    live_session_feature_sku(session=session, sku_id=featured.pk, platform_rate=Decimal("18"))
    during = START + timedelta(minutes=30)
    mixed = OrderFactory(shop=session.shop, placed_at=during)
    featured_line = OrderLineFactory(order=mixed, sku=featured)
    other_line = OrderLineFactory(order=mixed, sku=other)
    unfeatured = OrderFactory(shop=session.shop, placed_at=during)
    OrderLineFactory(order=unfeatured, sku=other)
    after = OrderFactory(shop=session.shop, placed_at=START + timedelta(hours=3))
    OrderLineFactory(order=after, sku=featured)

    assert live_session_attribute_orders(session=session) == 1
    mixed.refresh_from_db()
    assert (mixed.creator_id, mixed.live_session_id) == (session.creator_id, session.pk)
    featured_line.refresh_from_db()
    other_line.refresh_from_db()
    assert (featured_line.creator_id, featured_line.commission_rate) == (
        session.creator_id,
        Decimal("18.00"),
    )
    assert other_line.creator_id is None
    assert OrderLine.objects.filter(creator__isnull=False).count() == 1
    # A second run finds nothing left to attribute.
    assert live_session_attribute_orders(session=session) == 0
