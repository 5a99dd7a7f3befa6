"""The sync page and buffer edits."""

from __future__ import annotations

import pytest
from django.urls import reverse

from aftershow.catalog.models import ChannelListing, Product, Sku
from aftershow.core.timeutils import utcnow
from aftershow.orders.tests.factories import UserFactory
from aftershow.shops.models import Channel, Shop
from aftershow.stocksync.models import ChannelBuffer, ListingSync, StockChange, SyncStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def listed() -> tuple[Shop, Sku]:
    shop = Shop.objects.create(name="eBay store", channel=Channel.EBAY, remote_shop_id="s1")
    sku = Sku.objects.create(product=Product.objects.create(name="Tee"), code="TEE-1")
    listing = ChannelListing.objects.create(
        sku=sku, shop=shop, remote_product_id="o1", remote_sku_id="TEE-1"
    )
    now = utcnow()
    ListingSync.objects.create(
        listing=listing,
        target_quantity=12,
        target_key="k1",
        target_set_at=now,
        due_at=now,
        is_due=True,
        status=SyncStatus.RETRYING,
        pushed_quantity=15,
        pushed_at=now,
        last_error_code="25001",
        last_error="A system error has occurred",
    )
    return shop, sku


def test_the_page_shows_each_listing_last_push_and_error(client, listed):
    client.force_login(UserFactory(username="ola"))
    html = client.get(reverse("stocksync:page")).content.decode()
    assert 'data-sku="TEE-1" data-channel="ebay"' in html
    assert '<td class="pushed">15</td>' in html
    assert "25001 A system error has occurred" in html
    assert "Failed, will retry" in html
    assert 'id="buffer-form"' not in html  # operators look, owners edit


def test_an_owner_sets_a_buffer_and_the_listings_follow(client, listed):
    shop, sku = listed
    client.force_login(UserFactory(owner=True))
    response = client.post(
        reverse("stocksync:buffer_save"),
        {"shop": shop.pk, "sku_code": "", "percent_of_available": 80, "units_held_back": 2},
    )
    assert response.status_code == 302
    buffer = ChannelBuffer.objects.get()
    assert (buffer.sku, buffer.percent_of_available, buffer.units_held_back, buffer.max_listed) == (
        None,
        80,
        2,
        None,
    )
    assert list(StockChange.objects.values_list("sku_id", flat=True)) == [sku.pk]


def test_a_bad_buffer_is_refused_and_nothing_changes(client, listed):
    shop, _ = listed
    client.force_login(UserFactory(owner=True))
    response = client.post(
        reverse("stocksync:buffer_save"),
        {"shop": shop.pk, "sku_code": "NOPE", "percent_of_available": 120, "units_held_back": 0},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "No SKU has this code." in html
    assert not ChannelBuffer.objects.exists() and not StockChange.objects.exists()


def test_an_operator_may_not_change_buffers(client, listed):
    shop, _ = listed
    client.force_login(UserFactory(username="ola"))
    response = client.post(
        reverse("stocksync:buffer_save"),
        {"shop": shop.pk, "percent_of_available": 50, "units_held_back": 0},
    )
    assert response.status_code == 403
    assert not ChannelBuffer.objects.exists()


def test_the_buffer_formula():
    from aftershow.stocksync.models import listed_quantity

    assert listed_quantity(99, percent=50) == 49  # floor
    assert listed_quantity(10, held_back=12) == 0  # never negative
    assert listed_quantity(500, percent=80, held_back=10, maximum=300) == 300
    assert listed_quantity(-3) == 0
