"""A strict Shopify Admin GraphQL sandbox (2026-04) on 127.0.0.1, with signed order webhooks.
Pure Python, no Django::

    sb = ShopifySandbox(app_secret="shpss_x")
    base_url = sb.start()
    token = sb.issue_token()
    variant = sb.add_variant("TEE-BLK-M", quantity=10)
    sb.subscribe("orders/create", "http://127.0.0.1:8000/webhooks/shopify/")
    sb.create_order(lines=[("TEE-BLK-M", 2)])
    sb.quantity("TEE-BLK-M")

``loopback`` (the HTTP server and fault injector) is shared by the Amazon and eBay sandboxes.
"""

from .sandbox import API_VERSION, ShopifySandbox
from .store import Order, Variant, gid
from .webhooks import webhook_hmac

__all__ = ["API_VERSION", "Order", "ShopifySandbox", "Variant", "gid", "webhook_hmac"]
