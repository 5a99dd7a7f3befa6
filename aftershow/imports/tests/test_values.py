"""Cell values: money, times, ids, states (no database)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from aftershow.imports.values import REGION_TIME_ZONES as ZONES
from aftershow.imports.values import (
    DamagedIdError,
    DateOrder,
    DateOrderSniffer,
    IdDamageCounter,
    MixedRegionError,
    TimeParser,
    ValueProblem,
    has_excel_zero_tail,
    money,
    numeric_id,
    percent,
    split_cents,
    us_state_code,
)


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("11.99", "11.99"),
        ("0.8", "0.80"),
        ("$25.00", "25.00"),
        ("1,022.25", "1022.25"),
        ("$1,022.25", "1022.25"),
        ("USD 3.5", "3.50"),
        ("US$ 3.50", "3.50"),
        ("-$3.10", "-3.10"),
        ("($3.10)", "-3.10"),
        ("", "0.00"),
        ("/", "0.00"),
        ("-", "0.00"),
        ("2.005", "2.01"),
    ],
)
def test_money_reads_us_amounts_as_decimal_cents(text: str, amount: str) -> None:
    assert money(text, "Order Amount", row=2) == Decimal(amount)


@pytest.mark.parametrize("text", ["MXN 160.00", "THB 35", "S$3.50", "BRL 35,91", "RM12.00"])
def test_another_currency_in_a_us_file_is_a_mixed_region_file(text: str) -> None:
    with pytest.raises(MixedRegionError) as raised:
        money(text, "Order Amount", row=7)
    assert (raised.value.row, raised.value.column) == (7, "Order Amount")


@pytest.mark.parametrize("text", ["12,34", "abc", "1.2.3", "$"])
def test_a_broken_amount_is_a_row_problem_naming_its_column(text: str) -> None:
    with pytest.raises(ValueProblem) as raised:
        money(text, "Taxes", row=3)
    assert raised.value.column == "Taxes"


def test_us_times_are_pacific_wall_clock_stored_in_utc() -> None:
    parser = TimeParser(order=DateOrder.MONTH_FIRST, zone=ZONES["US"], strict_us=True)
    # Pacific Standard Time (UTC-8) in March before the switch, PDT (UTC-7) in September.
    assert parser.parse("03/06/2026 11:58:54 AM", "Paid Time", row=2) == datetime(
        2026, 3, 6, 19, 58, 54, tzinfo=UTC
    )
    assert parser.parse("09/15/2025 7:44:26 PM", "Paid Time", row=2) == datetime(
        2025, 9, 16, 2, 44, 26, tzinfo=UTC
    )
    assert parser.parse("09/15/2025 12:05:00 AM", "Paid Time", row=2) == datetime(
        2025, 9, 15, 7, 5, tzinfo=UTC
    )
    assert parser.parse("", "Paid Time", row=2) is None


def test_a_day_first_time_in_a_us_order_export_is_another_region() -> None:
    parser = TimeParser(order=DateOrder.MONTH_FIRST, zone=ZONES["US"], strict_us=True)
    with pytest.raises(MixedRegionError):
        parser.parse("25/06/2026 13:03:57", "Created Time", row=9)


def test_day_first_files_and_year_first_files() -> None:
    day_first = TimeParser(order=DateOrder.DAY_FIRST, zone=UTC)
    assert day_first.parse("05/04/2026 13:03:57", "Time Created", row=2) == datetime(
        2026, 4, 5, 13, 3, 57, tzinfo=UTC
    )
    assert day_first.parse("2026/04/05", "Order created date", row=2) == datetime(
        2026, 4, 5, tzinfo=UTC
    )
    assert day_first.parse("20260405", "Order paid date", row=2) == datetime(2026, 4, 5, tzinfo=UTC)
    with pytest.raises(ValueProblem):
        day_first.parse("31/02/2026 10:00:00", "Time Created", row=2)


def test_the_sniffer_decides_a_files_date_order_and_refuses_a_mix() -> None:
    sniffer = DateOrderSniffer()
    sniffer.observe("05/04/2026 10:00:00", 2)  # ambiguous
    assert sniffer.decide(DateOrder.DAY_FIRST) is DateOrder.DAY_FIRST
    sniffer.observe("04/25/2026 10:00:00", 3)
    assert sniffer.decide(DateOrder.DAY_FIRST) is DateOrder.MONTH_FIRST
    sniffer.observe("25/04/2026 10:00:00", 4)
    with pytest.raises(MixedRegionError):
        sniffer.decide(DateOrder.DAY_FIRST)


def test_ids_in_scientific_notation_are_fatal_and_digits_pass() -> None:
    assert numeric_id("577106943312564315", "Order ID", row=2) == "577106943312564315"
    with pytest.raises(DamagedIdError) as raised:
        numeric_id("5.77107E+17", "Order ID", row=5)
    assert (raised.value.row, raised.value.column) == (5, "Order ID")
    with pytest.raises(ValueProblem):
        numeric_id("57710A", "Order ID", row=2)


def test_excel_zero_tails_are_judged_over_the_file() -> None:
    assert has_excel_zero_tail("577106943312564000")
    assert not has_excel_zero_tail("577106943312564315")
    assert not has_excel_zero_tail("577106943312560")  # 15 digits: Excel keeps them all
    counter = IdDamageCounter()
    for number in range(999):
        counter.observe(f"577106943312{number:06d}", 2 + number, "Order ID")
    # One id in a thousand ends in 000 by chance: not damage.
    assert (counter.long_ids, counter.zero_tailed, counter.is_damaged) == (999, 1, False)
    damaged = IdDamageCounter()
    damaged.observe("577106943312564000", 2, "Order ID")
    damaged.observe("1732943538931180000", 2, "SKU ID")
    damaged.observe("1722027977041418518", 2, "Product ID")
    assert damaged.is_damaged
    assert (damaged.first_example, damaged.first_column) == ("577106943312564000", "Order ID")


def test_cents_split_exactly_with_the_rest_on_the_first_units() -> None:
    assert split_cents(Decimal("10.00"), 3) == [Decimal("3.34"), Decimal("3.33"), Decimal("3.33")]
    assert sum(split_cents(Decimal("6.47"), 2)) == Decimal("6.47")
    assert split_cents(Decimal("0"), 2) == [Decimal("0.00"), Decimal("0.00")]


def test_states_and_percentages() -> None:
    assert us_state_code("New York") == "NY"
    assert us_state_code("ny") == "NY"
    assert us_state_code("Armed Forces Europe") == "AE"
    assert us_state_code("Ontario") == ""
    assert percent("10%", "Standard commission rate") == Decimal("10.00")
    assert percent("", "Standard commission rate") is None
