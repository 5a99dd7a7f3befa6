"""Fixtures for the import tests: a TikTok shop, sandbox streams written as export files, and a
fingerprint of everything an import may write (to prove a refused file changed nothing)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aftershow.catalog.models import Product, Sku
from aftershow.imports.models import (
    AffiliateOrderRow,
    ImportRun,
    ImportSource,
    ReturnRecord,
    StatementTransaction,
)
from aftershow.imports.services import import_file
from aftershow.orders.models import Address, Buyer, Order, OrderLine, OrderStatusChange
from aftershow.orders.tests.factories import ShopFactory
from aftershow.sandbox.tiktok import StreamSpec, TikTokSandbox, VirtualClock
from aftershow.sandbox.tiktok.store import Shop as RemoteShop
from aftershow.shops.models import Shop

STREAM_START = datetime(2026, 3, 6, 19, 0, tzinfo=UTC)
SKUS = {"TEE-BLK-M": "19.99", "TEE-WHT-L": "21.50", "HOOD-GRY-M": "44.00", "MUG-LIVE": "14.00"}


@pytest.fixture
def shop(db: None) -> Shop:
    return ShopFactory(name="Glow Lab US", region="US")


@pytest.fixture
def catalog(db: None) -> dict[str, Sku]:
    product = Product.objects.create(name="Live merch")
    return {code: Sku.objects.create(product=product, code=code) for code in SKUS}


@pytest.fixture
def frozen_sandbox() -> TikTokSandbox:
    """A sandbox that is never served: files are all these tests need from it."""
    return TikTokSandbox(seed=3, clock=VirtualClock(STREAM_START, speed=0))


def add_products(sandbox: TikTokSandbox, remote_shop: RemoteShop) -> None:
    sandbox.store.add_product(
        remote_shop.id,
        "Oversized Logo Tee",
        skus=[
            {"seller_sku": "TEE-BLK-M", "price": SKUS["TEE-BLK-M"]},
            {"seller_sku": "TEE-WHT-L", "price": SKUS["TEE-WHT-L"]},
        ],
    )
    sandbox.store.add_product(
        remote_shop.id, "Cozy Hoodie", skus=[{"seller_sku": "HOOD-GRY-M", "price": "44.00"}]
    )
    sandbox.store.add_product(
        remote_shop.id, "Live Mug", skus=[{"seller_sku": "MUG-LIVE", "price": "14.00"}]
    )


def stream(sandbox: TikTokSandbox, remote_shop: RemoteShop, *, orders: int, seed: int = 4):
    plan = sandbox.simulate_live_stream(
        StreamSpec(
            creator_handle="mia.live",
            viewers=orders * 10,
            conversion_rate=0.1,
            duration=timedelta(hours=1),
            seed=seed,
            shop_id=remote_shop.id,
        )
    )
    sandbox.release_all(plan)
    return plan


@pytest.fixture
def remote_shop(frozen_sandbox: TikTokSandbox) -> RemoteShop:
    remote = frozen_sandbox.store.create_shop(name="Sandbox Shop", region="US")
    add_products(frozen_sandbox, remote)
    return remote


ImportFile = Callable[..., ImportRun]


@pytest.fixture
def import_path(shop: Shop) -> ImportFile:
    def run(path: Path, *, into: Shop | None = None) -> ImportRun:
        return import_file(
            shop=into or shop, path=path, file_name=path.name, source=ImportSource.CLI
        )

    return run


def fingerprint() -> dict[str, object]:
    """Everything an import writes, as comparable values."""
    return {
        "orders": sorted(
            Order.objects.values_list(
                "remote_order_id", "platform_status", "state", "remote_updated_at", "total_amount"
            )
        ),
        "lines": sorted(
            OrderLine.objects.values_list(
                "order__remote_order_id", "remote_line_id", "sale_price", "display_status"
            )
        ),
        "history": OrderStatusChange.objects.count(),
        "addresses": Address.objects.count(),
        "buyers": Buyer.objects.count(),
        "affiliate_rows": AffiliateOrderRow.objects.count(),
        "statement_rows": StatementTransaction.objects.count(),
        "returns": ReturnRecord.objects.count(),
    }


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: takes minutes (the 50 MB import); deselect with -m 'not slow'"
    )
