"""`aftershow demo --no-serve`: the stock sync keeps Shopify, Amazon and eBay current."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from aftershow.demo import channels
from aftershow.stocksync.engine import available_by_sku
from aftershow.stocksync.models import ListingSync, SyncStatus, listed_quantity


@pytest.mark.django_db(transaction=True)
def test_the_other_channels_receive_the_new_quantities():
    out = StringIO()
    call_command("demo", orders=40, no_serve=True, stream_seconds=1.5, stdout=out)
    text = out.getvalue()
    assert "Other channels (stock sync)" in text
    demo = channels._CURRENT[0]
    try:
        rows = list(ListingSync.objects.select_related("listing__shop", "listing__sku"))
        total = len(demo.codes) * 3
        assert f"listings in sync           {total} of {total}" in text
        assert {row.status for row in rows} == {SyncStatus.SYNCED}
        available = available_by_sku({row.listing.sku_id for row in rows})
        for code in demo.codes:
            sku_id = next(r.listing.sku_id for r in rows if r.listing.sku.code == code)
            assert demo.quantities(code) == {
                "Shopify": available[sku_id],
                "Amazon": available[sku_id],
                "eBay": listed_quantity(available[sku_id], percent=90),
            }
        # The stream sold units: every channel got more than its first quantity.
        assert all(count > len(demo.codes) for count in demo.writes().values())
    finally:
        for sandbox in (demo.shopify, demo.amazon, demo.ebay):
            sandbox.stop()
