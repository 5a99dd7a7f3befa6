"""orders_upsert: idempotent, never rolls an order back, history for every change."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from aftershow.catalog.models import ChannelListing, Product, Sku
from aftershow.orders.models import (
    Buyer,
    ChangeSource,
    Order,
    OrderLine,
    OrderState,
    OrderStatusChange,
)
from aftershow.orders.services import orders_upsert
from aftershow.orders.types import IncomingAddress, IncomingLine, IncomingOrder
from aftershow.shops.models import Channel, Shop

T0 = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)


@pytest.fixture
def shop(db):
    return Shop.objects.create(name="S", channel=Channel.TIKTOK, remote_shop_id="1")


def line(line_id: str, sku: str = "TEE-BLK-M", remote_sku: str = "9001") -> IncomingLine:
    return IncomingLine(
        remote_line_id=line_id,
        remote_product_id="500",
        remote_sku_id=remote_sku,
        seller_sku=sku,
        product_name="Cloud Tee",
        sku_name="Black, M",
        quantity=1,
        currency="USD",
        original_price=Decimal("19.99"),
        sale_price=Decimal("19.99"),
        platform_discount=Decimal("0"),
        seller_discount=Decimal("0"),
        display_status="AWAITING_SHIPMENT",
    )


def incoming(order_id="100", status="ON_HOLD", updated=T0, address=None, buyer="u1", lines=None):
    return IncomingOrder(
        remote_order_id=order_id,
        platform_status=status,
        placed_at=T0,
        remote_updated_at=updated,
        buyer_user_id=buyer,
        buyer_nickname="sunny",
        address=address or IncomingAddress(),
        lines=lines if lines is not None else [line(f"{order_id}-1"), line(f"{order_id}-2")],
        currency="USD",
        subtotal=Decimal("39.98"),
        shipping_fee=Decimal("0"),
        tax=Decimal("0"),
        seller_discount=Decimal("0"),
        platform_discount=Decimal("0"),
        total_amount=Decimal("39.98"),
        ship_by=T0 + timedelta(days=2),
    )


LA = IncomingAddress(
    name="Jane Doe", line1="1600 W Sunset Blvd", city="Los Angeles", state="CA", postal_code="90026"
)


def test_new_orders_are_created_with_lines_buyer_and_history(shop):
    result = orders_upsert(
        shop=shop, incoming=[incoming("100"), incoming("101", buyer="u2")], source=ChangeSource.POLL
    )
    assert (result.created, result.updated, result.stale) == (2, 0, 0)
    assert Order.objects.count() == 2
    assert OrderLine.objects.count() == 4
    assert Buyer.objects.count() == 2
    order = Order.objects.get(remote_order_id="100")
    assert order.state == OrderState.NEW
    assert order.shipping_address is None  # ON_HOLD: TikTok hides the address
    history = list(order.status_changes.values_list("from_status", "to_status", "source"))
    assert history == [("", "ON_HOLD", "poll")]


def test_same_batch_twice_creates_nothing_twice(shop):
    batch = [incoming("100"), incoming("101")]
    orders_upsert(shop=shop, incoming=batch, source=ChangeSource.POLL)
    second = orders_upsert(shop=shop, incoming=batch, source=ChangeSource.WEBHOOK)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 2)
    assert Order.objects.count() == 2
    assert OrderLine.objects.count() == 4
    # Nothing changed, so no new history rows.
    assert OrderStatusChange.objects.count() == 2


def test_newer_update_moves_status_and_fills_the_address(shop):
    orders_upsert(shop=shop, incoming=[incoming("100")], source=ChangeSource.POLL)
    later = incoming("100", status="AWAITING_SHIPMENT", updated=T0 + timedelta(hours=1), address=LA)
    orders_upsert(shop=shop, incoming=[later], source=ChangeSource.WEBHOOK)
    order = Order.objects.select_related("shipping_address").get()
    assert order.platform_status == "AWAITING_SHIPMENT"
    assert order.shipping_address is not None
    assert (order.shipping_address.city, order.shipping_address.state) == ("Los Angeles", "CA")
    assert list(order.status_changes.order_by("id").values_list("from_status", "to_status")) == [
        ("", "ON_HOLD"),
        ("ON_HOLD", "AWAITING_SHIPMENT"),
    ]


def test_older_update_never_rolls_an_order_back(shop):
    newer = incoming("100", status="AWAITING_SHIPMENT", updated=T0 + timedelta(hours=1), address=LA)
    orders_upsert(shop=shop, incoming=[newer], source=ChangeSource.WEBHOOK)
    result = orders_upsert(shop=shop, incoming=[incoming("100")], source=ChangeSource.POLL)
    assert result.stale == 1
    assert Order.objects.get().platform_status == "AWAITING_SHIPMENT"


def test_cancelled_order_is_cancelled_in_aftershow_too(shop):
    orders_upsert(shop=shop, incoming=[incoming("100")], source=ChangeSource.POLL)
    cancelled = incoming("100", status="CANCELLED", updated=T0 + timedelta(minutes=20))
    orders_upsert(shop=shop, incoming=[cancelled], source=ChangeSource.WEBHOOK)
    assert Order.objects.get().state == OrderState.CANCELLED


def test_duplicates_inside_one_batch_keep_the_newest(shop):
    old = incoming("100")
    new = dataclasses.replace(
        old, platform_status="AWAITING_SHIPMENT", remote_updated_at=T0 + timedelta(minutes=61)
    )
    result = orders_upsert(shop=shop, incoming=[new, old], source=ChangeSource.POLL)
    assert result.created == 1
    assert Order.objects.get().platform_status == "AWAITING_SHIPMENT"


def test_lines_map_to_master_skus_by_listing_then_by_code(shop):
    product = Product.objects.create(name="Cloud Tee")
    listed = Sku.objects.create(product=product, code="TEE-BLK-M")
    by_code = Sku.objects.create(product=product, code="TEE-WHT-L")
    ChannelListing.objects.create(
        sku=listed, shop=shop, remote_product_id="500", remote_sku_id="9001"
    )
    lines = [line("a", "WHATEVER", "9001"), line("b", "TEE-WHT-L", "9002"), line("c", "NOPE", "9")]
    orders_upsert(shop=shop, incoming=[incoming("100", lines=lines)], source=ChangeSource.POLL)
    assert dict(OrderLine.objects.values_list("remote_line_id", "sku_id")) == {
        "a": listed.pk,
        "b": by_code.pk,
        "c": None,
    }


def test_lines_without_a_remote_sku_id_map_by_their_own_seller_sku(shop):
    # Seller Center exports carry no SKU ID for some lines: each still finds its own SKU.
    product = Product.objects.create(name="Cloud Tee")
    black = Sku.objects.create(product=product, code="TEE-BLK-M")
    white = Sku.objects.create(product=product, code="TEE-WHT-L")
    lines = [line("a", "TEE-BLK-M", ""), line("b", "TEE-WHT-L", ""), line("c", "NOPE", "")]
    orders_upsert(shop=shop, incoming=[incoming("100", lines=lines)], source=ChangeSource.POLL)
    assert dict(OrderLine.objects.values_list("remote_line_id", "sku_id")) == {
        "a": black.pk,
        "b": white.pk,
        "c": None,
    }


def test_broken_address_is_still_ingested(shop):
    broken = IncomingAddress(name="No Street", line1="Main St", city="Springfield", state="IL")
    order = incoming("100", status="AWAITING_SHIPMENT", address=broken)
    assert orders_upsert(shop=shop, incoming=[order], source=ChangeSource.POLL).created == 1
    stored = Order.objects.select_related("shipping_address").get()
    assert stored.shipping_address is not None
    assert stored.shipping_address.postal_code == ""


def test_the_platform_line_adopts_the_files_provisional_line_and_its_stock(shop):
    from aftershow.inventory.models import StockAllocation, StockMovement, Warehouse
    from aftershow.inventory.services import stock_receive
    from aftershow.inventory.tests.helpers import level_of, make_sku

    warehouse = Warehouse.objects.create(code="MAIN", name="Main", is_default=True)
    tee = make_sku("TEE-BLK-M")
    stock_receive(sku=tee, warehouse=warehouse, quantity=10)
    from_file = incoming(
        "100",
        status="AWAITING_SHIPMENT",
        lines=[line("file:9001:1"), line("file:9001:2"), line("file:9002:1", "CAP", "9002")],
    )
    orders_upsert(shop=shop, incoming=[from_file], source=ChangeSource.IMPORT)
    provisional = dict(OrderLine.objects.values_list("remote_line_id", "pk"))
    assert level_of(tee, warehouse) == (10, 2, 0)

    from_api = dataclasses.replace(
        from_file,
        remote_updated_at=T0 + timedelta(minutes=5),
        lines=[line("5770001"), line("5770002"), line("5770003", "CAP", "9002")],
    )
    orders_upsert(shop=shop, incoming=[from_api], source=ChangeSource.POLL)

    # One line per unit, renamed in place (oldest provisional line of the SKU first).
    assert dict(OrderLine.objects.values_list("remote_line_id", "pk")) == {
        "5770001": provisional["file:9001:1"],
        "5770002": provisional["file:9001:2"],
        "5770003": provisional["file:9002:1"],
    }
    # The allocations stayed on their lines: no stock taken twice.
    assert level_of(tee, warehouse) == (10, 2, 0)
    assert StockAllocation.objects.count() == 2
    assert StockMovement.objects.filter(kind="allocation").count() == 2


def test_an_api_line_of_another_sku_does_not_adopt_a_provisional_line(shop):
    from_file = incoming("100", status="AWAITING_SHIPMENT", lines=[line("file:9001:1")])
    orders_upsert(shop=shop, incoming=[from_file], source=ChangeSource.IMPORT)
    from_api = dataclasses.replace(
        from_file,
        remote_updated_at=T0 + timedelta(minutes=5),
        lines=[line("5770001", "CAP", "9002")],
    )
    orders_upsert(shop=shop, incoming=[from_api], source=ChangeSource.POLL)
    assert sorted(OrderLine.objects.values_list("remote_line_id", flat=True)) == [
        "5770001",
        "file:9001:1",
    ]


def test_a_corrected_address_survives_a_re_read_but_not_a_platform_change(shop):
    from aftershow.orders.models import Address
    from aftershow.risk.models import AddressCorrection

    first = incoming("100", status="AWAITING_SHIPMENT", address=LA)
    orders_upsert(shop=shop, incoming=[first], source=ChangeSource.POLL)
    order = Order.objects.get()
    fixed = Address.objects.create(line1="1600 W Sunset Blvd Apt 2", city="Los Angeles")
    AddressCorrection.objects.create(
        order=order, from_address=order.shipping_address, to_address=fixed
    )
    Order.objects.filter(pk=order.pk).update(shipping_address=fixed)

    # The poll's overlap reads the same version again: nothing to change.
    result = orders_upsert(shop=shop, incoming=[first], source=ChangeSource.POLL)
    assert (result.updated, result.unchanged) == (0, 1)
    assert Order.objects.get().shipping_address_id == fixed.pk

    moved = dataclasses.replace(
        first,
        remote_updated_at=T0 + timedelta(minutes=2),
        address=dataclasses.replace(LA, line1="1 Main St"),
    )
    orders_upsert(shop=shop, incoming=[moved], source=ChangeSource.WEBHOOK)
    stored = Order.objects.select_related("shipping_address").get()
    assert stored.shipping_address is not None
    assert stored.shipping_address.line1 == "1 Main St"
    assert Address.objects.count() == 3
