"""Billable weight and prices, with the figures of carrier-rates.md (§1.1, §1.4, §3.1, §3.3,
§5.3 worked example) and the dated-card rule."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from aftershow.fulfillment.carriers.rates import (
    BillableWeight,
    Destination,
    Dimensions,
    DimRule,
    Rate,
    Refusal,
    billable_weight,
    dimensional_weight_lb,
    price,
    rate_cards,
)

TODAY = date(2026, 11, 25)
NY_ZONE_5 = Destination(postal_code="10118", state="NY", zone=5)
SMALL = Dimensions(Decimal("10"), Decimal("8"), Decimal("1"))


def dims(length: str, width: str, height: str) -> Dimensions:
    return Dimensions(Decimal(length), Decimal(width), Decimal(height))


def rate(code: str, weight_oz: str, box: Dimensions = SMALL, to: Destination = NY_ZONE_5) -> Rate:
    outcome = price(rate_cards(TODAY)[code], weight_oz=Decimal(weight_oz), dims=box, destination=to)
    assert isinstance(outcome, Rate), outcome
    return outcome


def test_the_reference_dim_example_12_by_12_by_14() -> None:
    # channel-apis.md §5.3: 12x12x14 box → 2016 in³ → USPS (166) 12.14 → 13 lb, UPS/FedEx
    # (139) 14.5 → 15 lb.
    box = dims("12", "12", "14")
    assert box.cubic_in == 2016
    assert dimensional_weight_lb(box, 166) == 13
    assert dimensional_weight_lb(box, 139) == 15


def test_usps_dim_weight_applies_only_above_one_cubic_foot() -> None:
    usps = rate_cards(TODAY)["usps_ground_advantage"].dim
    assert usps == DimRule(divisor=139, applies_above_cubic_in=1728, round_dimensions_up=True)
    assert billable_weight(
        weight_oz=Decimal("80"), dims=dims("12", "12", "12"), rule=usps
    ) == BillableWeight(Decimal("80"), None, Decimal("80"), 139)
    over = billable_weight(weight_oz=Decimal("80"), dims=dims("12", "12", "14"), rule=usps)
    assert over == BillableWeight(Decimal("80"), 15, Decimal("240"), 139)
    assert over.basis == "DIM weight 15 lb at ÷139 over actual 5 lb"


def test_ups_and_fedex_dim_weight_applies_to_every_parcel_with_inches_rounded_up() -> None:
    fedex = rate_cards(TODAY)["fedex_ground"].dim
    assert fedex == DimRule(divisor=139, applies_above_cubic_in=0, round_dimensions_up=True)
    # 11.2 x 8.1 x 4 rounds to 12 x 9 x 4 = 432 in³ → 3.1 → 4 lb.
    assert billable_weight(
        weight_oz=Decimal("10"), dims=dims("11.2", "8.1", "4"), rule=fedex
    ) == BillableWeight(Decimal("10"), 4, Decimal("64"), 139)
    heavy = billable_weight(weight_oz=Decimal("100"), dims=dims("10", "8", "4"), rule=fedex)
    assert heavy == BillableWeight(Decimal("100"), 3, Decimal("100"), 139)
    assert heavy.basis == "actual weight over DIM 3 lb at ÷139"


@pytest.mark.parametrize(
    ("weight_oz", "amount", "priced_lb"),
    [
        ("4", "7.69", 0),  # every parcel under 1 lb pays the one "<1 lb" row
        ("15.99", "7.69", 0),
        ("16.00", "8.74", 1),  # exactly 16.00 oz uses the 1 lb row
        ("16.01", "9.95", 2),  # 16.01 oz bills as 2 lb
        ("48", "11.57", 3),
        ("160", "16.76", 10),
    ],
)
def test_ground_advantage_zone_5_prices(weight_oz: str, amount: str, priced_lb: int) -> None:
    found = rate("usps_ground_advantage", weight_oz)
    assert (found.amount, found.priced_lb, found.zone_key) == (Decimal(amount), priced_lb, "5")
    tier = f"{priced_lb} lb" if priced_lb else "under 1 lb"
    assert found.breakdown == f"${amount} ({tier}, zone 5)"


def test_a_weight_between_rows_is_priced_at_the_next_row_up() -> None:
    found = rate("usps_ground_advantage", "336")  # 21 lb: the table jumps from 20 to 25 lb
    assert (found.amount, found.priced_lb) == (Decimal("46.94"), 21)
    assert found.breakdown == "$46.94 (21 lb at the 25 lb row, zone 5)"


def test_ground_advantage_zone_9_is_zone_8_and_priority_has_no_zone_9() -> None:
    palau = Destination(postal_code="96940", state="PW", zone=9)
    assert rate("usps_ground_advantage", "8", to=palau).amount == Decimal("8.40")
    refused = price(
        rate_cards(TODAY)["usps_priority_mail"],
        weight_oz=Decimal("8"),
        dims=SMALL,
        destination=palau,
    )
    assert isinstance(refused, Refusal)
    assert refused.reason == "no USPS Priority Mail price for 1 lb to zone 9"


def test_priority_mail_bills_under_a_pound_as_one_pound() -> None:
    found = rate("usps_priority_mail", "8")
    assert (found.amount, found.priced_lb, found.transit_days) == (Decimal("12.97"), 1, 3)


def test_fedex_ground_adds_residential_and_fuel_on_the_next_row_up() -> None:
    # 4 lb actual in an 8x6x4 box (DIM 2 lb): no 4 lb row in the 2025 list → 5 lb, zone 5 $17.56;
    # + residential $5.95 = $23.51; fuel 16.25% = $3.82 → $27.33.
    found = rate("fedex_ground", "64", box=dims("8", "6", "4"))
    assert found.amount == Decimal("27.33")
    assert found.breakdown == (
        "$17.56 (4 lb at the 5 lb row, zone 5) + residential $5.95 + fuel 16.25% $3.82 = $27.33"
    )


def test_ups_ground_is_the_fedex_list_times_the_2026_increase() -> None:
    # Placeholder from carrier-rates.md §3.4: FedEx 2025 list x 1.059. 1 lb in 8x6x4 (DIM
    # 192/139 → 2 lb): FedEx 2 lb zone 5 $14.84 x 1.059 = $15.72; + $5.95 = $21.67; fuel $3.52.
    found = rate("ups_ground", "16", box=dims("8", "6", "4"))
    assert found.breakdown == (
        "$15.72 (2 lb, zone 5) + residential $5.95 + fuel 16.25% $3.52 = $25.19"
    )


def test_fedex_to_alaska_uses_the_akhi_rows_and_dim_weight() -> None:
    # 6.25 lb in 12x12x14 → DIM 15 lb → AK/HI row 20 lb $121.29 + $5.95 = $127.24, fuel $20.68.
    alaska = Destination(postal_code="99501", state="AK", zone=8)
    found = rate("fedex_ground", "100", box=dims("12", "12", "14"), to=alaska)
    assert (found.amount, found.zone_key, found.priced_lb) == (Decimal("147.92"), "AKHI", 15)


def test_large_package_surcharge_and_minimum_billable_weight() -> None:
    # Longest side 50 in > 48: additional handling $32.75, billed at least 40 lb (the 50 lb
    # row, zone 5: $50.24); $50.24 + $32.75 + $5.95 = $88.94, fuel 16.25% = $14.45.
    found = rate("fedex_ground", "160", box=dims("50", "10", "6"))
    assert found.breakdown == (
        "$50.24 (40 lb at the 50 lb row, zone 5) + additional handling $32.75 "
        "+ residential $5.95 + fuel 16.25% $14.45 = $103.39"
    )


def test_usps_nonstandard_length_fee() -> None:
    found = rate("usps_priority_mail", "32", box=dims("24", "6", "4"))
    assert found.breakdown == "$13.17 (2 lb, zone 5) + nonstandard length > 22 in $4.00 = $17.17"


@pytest.mark.parametrize(
    ("code", "destination", "reason"),
    [
        (
            "fedex_ground",
            Destination("10118", "NY", 5, is_po_box=True),
            "FedEx does not deliver to PO Boxes",
        ),
        (
            "ups_ground",
            Destination("09001", "AE", 4, is_military=True),
            "UPS does not deliver to APO/FPO/DPO addresses",
        ),
        ("fedex_ground", Destination("00901", "PR", 7), "FedEx Ground does not serve PR"),
        ("usps_ground_advantage", Destination("ABCDE", "NY", None), "zone unknown"),
    ],
)
def test_refusals_say_why(code: str, destination: Destination, reason: str) -> None:
    refused = price(
        rate_cards(TODAY)[code], weight_oz=Decimal("8"), dims=SMALL, destination=destination
    )
    assert isinstance(refused, Refusal)
    assert refused.reason == reason


def test_weight_and_size_limits() -> None:
    cards = rate_cards(TODAY)
    too_heavy = price(
        cards["usps_ground_advantage"],
        weight_oz=Decimal("1121"),
        dims=SMALL,
        destination=NY_ZONE_5,
    )
    assert isinstance(too_heavy, Refusal)
    assert too_heavy.reason == "over USPS Ground Advantage's 70 lb limit"
    too_big = price(
        cards["usps_priority_mail"],
        weight_oz=Decimal("32"),
        dims=dims("40", "20", "15"),
        destination=NY_ZONE_5,
    )
    assert isinstance(too_big, Refusal)
    assert too_big.reason == "length + girth 110 in over USPS Priority Mail's 108 in"


def test_military_and_noncontiguous_transit_take_longer() -> None:
    assert rate("usps_ground_advantage", "8").transit_days == 4
    military = Destination("09001", "AE", 4, is_military=True)
    assert rate("usps_ground_advantage", "8", to=military).transit_days == 3 + 5
    hawaii = Destination("96813", "HI", 8)
    assert rate("usps_ground_advantage", "8", to=hawaii).transit_days == 5 + 2


def test_cards_are_chosen_by_effective_date() -> None:
    cards = rate_cards(TODAY)
    assert {code: card.effective_date for code, card in cards.items()} == {
        "fedex_ground": date(2025, 1, 6),
        "ups_ground": date(2025, 12, 22),
        "usps_ground_advantage": date(2026, 7, 12),
        "usps_priority_mail": date(2026, 7, 12),
    }
    assert sorted(rate_cards(date(2025, 6, 1))) == ["fedex_ground"]
    assert rate_cards(date(2024, 12, 31)) == {}
    assert all(card.source for card in cards.values())
