"""Four channels selling the same SKU at the same moment never oversell and never deduct twice.

Stock K, demand 2K (one unit per order), spread over a TikTok, a Shopify, an Amazon and an eBay
shop. Each worker ingests its own channel's orders and, interleaved, redelivers its
neighbour's (a retried webhook racing the first delivery), so every order is inserted by two
workers at once. On PostgreSQL the workers are real processes, each with its own connection,
running truly concurrent transactions; on SQLite they are threads (SQLite serialises writers).
"""

from __future__ import annotations

import multiprocessing
import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.db.models import Count, Sum

from aftershow.catalog.models import Sku
from aftershow.inventory.models import (
    AllocationStatus,
    MovementKind,
    StockAllocation,
    StockLevel,
    StockMovement,
    Warehouse,
)
from aftershow.inventory.services import order_lines_allocate, stock_receive
from aftershow.inventory.tests.helpers import (
    T0,
    assert_ledger_matches_levels,
    incoming_order,
    make_sku,
    snapshot,
)
from aftershow.inventory.tests.workers import Batch, process_main, run_allocations, run_plan
from aftershow.orders.models import ChangeSource, Order, OrderState
from aftershow.orders.services import orders_upsert
from aftershow.shops.models import Channel, Shop

STOCK = 40
CHANNELS = (Channel.TIKTOK, Channel.SHOPIFY, Channel.AMAZON, Channel.EBAY)
WORKERS = len(CHANNELS)
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="real parallel processes need PostgreSQL"
)


def _setup() -> tuple[Sku, Warehouse, list[Shop], list[list[Batch]]]:
    warehouse = Warehouse.objects.create(code="MAIN", name="Main", is_default=True)
    tee = make_sku("TEE-BLK-M")
    stock_receive(sku=tee, warehouse=warehouse, quantity=STOCK, key="po-1")
    shops = [
        Shop.objects.create(name=f"{channel} shop", channel=channel, remote_shop_id=f"shop-{n}")
        for n, channel in enumerate(CHANNELS)
    ]
    per_channel = 2 * STOCK // WORKERS
    batches: list[list[Batch]] = []
    for n, shop in enumerate(shops):
        orders = [
            incoming_order(
                f"{shop.channel}-{i}",
                [("TEE-BLK-M", 1)],
                status="ON_HOLD" if i % 3 == 0 else "AWAITING_SHIPMENT",
                placed=T0 + timedelta(seconds=i * WORKERS + n),
            )
            for i in range(per_channel)
        ]
        batches.append([(shop.pk, orders[i : i + 3]) for i in range(0, per_channel, 3)])
    # Worker n: its own channel's batches, interleaved with its neighbour's (redeliveries).
    plans = []
    for n in range(WORKERS):
        own, neighbour = batches[n], batches[(n + 1) % WORKERS]
        plans.append([batch for pair in zip(own, neighbour, strict=True) for batch in pair])
    return tee, warehouse, shops, plans


def _assert_exactly_the_stock_was_allocated(tee: Sku, warehouse: Warehouse) -> None:
    level = StockLevel.objects.get(sku=tee, warehouse=warehouse)
    assert (level.on_hand, level.allocated, level.available) == (STOCK, STOCK, 0)
    assert Order.objects.count() == 2 * STOCK
    # Every line has exactly one allocation row: none dropped, none doubled.
    rows = StockAllocation.objects.values("status").annotate(n=Count("pk"), units=Sum("quantity"))
    assert {row["status"]: (row["n"], row["units"]) for row in rows} == {
        AllocationStatus.ALLOCATED: (STOCK, STOCK),
        AllocationStatus.BACKORDERED: (STOCK, STOCK),
    }
    assert StockAllocation.objects.values("order_line").distinct().count() == 2 * STOCK
    states = dict(Order.objects.values("state").annotate(n=Count("pk")).values_list("state", "n"))
    assert states == {OrderState.NEW: STOCK, OrderState.BACKORDERED: STOCK}
    kinds = dict(
        StockMovement.objects.values("kind").annotate(n=Count("pk")).values_list("kind", "n")
    )
    assert kinds == {MovementKind.RECEIPT: 1, MovementKind.ALLOCATION: STOCK}
    # Allocated orders hold an allocation movement each; backordered ones hold none.
    allocated_orders = set(
        StockAllocation.objects.filter(status=AllocationStatus.ALLOCATED).values_list(
            "order_id", flat=True
        )
    )
    moved_orders = set(
        StockMovement.objects.filter(kind=MovementKind.ALLOCATION).values_list(
            "order_id", flat=True
        )
    )
    assert moved_orders == allocated_orders
    assert_ledger_matches_levels()


def _run_in_processes(job: str, work: list) -> None:
    # Fork where there is fork: a spawned worker spends seconds (tens on a loaded CI machine)
    # importing Django before it can run anything, and the race would then barely happen.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    start = context.Barrier(len(work))
    errors = context.Queue()
    db_name = connection.settings_dict["NAME"]
    # A forked child must not inherit an open connection: it would share the socket.
    connections.close_all()
    workers = [
        context.Process(target=process_main, args=(db_name, job, plan, start, errors))
        for plan in work
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    reported = []
    while not errors.empty():
        reported.append(errors.get(timeout=1))
    assert reported == []
    assert [worker.exitcode for worker in workers] == [0] * len(workers)


def _run_in_threads(target, work: list) -> None:
    start = threading.Barrier(len(work))
    errors: list[BaseException] = []

    def run(plan) -> None:
        try:
            target(plan, start=start)
        except BaseException as error:  # reported below, in the test thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(plan,)) for plan in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert not any(thread.is_alive() for thread in threads)


def _redeliver_everything(shops: list[Shop], plans: list[list[Batch]]) -> None:
    by_shop = {shop.pk: shop for shop in shops}
    for plan in plans:
        for shop_id, orders in plan:
            orders_upsert(shop=by_shop[shop_id], incoming=orders, source=ChangeSource.POLL)
    again = order_lines_allocate(order_ids=list(Order.objects.values_list("pk", flat=True)))
    assert (again.allocated, again.backordered, again.unchanged) == (0, 0, 2 * STOCK)


@postgres_only
@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_four_channels_in_parallel_processes_allocate_exactly_the_stock():
    tee, warehouse, shops, plans = _setup()

    _run_in_processes("ingest", plans)

    _assert_exactly_the_stock_was_allocated(tee, warehouse)
    before = snapshot()
    _redeliver_everything(shops, plans)
    assert snapshot() == before


@pytest.mark.django_db(transaction=True)
def test_four_channels_in_parallel_threads_allocate_exactly_the_stock():
    tee, warehouse, shops, plans = _setup()

    _run_in_threads(run_plan, plans)

    _assert_exactly_the_stock_was_allocated(tee, warehouse)
    before = snapshot()
    _redeliver_everything(shops, plans)
    assert snapshot() == before


def _orders_without_allocations() -> tuple[Sku, Warehouse, list[list[list[int]]]]:
    """2K orders ingested before any warehouse existed (so nothing was allocated), then stock K.

    Each worker allocates every order, in chunks taken in a different order: the chunks
    overlap, so the workers contend for the same order rows and the same stock row.
    """
    tee = make_sku("TEE-BLK-M")
    shop = Shop.objects.create(name="TikTok", channel=Channel.TIKTOK, remote_shop_id="s")
    orders_upsert(
        shop=shop,
        incoming=[
            incoming_order(str(i), [("TEE-BLK-M", 1)], placed=T0 + timedelta(seconds=i))
            for i in range(2 * STOCK)
        ],
        source=ChangeSource.IMPORT,
    )
    assert StockAllocation.objects.count() == 0
    warehouse = Warehouse.objects.create(code="MAIN", name="Main", is_default=True)
    stock_receive(sku=tee, warehouse=warehouse, quantity=STOCK, key="po-1")
    ids = list(Order.objects.order_by("pk").values_list("pk", flat=True))
    chunks = [ids[i : i + 7] for i in range(0, len(ids), 7)]
    work = [chunks[n:] + chunks[:n] if n % 2 else list(reversed(chunks)) for n in range(WORKERS)]
    return tee, warehouse, work


@postgres_only
@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_parallel_processes_allocating_the_same_orders_deduct_once():
    tee, warehouse, work = _orders_without_allocations()

    _run_in_processes("allocate", work)

    _assert_exactly_the_stock_was_allocated(tee, warehouse)


@pytest.mark.django_db(transaction=True)
def test_parallel_threads_allocating_the_same_orders_deduct_once():
    tee, warehouse, work = _orders_without_allocations()

    _run_in_threads(run_allocations, work)

    _assert_exactly_the_stock_was_allocated(tee, warehouse)
