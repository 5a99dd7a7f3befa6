"""Live-stream plans: volume, waves, anomaly rates, reproducibility, and release into the API."""

from __future__ import annotations

import itertools
import math
import statistics
from collections import Counter
from datetime import timedelta

import pytest

from aftershow.sandbox.tiktok import (
    AddressKind,
    Anomaly,
    AnomalyRates,
    Shop,
    StreamPlan,
    StreamSpec,
    TikTokSandbox,
    VirtualClock,
)

from .conftest import APP_KEY, APP_SECRET, STREAM_START, SignedClient

SKU_MIX = {"TEE-BLK-M": 5.0, "TEE-WHT-L": 3.0, "HOOD-GRY-M": 1.5, "MUG-LIVE": 0.5}
PO_BOX_PREFIXES = ("PO BOX ", "P.O. BOX ", "POST OFFICE BOX ", "POB ")
BIG = StreamSpec(
    creator_handle="@glowbymaya",
    followers=120_000,
    viewers=500_000,
    conversion_rate=0.02,
    duration=timedelta(hours=3),
    sku_mix=SKU_MIX,
    seed=11,
)


@pytest.fixture
def big_plan(sandbox: TikTokSandbox, shop: Shop) -> StreamPlan:
    return sandbox.simulate_live_stream(BIG)


def test_order_count_is_viewers_times_conversion_rounded_half_up():
    assert StreamSpec(viewers=500_000, conversion_rate=0.02).order_count == 10_000
    assert StreamSpec(viewers=1_250, conversion_rate=0.002).order_count == 3  # 2.5 -> 3
    assert StreamSpec(viewers=1_249, conversion_rate=0.002).order_count == 2


def test_anomaly_rates_are_hit_within_tolerance(big_plan: StreamPlan):
    rates = AnomalyRates()
    n = len(big_plan.orders)
    share = {name: count / n for name, count in big_plan.anomaly_counts().items()}

    assert n == 10_000
    assert share[Anomaly.BROKEN_ADDRESS] == pytest.approx(rates.broken_address, abs=0.008)
    assert share[Anomaly.PO_BOX] == pytest.approx(rates.po_box, abs=0.006)
    assert share[Anomaly.REMOTE_DESTINATION] == pytest.approx(rates.remote_destination, abs=0.008)
    assert share[Anomaly.REPEAT_BUYER] == pytest.approx(rates.repeat_buyer, abs=0.01)
    assert share[Anomaly.RETURN_HISTORY] == pytest.approx(rates.return_history, abs=0.008)
    assert share[Anomaly.CANCELLED_IN_REMORSE] == pytest.approx(rates.cancellation, abs=0.008)
    assert share[Anomaly.MULTI_LINE] == pytest.approx(rates.multi_line, abs=0.015)
    broken_kinds = (Anomaly.MISSING_STREET_NUMBER, Anomaly.MISSING_ZIP, Anomaly.ZIP_STATE_MISMATCH)
    assert sum(share[kind] for kind in broken_kinds) == pytest.approx(share[Anomaly.BROKEN_ADDRESS])


def test_rates_can_be_turned_off(sandbox: TikTokSandbox, shop: Shop):
    none = AnomalyRates(
        broken_address=0,
        po_box=0,
        remote_destination=0,
        repeat_buyer=0,
        return_history=0,
        cancellation=0,
        multi_line=0,
    )
    plan = sandbox.simulate_live_stream(
        StreamSpec(viewers=50_000, conversion_rate=0.02, anomalies=none, seed=2)
    )

    assert plan.anomaly_counts() == Counter()
    assert plan.history_orders == []
    assert {order.address_kind for order in plan.orders} == {AddressKind.VALID}


def test_arrivals_come_in_waves_not_evenly(big_plan: StreamPlan):
    counts = big_plan.per_minute_counts()
    mean = statistics.fmean(counts)
    variation = statistics.pstdev(counts) / mean
    poisson_variation = 1 / math.sqrt(mean)  # what evenly random arrivals would give

    assert len(counts) == 180
    assert variation > 4 * poisson_variation
    # Showcases every 8-15 minutes, then the last-chance spike in the final 8 minutes.
    regular = [s for s in big_plan.showcases if not s.is_last_chance]
    gaps = [(b.offset - a.offset).total_seconds() for a, b in itertools.pairwise(regular)]
    assert all(480 <= gap <= 900 for gap in gaps)
    assert big_plan.showcases[-1].is_last_chance
    assert big_plan.showcases[-1].offset >= timedelta(minutes=172)
    assert statistics.fmean(counts[-8:]) > 1.5 * mean
    # Ramp-up: the first five minutes are quieter than the stream's average.
    assert statistics.fmean(counts[:3]) < mean


def test_showcased_sku_dominates_its_burst(big_plan: StreamPlan):
    total_units = Counter(sku for order in big_plan.orders for sku in order.seller_skus)
    base_share = {sku: count / sum(total_units.values()) for sku, count in total_units.items()}
    for index, show in enumerate(big_plan.showcases):
        units = [sku for o in big_plan.orders if o.showcase == index for sku in o.seller_skus]
        if len(units) < 50:
            continue
        share = units.count(show.seller_sku) / len(units)
        assert share > base_share[show.seller_sku] + 0.25, (index, show.seller_sku, share)


def test_a_seed_reproduces_the_plan(shop: Shop):
    def fingerprint(seed: int) -> list[tuple]:
        sandbox = TikTokSandbox(
            app_key=APP_KEY, app_secret=APP_SECRET, clock=VirtualClock(STREAM_START, speed=0)
        )
        own = sandbox.store.create_shop()
        for sku, price in (("A", "10.00"), ("B", "25.00"), ("C", "7.50")):
            sandbox.store.add_product(own.id, sku, skus=[{"seller_sku": sku, "price": price}])
        plan = sandbox.simulate_live_stream(
            StreamSpec(viewers=20_000, conversion_rate=0.05, seed=seed)
        )
        sandbox.stop()
        return [
            (o.offset, o.seller_skus, o.anomalies, o.address_kind, o.cancel_at) for o in plan.orders
        ]

    assert fingerprint(4) == fingerprint(4)
    assert fingerprint(4) != fingerprint(5)


def test_repeat_buyers_order_again_within_minutes(big_plan: StreamPlan):
    by_buyer: dict[str, list] = {}
    for order in big_plan.with_anomaly(Anomaly.REPEAT_BUYER):
        by_buyer.setdefault(order.buyer_user_id, []).append(order)

    assert by_buyer
    for orders in by_buyer.values():
        assert 2 <= len(orders) <= 4
        spread = orders[-1].offset - orders[0].offset
        assert spread <= timedelta(minutes=8)
        assert len({o.draft.auto_combine_group_id for o in orders}) == 1
        assert len({o.draft.buyer.recipient for o in orders}) == 1


def test_released_orders_match_the_plan_through_the_api(
    sandbox: TikTokSandbox, shop: Shop, api: SignedClient
):
    plan = sandbox.simulate_live_stream(
        StreamSpec(viewers=100_000, conversion_rate=0.02, sku_mix=SKU_MIX, seed=3)
    )
    sandbox.release_all(plan)
    assert sandbox.clock.now() == plan.end

    def detail(order_ids: list[str]) -> dict[str, dict]:
        found: dict[str, dict] = {}
        for start in range(0, len(order_ids), 50):
            envelope = api.call(
                "GET",
                "/order/202309/orders",
                query={"ids": ",".join(order_ids[start : start + 50])},
            )
            found.update({o["id"]: o for o in envelope["data"]["orders"]})
        return found

    orders = detail([o.order_id for o in plan.orders])
    assert len(orders) == len(plan.orders) == 2_000
    for planned in plan.orders:
        order = orders[planned.order_id]
        assert [i["seller_sku"] for i in order["line_items"]] == list(planned.seller_skus)
        assert order["create_time"] == int(planned.arrival.timestamp())
        released = planned.draft.paid_time + 3600 <= plan.end.timestamp()  # from payment
        address = order["recipient_address"]
        if planned.cancel_at is not None and planned.cancel_at <= plan.end:
            assert Anomaly.CANCELLED_IN_REMORSE in planned.anomalies
            assert order["status"] == "CANCELLED"
            assert order["cancel_time"] == int(planned.cancel_at.timestamp())
            continue
        assert order["status"] == ("AWAITING_SHIPMENT" if released else "ON_HOLD")
        if not released:
            assert address["address_line1"] == ""
            continue
        state = next(
            d["iso_code"] for d in address["district_info"] if d["address_level_name"] == "State"
        )
        if Anomaly.MISSING_ZIP in planned.anomalies:
            assert address["postal_code"] == ""
        if Anomaly.MISSING_STREET_NUMBER in planned.anomalies:
            assert not address["address_line1"][0].isdigit()
        if Anomaly.PO_BOX in planned.anomalies:
            assert address["address_line1"].upper().startswith(PO_BOX_PREFIXES)
        if Anomaly.REMOTE_DESTINATION in planned.anomalies:
            assert state[3:] in {"AK", "HI", "PR", "GU", "VI", "AS", "MP", "AA", "AE", "AP"}
        elif not planned.anomalies & {Anomaly.BROKEN_ADDRESS}:
            assert state[3:] not in {"AK", "HI", "PR", "GU", "VI", "AS", "MP"}


def test_returning_buyers_have_searchable_delivered_history(
    sandbox: TikTokSandbox, shop: Shop, api: SignedClient
):
    plan = sandbox.simulate_live_stream(StreamSpec(viewers=100_000, conversion_rate=0.02, seed=8))
    sandbox.release_all(plan)
    returning = {o.buyer_user_id for o in plan.with_anomaly(Anomaly.RETURN_HISTORY)}
    before_stream = int(plan.start.timestamp())

    history, token = [], ""
    while True:
        query = {"page_size": 100, **({"page_token": token} if token else {})}
        data = api.call(
            "POST",
            "/order/202309/orders/search",
            query=query,
            body={"create_time_lt": before_stream},
        )["data"]
        history.extend(data["orders"])
        token = data["next_page_token"]
        if not token:
            break
    returns, token = [], ""
    while True:
        query = {"page_size": 50, **({"page_token": token} if token else {})}
        data = api.call(
            "POST",
            "/return_refund/202309/returns/search",
            query=query,
            body={"order_ids": [o["id"] for o in history]},
        )["data"]
        returns.extend(data["return_orders"])
        token = data["next_page_token"]
        if not token:
            break

    assert returning
    assert {o["user_id"] for o in history} == returning
    assert {o["status"] for o in history} == {"DELIVERED"}
    assert len(history) == len(plan.history_orders)
    assert all(o["update_time"] < before_stream for o in history)
    returned_buyers = {
        next(o["user_id"] for o in history if o["id"] == r["order_id"]) for r in returns
    }
    assert returned_buyers == returning
    assert sorted(r["return_id"] for r in returns) == sorted(
        r["return_id"] for r in plan.history_returns
    )
    assert {r["return_status"] for r in returns} == {"RETURN_OR_REFUND_REQUEST_COMPLETE"}


def test_play_releases_orders_as_virtual_time_passes(sandbox: TikTokSandbox, shop: Shop):
    plan = sandbox.simulate_live_stream(
        StreamSpec(viewers=10_000, conversion_rate=0.02, duration=timedelta(minutes=20), seed=6)
    )
    assert sandbox.store.order_count(shop.id) == 0

    sandbox.play(plan, speed=1200)  # 20 minutes in one second
    assert sandbox.wait_played(timeout=20)

    assert sandbox.store.order_count(shop.id) == len(plan.orders) + len(plan.history_orders)
    assert sandbox.clock.now() >= plan.end
    last = sandbox.store.get_order(plan.orders[-1].order_id)
    assert last["create_time"] == int(plan.orders[-1].arrival.timestamp())
