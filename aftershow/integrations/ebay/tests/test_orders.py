"""eBay orders: the mapping on a named fixture, and the pull against the sandbox over HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from aftershow.core.http import ChannelError
from aftershow.core.timeutils import utcnow
from aftershow.integrations.ebay import sync
from aftershow.integrations.ebay.mapping import EbayOrder, to_incoming_order
from aftershow.integrations.ebay.sync import EbayConnector
from aftershow.integrations.models import SyncCursor
from aftershow.orders.models import Order, OrderLine, PlatformStatus
from aftershow.orders.types import IncomingAddress, IncomingLine

FIXTURES = Path(__file__).parent / "fixtures"


def test_order_maps_to_unit_prices_and_the_earliest_ship_by():
    raw = json.loads((FIXTURES / "order_two_lines.json").read_text())
    order = to_incoming_order(EbayOrder.model_validate(raw))
    assert (order.remote_order_id, order.platform_status) == (
        "07-12345-67890",
        PlatformStatus.AWAITING_SHIPMENT,
    )
    assert order.placed_at == datetime(2026, 3, 6, 19, 4, 12, tzinfo=UTC)
    assert order.remote_updated_at == datetime(2026, 3, 6, 19, 9, 30, 250_000, tzinfo=UTC)
    assert order.paid_at == datetime(2026, 3, 6, 19, 4, 15, tzinfo=UTC)
    assert order.ship_by == datetime(2026, 3, 8, 4, 59, 59, tzinfo=UTC)
    assert order.buyer_user_id == "vinyl_fan_88"
    assert order.address == IncomingAddress(
        name="Jamie Buyer",
        phone="5555550100",
        line1="12 Elm St",
        line2="Apt 4",
        city="Springfield",
        state="OH",
        postal_code="45501",
        country="US",
        full_address="12 Elm St, Apt 4, Springfield, OH, 45501",
    )
    assert order.lines == [
        IncomingLine(
            remote_line_id="10055512345001",
            remote_product_id="110551234567",
            remote_sku_id="TEE-BLK-M",
            seller_sku="TEE-BLK-M",
            product_name="Oversized Logo Tee",
            sku_name="",
            quantity=3,
            currency="USD",
            original_price=Decimal("14.99"),
            sale_price=Decimal("13.49"),
            platform_discount=Decimal("0.00"),
            seller_discount=Decimal("1.50"),
            display_status="NOT_STARTED",
        ),
        IncomingLine(
            remote_line_id="10055512345002",
            remote_product_id="110551234999",
            remote_sku_id="MUG-LIVE",
            seller_sku="MUG-LIVE",
            product_name="Live Mug",
            sku_name="",
            quantity=1,
            currency="USD",
            original_price=Decimal("20.00"),
            sale_price=Decimal("20.00"),
            platform_discount=Decimal("0.00"),
            seller_discount=Decimal("0.00"),
            display_status="NOT_STARTED",
        ),
    ]
    assert (order.subtotal, order.seller_discount, order.shipping_fee, order.tax) == (
        Decimal("64.97"),
        Decimal("5.00"),
        Decimal("4.99"),
        Decimal("5.20"),
    )
    assert order.total_amount == Decimal("70.16")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"cancelStatus": {"cancelState": "CANCELED"}}, PlatformStatus.CANCELLED),
        ({"orderPaymentStatus": "PENDING"}, PlatformStatus.UNPAID),
        ({"orderFulfillmentStatus": "IN_PROGRESS"}, PlatformStatus.PARTIALLY_SHIPPING),
        ({"orderFulfillmentStatus": "FULFILLED"}, PlatformStatus.IN_TRANSIT),
        ({"orderPaymentStatus": "FULLY_REFUNDED"}, PlatformStatus.CANCELLED),
    ],
)
def test_status_mapping(changes, expected):
    raw = json.loads((FIXTURES / "order_two_lines.json").read_text())
    assert to_incoming_order(EbayOrder.model_validate({**raw, **changes})).platform_status == (
        expected
    )


def pull(shop):
    return EbayConnector(shop).pull_orders(until=utcnow() + timedelta(minutes=1))


def test_pull_ingests_every_order_once_with_line_quantities(ebay_sandbox, ebay_shop):
    ebay_sandbox.add_item("TEE-BLK-M", quantity=50, price="14.99")
    created = [ebay_sandbox.create_order(lines=[("TEE-BLK-M", 3)]) for _ in range(250)]
    report = pull(ebay_shop)
    assert report.pages == 3  # 100 a page
    assert report.orders_seen == 250
    assert report.result.created == 250
    assert set(Order.objects.values_list("remote_order_id", flat=True)) == {
        order["orderId"] for order in created
    }
    line = OrderLine.objects.get(order__remote_order_id=created[0]["orderId"])
    assert (line.seller_sku, line.quantity, line.sale_price) == ("TEE-BLK-M", 3, Decimal("14.99"))
    # Pulling again re-reads the overlap and changes nothing.
    again = pull(ebay_shop)
    assert (again.result.created, again.result.updated) == (0, 0)
    assert Order.objects.count() == 250


def test_a_cancellation_arrives_with_the_next_pull(ebay_sandbox, ebay_shop):
    ebay_sandbox.add_item("MUG", quantity=5)
    order = ebay_sandbox.create_order(lines=[("MUG", 1)])
    pull(ebay_shop)
    ebay_sandbox.store.cancel_order(order["orderId"], modified_at=utcnow() + timedelta(seconds=1))
    report = pull(ebay_shop)
    assert report.result.updated == 1
    assert Order.objects.get().platform_status == PlatformStatus.CANCELLED


def test_pull_resumes_where_it_failed_and_skips_no_order_that_moved_up(
    ebay_sandbox, ebay_shop, settings, monkeypatch
):
    monkeypatch.setattr(sync, "ORDERS_PAGE_SIZE", 10)
    settings.HTTP_MAX_ATTEMPTS = 1
    ebay_sandbox.add_item("MUG", quantity=500)
    two_hours_ago = utcnow() - timedelta(hours=2)
    created = [
        ebay_sandbox.create_order(
            lines=[("MUG", 1)], created_at=two_hours_ago + timedelta(seconds=n)
        )
        for n in range(30)
    ]
    until = utcnow() - timedelta(hours=1)
    connector = EbayConnector(ebay_shop)
    # Page 1 lands, page 2 fails: the cursor keeps the offset and the total it saw.
    ebay_sandbox.faults.fail_next(1, "500", after=1)
    with pytest.raises(ChannelError):
        connector.pull_orders(until=until)
    assert SyncCursor.objects.get().page_token == "10:30"
    assert Order.objects.count() == 10
    # Meanwhile three orders from the first page (newest first) are modified: they leave the
    # window and every order behind them moves up three places.
    for order in created[-3:]:
        ebay_sandbox.store.update_order(order["orderId"], orderFulfillmentStatus="IN_PROGRESS")
    report = connector.pull_orders(until=until)
    assert report.rereads == 1
    assert Order.objects.count() == 30
    assert SyncCursor.objects.get().page_token == ""
