"""Seller Center order exports: every quirk, the API's shape, idempotent and newer re-imports."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from aftershow.imports.models import ImportStatus, IssueSeverity, ReturnRecord, ReturnSource
from aftershow.imports.tests.conftest import ImportFile, fingerprint, stream
from aftershow.imports.tests.files import (
    ORDER_ID,
    SKU_BLACK,
    SKU_WHITE,
    order_row,
    replace_in_file,
    write_export,
)
from aftershow.orders.models import (
    ChangeSource,
    Order,
    OrderLine,
    OrderState,
    OrderStatusChange,
    PlatformStatus,
)
from aftershow.sandbox.tiktok.exports import write_stream_export

pytestmark = pytest.mark.django_db

SECOND_ORDER = "576325155322949777"


def two_orders() -> list[dict[str, object]]:
    """Order 1: two units of black and one white (two rows, order amounts repeated on both);
    order 2: one hoodie."""
    common = {"Order Amount": Decimal("1,099.00".replace(",", "")), "Taxes": Decimal("8.04")}
    return [
        order_row(
            Quantity="2",
            **{
                "SKU Unit Original Price": Decimal("540.00"),
                "SKU Subtotal Before Discount": Decimal("1080.00"),
                "SKU Seller Discount": Decimal("81.00"),
                "SKU Platform Discount": Decimal("3.01"),
                "SKU Subtotal After Discount": Decimal("995.99"),
                **common,
            },
        ),
        order_row(
            **{
                "SKU ID": SKU_WHITE,
                "Seller SKU": "TEE-WHT-L",
                "Variation": "White, L",
                "SKU Unit Original Price": Decimal("89.00"),
                "SKU Subtotal Before Discount": Decimal("89.00"),
                "SKU Subtotal After Discount": Decimal("89.00"),
                **common,
            },
        ),
        order_row(
            SECOND_ORDER,
            **{
                "SKU ID": "1732943538931170000",
                "Seller SKU": "HOOD-GRY-M",
                "Created Time": "03/06/2026 10:02:11 AM",
                "Paid Time": "03/06/2026 10:02:40 AM",
                "Buyer Username": "mama.fan",
                "Buyer Nickname": "",
                "Recipient": "Liam Lee",
                "State": "California",
                "City": "Los Angeles",
                "Zipcode": "90021",
                "Address Line 1": "1200 S Alameda St",
                "Address Line 2": "",
            },
        ),
    ]


def expected_orders() -> dict[str, tuple[object, ...]]:
    return {
        ORDER_ID: (
            PlatformStatus.AWAITING_SHIPMENT,
            Decimal("1099.00"),  # the order amount, never the sum of its rows
            Decimal("1084.99"),  # subtotal: the rows' after-discount amounts summed
            Decimal("5.99"),
            Decimal("8.04"),
            Decimal("81.00"),
            Decimal("3.01"),
            datetime(2026, 3, 6, 19, 58, 54, tzinfo=UTC),
            datetime(2026, 3, 6, 19, 59, 15, tzinfo=UTC),
        ),
        SECOND_ORDER: (
            PlatformStatus.AWAITING_SHIPMENT,
            Decimal("27.58"),
            Decimal("19.99"),
            Decimal("5.99"),
            Decimal("1.60"),
            Decimal("0.00"),
            Decimal("0.00"),
            datetime(2026, 3, 6, 18, 2, 11, tzinfo=UTC),
            datetime(2026, 3, 6, 18, 2, 40, tzinfo=UTC),
        ),
    }


def stored_orders() -> dict[str, tuple[object, ...]]:
    return {
        order.remote_order_id: (
            order.platform_status,
            order.total_amount,
            order.subtotal,
            order.shipping_fee,
            order.tax,
            order.seller_discount,
            order.platform_discount,
            order.placed_at,
            order.paid_at,
        )
        for order in Order.objects.all()
    }


def stored_lines(order_id: str = ORDER_ID) -> list[tuple[object, ...]]:
    return list(
        OrderLine.objects.filter(order__remote_order_id=order_id)
        .order_by("id")
        .values_list(
            "remote_line_id",
            "seller_sku",
            "quantity",
            "original_price",
            "seller_discount",
            "platform_discount",
            "sale_price",
            "display_status",
        )
    )


EXPECTED_LINES = [
    (f"file:{SKU_BLACK}:1", "TEE-BLK-M", 1, Decimal("540.00"), Decimal("40.50"),
     Decimal("1.51"), Decimal("497.99"), "AWAITING_SHIPMENT"),
    (f"file:{SKU_BLACK}:2", "TEE-BLK-M", 1, Decimal("540.00"), Decimal("40.50"),
     Decimal("1.50"), Decimal("498.00"), "AWAITING_SHIPMENT"),
    (f"file:{SKU_WHITE}:1", "TEE-WHT-L", 1, Decimal("89.00"), Decimal("0.00"),
     Decimal("0.00"), Decimal("89.00"), "AWAITING_SHIPMENT"),
]  # fmt: skip


def test_an_order_export_becomes_orders_in_the_apis_shape(
    import_path: ImportFile, tmp_path: Path
) -> None:
    run = import_path(write_export(tmp_path / "All order-2026-03-06-21_00.csv", two_orders()))

    assert (run.status, run.detected_format, run.layout) == (
        ImportStatus.SUCCEEDED,
        "order_export",
        "us_2026",
    )
    assert (run.rows_read, run.orders_in_file, run.orders_created, run.rows_skipped) == (3, 2, 2, 0)
    assert stored_orders() == expected_orders()
    # One line per unit, as TikTok's API sends them; discounts split to the cent.
    assert stored_lines() == EXPECTED_LINES
    order = Order.objects.select_related("shipping_address", "buyer").get(remote_order_id=ORDER_ID)
    address = order.shipping_address
    assert address is not None
    assert (address.name, address.phone, address.line1, address.line2) == (
        "Olivia Smith",
        "(+1)2125550123",
        "12 Main St",
        "Apt 4B",
    )
    assert (address.city, address.state, address.postal_code, address.country) == (
        "Newton",
        "NJ",
        "07860",  # leading zero and trailing tab: still a five-character string
        "US",
    )
    assert order.buyer is not None and order.buyer.nickname == "Sunny"
    assert order.ship_by == datetime(2026, 3, 8, 19, 59, 15, tzinfo=UTC)
    assert (order.shipping_type, order.fulfillment_type) == ("SELLER", "FULFILLMENT_BY_SELLER")
    assert list(order.status_changes.values_list("source", "to_status", "reason")) == [
        (ChangeSource.IMPORT, PlatformStatus.AWAITING_SHIPMENT, "first seen")
    ]
    second = Order.objects.select_related("buyer").get(remote_order_id=SECOND_ORDER)
    assert second.buyer is not None and second.buyer.nickname == "mama.fan"


STYLES = {
    "no quirks": {"byte_order_mark": False, "trailing_tabs": False},
    "bom and tabs": {},
    "description row": {"description_row": True},
    "dollar signs": {"dollar_signs": True},
    "xlsx": {"file_format": "xlsx", "description_row": True},
}


@pytest.mark.parametrize("style", STYLES.values(), ids=STYLES.keys())
def test_every_quirk_gives_the_same_orders(
    style: dict[str, object], import_path: ImportFile, tmp_path: Path
) -> None:
    file_format = str(style.pop("file_format", "csv"))
    path = write_export(
        tmp_path / f"export.{file_format}", two_orders(), file_format=file_format, **style
    )
    run = import_path(path)

    assert (run.status, run.rows_read, run.orders_created) == (ImportStatus.SUCCEEDED, 3, 2)
    assert stored_orders() == expected_orders()
    assert stored_lines() == EXPECTED_LINES


def test_dollar_amounts_with_thousands_separators_are_in_the_file(tmp_path: Path) -> None:
    text = write_export(tmp_path / "x.csv", two_orders(), dollar_signs=True).read_text()
    assert '"$1,080.00"' in text
    assert "$1,099.00" in text


def test_multi_line_cells_are_one_row(import_path: ImportFile, tmp_path: Path) -> None:
    message = 'Gift for "mom",\nplease no receipt'
    path = write_export(tmp_path / "x.csv", [order_row(**{"Buyer Message": message})])
    # Two records (header and row) on seven lines: the cells hold five line breaks.
    assert path.read_text(encoding="utf-8-sig").count("\n") == 7
    run = import_path(path)
    assert (run.rows_read, run.orders_created) == (1, 1)
    assert Order.objects.get().buyer_message == message


@pytest.mark.parametrize("layout", ["us_2025", "us_2024"])
def test_older_layouts(layout: str, import_path: ImportFile, tmp_path: Path) -> None:
    run = import_path(write_export(tmp_path / "x.csv", two_orders(), layout=layout))
    assert (run.status, run.layout, run.orders_created) == (ImportStatus.SUCCEEDED, layout, 2)
    assert stored_orders() == expected_orders()
    address = Order.objects.get(remote_order_id=ORDER_ID).shipping_address
    assert address is not None and (address.line1, address.line2) == ("12 Main St", "Apt 4B")


def test_importing_the_same_file_twice_creates_nothing_twice(
    import_path: ImportFile, tmp_path: Path
) -> None:
    path = write_export(tmp_path / "x.csv", two_orders())
    import_path(path)
    before = fingerprint()

    again = import_path(path)

    assert (again.orders_created, again.orders_updated, again.orders_unchanged) == (0, 0, 2)
    assert fingerprint() == before
    assert OrderLine.objects.count() == 4
    assert OrderStatusChange.objects.count() == 2


def test_an_overlapping_export_adds_only_the_new_orders(
    import_path: ImportFile, tmp_path: Path
) -> None:
    first, second, third = two_orders()
    import_path(write_export(tmp_path / "a.csv", [first, second]))
    newer = order_row("576325155322951111", **{"Created Time": "03/06/2026 12:30:00 PM"})

    run = import_path(write_export(tmp_path / "b.csv", [newer, first, second, third]))

    assert (run.orders_created, run.orders_unchanged) == (2, 1)
    assert Order.objects.count() == 3
    assert OrderLine.objects.count() == 5


def shipped(row: dict[str, object]) -> dict[str, object]:
    return {
        **row,
        "Order Status": "Shipped",
        "Order Substatus": "In transit",
        "RTS Time": "03/07/2026 9:00:00 AM",
        "Shipped Time": "03/07/2026 3:10:00 PM",
        "Tracking ID": "9400111899223345566778",
        "Shipping Provider Name": "UPS",
    }


def test_a_newer_export_moves_statuses_as_a_webhook_would(
    import_path: ImportFile, tmp_path: Path
) -> None:
    first, second, third = two_orders()
    old = write_export(tmp_path / "old.csv", [first, second, third])
    import_path(old)
    cancelled = {
        **third,
        "Order Status": "Canceled",
        "Order Substatus": "Canceled",
        "Cancelation/Return Type": "Cancel",
        "Cancelled Time": "03/06/2026 10:40:00 AM",
        "Cancel By": "Buyer",
    }

    run = import_path(
        write_export(tmp_path / "new.csv", [shipped(first), shipped(second), cancelled])
    )

    assert (run.orders_updated, run.orders_unchanged) == (2, 0)
    order = Order.objects.get(remote_order_id=ORDER_ID)
    assert (order.platform_status, order.state) == (PlatformStatus.IN_TRANSIT, OrderState.SHIPPED)
    assert order.collected_at == datetime(2026, 3, 7, 23, 10, tzinfo=UTC)
    assert set(order.lines.values_list("display_status", flat=True)) == {"IN_TRANSIT"}
    other = Order.objects.get(remote_order_id=SECOND_ORDER)
    assert (other.platform_status, other.state) == (PlatformStatus.CANCELLED, OrderState.CANCELLED)
    assert other.cancelled_at == datetime(2026, 3, 6, 18, 40, tzinfo=UTC)
    assert list(
        OrderStatusChange.objects.filter(order=order)
        .order_by("id")
        .values_list("source", "from_status", "to_status", "to_state")
    ) == [
        ("import", "", "AWAITING_SHIPMENT", "new"),
        ("import", "AWAITING_SHIPMENT", "IN_TRANSIT", "shipped"),
    ]

    delivered = {
        **shipped(first),
        "Order Substatus": "Delivered",
        "Delivered Time": "03/09/2026 1:00:00 PM",
    }
    import_path(write_export(tmp_path / "newest.csv", [delivered, shipped(second)]))
    order.refresh_from_db()
    assert (order.platform_status, order.state) == (PlatformStatus.DELIVERED, OrderState.DONE)

    # The first export again: older than what is stored, so nothing rolls back.
    before = fingerprint()
    stale = import_path(old)
    assert (stale.orders_stale, stale.orders_updated, stale.orders_created) == (2, 0, 0)
    assert fingerprint() == before


def test_completed_with_a_later_instant_beats_delivered(
    import_path: ImportFile, tmp_path: Path
) -> None:
    delivered = {**shipped(order_row()), "Order Substatus": "Delivered",
                 "Delivered Time": "03/09/2026 1:00:00 PM"}  # fmt: skip
    completed = {**delivered, "Order Status": "Completed", "Order Substatus": "Completed"}
    import_path(write_export(tmp_path / "completed.csv", [completed]))

    run = import_path(write_export(tmp_path / "delivered.csv", [delivered]))

    assert run.orders_stale == 1
    assert Order.objects.get().platform_status == PlatformStatus.COMPLETED


def test_returned_units_become_return_records(import_path: ImportFile, tmp_path: Path) -> None:
    first, second, _ = two_orders()
    returned = {
        **first,
        "Order Status": "Completed",
        "Order Substatus": "Completed",
        "Cancelation/Return Type": "Return/Refund",
        "Sku Quantity of return": "1",
        "Delivered Time": "03/09/2026 1:00:00 PM",
    }
    path = write_export(tmp_path / "x.csv", [returned, {**second, **{
        k: returned[k] for k in ("Order Status", "Order Substatus", "Cancelation/Return Type",
                                 "Delivered Time")}}])  # fmt: skip

    run = import_path(path)
    again = import_path(path)

    record = ReturnRecord.objects.get()
    assert (record.source, record.remote_order_id, record.remote_sku_id, record.quantity) == (
        ReturnSource.ORDER_EXPORT,
        ORDER_ID,
        SKU_BLACK,
        1,
    )
    assert (record.return_type, record.unit_price) == ("Return/Refund", Decimal("540.00"))
    assert (run.records_created, again.records_created, again.records_unchanged) == (1, 0, 1)


def test_row_problems_skip_their_order_and_name_the_row_and_column(
    import_path: ImportFile, tmp_path: Path
) -> None:
    first, second, third = two_orders()
    broken_time = order_row("576325155322950100", **{"Paid Time": "13/45/2026 9:00:00 AM"})
    unknown_status = order_row("576325155322950200", **{"Order Status": "Teleported"})
    broken_amount = order_row("576325155322950300", **{"Taxes": "1.2.3"})
    odd_state = order_row("576325155322950400", State="Ontario")
    rows = [first, second, broken_time, unknown_status, broken_amount, third, third, odd_state]

    run = import_path(write_export(tmp_path / "x.csv", rows))

    assert run.status == ImportStatus.SUCCEEDED
    assert (run.rows_read, run.orders_in_file, run.orders_created) == (8, 3, 3)
    assert (run.rows_skipped, run.errors_count, run.warnings_count) == (4, 3, 1)
    issues = list(run.issues.values_list("row_number", "column", "severity"))
    assert issues == [
        (4, "Paid Time", IssueSeverity.ERROR),
        (5, "Order Status", IssueSeverity.ERROR),
        (6, "Taxes", IssueSeverity.ERROR),
        (8, "", IssueSeverity.SKIPPED),
        (9, "State", IssueSeverity.WARNING),
    ]
    assert "13/45/2026" in run.issues.get(row_number=4).message
    assert set(Order.objects.values_list("remote_order_id", flat=True)) == {
        ORDER_ID,
        SECOND_ORDER,
        "576325155322950400",
    }
    assert Order.objects.get(remote_order_id="576325155322950400").shipping_address.state == ""
    assert OrderLine.objects.filter(order__remote_order_id=SECOND_ORDER).count() == 1


def test_a_sandbox_stream_round_trips_through_the_export(
    frozen_sandbox, remote_shop, import_path: ImportFile, tmp_path: Path, catalog
) -> None:
    plan = stream(frozen_sandbox, remote_shop, orders=120)
    frozen_sandbox.advance(timedelta(hours=2))  # every remorse window is over
    path = tmp_path / "All order-2026-03-06-22_00.csv"
    rows = write_stream_export(frozen_sandbox, plan, path)

    run = import_path(path)

    assert (run.status, run.rows_read, run.orders_created, run.errors_count) == (
        ImportStatus.SUCCEEDED,
        rows,
        120,
        0,
    )
    for planned in plan.orders:
        wire = frozen_sandbox.store.get_order(planned.order_id)
        order = Order.objects.select_related("shipping_address").get(
            remote_order_id=planned.order_id
        )
        assert order.platform_status == wire["status"]
        assert order.total_amount == Decimal(wire["payment"]["total_amount"])
        assert order.subtotal == Decimal(wire["payment"]["sub_total"])
        assert order.tax == Decimal(wire["payment"]["tax"])
        lines = list(order.lines.all())
        assert Counter(line.seller_sku for line in lines) == Counter(planned.seller_skus)
        assert sum(line.sale_price for line in lines) == order.subtotal
        assert {line.sku_id for line in lines} <= {sku.pk for sku in catalog.values()}
        if wire["status"] == "AWAITING_SHIPMENT":
            assert order.shipping_address is not None
            assert order.shipping_address.postal_code == wire["recipient_address"]["postal_code"]


def test_a_tab_after_an_id_is_not_part_of_it(import_path: ImportFile, tmp_path: Path) -> None:
    path = write_export(tmp_path / "x.csv", [order_row()])
    assert f"{ORDER_ID}\t" in path.read_text(encoding="utf-8-sig")
    replace_in_file(path, "11:58:54 AM\t", "11:58:54 AM \t ")
    import_path(path)
    assert Order.objects.get().remote_order_id == ORDER_ID
