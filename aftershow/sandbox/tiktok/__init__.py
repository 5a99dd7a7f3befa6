"""A strict TikTok Shop sandbox speaking the Partner API wire protocol over HTTP on 127.0.0.1.

Pure Python (no Django), so it runs standalone (``python -m aftershow.sandbox.tiktok``), inside
tests, the demo and the benchmarks::

    sb = TikTokSandbox(app_key="k", app_secret="s", seed=1)
    base_url = sb.start()
    shop = sb.store.create_shop(name="Demo Shop", region="US")
    sb.store.add_product(shop.id, "Tee", skus=[{"seller_sku": "TEE-BLK-M", "price": "19.99"}])
    plan = sb.simulate_live_stream(StreamSpec(viewers=20_000, conversion_rate=0.02))
    sb.release_all(plan)            # or sb.play(plan, speed=540); sb.wait_played(30)
"""

from .addresses import AddressKind
from .clock import VirtualClock
from .credentials import TokenGrant
from .sandbox import TikTokSandbox
from .simulator import Anomaly, AnomalyRates, PlannedOrder, Showcase, StreamPlan, StreamSpec
from .store import Product, SandboxStore, Shop, Sku
from .webhooks import TIKTOK_RETRY_SCHEDULE, Notification, WebhookAttempt

__all__ = [
    "TIKTOK_RETRY_SCHEDULE",
    "AddressKind",
    "Anomaly",
    "AnomalyRates",
    "Notification",
    "PlannedOrder",
    "Product",
    "SandboxStore",
    "Shop",
    "Showcase",
    "Sku",
    "StreamPlan",
    "StreamSpec",
    "TikTokSandbox",
    "TokenGrant",
    "VirtualClock",
    "WebhookAttempt",
]
