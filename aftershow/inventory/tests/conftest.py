"""A default warehouse, a TikTok shop and a T-shirt SKU: what most stock tests start from."""

from __future__ import annotations

import pytest

from aftershow.catalog.models import Sku
from aftershow.inventory.models import Warehouse
from aftershow.inventory.tests.helpers import make_sku
from aftershow.shops.models import Channel, Shop


@pytest.fixture
def warehouse(db: None) -> Warehouse:
    return Warehouse.objects.create(code="MAIN", name="Main", is_default=True)


@pytest.fixture
def shop(db: None) -> Shop:
    return Shop.objects.create(name="Glow Lab US", channel=Channel.TIKTOK, remote_shop_id="7001")


@pytest.fixture
def tee(db: None) -> Sku:
    return make_sku("TEE-BLK-M")
