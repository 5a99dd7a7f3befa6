"""A strict eBay Sell API sandbox (OAuth, Inventory bulk price/quantity, Fulfillment orders) on
127.0.0.1. Pure Python, no Django::

    sb = EbaySandbox(seed=1)
    base_url = sb.start()
    offer_id = sb.add_item("TEE-BLK-M", quantity=10)
    grant = sb.issue_user_token()      # what the consent flow yields
    sb.create_order(lines=[("TEE-BLK-M", 2)])
    sb.quantity("TEE-BLK-M")
"""

from .sandbox import EbaySandbox
from .store import SCOPE_FULFILLMENT, SCOPE_INVENTORY, Grant, ebay_time

__all__ = ["SCOPE_FULFILLMENT", "SCOPE_INVENTORY", "EbaySandbox", "Grant", "ebay_time"]
