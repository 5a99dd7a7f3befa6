"""The proof: channel sandboxes failing a fifth of their calls (429, 500, timeouts or dropped
connections) still end with every channel on the right quantity, and no update is lost (no
older value ever overwrote a newer one), with sales landing between the engine's passes."""

from __future__ import annotations

import random

import pytest

from aftershow.core.timeutils import utcnow
from aftershow.integrations.tests.convergence import assert_no_lost_update
from aftershow.inventory.models import AdjustmentReason, StockLevel
from aftershow.inventory.services import stock_adjust, stock_receive
from aftershow.stocksync.engine import engine_pass, work_pending
from aftershow.stocksync.models import ListingSync, SyncStatus

pytestmark = pytest.mark.django_db(transaction=True)
CHANNELS = ("tiktok", "shopify", "amazon", "ebay")


def test_every_channel_converges_with_20_percent_of_calls_failing(channels, warehouse, settings):
    settings.HTTP_TIMEOUT_SECONDS = 0.25
    settings.HTTP_MAX_ATTEMPTS = 2
    codes = [f"LIVE-{n}" for n in range(6)]
    skus = {code: channels.list(code, quantity=0) for code in codes}
    for sku in skus.values():
        stock_receive(sku=sku, warehouse=warehouse, quantity=300)
    intended = {code: [300] for code in codes}
    channels.faults(rate=0.2, seed=5)
    rng = random.Random(8)
    statuses: dict[str, int] = {}

    def one_pass() -> None:
        # Skip the backoff waits (the test proves convergence, not patience).
        ListingSync.objects.filter(is_due=True).update(due_at=utcnow())
        for status, count in engine_pass().calls_by_status.items():
            statuses[status] = statuses.get(status, 0) + count

    for _ in range(12):
        for code, sku in skus.items():
            sold = rng.randrange(1, 6)
            stock_adjust(
                sku=sku, warehouse=warehouse, quantity=-sold, reason=AdjustmentReason.SAMPLE
            )
            intended[code].append(intended[code][-1] - sold)
        one_pass()
    rounds = 0
    while work_pending() or ListingSync.objects.filter(is_due=True).exists():
        one_pass()
        rounds += 1
        assert rounds < 60, "not settled after 60 passes"

    assert statuses.get("failed", 0) > 0
    for sandbox in (channels.tiktok, channels.shopify, channels.amazon, channels.ebay):
        assert sum(sandbox.faults.injected.values()) > 0
    for code, sku in skus.items():
        level = StockLevel.objects.get(sku=sku, warehouse=warehouse)
        assert level.available == intended[code][-1]
        for name in CHANNELS:
            assert_no_lost_update(
                intended[code], channels.history(name, code), channels.quantity(name, code)
            )
    assert set(ListingSync.objects.values_list("status", flat=True)) == {SyncStatus.SYNCED}
