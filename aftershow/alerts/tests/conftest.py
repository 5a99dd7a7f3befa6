"""Loopback receivers (SMTP and webhook), a warehouse and a SKU: what alert tests start from."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aftershow.alerts.receivers import SmtpInbox, WebhookInbox
from aftershow.catalog.models import Sku
from aftershow.inventory.models import Warehouse
from aftershow.inventory.tests.helpers import make_sku
from aftershow.shops.models import Channel, Shop


@pytest.fixture
def smtp_inbox() -> Iterator[SmtpInbox]:
    inbox = SmtpInbox().start()
    try:
        yield inbox
    finally:
        inbox.stop()


@pytest.fixture
def webhook_inbox() -> Iterator[WebhookInbox]:
    inbox = WebhookInbox().start()
    try:
        yield inbox
    finally:
        inbox.stop()


@pytest.fixture
def warehouse(db: None) -> Warehouse:
    return Warehouse.objects.create(code="MAIN", name="Main", is_default=True)


@pytest.fixture
def shop(db: None) -> Shop:
    return Shop.objects.create(name="Glow Lab US", channel=Channel.TIKTOK, remote_shop_id="7001")


@pytest.fixture
def tee(db: None) -> Sku:
    return make_sku("TEE-BLK-M")
