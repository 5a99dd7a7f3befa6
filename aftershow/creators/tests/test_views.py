"""Creator CRM pages and the live session page, as the team uses them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from aftershow.creators.models import (
    Collaboration,
    CollaborationRate,
    Creator,
    LiveSession,
    LiveSessionStatus,
    SampleShipment,
)
from aftershow.creators.tests.factories import (
    CollaborationFactory,
    CollaborationRateFactory,
    CreatorFactory,
    LiveSessionFactory,
    SampleShipmentFactory,
    SkuFactory,
)
from aftershow.orders.models import PlatformStatus
from aftershow.orders.tests.factories import (
    OrderFactory,
    OrderLineFactory,
    ShopFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(client: Client) -> Client:
    client.force_login(UserFactory(owner=True))
    return client


def test_list_shows_creators_with_size_and_search(owner_client: Client) -> None:
    CreatorFactory(handle="glowwithmia", followers=250_000, niche="beauty")
    CreatorFactory(handle="dealsbydan", followers=4_000, niche="gadgets")
    page = owner_client.get(reverse("creators:list")).content.decode()
    assert 'data-creator="glowwithmia"' in page and 'data-creator="dealsbydan"' in page
    assert "Mid-tier" in page and "Nano" in page
    found = owner_client.get(reverse("creators:list"), {"q": "gadg"}).content.decode()
    assert 'data-creator="dealsbydan"' in found and "glowwithmia" not in found


def test_packer_may_not_see_creators(client: Client) -> None:
    client.force_login(UserFactory(packer=True))
    assert client.get(reverse("creators:list")).status_code == 403


def test_operator_sees_but_cannot_edit(client: Client) -> None:
    creator = CreatorFactory(handle="mia")
    client.force_login(UserFactory())
    assert client.get(reverse("creators:detail", args=[creator.pk])).status_code == 200
    response = client.post(reverse("creators:edit", args=[creator.pk]), {"handle": "x"})
    assert response.status_code == 403
    creator.refresh_from_db()
    assert creator.handle == "mia"


def test_create_and_edit_profile(owner_client: Client) -> None:
    response = owner_client.post(
        reverse("creators:create"),
        {
            "handle": "@newcreator",
            "followers": "12000",
            "country": "us",
            "email": "new@example.com",
            "wechat": "newc",
            "notes": "Met at the expo",
            "is_active": "on",
        },
    )
    creator = Creator.objects.get(handle="newcreator")
    assert response.status_code == 302
    assert response["Location"] == reverse("creators:detail", args=[creator.pk])
    assert (creator.country, creator.email, creator.wechat, creator.followers) == (
        "US",
        "new@example.com",
        "newc",
        12_000,
    )
    page = owner_client.get(response["Location"]).content.decode()
    assert "Met at the expo" in page and "Micro" in page


def test_detail_shows_samples_collaborations_and_rates(owner_client: Client) -> None:
    creator = CreatorFactory(handle="mia")
    SampleShipmentFactory(creator=creator, quantity=3, unit_cost=Decimal("4.00"))
    collaboration = CollaborationFactory(creator=creator, name="Spring push")
    CollaborationRateFactory(
        collaboration=collaboration, sku=SkuFactory(code="TEE"), platform_rate=Decimal("18")
    )
    page = owner_client.get(reverse("creators:detail", args=[creator.pk])).content.decode()
    assert "data-samples-total>18.50<" in page
    assert "Spring push" in page and "18.00 %" in page and ">TEE<" in page


def test_rate_above_100_is_refused_and_nothing_saved(owner_client: Client) -> None:
    collaboration = CollaborationFactory()
    response = owner_client.post(
        reverse("creators:rate_add", args=[collaboration.pk]),
        {"platform_rate": "120", "seller_rate": "0", "valid_from": "2026-01-01T00:00"},
    )
    assert response.status_code == 400
    assert "A commission rate must be between 0 and 100 percent." in response.content.decode()
    assert CollaborationRate.objects.count() == 0


def test_overlapping_rates_are_refused(owner_client: Client) -> None:
    collaboration = CollaborationFactory()
    CollaborationRateFactory(collaboration=collaboration)  # all SKUs, open-ended, from Jan 1
    response = owner_client.post(
        reverse("creators:rate_add", args=[collaboration.pk]),
        {"platform_rate": "10", "seller_rate": "2", "valid_from": "2026-03-01T00:00"},
    )
    assert response.status_code == 400
    assert "Another rate for this SKU is in force" in response.content.decode()
    assert CollaborationRate.objects.count() == 1


def test_sample_and_collaboration_forms(owner_client: Client) -> None:
    creator = CreatorFactory()
    sku = SkuFactory()
    response = owner_client.post(
        reverse("creators:sample_add", args=[creator.pk]),
        {
            "sku": sku.pk,
            "quantity": "4",
            "unit_cost": "3.50",
            "shipping_cost": "5.00",
            "currency": "USD",
            "shipped_at": "2026-11-01T10:00",
        },
    )
    assert response.status_code == 302
    assert SampleShipment.objects.get().total_cost == Decimal("19.00")
    response = owner_client.post(
        reverse("creators:collaboration_add", args=[creator.pk]),
        {
            "kind": "off_platform",
            "starts_on": "2026-12-01",
            "ends_on": "2026-11-01",
            "flat_fee": "200",
            "currency": "USD",
        },
    )
    assert response.status_code == 400
    assert "The end is before the start." in response.content.decode()
    assert Collaboration.objects.count() == 0


def test_file_import_through_the_page_reports_rows(owner_client: Client) -> None:
    upload = SimpleUploadedFile("creators.csv", b"handle,followers\nmia,100\nbad!,x\n")
    response = owner_client.post(
        reverse("creators:import_file"), {"kind": "creators", "file": upload}, follow=True
    )
    page = response.content.decode()
    assert "Nothing was imported" in page
    assert "row 3, handle: A TikTok handle has only letters, digits, . and _." in page
    assert "row 3, followers: Must be a whole number, 0 or more." in page
    assert Creator.objects.count() == 0
    upload = SimpleUploadedFile("creators.csv", b"handle,followers\nmia,100\n")
    response = owner_client.post(
        reverse("creators:import_file"), {"kind": "creators", "file": upload}, follow=True
    )
    assert "Creators: 1 new, 0 updated, 0 unchanged." in response.content.decode()


def test_live_page_figures_and_polling(owner_client: Client) -> None:
    shop = ShopFactory()
    creator = CreatorFactory()
    session = LiveSession.objects.create(
        creator=creator, shop=shop, starts_at=timezone.now() + timedelta(hours=1), viewers=0
    )
    tee, mug = SkuFactory(code="TEE"), SkuFactory(code="MUG")
    owner_client.post(
        reverse("creators:session_feature", args=[session.pk]),
        {"sku": tee.pk, "platform_rate": "20", "seller_rate": "0", "planned_units": "10"},
    )
    start = owner_client.post(reverse("creators:session_transition", args=[session.pk, "start"]))
    assert start.status_code == 302
    session.refresh_from_db()
    assert session.status == LiveSessionStatus.LIVE
    owner_client.post(reverse("creators:session_viewers", args=[session.pk]), {"viewers": "200"})
    placed = session.starts_at
    for price in ("10.00", "15.00"):
        order = OrderFactory(shop=shop, placed_at=placed)
        OrderLineFactory(order=order, sku=tee, sale_price=Decimal(price))
    other = OrderFactory(shop=shop, placed_at=placed)
    OrderLineFactory(order=other, sku=mug, sale_price=Decimal("99.00"))  # not featured
    cancelled = OrderFactory(shop=shop, placed_at=placed, platform_status=PlatformStatus.CANCELLED)
    OrderLineFactory(order=cancelled, sku=tee)

    page = owner_client.get(reverse("creators:session", args=[session.pk])).content.decode()
    assert 'hx-trigger="every 5s"' in page
    stats = owner_client.get(reverse("creators:session_stats", args=[session.pk]))
    assert stats.status_code == 200
    body = stats.content.decode()
    assert "data-gmv>25.00<" in body
    assert "data-orders>2<" in body and "data-units>2<" in body
    assert "data-conversion>1.00 %<" in body  # 2 units ÷ 200 viewers
    assert 'data-sku="TEE"' in body and "20 %" in body  # 2 of 10 planned
    assert 'data-sku="MUG"' not in body

    end = owner_client.post(
        reverse("creators:session_transition", args=[session.pk, "end"]), follow=True
    )
    # The cancelled order is attributed too (metrics count it as cancelled), not shown live.
    assert "3 orders attributed by the session window." in end.content.decode()
    stopped = owner_client.get(reverse("creators:session_stats", args=[session.pk]))
    assert stopped.status_code == 286  # htmx stops polling
    assert "data-orders>2<" in stopped.content.decode()


def test_ended_session_cannot_start_again(owner_client: Client) -> None:
    session = LiveSessionFactory(status=LiveSessionStatus.ENDED)
    response = owner_client.post(
        reverse("creators:session_transition", args=[session.pk, "start"]), follow=True
    )
    assert "This session is Ended; it cannot become Live." in response.content.decode()
    session.refresh_from_db()
    assert session.status == LiveSessionStatus.ENDED


def test_list_and_live_figures_have_query_budgets(
    owner_client: Client, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    for number in range(60):
        CreatorFactory(handle=f"creator.{number:02d}")
    with django_assert_max_num_queries(8):
        assert owner_client.get(reverse("creators:list")).status_code == 200
    session = LiveSessionFactory(status=LiveSessionStatus.LIVE, ends_at=None)
    for _ in range(20):
        order = OrderFactory(shop=session.shop, placed_at=session.starts_at)
        OrderLineFactory(order=order, sku=SkuFactory(), live_session=session)
    with django_assert_max_num_queries(14):
        assert (
            owner_client.get(reverse("creators:session_stats", args=[session.pk])).status_code
            == 200
        )
