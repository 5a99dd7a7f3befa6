"""New orders of a file are inserted from rows the reader prepared (aftershow/imports/ingest.py):
what they store is exactly what ``orders_upsert`` stores for the same orders, and a batch whose
insert meets a unique violation takes ``orders_upsert``'s way instead, losing nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import IntegrityError

from aftershow.catalog.models import Sku
from aftershow.imports import ingest, services
from aftershow.imports.models import ImportStatus
from aftershow.imports.tests.conftest import ImportFile
from aftershow.imports.tests.files import order_row, write_export
from aftershow.orders.models import Order, OrderLine, OrderStatusChange
from aftershow.orders.tests.factories import ShopFactory
from aftershow.sandbox.tiktok.exports import write_synthetic_export
from aftershow.shops.models import Shop

pytestmark = pytest.mark.django_db

IDS = [f"5763251553229{number:05d}" for number in range(21, 30)]
IGNORED = {"id", "shop", "created_at", "updated_at", "order", "at", "shipping_address"}


def varied_export(path: Path) -> Path:
    """Orders of every kind of row the file path knows: several SKUs, units, discounts split
    over units, a SKU without an id, statuses that force a state, an empty address."""
    return write_export(
        path,
        [
            order_row(IDS[0]),
            order_row(
                IDS[1],
                **{
                    "SKU ID": "1729385739601",
                    "Quantity": "3",
                    "SKU Platform Discount": "1.00",
                    "SKU Seller Discount": "0.02",
                },
            ),
            order_row(IDS[1], **{"SKU ID": "1729385739602", "Seller SKU": "MUG-LIVE"}),
            order_row(IDS[2], **{"SKU ID": "", "Seller SKU": "HOOD-GRY-M", "Quantity": "2"}),
            order_row(IDS[3], **{"Order Status": "Shipped", "Order Substatus": "Delivered"}),
            order_row(
                IDS[4],
                **{"Order Status": "Canceled", "Cancelled Time": "03/06/2026 01:00:00 PM"},
            ),
            order_row(IDS[5], **{"Order Status": "Unpaid", "Paid Time": ""}),
            order_row(
                IDS[6],
                **{
                    "Address Line 1": "",
                    "Address Line 2": "",
                    "City": "",
                    "Zipcode": "",
                    "State": "",
                    "Country": "",
                    "Buyer Username": "",
                },
            ),
            order_row(IDS[7], **{"Order Status": "Completed", "Order Substatus": ""}),
        ],
    )


def stored(shop: Shop) -> dict[str, Any]:
    """Everything stored for the shop's orders, keyed by remote ids, without row ids/times."""

    def values(instance: Any) -> dict[str, Any]:
        return {
            field.name: getattr(instance, field.attname)
            for field in instance._meta.concrete_fields
            if field.name not in IGNORED
        }

    orders = Order.objects.filter(shop=shop).select_related("shipping_address", "buyer")
    result: dict[str, Any] = {}
    for order in orders:
        result[order.remote_order_id] = {
            "order": values(order) | {"buyer": order.buyer and order.buyer.buyer_key},
            "address": order.shipping_address and values(order.shipping_address),
            "buyer": order.buyer and values(order.buyer) | {"first_seen_at": None},
            "lines": sorted(
                (values(line) for line in OrderLine.objects.filter(order=order)),
                key=lambda line: line["remote_line_id"],
            ),
            "history": [values(change) for change in OrderStatusChange.objects.filter(order=order)],
        }
    return result


def test_new_orders_store_what_orders_upsert_stores(
    import_path: ImportFile,
    catalog: dict[str, Sku],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = varied_export(tmp_path / "export.csv")
    prepared = import_path(path)
    assert prepared.status == ImportStatus.SUCCEEDED
    assert prepared.orders_created == len(IDS) - 1

    other = ShopFactory(name="Same file, upsert's way", region="US")
    inserts: list[int] = []

    def refuse(*, shop: Shop, batch: Any) -> int:
        inserts.append(len(batch))
        raise IntegrityError("as if another ingest had stored one of them")

    monkeypatch.setattr(ingest, "_insert", refuse)
    upserted = import_path(path, into=other)
    assert inserts == [len(IDS) - 1]
    assert upserted.status == ImportStatus.SUCCEEDED
    assert upserted.orders_created == prepared.orders_created

    mine, theirs = stored(prepared.shop), stored(other)
    assert _diff(mine, theirs) == []
    assert len(mine) == len(IDS) - 1
    # The file's variety reached the comparison.
    lines = OrderLine.objects.filter(order__shop=prepared.shop)
    assert lines.count() == 1 + 3 + 1 + 2 + 1 + 1 + 1 + 1 + 1
    assert lines.filter(sku__isnull=False).count() >= 5
    assert len({order["order"]["state"] for order in mine.values()}) >= 3
    assert any(order["address"] is None for order in mine.values())
    assert any(order["buyer"] is None for order in mine.values())


def test_a_large_file_stores_the_same_both_ways(
    import_path: ImportFile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "export.csv"
    write_synthetic_export(path, orders=60, seed=7)
    monkeypatch.setattr(services, "ORDER_BATCH", 25)
    prepared = import_path(path)

    def refuse(*, shop: Shop, batch: Any) -> int:
        raise IntegrityError("as if another ingest had stored one of them")

    monkeypatch.setattr(ingest, "_insert", refuse)
    other = ShopFactory(name="Same file, upsert's way", region="US")
    upserted = import_path(path, into=other)
    assert prepared.orders_created == upserted.orders_created == 60
    assert _diff(stored(prepared.shop), stored(other)) == []


def test_an_insert_that_meets_a_stored_order_rolls_back_and_loses_nothing(
    import_path: ImportFile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = varied_export(tmp_path / "export.csv")
    insert = ingest._insert
    calls = 0

    def raced(*, shop: Shop, batch: Any) -> int:
        # Another ingest stores the first order between the look-up and the insert.
        nonlocal calls
        calls += 1
        Order.objects.create(
            shop=shop,
            remote_order_id=IDS[0],
            platform_status="AWAITING_SHIPMENT",
            placed_at="2026-03-06T19:00:00Z",
            remote_updated_at="2026-03-06T19:00:00Z",
        )
        return insert(shop=shop, batch=batch)

    monkeypatch.setattr(ingest, "_insert", raced)
    run = import_path(path)
    assert calls == 1
    assert run.status == ImportStatus.SUCCEEDED
    # The savepoint took the raced order back too; upsert's way stored every order once.
    assert run.orders_created == len(IDS) - 1
    assert Order.objects.filter(shop=run.shop).count() == len(IDS) - 1
    assert OrderStatusChange.objects.filter(order__shop=run.shop).count() == len(IDS) - 1


def _diff(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two ``stored`` results differ, one line per value (readable on failure)."""
    if isinstance(a, dict) and isinstance(b, dict):
        found = []
        for key in sorted(a.keys() | b.keys()):
            found += _diff(a.get(key), b.get(key), f"{path}.{key}")
        return found
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [
            line
            for index, (x, y) in enumerate(zip(a, b, strict=True))
            for line in _diff(x, y, f"{path}[{index}]")
        ]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]
