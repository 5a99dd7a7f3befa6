"""Creators, collaborations and affiliate-order attribution from the TikTok sandbox over HTTP."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest

from aftershow.audit.models import IntegrationLog
from aftershow.catalog.models import ChannelListing, Product, Sku
from aftershow.core.http import TerminalChannelError
from aftershow.core.timeutils import to_unix, utcnow
from aftershow.creators.models import (
    AffiliateOrderSku,
    Collaboration,
    CollaborationKind,
    CollaborationRate,
    Creator,
    LiveSession,
)
from aftershow.creators.services import commission_terms_at
from aftershow.integrations.tiktok.affiliate import TikTokAffiliate
from aftershow.integrations.tiktok.sync import TikTokConnector
from aftershow.orders.models import Order, OrderLine
from aftershow.sandbox.tiktok import StreamSpec

pytestmark = pytest.mark.django_db

CREATORS = (("glowwithmia", "7311000001", 0.5), ("dealsbydan", "7311000002", 0.3))


@pytest.fixture(autouse=True)
def _fast_retries(settings):  # type: ignore[no-untyped-def]
    settings.HTTP_MAX_RETRY_WAIT_SECONDS = 0.05


@pytest.fixture
def catalog(tiktok_sandbox, tiktok_remote_shop, tiktok_shop):  # type: ignore[no-untyped-def]
    remote = tiktok_sandbox.store.add_product(
        tiktok_remote_shop.id,
        "Cloud Tee",
        skus=[
            {"seller_sku": "TEE-BLK-M", "price": "19.99"},
            {"seller_sku": "TEE-WHT-L", "price": "21.00"},
        ],
    )
    product = Product.objects.create(name="Cloud Tee")
    for remote_sku in remote.skus:
        sku = Sku.objects.create(product=product, code=remote_sku.seller_sku, cost=Decimal("5"))
        ChannelListing.objects.create(
            sku=sku,
            shop=tiktok_shop,
            remote_product_id=remote.id,
            remote_sku_id=remote_sku.id,
        )
    return remote


def _stream(sandbox, orders: int = 120, seed: int = 3, start=None):  # type: ignore[no-untyped-def]
    plan = sandbox.simulate_live_stream(
        StreamSpec(
            start=start,
            viewers=orders * 10,
            conversion_rate=0.1,
            duration=timedelta(hours=1),
            sku_mix={"TEE-BLK-M": 3, "TEE-WHT-L": 1},
            seed=seed,
        )
    )
    return plan


def _everything(affiliate: TikTokAffiliate):  # type: ignore[no-untyped-def]
    now = utcnow()
    return affiliate.pull_orders_between(
        since=now - timedelta(days=30), until=now + timedelta(days=1)
    )


def test_marketplace_creators_import_pages_and_is_idempotent(tiktok_sandbox, tiktok_shop):  # type: ignore[no-untyped-def]
    for number in range(45):
        tiktok_sandbox.affiliate.add_creator(f"beauty.{number:02d}", follower_count=1000 + number)
    tiktok_sandbox.affiliate.add_creator("gadget.guy", follower_count=90_000)

    result = TikTokAffiliate(tiktok_shop).import_creators(keyword="beauty")

    assert (result.creators_created, result.creators_updated) == (45, 0)
    assert Creator.objects.count() == 45
    assert Creator.objects.get(handle="beauty.44").followers == 1044
    searches = IntegrationLog.objects.filter(path__endswith="marketplace_creators/search")
    assert searches.count() == 3  # 20 + 20 + 5
    tiktok_sandbox.affiliate.add_creator("beauty.00", follower_count=5000)
    again = TikTokAffiliate(tiktok_shop).import_creators(keyword="beauty")
    assert (again.creators_created, again.creators_updated) == (0, 1)
    assert Creator.objects.get(handle="beauty.00").followers == 5000


def test_sandbox_refuses_oversized_pages_and_missing_time_range(tiktok_sandbox, tiktok_shop):  # type: ignore[no-untyped-def]
    client = TikTokConnector(tiktok_shop).client
    with pytest.raises(TerminalChannelError, match="page_size must be an integer within"):
        client.call(
            "POST",
            "/affiliate_seller/202406/marketplace_creators/search",
            query={"page_size": 21},
            body={},
        )
    with pytest.raises(TerminalChannelError, match="create_time_ge is required"):
        client.call(
            "POST", "/affiliate_seller/202410/orders/search", query={"page_size": 10}, body={}
        )
    client.app_secret = "not-the-secret"
    with pytest.raises(TerminalChannelError, match="106001"):
        client.call(
            "POST",
            "/affiliate_seller/202410/orders/search",
            query={"page_size": 10},
            body={"create_time_ge": 0, "create_time_lt": 10},
        )


def test_targeted_collaborations_import_rates_per_mapped_sku(  # type: ignore[no-untyped-def]
    tiktok_sandbox, tiktok_remote_shop, tiktok_shop, catalog
):
    desk = tiktok_sandbox.affiliate
    desk.add_creator("glowwithmia", follower_count=250_000)
    desk.add_creator("dealsbydan", follower_count=40_000)
    start = to_unix(utcnow() - timedelta(days=2))
    remote = desk.add_target_collaboration(
        tiktok_remote_shop.id,
        name="Holiday push",
        creators=["glowwithmia", "dealsbydan"],
        products={catalog.id: 2000, "99999999": 1000},
        start_time=start,
        end_time=start + 30 * 86400,
    )

    result = TikTokAffiliate(tiktok_shop).import_collaborations()

    assert (result.collaborations_created, result.rates_created) == (2, 4)
    assert result.unmapped_products == {"99999999"}
    collaboration = Collaboration.objects.get(creator__handle="glowwithmia")
    assert (collaboration.kind, collaboration.remote_collaboration_id, collaboration.name) == (
        CollaborationKind.TARGETED,
        remote.id,
        "Holiday push",
    )
    sku = Sku.objects.get(code="TEE-BLK-M")
    terms = commission_terms_at(
        creator_id=collaboration.creator_id, sku_id=sku.pk, at=utcnow(), shop_id=tiktok_shop.pk
    )
    assert terms is not None
    assert (terms.platform_rate, terms.collaboration_id) == (Decimal("20.00"), collaboration.pk)

    # Same data again: nothing changes. A new rate closes the old one where it takes effect.
    again = TikTokAffiliate(tiktok_shop).import_collaborations()
    assert (again.collaborations_created, again.rates_created, again.rates_closed) == (0, 0, 0)
    before_change = utcnow()
    tiktok_sandbox.advance(timedelta(minutes=5))
    desk.change_rate(remote.id, catalog.id, 2500)
    raised = TikTokAffiliate(tiktok_shop).import_collaborations()
    assert (raised.rates_created, raised.rates_closed) == (4, 4)
    open_rates = CollaborationRate.objects.filter(valid_to__isnull=True)
    assert sorted(open_rates.values_list("platform_rate", flat=True)) == [Decimal("25.00")] * 4
    # Orders placed before the change keep the rate that was in force then.
    earlier = commission_terms_at(
        creator_id=collaboration.creator_id, sku_id=sku.pk, at=before_change
    )
    assert earlier is not None and earlier.platform_rate == Decimal("20.00")
    later = commission_terms_at(
        creator_id=collaboration.creator_id, sku_id=sku.pk, at=utcnow() + timedelta(minutes=10)
    )
    assert later is not None and later.platform_rate == Decimal("25.00")


def test_affiliate_orders_attribute_orders_to_creators_and_live_sessions(  # type: ignore[no-untyped-def]
    tiktok_sandbox, tiktok_remote_shop, tiktok_shop, catalog
):
    plan = _stream(tiktok_sandbox)
    counts = tiktok_sandbox.affiliate.attribute_stream(plan, creators=CREATORS, seed=7)
    tiktok_sandbox.release_all(plan)
    TikTokConnector(tiktok_shop).pull_orders(until=utcnow() + timedelta(days=1))
    mia = Creator.objects.create(handle="glowwithmia")
    session = LiveSession.objects.create(
        creator=mia, shop=tiktok_shop, starts_at=plan.start, remote_content_id="7311000001"
    )

    report = _everything(TikTokAffiliate(tiktok_shop))

    attributed = sum(counts.values())
    assert 0 < counts["dealsbydan"] < counts["glowwithmia"] < attributed < len(plan.orders)
    assert report.orders_seen == attributed
    assert report.pages == -(-attributed // 50)
    assert report.result is not None
    assert report.result.creators_created == ["dealsbydan"]
    by_creator = Counter(
        Order.objects.filter(creator__isnull=False).values_list("creator__handle", flat=True)
    )
    assert by_creator == counts
    assert Order.objects.filter(live_session=session).count() == counts["glowwithmia"]
    assert not Order.objects.filter(creator__handle="dealsbydan", live_session__isnull=False)
    line = OrderLine.objects.filter(creator=mia).first()
    assert line is not None and line.commission_rate == Decimal("15.00")
    assert AffiliateOrderSku.objects.filter(order__isnull=True).count() == 0

    # A re-pull writes nothing new.
    rows_before = AffiliateOrderSku.objects.count()
    again = _everything(TikTokAffiliate(tiktok_shop))
    assert again.result is not None
    assert (again.result.rows_created, again.result.rows_updated) == (0, 0)
    assert (again.result.orders_attributed, again.result.lines_attributed) == (0, 0)
    assert AffiliateOrderSku.objects.count() == rows_before


def test_affiliate_rows_before_their_orders_are_linked_later(  # type: ignore[no-untyped-def]
    tiktok_sandbox, tiktok_remote_shop, tiktok_shop, catalog
):
    plan = _stream(tiktok_sandbox, orders=30, seed=9)
    counts = tiktok_sandbox.affiliate.attribute_stream(plan, creators=CREATORS[:1], seed=1)
    tiktok_sandbox.release_all(plan)

    first = _everything(TikTokAffiliate(tiktok_shop))
    assert first.result is not None
    assert first.result.orders_not_pulled_yet == counts["glowwithmia"]
    assert Order.objects.count() == 0

    TikTokConnector(tiktok_shop).pull_orders(until=utcnow() + timedelta(days=1))
    assert Order.objects.filter(creator__isnull=False).count() == 0
    second = _everything(TikTokAffiliate(tiktok_shop))
    assert second.result is not None
    assert second.result.orders_attributed == counts["glowwithmia"]
    assert Order.objects.filter(creator__handle="glowwithmia").count() == counts["glowwithmia"]


@pytest.mark.django_db(transaction=True)  # the worker closes its connections between tasks
def test_scheduled_pull_runs_through_the_queue_and_moves_the_watermark(  # type: ignore[no-untyped-def]
    tiktok_sandbox, tiktok_remote_shop, tiktok_shop, catalog
):
    from aftershow.core.worker import run_queued_tasks
    from aftershow.integrations.models import SyncCursor
    from aftershow.integrations.tiktok.affiliate import (
        AFFILIATE_CURSOR,
        enqueue_affiliate_order_pulls,
    )

    # The stream is over: the scheduled pull reads up to now.
    plan = _stream(tiktok_sandbox, orders=20, seed=4, start=utcnow() - timedelta(hours=2))
    counts = tiktok_sandbox.affiliate.attribute_stream(plan, creators=CREATORS, seed=2)
    tiktok_sandbox.release_all(plan)
    TikTokConnector(tiktok_shop).pull_orders(until=utcnow() + timedelta(days=1))

    assert enqueue_affiliate_order_pulls() == 1
    run_queued_tasks()

    assert Order.objects.filter(creator__isnull=False).count() == sum(counts.values())
    cursor = SyncCursor.objects.get(shop=tiktok_shop, kind=AFFILIATE_CURSOR)
    assert cursor.watermark is not None and cursor.watermark > utcnow() - timedelta(minutes=5)


def test_affiliate_pull_is_scheduled() -> None:
    from aftershow.core.management.commands.scheduler import SCHEDULE
    from aftershow.integrations.tiktok.affiliate import enqueue_affiliate_order_pulls

    assert enqueue_affiliate_order_pulls in [job for job, _fields, _why in SCHEDULE]


def test_import_from_tiktok_button(  # type: ignore[no-untyped-def]
    client, tiktok_sandbox, tiktok_remote_shop, tiktok_shop, catalog
):
    from django.urls import reverse

    from aftershow.orders.tests.factories import UserFactory

    desk = tiktok_sandbox.affiliate
    desk.add_creator("glowwithmia", follower_count=250_000)
    start = to_unix(utcnow() - timedelta(days=1))
    desk.add_target_collaboration(
        tiktok_remote_shop.id,
        name="Holiday push",
        creators=["glowwithmia"],
        products={"88888888": 1200},
        start_time=start,
        end_time=start + 86400 * 10,
    )
    client.force_login(UserFactory(owner=True))
    response = client.post(
        reverse("creators:import_tiktok"), {"shop": tiktok_shop.pk, "keyword": ""}, follow=True
    )
    page = response.content.decode()
    assert "From TikTok: 1 new creators, 0 updated; 1 new collaborations with 0 rates." in page
    assert "Products not mapped to a SKU, their rates were skipped: 88888888" in page
    assert Collaboration.objects.get().creator.handle == "glowwithmia"
