"""The engine against the four channel sandboxes over real HTTP: targets, buffers, coalescing,
retries, a killed run, drift, and the queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction

from aftershow.core.timeutils import utcnow
from aftershow.core.worker import run_queued_tasks
from aftershow.inventory.models import AdjustmentReason
from aftershow.inventory.services import stock_adjust, stock_receive
from aftershow.stocksync.engine import (
    drift_check,
    engine_pass,
    engine_run,
    lease_acquire,
    work_pending,
)
from aftershow.stocksync.marks import engine_wake
from aftershow.stocksync.models import (
    ChannelBuffer,
    EngineLease,
    ListingSync,
    StockChange,
    SyncStatus,
)
from aftershow.stocksync.tests.conftest import Channels

pytestmark = pytest.mark.django_db(transaction=True)
CHANNELS = ("tiktok", "shopify", "amazon", "ebay")


def quantities(channels: Channels, code: str) -> dict[str, int | None]:
    return {name: channels.quantity(name, code) for name in CHANNELS}


def test_a_stock_change_reaches_every_channel_through_its_buffer(channels, warehouse):
    sku = channels.list("TEE", quantity=0)
    ChannelBuffer.objects.create(shop=channels.shops["ebay"], percent_of_available=50)
    ChannelBuffer.objects.create(shop=channels.shops["amazon"], units_held_back=5)
    ChannelBuffer.objects.create(shop=channels.shops["shopify"], sku=sku, max_listed=30)
    stock_receive(sku=sku, warehouse=warehouse, quantity=41)
    assert StockChange.objects.filter(sku=sku).count() == 1

    report = engine_pass()

    assert report.changes == 1 and report.pushed == 4
    assert quantities(channels, "TEE") == {"tiktok": 41, "shopify": 30, "amazon": 36, "ebay": 20}
    assert not StockChange.objects.exists()
    rows = ListingSync.objects.select_related("listing__shop")
    assert {r.listing.shop.channel: (r.pushed_quantity, r.status, r.is_due) for r in rows} == {
        "tiktok": (41, SyncStatus.SYNCED, False),
        "shopify": (30, SyncStatus.SYNCED, False),
        "amazon": (36, SyncStatus.SYNCED, False),
        "ebay": (20, SyncStatus.SYNCED, False),
    }


def test_a_burst_is_coalesced_into_one_push_per_channel(channels, warehouse):
    sku = channels.list("MUG", quantity=0)
    stock_receive(sku=sku, warehouse=warehouse, quantity=500)
    engine_pass()
    for _ in range(120):  # 120 sales between two passes
        stock_adjust(sku=sku, warehouse=warehouse, quantity=-1, reason=AdjustmentReason.SAMPLE)
    assert StockChange.objects.filter(sku=sku).count() == 120

    report = engine_pass()

    assert report.changes == 120 and report.pushed == 4
    assert quantities(channels, "MUG") == dict.fromkeys(CHANNELS, 380)
    for name in CHANNELS:
        assert channels.history(name, "MUG") == [500, 380]


def test_a_bundle_follows_its_components(channels, warehouse):
    from aftershow.catalog.models import BundleComponent, Product, Sku

    product = Product.objects.create(name="Set")
    cup = Sku.objects.create(product=product, code="CUP")
    bundle = Sku.objects.create(product=product, code="CUP-PAIR", is_bundle=True)
    BundleComponent.objects.create(bundle=bundle, component=cup, quantity=2)
    channels.list("CUP-PAIR", sku=bundle)
    stock_receive(sku=cup, warehouse=warehouse, quantity=9)
    engine_pass()
    assert quantities(channels, "CUP-PAIR") == dict.fromkeys(CHANNELS, 4)


def test_a_rolled_back_change_leaves_no_mark(channels, warehouse):
    sku = channels.list("CAP")
    with pytest.raises(RuntimeError), transaction.atomic():
        stock_receive(sku=sku, warehouse=warehouse, quantity=5)
        raise RuntimeError("the caller failed after the change")
    assert not StockChange.objects.exists()
    assert engine_pass().pushed == 0


def test_failed_pushes_wait_and_are_retried(channels, warehouse, settings):
    settings.HTTP_MAX_ATTEMPTS = 1
    sku = channels.list("HAT")
    channels.ebay.faults.fail_next(1, "500")
    channels.amazon.faults.fail_next(1, "429")
    stock_receive(sku=sku, warehouse=warehouse, quantity=12)

    engine_pass()

    rows = {r.listing.shop.channel: r for r in ListingSync.objects.select_related("listing__shop")}
    for name in ("ebay", "amazon"):
        assert rows[name].status == SyncStatus.RETRYING and rows[name].is_due
        assert rows[name].attempts == 1 and rows[name].due_at > utcnow()
        assert rows[name].last_error_code  # the channel's own code, shown on the sync page
    assert channels.quantity("ebay", "HAT") == 0
    assert channels.quantity("tiktok", "HAT") == 12
    # The next pass before the backoff has passed sends nothing.
    assert engine_pass().pushed == 0
    ListingSync.objects.filter(is_due=True).update(due_at=utcnow())
    assert engine_pass().pushed == 2
    assert quantities(channels, "HAT") == dict.fromkeys(CHANNELS, 12)


def test_a_refused_push_shows_its_error_and_is_not_repeated(channels, warehouse):
    sku = channels.list("BAG")
    channels.tiktok.store.products(channels.tiktok_shop_id)[-1].status = "FREEZE"
    stock_receive(sku=sku, warehouse=warehouse, quantity=3)
    engine_pass()
    row = ListingSync.objects.get(listing__shop=channels.shops["tiktok"])
    assert row.status == SyncStatus.REJECTED and not row.is_due
    assert "not editable" in row.last_error
    assert engine_pass().pushed == 0


def test_a_killed_run_is_resumed_from_the_tables(channels, warehouse):
    sku = channels.list("KEY")
    stock_receive(sku=sku, warehouse=warehouse, quantity=8)
    # A run died holding the lease, before turning the mark into pushes.
    EngineLease.objects.update_or_create(
        name="stocksync",
        defaults={"holder": "engine-dead", "expires_at": utcnow() - timedelta(seconds=1)},
    )
    assert work_pending()

    report = engine_run(idle_seconds=0.1)

    assert report.ran and report.pushed == 4
    assert quantities(channels, "KEY") == dict.fromkeys(CHANNELS, 8)
    assert EngineLease.objects.get().holder == ""


def test_a_live_lease_keeps_a_second_engine_out(channels, warehouse):
    assert lease_acquire("engine-a")
    assert not engine_run(idle_seconds=0.1).ran
    assert not engine_wake()  # a running engine needs no wake-up task


def test_the_drift_check_corrects_a_channel(channels, warehouse):
    sku = channels.list("PEN")
    stock_receive(sku=sku, warehouse=warehouse, quantity=10)
    engine_pass()
    # Someone set eBay by hand.
    channels.ebay.store.set_quantities(sku="PEN", quantity=99, offers=[])

    report = drift_check(shop=channels.shops["ebay"])

    assert (report.checked, report.corrected) == (1, 1)
    engine_pass()
    assert channels.quantity("ebay", "PEN") == 10
    assert ListingSync.objects.get(listing__shop=channels.shops["ebay"]).drift_corrections == 1
    assert drift_check(shop=channels.shops["tiktok"]).corrected == 0


def test_a_committed_change_wakes_the_engine_on_the_queue(channels, warehouse, settings):
    settings.STOCKSYNC_IDLE_SECONDS = 0.1
    sku = channels.list("CUP")
    stock_receive(sku=sku, warehouse=warehouse, quantity=6)
    assert EngineLease.objects.get().kicked_at is not None  # the wake-up was enqueued

    run_queued_tasks()

    assert quantities(channels, "CUP") == dict.fromkeys(CHANNELS, 6)
    assert not work_pending()
