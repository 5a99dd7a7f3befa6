"""What the parallel workers of the concurrency tests run, in threads or in processes.

A forked process inherits Django already set up, and opens its own database connection (the
test closes its own before forking, so no connection is shared). A spawned process (where fork
is unavailable) starts a fresh interpreter: it sets Django up itself, against the test
database whose name the test hands it (the settings read it from ``PGDATABASE``).
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Sequence
from typing import Any

from aftershow.orders.types import IncomingOrder

# One step of a worker's plan: a batch of orders from one shop, or a bare re-allocation of
# order ids (what a repair job or a second worker would do).
Batch = tuple[int, Sequence[IncomingOrder]]


def run_plan(plan: Sequence[Batch], *, start: Any) -> None:
    from aftershow.orders.models import ChangeSource
    from aftershow.orders.services import orders_upsert
    from aftershow.shops.models import Shop

    shops = {shop.pk: shop for shop in Shop.objects.all()}
    start.wait(timeout=60)
    for shop_id, orders in plan:
        orders_upsert(shop=shops[shop_id], incoming=orders, source=ChangeSource.WEBHOOK)


def run_allocations(order_id_chunks: Sequence[Sequence[int]], *, start: Any) -> None:
    from aftershow.inventory.services import order_lines_allocate

    start.wait(timeout=60)
    for order_ids in order_id_chunks:
        order_lines_allocate(order_ids=order_ids)


def process_main(db_name: str, job: str, work: Any, start: Any, errors: Any) -> None:
    """Entry point of one worker process: ``job`` run on ``work``, any failure reported."""
    try:
        from django.apps import apps

        if not apps.ready:  # spawned, not forked
            os.environ["DJANGO_SETTINGS_MODULE"] = "aftershow.settings"
            os.environ["PGDATABASE"] = db_name
            import django

            django.setup()
        if job == "ingest":
            run_plan(work, start=start)
        else:
            run_allocations(work, start=start)
    except BaseException:
        errors.put(traceback.format_exc())
        raise
