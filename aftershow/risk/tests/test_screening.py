"""Each evaluator, with the seeded default rules, and the engine's bookkeeping."""

from __future__ import annotations

import importlib
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aftershow.fulfillment.models import Package
from aftershow.orders.models import (
    ChangeSource,
    Order,
    OrderState,
    OrderStatusChange,
    PlatformStatus,
)
from aftershow.orders.tests.factories import BuyerFactory, OrderFactory, OrderLineFactory
from aftershow.risk.evaluators import default_parameters
from aftershow.risk.models import FlagStatus, OrderRelease, RiskFlag, RiskRule, RuleKind
from aftershow.risk.services import order_return_record, orders_screen, risk_rule_update
from aftershow.risk.tests.conftest import address, ready_order

pytestmark = pytest.mark.django_db


def flags(order: Order) -> list[tuple[str, str, str]]:
    return list(
        RiskFlag.objects.filter(order=order)
        .order_by("rule__position")
        .values_list("kind", "reason", "status")
    )


def screen(now: datetime, *orders: Order):  # type: ignore[no-untyped-def]
    return orders_screen(now=now, order_ids=[order.pk for order in orders])


def state(order: Order) -> str:
    return Order.objects.values_list("state", flat=True).get(pk=order.pk)


def rule(kind: str) -> RiskRule:
    return RiskRule.objects.get(kind=kind)


def test_the_default_rules_are_seeded_with_their_documented_thresholds() -> None:
    rules = list(RiskRule.objects.values_list("kind", "parameters", "is_active", "position"))
    assert rules == [
        ("address", {"require_street_number": True, "check_zip_state": True}, True, 10),
        (
            "remote_destination",
            {"states": ["AA", "AE", "AK", "AP", "AS", "GU", "HI", "MP", "PR", "VI"]},
            True,
            20,
        ),
        ("po_box", {"carriers_refusing_po_box": ["UPS", "FedEx"]}, True, 30),
        ("order_velocity", {"order_count": 3, "window_minutes": 30}, True, 40),
        ("return_rate", {"max_return_rate_percent": "15", "min_orders": 2}, True, 50),
        ("high_value", {"max_total": "500.00", "max_units": 10}, True, 60),
    ]
    for kind, parameters, _, _ in rules:
        assert parameters == default_parameters(kind)


def test_the_data_migration_seeds_exactly_these_rules() -> None:
    from django.apps import apps

    seeding = importlib.import_module("aftershow.risk.migrations.0002_default_rules")
    expected = list(RiskRule.objects.values_list("kind", "parameters", "position"))
    RiskRule.objects.all().delete()
    seeding.seed(apps, None)
    assert list(RiskRule.objects.values_list("kind", "parameters", "position")) == expected
    seeding.seed(apps, None)  # a table with rules in it is left alone
    assert RiskRule.objects.count() == 6
    seeding.unseed(apps, None)
    assert RiskRule.objects.count() == 0


def test_a_clean_order_stays_ready_and_is_marked_screened(frozen_now, owner) -> None:
    order = ready_order()
    report = screen(frozen_now, order)
    assert (report.screened, report.to_review, report.in_review) == (1, 0, 0)
    assert flags(order) == []
    assert state(order) == OrderState.READY
    assert OrderRelease.objects.get(order=order).screened_at == frozen_now
    assert not OrderStatusChange.objects.filter(order=order).exists()


def test_a_flagged_order_goes_to_review_with_its_reason_and_a_history_row(frozen_now) -> None:
    order = ready_order(shipping_address=address(line1="Main St", line2=""))
    report = screen(frozen_now, order)
    assert (report.screened, report.to_review, report.in_review) == (1, 1, 1)
    assert flags(order) == [("address", "No street number in “Main St”", "open")]
    assert state(order) == OrderState.IN_REVIEW
    change = OrderStatusChange.objects.get(order=order)
    assert (change.source, change.actor, change.from_state, change.to_state, change.reason) == (
        ChangeSource.SYSTEM,
        None,
        "ready",
        "in_review",
        "Flagged by screening: Incomplete or invalid address",
    )


def test_zip_of_another_state_and_missing_city(frozen_now) -> None:
    order = ready_order(shipping_address=address(city="", state="NV", postal_code="90026"))
    screen(frozen_now, order)
    assert flags(order) == [
        ("address", "City missing; ZIP code 90026 is in CA, not NV", "open"),
    ]


def test_no_address_at_all_is_flagged(frozen_now) -> None:
    order = ready_order(shipping_address=None)
    screen(frozen_now, order)
    assert flags(order) == [("address", "No shipping address", "open")]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"city": "Anchorage", "state": "AK", "postal_code": "99501"}, "Remote destination: AK"),
        ({"city": "Honolulu", "state": "HI", "postal_code": "96813"}, "Remote destination: HI"),
        ({"city": "San Juan", "state": "PR", "postal_code": "00901"}, "Remote destination: PR"),
        ({"city": "Hagatna", "state": "GU", "postal_code": "96910"}, "Remote destination: GU"),
        (
            {"line1": "PSC 1234 Box 567", "line2": "", "city": "APO", "state": "AE"}
            | {"postal_code": "09021"},
            "Military address (APO/FPO/DPO): AE",
        ),
    ],
)
def test_remote_destinations(frozen_now, fields: dict[str, str], reason: str) -> None:
    order = ready_order(shipping_address=address(**fields))
    screen(frozen_now, order)
    assert flags(order) == [("remote_destination", reason, "open")]


def test_po_box_without_a_carrier_yet(frozen_now) -> None:
    order = ready_order(shipping_address=address(line1="PO Box 4412", line2=""))
    screen(frozen_now, order)
    assert flags(order) == [("po_box", "PO Box: only USPS can deliver", "open")]


@pytest.mark.parametrize(
    ("carrier", "expected"),
    [
        ("UPS", [("po_box", "PO Box: UPS cannot deliver to a PO Box", "open")]),
        ("fedex", [("po_box", "PO Box: fedex cannot deliver to a PO Box", "open")]),
        ("USPS", []),
    ],
)
def test_po_box_with_a_chosen_carrier(frozen_now, carrier: str, expected) -> None:  # type: ignore[no-untyped-def]
    order = ready_order(shipping_address=address(line1="P.O. Box 12", line2=""))
    package = Package.objects.create(shop=order.shop, carrier=carrier)
    OrderLineFactory(order=order, package=package)
    screen(frozen_now, order)
    assert flags(order) == expected


def test_po_box_rule_with_no_refusing_carrier_flags_nothing(frozen_now, owner) -> None:
    risk_rule_update(rule=rule("po_box"), by=owner, parameters={"carriers_refusing_po_box": []})
    order = ready_order(shipping_address=address(line1="PO Box 1", line2=""))
    screen(frozen_now, order)
    assert flags(order) == []


@pytest.mark.parametrize(
    ("total", "units", "expected"),
    [
        ("500.00", 10, []),
        ("500.01", 1, ["Order total 500.01 USD is above 500.00 USD"]),
        ("20.00", 11, ["11 units is more than 10"]),
        ("999.99", 12, ["Order total 999.99 USD is above 500.00 USD; 12 units is more than 10"]),
    ],
)
def test_high_value_or_quantity(frozen_now, total: str, units: int, expected: list[str]) -> None:
    order = ready_order(total_amount=Decimal(total))
    OrderLineFactory.create_batch(units, order=order)
    screen(frozen_now, order)
    assert [reason for _, reason, _ in flags(order)] == expected


def _history(buyer, delivered: int, returned: int, now: datetime) -> None:  # type: ignore[no-untyped-def]
    past = [
        OrderFactory(
            buyer=buyer,
            platform_status=PlatformStatus.DELIVERED,
            state=OrderState.DONE,
            placed_at=now - timedelta(days=60 + index),
        )
        for index in range(delivered)
    ]
    for index, order in enumerate(past[:returned]):
        assert order_return_record(
            order=order,
            remote_return_id=f"4031{index:014d}",
            returned_at=now - timedelta(days=40),
            reason="Item doesn't fit",
        )


@pytest.mark.parametrize(
    ("delivered", "returned", "expected"),
    [
        (3, 1, ["Buyer returned 1 of 3 delivered orders (33.3 %, limit 15 %)"]),
        (2, 2, ["Buyer returned 2 of 2 delivered orders (100 %, limit 15 %)"]),
        (7, 1, []),  # 14.3 %
        (1, 1, []),  # one order is not enough to judge (min_orders 2)
        (0, 0, []),
    ],
)
def test_buyer_return_rate(frozen_now, delivered: int, returned: int, expected) -> None:  # type: ignore[no-untyped-def]
    buyer = BuyerFactory(nickname="dealhunter7")
    _history(buyer, delivered, returned, frozen_now)
    order = ready_order(buyer=buyer)
    screen(frozen_now, order)
    assert [reason for _, reason, _ in flags(order)] == expected


def test_recording_a_return_twice_counts_it_once(frozen_now) -> None:
    order = OrderFactory(platform_status=PlatformStatus.DELIVERED)
    when = frozen_now - timedelta(days=3)
    assert order_return_record(order=order, remote_return_id="1", returned_at=when) is True
    assert order_return_record(order=order, remote_return_id="1", returned_at=when) is False
    assert order.returns.count() == 1


def _burst(minutes: list[int], now: datetime, **fields):  # type: ignore[no-untyped-def]
    return [
        ready_order(
            remote_order_id=f"57600000000000{index:04d}",
            placed_at=now - timedelta(hours=2) + timedelta(minutes=minute),
            **fields,
        )
        for index, minute in enumerate(minutes)
    ]


def test_three_orders_from_one_buyer_within_30_minutes(frozen_now) -> None:
    buyer = BuyerFactory(nickname="livefan12")
    orders = _burst([0, 10, 29], frozen_now, buyer=buyer)
    screen(frozen_now, *orders)
    reason = (
        "3 orders from buyer livefan12 within 30 minutes: "
        "576000000000000000, 576000000000000001, 576000000000000002"
    )
    for order in orders:
        assert flags(order) == [("order_velocity", reason, "open")]


def test_three_orders_spread_over_more_than_30_minutes_pass(frozen_now) -> None:
    buyer = BuyerFactory(nickname="livefan12")
    orders = _burst([0, 20, 31], frozen_now, buyer=buyer)
    screen(frozen_now, *orders)
    assert [flags(order) for order in orders] == [[], [], []]


def test_only_the_orders_inside_the_busy_window_are_flagged(frozen_now) -> None:
    buyer = BuyerFactory(nickname="livefan12")
    orders = _burst([0, 40, 45, 50, 200], frozen_now, buyer=buyer)
    screen(frozen_now, *orders)
    assert [len(flags(order)) for order in orders] == [0, 1, 1, 1, 0]


def test_same_ip_counts_across_buyers(frozen_now) -> None:
    orders = [
        ready_order(
            remote_order_id=f"5760000000000001{index:02d}",
            buyer=BuyerFactory(),
            buyer_ip="203.0.113.9",
            placed_at=frozen_now - timedelta(minutes=50 - index),
        )
        for index in range(3)
    ]
    screen(frozen_now, *orders)
    assert flags(orders[0]) == [
        (
            "order_velocity",
            "3 orders from IP 203.0.113.9 within 30 minutes: "
            "576000000000000100, 576000000000000101, 576000000000000102",
            "open",
        )
    ]


def test_same_address_counts_across_buyers_when_no_ip_is_known(frozen_now) -> None:
    orders = [
        ready_order(
            remote_order_id=f"5760000000000002{index:02d}",
            buyer=BuyerFactory(),
            shipping_address=address(line2=""),
            placed_at=frozen_now - timedelta(minutes=50 - index),
        )
        for index in range(3)
    ]
    screen(frozen_now, *orders)
    assert flags(orders[2]) == [
        (
            "order_velocity",
            "3 orders to the same address within 30 minutes: "
            "576000000000000200, 576000000000000201, 576000000000000202",
            "open",
        )
    ]


def test_thresholds_are_data_the_seller_edits(frozen_now, owner) -> None:
    order = ready_order(total_amount=Decimal("150.00"))
    screen(frozen_now, order)
    assert flags(order) == []
    risk_rule_update(
        rule=rule("high_value"), by=owner, parameters={"max_total": "100", "max_units": 10}
    )
    screen(frozen_now, order)
    assert flags(order) == [("high_value", "Order total 150.00 USD is above 100.00 USD", "open")]
    assert state(order) == OrderState.IN_REVIEW


def test_an_inactive_rule_flags_nothing_and_its_open_flags_clear(frozen_now, owner) -> None:
    order = ready_order(shipping_address=address(line1="Main St", line2=""))
    screen(frozen_now, order)
    risk_rule_update(rule=rule("address"), by=owner, is_active=False)
    report = screen(frozen_now, order)
    assert (report.to_ready, report.in_review) == (1, 0)
    assert flags(order) == [("address", "No street number in “Main St”", "cleared")]
    assert state(order) == OrderState.READY


def test_screening_again_writes_nothing(frozen_now) -> None:
    flagged = ready_order(shipping_address=address(line1="Main St", line2=""))
    clean = ready_order()
    screen(frozen_now, flagged, clean)
    before = (
        list(RiskFlag.objects.values_list("pk", "reason", "status", "updated_at")),
        OrderStatusChange.objects.count(),
    )
    report = screen(frozen_now + timedelta(minutes=5), flagged, clean)
    assert (report.screened, report.to_review, report.to_ready, report.in_review) == (2, 0, 0, 1)
    after = (
        list(RiskFlag.objects.values_list("pk", "reason", "status", "updated_at")),
        OrderStatusChange.objects.count(),
    )
    assert after == before


def test_orders_in_other_states_are_not_screened(frozen_now) -> None:
    held = OrderFactory(state=OrderState.HELD, shipping_address=address(line1="Main St"))
    confirmed = OrderFactory(state=OrderState.CONFIRMED, shipping_address=address(line1="Elm St"))
    report = screen(frozen_now, held, confirmed)
    assert report.screened == 0
    assert RiskFlag.objects.count() == 0
    assert (state(held), state(confirmed)) == (OrderState.HELD, OrderState.CONFIRMED)


def test_an_order_a_person_sent_to_review_stays_there(frozen_now) -> None:
    order = ready_order(state=OrderState.IN_REVIEW)
    report = screen(frozen_now, order)
    assert (report.to_ready, report.in_review) == (0, 1)
    assert state(order) == OrderState.IN_REVIEW


def test_screening_costs_a_fixed_number_of_queries_per_batch(frozen_now) -> None:
    def queries(count: int) -> int:
        orders = [ready_order(shipping_address=address(line1="Main St")) for _ in range(count)]
        for order in orders:
            OrderLineFactory(order=order)
        with CaptureQueriesContext(connection) as captured:
            screen(frozen_now, *orders)
        return len(captured)

    small, large = queries(10), queries(200)
    assert small <= 15
    # Only the bulk inserts grow, by a query per ~100 rows: SQLite takes 999 parameters a query.
    assert large - small <= 8


def test_rule_kinds_all_have_an_evaluator() -> None:
    from aftershow.risk.evaluators import EVALUATORS

    assert set(EVALUATORS) == set(RuleKind.values)
    assert FlagStatus.OPEN == "open"
