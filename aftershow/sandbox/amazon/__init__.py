"""A strict Amazon Selling Partner API sandbox (LWA, Listings Items 2021-08-01, Orders v0) on
127.0.0.1, checked against Amazon's own Swagger models. Pure Python, no Django::

    sb = AmazonSandbox(seed=1)
    base_url = sb.start()
    refresh_token = sb.authorize()       # what the seller's consent yields
    sb.add_listing("TEE-BLK-M", quantity=10)
    sb.create_order(lines=[("TEE-BLK-M", 2)])
    sb.quantity("TEE-BLK-M")
"""

from .sandbox import AmazonSandbox
from .store import MARKETPLACE_US, amazon_time
from .swagger import Contract, load_contract

__all__ = ["MARKETPLACE_US", "AmazonSandbox", "Contract", "amazon_time", "load_contract"]
