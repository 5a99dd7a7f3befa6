"""The stock rules fire once per level crossed, re-arm when stock comes back, and hold under
concurrent workers."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connections

from aftershow.alerts.evaluation import projected_stockout, stock_alerts_evaluate
from aftershow.alerts.models import Alert, AlertKind, AlertLevel, AlertSettings
from aftershow.alerts.services import alert_raise, alert_settings_update, sku_threshold_set
from aftershow.catalog.models import Sku
from aftershow.core.timeutils import utcnow
from aftershow.creators.models import Creator, LiveSession, LiveSessionStatus
from aftershow.inventory.models import AdjustmentReason, ReorderPolicy, Warehouse
from aftershow.inventory.planning import stock_plan_save
from aftershow.inventory.services import stock_adjust, stock_receive
from aftershow.inventory.tests.helpers import incoming_order
from aftershow.orders.models import ChangeSource
from aftershow.orders.services import orders_upsert
from aftershow.shops.models import Shop

pytestmark = pytest.mark.django_db


def _low_stock(sku: Sku) -> list[tuple[str, int]]:
    return list(
        Alert.objects.filter(sku=sku, kind=AlertKind.LOW_STOCK)
        .order_by("pk")
        .values_list("level", "episode")
    )


def _set(sku: Sku, warehouse: Warehouse, quantity: int) -> None:
    from aftershow.inventory.services import stock_count

    stock_count(sku=sku, warehouse=warehouse, counted=quantity)


def test_each_level_fires_once_and_rearms_when_stock_rises_above_it(
    tee: Sku, warehouse: Warehouse
) -> None:
    stock_receive(sku=tee, warehouse=warehouse, quantity=250)
    assert stock_alerts_evaluate() == 0

    _set(tee, warehouse, 150)
    assert stock_alerts_evaluate() == 1
    assert stock_alerts_evaluate() == 0  # same level again: no repeat
    _set(tee, warehouse, 120)
    assert stock_alerts_evaluate() == 0
    assert _low_stock(tee) == [("yellow", 1)]

    _set(tee, warehouse, 99)
    _set(tee, warehouse, 49)
    assert stock_alerts_evaluate() == 2  # orange and red, once each
    assert _low_stock(tee) == [("yellow", 1), ("orange", 1), ("red", 1)]

    _set(tee, warehouse, 60)  # above red only: red re-arms, the others stay open
    assert stock_alerts_evaluate() == 0
    _set(tee, warehouse, 40)
    assert stock_alerts_evaluate() == 1
    assert _low_stock(tee)[-1] == ("red", 2)

    _set(tee, warehouse, 500)  # restocked: everything re-arms
    assert stock_alerts_evaluate() == 0
    assert not Alert.objects.filter(sku=tee, rearmed_at__isnull=True).exists()
    _set(tee, warehouse, 180)
    assert stock_alerts_evaluate() == 1
    assert _low_stock(tee)[-1] == ("yellow", 2)
    alert = Alert.objects.get(sku=tee, level="yellow", episode=2)
    assert alert.title == "Yellow stock alert: TEE-BLK-M has 180 left"
    assert alert.data == {"available": 180, "threshold": 200}


def test_per_sku_thresholds_replace_the_global_default(tee: Sku, warehouse: Warehouse) -> None:
    alert_settings_update(yellow_below=30, orange_below=20, red_below=10)
    stock_receive(sku=tee, warehouse=warehouse, quantity=25)
    assert stock_alerts_evaluate() == 1
    assert _low_stock(tee) == [("yellow", 1)]

    sku_threshold_set(sku=tee, yellow=1000, orange=500, red=26)
    assert stock_alerts_evaluate() == 2
    assert Alert.objects.get(sku=tee, level="red").data == {"available": 25, "threshold": 26}


def test_thresholds_out_of_order_are_refused_and_nothing_changes(tee: Sku) -> None:
    from aftershow.alerts.services import AlertConfigError

    with pytest.raises(AlertConfigError):
        sku_threshold_set(sku=tee, yellow=100, orange=100, red=50)
    with pytest.raises(AlertConfigError):
        alert_settings_update(red_below=300)
    assert AlertSettings.objects.get(pk=1).red_below == 50
    assert not hasattr(tee, "alert_threshold") or tee.alert_threshold is None


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_raise_one_alert_per_level() -> None:
    """Eight threads (own connections) raise the same alert at once: exactly one row, and the
    others get None, by the unique constraint alone."""
    results: list[object] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        try:
            barrier.wait()
            results.append(
                alert_raise(
                    kind=AlertKind.LOW_STOCK,
                    level=AlertLevel.RED,
                    subject_key="sku:77",
                    title="t",
                    body="b",
                )
            )
        finally:
            connections.close_all()  # this thread's own connection

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 8
    assert sum(result is not None for result in results) == 1
    assert Alert.objects.filter(subject_key="sku:77").count() == 1


def test_velocity_and_projected_stockout(tee: Sku, warehouse: Warehouse, shop: Shop) -> None:
    alert_settings_update(velocity_units=30, velocity_window_minutes=60, stockout_horizon_hours=3)
    stock_receive(sku=tee, warehouse=warehouse, quantity=1000)
    orders = [incoming_order(f"o{n}", [("TEE-BLK-M", 10)]) for n in range(3)]
    orders_upsert(shop=shop, incoming=orders, source=ChangeSource.WEBHOOK)
    now = utcnow()

    assert stock_alerts_evaluate(now=now) == 1
    (velocity,) = Alert.objects.filter(kind=AlertKind.VELOCITY)
    assert velocity.title == "Urgent restock: TEE-BLK-M sold 30 in 60 min"
    # 970 left at 30 an hour: 32 h, beyond the 3 h horizon.
    assert not Alert.objects.filter(kind=AlertKind.STOCKOUT).exists()

    stock_adjust(sku=tee, warehouse=warehouse, quantity=-900, reason=AdjustmentReason.DAMAGED)
    stock_alerts_evaluate(now=now)
    (stockout,) = Alert.objects.filter(kind=AlertKind.STOCKOUT)
    # 70 left at 30 an hour: 2 h 20 min.
    assert stockout.title == "TEE-BLK-M runs out in about 2 h 20 min"
    assert stockout.data["runs_out_at"] == (now + timedelta(minutes=140)).isoformat()

    # An hour and a bit later nothing sold in the window: velocity re-arms.
    later = now + timedelta(minutes=61)
    stock_alerts_evaluate(now=later)
    velocity.refresh_from_db()
    assert velocity.rearmed_at == later
    assert Alert.objects.filter(kind=AlertKind.VELOCITY).count() == 1


def test_projected_stockout_arithmetic() -> None:
    now = utcnow()
    at = projected_stockout(available=4800, sold=500, window=timedelta(hours=1), now=now)
    assert at == now + timedelta(hours=9.6)
    assert projected_stockout(available=10, sold=0, window=timedelta(hours=1), now=now) is None


def test_shortfall_three_days_before_a_planned_live(
    tee: Sku, warehouse: Warehouse, shop: Shop
) -> None:
    stock_receive(sku=tee, warehouse=warehouse, quantity=4000)
    creator = Creator.objects.create(handle="glowwithmia", followers=500_000)
    now = utcnow()
    session = LiveSession.objects.create(
        creator=creator,
        shop=shop,
        status=LiveSessionStatus.PLANNED,
        starts_at=now + timedelta(days=2, hours=20),
    )
    far = LiveSession.objects.create(
        creator=creator,
        shop=shop,
        status=LiveSessionStatus.PLANNED,
        starts_at=now + timedelta(days=4),
    )
    for planned in (session, far):
        stock_plan_save(
            session=planned,
            followers=500_000,
            view_rate=Decimal("0.10"),
            conversion_rate=Decimal("0.08"),
            safety_factor=Decimal("1.2"),
            first_batch_share=Decimal("0.5"),
            lines=[(tee, 1)],
        )

    stock_alerts_evaluate(now=now)

    (short,) = Alert.objects.filter(kind=AlertKind.SHORTFALL)
    assert short.subject_key == f"session:{session.pk}:sku:{tee.pk}"
    assert short.data == {"session_id": session.pk, "planned": 4800, "missing": 800}
    assert short.title.startswith("Short 800 x TEE-BLK-M for the live of @glowwithmia")

    stock_receive(sku=tee, warehouse=warehouse, quantity=800)
    stock_alerts_evaluate(now=now)
    short.refresh_from_db()
    assert short.rearmed_at is not None
    assert Alert.objects.filter(kind=AlertKind.SHORTFALL).count() == 1


def test_reorder_point_alert(tee: Sku, warehouse: Warehouse, shop: Shop) -> None:
    ReorderPolicy.objects.create(sku=tee, lead_time_days=5, safety_stock=20, cover_days=10)
    stock_receive(sku=tee, warehouse=warehouse, quantity=500)
    # 280 units over the last 14 days = 20 a day; reorder point 20 x 5 + 20 = 120.
    orders_upsert(
        shop=shop,
        incoming=[incoming_order(f"r{n}", [("TEE-BLK-M", 40)]) for n in range(7)],
        source=ChangeSource.WEBHOOK,
    )
    alert_settings_update(velocity_units=10_000)
    stock_alerts_evaluate()
    assert not Alert.objects.filter(kind=AlertKind.REORDER).exists()  # 220 > 120

    stock_adjust(sku=tee, warehouse=warehouse, quantity=-110, reason=AdjustmentReason.LOST)
    stock_alerts_evaluate()
    (reorder,) = Alert.objects.filter(kind=AlertKind.REORDER)
    # 110 available; order up to 120 + 20 x 10 = 320: 210 units.
    assert reorder.title == "Reorder TEE-BLK-M: 210 units suggested"
    assert reorder.data == {"reorder_point": 120, "suggested": 210}
