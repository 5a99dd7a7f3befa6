"""``RowInsert`` (aftershow/orders/bulk.py): values converted as Django converts them, rows
converted ahead store the same, and the ids it returns are the rows' own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from aftershow.orders.bulk import RowInsert, _sqlite_datetime
from aftershow.orders.models import Address, Order
from aftershow.orders.tests.factories import ShopFactory

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's datetime text")
def test_sqlite_datetimes_are_the_text_django_writes() -> None:
    convert = _sqlite_datetime(connection)
    start = datetime(2026, 3, 8, 9, 59, 59, tzinfo=UTC)
    for step in range(0, 400_000, 997):
        for microseconds in (0, 1, 999_999):
            moment = start + timedelta(minutes=step, microseconds=microseconds)
            for zone in (UTC, ZoneInfo("America/Los_Angeles"), timezone(timedelta(hours=-5))):
                value = moment.astimezone(zone)
                assert convert(value) == connection.ops.adapt_datetimefield_value(value)


def test_rows_converted_ahead_store_the_same_and_ids_are_the_rows() -> None:
    shop = ShopFactory()
    names = ("remote_order_id", "platform_status", "placed_at", "remote_updated_at", "tax")
    insert = RowInsert(Order, (*names, "shop"))
    moment = datetime(2026, 3, 6, 19, 0, 0, 250_000, tzinfo=UTC)
    rows = [
        (f"9{number:017d}", "AWAITING_SHIPMENT", moment, moment, Decimal(f"1.{number:02d}"))
        for number in range(5)
    ]
    direct = insert.execute_returning_ids((*row, shop.pk) for row in rows[:3])
    ahead = insert.execute_returning_ids(
        ((*insert.converted(row), shop.pk) for row in rows[3:]), converted=True
    )
    ids = direct + ahead
    assert ids == sorted(ids) and len(set(ids)) == 5
    stored = {
        order.pk: (
            order.remote_order_id,
            order.platform_status,
            order.placed_at,
            order.remote_updated_at,
            order.tax,
        )
        for order in Order.objects.filter(pk__in=ids)
    }
    assert [stored[pk] for pk in ids] == rows


def test_returned_ids_follow_the_rows_after_other_inserts() -> None:
    Address.objects.create(city="Before")
    insert = RowInsert(Address, ("city",))
    first = insert.execute_returning_ids([("A",), ("B",)])
    Address.objects.filter(city="Before").delete()
    second = insert.execute_returning_ids([("C",), ("D",), ("E",)])
    cities = dict(Address.objects.values_list("pk", "city"))
    assert [cities[pk] for pk in first + second] == ["A", "B", "C", "D", "E"]
