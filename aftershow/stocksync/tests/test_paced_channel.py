"""Amazon, the channel that takes one SKU per rate-limited call: each call waits for its token
*before* the quantity is read, carries the stock of that moment, and goes to the listing
that has waited longest."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from aftershow.audit.models import IntegrationLog
from aftershow.core.timeutils import utcnow
from aftershow.integrations.amazon.client import CAP_GUARD_SECONDS
from aftershow.inventory.models import AdjustmentReason
from aftershow.inventory.services import stock_adjust, stock_receive
from aftershow.stocksync.channels import inventory_channel_for
from aftershow.stocksync.engine import _push_shop_due_in_thread, changes_apply
from aftershow.stocksync.models import ListingSync, SyncStatus
from aftershow.stocksync.tests.conftest import Channels

pytestmark = pytest.mark.django_db(transaction=True)


def amazon_rows(channels: Channels) -> dict[str, ListingSync]:
    rows = ListingSync.objects.filter(listing__shop=channels.shops["amazon"]).select_related(
        "listing__sku"
    )
    return {row.listing.sku.code: row for row in rows}


def push_amazon(channels: Channels, sleep) -> None:  # type: ignore[no-untyped-def]
    """One paced turn in a thread of its own, as the run loop starts it."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(
            _push_shop_due_in_thread,
            channels.shops["amazon"].pk,
            inventory_channel_for,
            one_per_call=True,
            sleep=sleep,
        ).result()


def test_a_sale_made_while_waiting_for_the_token_goes_out_with_that_call(channels, warehouse):
    codes = [f"DROP-{n}" for n in range(6)]
    skus = {code: channels.list(code, quantity=0) for code in codes}
    for sku in skus.values():
        stock_receive(sku=sku, warehouse=warehouse, quantity=10)
    # One token a second after the burst of 5 (the client learns the rate from the first
    # answer), so the sixth call surely waits, however slow the machine.
    channels.amazon.store.set_rate_limit("patchListingsItem", 1.0, 5)
    changes_apply()
    waits: list[float] = []

    def sale_then_sleep(seconds: float) -> None:
        # The burst of 5 is spent; the sixth call waits for a token. A sale lands meanwhile
        # (no targets pass runs: the call must read the stock itself).
        if not waits:
            stock_adjust(
                sku=skus["DROP-5"], warehouse=warehouse, quantity=-1, reason=AdjustmentReason.SAMPLE
            )
        waits.append(seconds)
        time.sleep(seconds)

    push_amazon(channels, sale_then_sleep)

    assert len(waits) == 1 and 0 < waits[0] <= 1.0 + CAP_GUARD_SECONDS
    assert {code: channels.history("amazon", code) for code in codes} == {
        **{code: [10] for code in codes[:5]},
        "DROP-5": [9],  # read after the token came, so the sale is in it; no second call
    }
    rows = amazon_rows(channels)
    assert {code: (row.status, row.pushed_quantity, row.is_due) for code, row in rows.items()} == {
        **{code: (SyncStatus.SYNCED, 10, False) for code in codes[:5]},
        "DROP-5": (SyncStatus.SYNCED, 9, False),
    }
    assert rows["DROP-5"].target_quantity == 9
    # The sale's own mark, applied later, finds the target already there: nothing is owed.
    changes_apply()
    assert not amazon_rows(channels)["DROP-5"].is_due
    assert (
        list(
            IntegrationLog.objects.filter(channel="amazon", method="PATCH").values_list(
                "status_code", flat=True
            )
        )
        == [200] * 6
    )


def test_the_listing_waiting_longest_goes_first(channels, warehouse):
    codes = [f"DROP-{n}" for n in range(4)]
    skus = {code: channels.list(code, quantity=0) for code in codes}
    for sku in skus.values():
        stock_receive(sku=sku, warehouse=warehouse, quantity=7)
    changes_apply()
    now = utcnow()
    for age, code in enumerate(["DROP-1", "DROP-3", "DROP-0", "DROP-2"]):
        ListingSync.objects.filter(
            listing__shop=channels.shops["amazon"], listing__sku__code=code
        ).update(due_at=now - timedelta(seconds=10 - age))

    push_amazon(channels, time.sleep)

    patched = [
        call.path.rsplit("/", 1)[-1]
        for call in channels.amazon.server.calls
        if call.method == "PATCH"
    ]
    assert patched == ["DROP-1", "DROP-3", "DROP-0", "DROP-2"]
    assert all(not row.is_due for row in amazon_rows(channels).values())


def test_a_paced_channel_that_cannot_be_built_backs_off(channels, warehouse):
    """The failure is recorded on the due rows (which then wait), rather than the turn being
    started again on every pass."""
    sku = channels.list("DROP-0", quantity=0)
    stock_receive(sku=sku, warehouse=warehouse, quantity=3)
    changes_apply()

    def broken(shop, *, recorder=None):  # type: ignore[no-untyped-def]
        raise LookupError("no inventory connector for this channel")

    with ThreadPoolExecutor(max_workers=1) as pool:
        report = pool.submit(
            _push_shop_due_in_thread, channels.shops["amazon"].pk, broken, one_per_call=True
        ).result()

    assert report.calls_by_status == {"failed": 1}
    row = amazon_rows(channels)["DROP-0"]
    assert (row.status, row.last_error_code, row.is_due) == (
        SyncStatus.RETRYING,
        "ENGINE_ERROR",
        True,
    )
    assert row.due_at > utcnow()
    assert channels.history("amazon", "DROP-0") == []
