"""Background jobs of the stock sync. Thin: they call the engine."""

from __future__ import annotations

from django_tasks import task

from aftershow.shops.models import Shop
from aftershow.stocksync.engine import drift_check, engine_run


@task()
def run_engine() -> int:
    """Push stock to every channel while there is work (returns the listings pushed); a run
    that finds another engine holding the lease returns at once."""
    return engine_run().pushed


@task()
def check_drift(shop_id: int) -> int:
    """Read the shop's quantities back and owe a push wherever they differ."""
    shop = Shop.objects.get(pk=shop_id)
    return drift_check(shop=shop).corrected
