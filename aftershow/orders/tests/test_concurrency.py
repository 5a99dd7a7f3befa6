"""Two workers ingesting the same orders at the same moment store each order once.

Threads with their own database connections: on PostgreSQL these are real concurrent
transactions (the unique constraint and the order-by-order retry decide); on SQLite the
write lock serialises them.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from aftershow.orders.models import ChangeSource, Order, OrderLine, OrderStatusChange
from aftershow.orders.services import orders_upsert
from aftershow.orders.tests.test_services import incoming
from aftershow.shops.models import Channel, Shop


@pytest.mark.django_db(transaction=True)
def test_parallel_ingest_of_the_same_orders_stores_each_once():
    shop = Shop.objects.create(name="S", channel=Channel.TIKTOK, remote_shop_id="1")
    batch = [incoming(str(1000 + n), buyer=f"u{n % 7}") for n in range(60)]
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def ingest(order_of_batch):
        try:
            start.wait()
            orders_upsert(shop=shop, incoming=order_of_batch, source=ChangeSource.WEBHOOK)
        except BaseException as error:  # reported below, in the test thread
            errors.append(error)
        finally:
            connection.close()

    # Four workers, two batch orders, all at once.
    workers = [
        threading.Thread(target=ingest, args=(batch if n % 2 else list(reversed(batch)),))
        for n in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert errors == []
    assert Order.objects.count() == 60
    assert OrderLine.objects.count() == 120
    # One "first seen" history row per order, however many workers saw it first.
    assert OrderStatusChange.objects.count() == 60
