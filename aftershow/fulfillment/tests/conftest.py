"""Fixtures for fulfillment tests: a default warehouse in Roanoke VA (ZIP3 240, the origin of
the only USPS zone chart in carrier-rates.md), SKUs with weights and sizes, confirmed orders, a
label store under the test's temporary directory, and a frozen clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import time_machine

from aftershow.catalog.models import Product, Sku, Tag
from aftershow.fulfillment.models import CarrierRule, SkuLocation
from aftershow.inventory.models import Warehouse
from aftershow.orders.models import Address, Order, OrderLine, OrderState
from aftershow.orders.tests.factories import (
    AddressFactory,
    OrderFactory,
    OrderLineFactory,
    ShopFactory,
)
from aftershow.shops.models import Channel, Shop

# Wednesday afternoon: three business days before the weekend.
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


@pytest.fixture
def frozen_now() -> Iterator[datetime]:
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture(autouse=True)
def label_store(settings: Any, tmp_path: Path) -> Path:
    settings.FULFILLMENT_LABEL_DIR = tmp_path / "labels"
    settings.FULFILLMENT_AGGREGATOR_PROVIDER = "sandbox"
    return tmp_path / "labels"


@pytest.fixture
def warehouse(db: None) -> Warehouse:
    return Warehouse.objects.create(
        code="ROA",
        name="Aftershow Warehouse",
        address_line1="100 Main St",
        city="Roanoke",
        state="VA",
        postal_code="24001",
        is_default=True,
    )


@pytest.fixture
def shopify_shop(db: None) -> Shop:
    return ShopFactory(channel=Channel.SHOPIFY, name="Web store")


@pytest.fixture
def tiktok_shop_row(db: None) -> Shop:
    """A TikTok shop connected through the Partner API (nothing listens at the address)."""
    return ShopFactory(
        channel=Channel.TIKTOK, name="TikTok store", api_base_url="http://127.0.0.1:9"
    )


@pytest.fixture
def tiktok_file_shop(db: None) -> Shop:
    """A TikTok shop served through files: no API address (``aftershow.imports.tracking``)."""
    return ShopFactory(channel=Channel.TIKTOK, name="TikTok store (files)")


@pytest.fixture
def no_rules(db: None) -> None:
    """Start from an empty rule table (the migration seeds defaults)."""
    CarrierRule.objects.all().delete()


def make_sku(
    code: str,
    *,
    weight_oz: str,
    dims: tuple[str, str, str] = ("10", "8", "1"),
    bin_location: str = "",
    tags: tuple[str, ...] = (),
) -> Sku:
    product, _ = Product.objects.get_or_create(name=f"Product {code}")
    sku = Sku.objects.create(
        product=product,
        code=code,
        name=f"Item {code}",
        weight_oz=Decimal(weight_oz),
        length_in=Decimal(dims[0]),
        width_in=Decimal(dims[1]),
        height_in=Decimal(dims[2]),
    )
    for name in tags:
        tag, _ = Tag.objects.get_or_create(name=name)
        sku.tags.add(tag)
    if bin_location:
        SkuLocation.objects.create(sku=sku, bin_location=bin_location)
    return sku


OrderMaker = Callable[..., Order]


@pytest.fixture
def make_order(db: None) -> OrderMaker:
    def make(
        shop: Shop,
        *skus: Sku,
        quantity: int = 1,
        address: Address | None = None,
        state: str = OrderState.CONFIRMED,
        paid_at: datetime = NOW - timedelta(hours=2),
        ship_by: datetime | None = NOW + timedelta(days=2),
        total: str = "19.99",
        delivery_option_name: str = "Standard Shipping",
        **fields: Any,
    ) -> Order:
        order = OrderFactory(
            shop=shop,
            state=state,
            placed_at=paid_at,
            paid_at=paid_at,
            ship_by=ship_by,
            total_amount=Decimal(total),
            delivery_option_name=delivery_option_name,
            shipping_address=address or AddressFactory(),
            **fields,
        )
        for sku in skus:
            OrderLineFactory(order=order, sku=sku, seller_sku=sku.code, quantity=quantity)
        return order

    return make


def lines_of(order: Order) -> list[OrderLine]:
    return list(order.lines.order_by("id"))
