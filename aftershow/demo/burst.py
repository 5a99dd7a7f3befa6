"""A live-stream burst waiting to be processed: what the demo leaves behind, made directly.

The pipeline test and ``benchmarks/burst.py`` need the state the demo reaches after its
stream (a connected TikTok shop, the demo catalogue mapped, a default warehouse, every order of
a stream pulled, their cancellation windows over) without playing the stream in real time: the
sandbox lands the whole plan at once and aftershow pulls it, the reconciliation poll's path.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from aftershow.core.timeutils import utcnow
from aftershow.demo.catalog import (
    demo_catalog_create,
    demo_stock_receive,
    demo_warehouse_create,
)
from aftershow.integrations.tiktok.sync import TikTokConnector, shop_connect
from aftershow.shops.models import Shop

if TYPE_CHECKING:
    from aftershow.sandbox.tiktok import StreamPlan, TikTokSandbox
    from aftershow.sandbox.tiktok.simulator import AnomalyRates

STREAM = timedelta(hours=3)
# TikTok's cancellation window (an hour after payment) plus a margin: nothing is held by it.
AFTER_WINDOW = timedelta(minutes=62)
CONVERSION_RATE = 0.08


def burst_clock_start() -> datetime:
    """Where the sandbox clock starts so the stream ends, window included, just before now."""
    return utcnow() - STREAM - AFTER_WINDOW - timedelta(minutes=2)


def burst_world_create(
    *,
    sandbox: TikTokSandbox,
    app_key: str,
    app_secret: str,
    orders: int,
    seed: int,
    shop_name: str = "aftershow Demo Shop",
    anomalies: AnomalyRates | None = None,
) -> tuple[Shop, StreamPlan]:
    """Connect a shop, create the catalogue and a warehouse, land a stream of about ``orders``
    orders in the sandbox and pull them; returns the shop and the stream's plan."""
    from aftershow.sandbox.tiktok import StreamSpec

    remote_shop = sandbox.store.create_shop(name=shop_name, region="US")
    (shop,) = shop_connect(
        app_key=app_key,
        app_secret=app_secret,
        auth_code=sandbox.store.issue_auth_code(shop_ids=[remote_shop.id]),
        api_base_url=sandbox.base_url,
        auth_base_url=sandbox.base_url,
    )
    mix = demo_catalog_create(sandbox=sandbox, remote_shop_id=remote_shop.id, shop=shop)
    # Enough of every SKU for the whole stream: the burst ships, nothing is backordered.
    demo_stock_receive(warehouse=demo_warehouse_create(), units_per_sku=orders * 4)
    spec = StreamSpec(
        creator_handle="glowwithmia",
        viewers=round(orders / CONVERSION_RATE),
        conversion_rate=CONVERSION_RATE,
        duration=STREAM,
        sku_mix=mix,
        seed=seed,
        shop_id=remote_shop.id,
    )
    if anomalies is not None:
        spec = dataclasses.replace(spec, anomalies=anomalies)
    plan = sandbox.simulate_live_stream(spec)
    sandbox.release_all(plan)
    sandbox.advance(AFTER_WINDOW)
    TikTokConnector(shop).pull_orders(until=sandbox.clock.now() + timedelta(minutes=1))
    return shop, plan
