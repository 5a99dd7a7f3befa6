"""The rules engine over plain values: rule order, every condition, the reasons in words, USPS
for PO Boxes and military addresses, TikTok Shipping for TikTok USPS labels, and the fallback
(cheapest arriving by the promised date)."""

from __future__ import annotations

import importlib
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from aftershow.fulfillment.carriers.rates import Destination, Dimensions, rate_cards
from aftershow.fulfillment.carriers.selection import (
    PackageFacts,
    RuleSpec,
    Selection,
    provider_for,
    select_service,
)

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # a Wednesday
CARDS = rate_cards(NOW.date())
DEFAULT_RULES = importlib.import_module(
    "aftershow.fulfillment.migrations.0003_default_carrier_rules"
).DEFAULT_RULES
DEFAULTS = [
    RuleSpec(id=index, **{**spec, "position": index})
    for index, spec in enumerate(DEFAULT_RULES, start=1)
]
ZONE_5 = "408 mi between ZIP3 240 and 101"


def facts(
    weight_oz: str = "8",
    box: tuple[str, str, str] = ("10", "8", "1"),
    *,
    state: str = "NY",
    zone: int | None = 5,
    po_box: bool = False,
    military: bool = False,
    **changes: Any,
) -> PackageFacts:
    base = PackageFacts(
        channel="shopify",
        shipping_type="",
        weight_oz=Decimal(weight_oz),
        dims=Dimensions(*(Decimal(side) for side in box)),
        destination=Destination("10118", state, zone, is_po_box=po_box, is_military=military),
        zone_basis=ZONE_5,
        ship_by=NOW + timedelta(hours=30),
        order_value=Decimal("19.99"),
        sku_tags=frozenset(),
        ship_date=NOW.date(),
        deliver_by=date(2026, 12, 3),
    )
    return replace(base, **changes)


def choose(parcel: PackageFacts, rules: list[RuleSpec] = DEFAULTS) -> Selection:
    return select_service(parcel, rules, CARDS, now=NOW, aggregator="sandbox")


def test_a_light_parcel_takes_the_first_rule_and_says_why() -> None:
    selection = choose(facts("8"))
    assert (selection.source, selection.rule_id, selection.provider) == ("rule", 1, "sandbox")
    assert selection.card is not None and selection.card.code == "usps_ground_advantage"
    assert selection.estimated_delivery == date(2026, 12, 1)
    assert selection.reason == (
        "Rule 1 “Light parcels (under 1 lb)” matched: billable weight 8 oz ≤ 15.99 oz.\n"
        "→ USPS Ground Advantage $7.69 (under 1 lb, zone 5); billable 8 oz (actual weight, "
        f"no DIM weight at this size); zone 5 ({ZONE_5}); 4 business days, arrives "
        "2026-12-01, promised by 2026-12-03.\n"
        "Label: bought from sandbox."
    )


def test_a_standard_parcel_skips_the_light_rule_and_names_it() -> None:
    selection = choose(facts("40", ("12", "10", "6")))
    assert (selection.source, selection.rule_id) == ("rule", 2)
    assert selection.reason.splitlines()[:2] == [
        "Skipped Rule 1 “Light parcels (under 1 lb)”: billable weight 2 lb 8 oz > 15.99 oz.",
        "Rule 2 “Standard parcels (up to 20 lb, 22 in)” matched: billable weight 2 lb 8 oz "
        "≤ 20 lb; longest side 12 in ≤ 22 in.",
    ]
    assert selection.rate is not None and selection.rate.amount == Decimal("16.56")


def test_a_large_parcel_goes_by_fedex_ground_on_its_dim_weight() -> None:
    selection = choose(facts("400", ("24", "18", "14")))
    assert (selection.source, selection.rule_id) == ("rule", 3)
    assert selection.reason.splitlines()[2] == (
        "→ FedEx Ground $50.24 (44 lb at the 50 lb row, zone 5) + residential $5.95 + fuel "
        "16.25% $9.13 = $65.32; billable 44 lb (DIM weight 44 lb at ÷139 over actual 25 lb); "
        f"zone 5 ({ZONE_5}); 4 business days, arrives 2026-12-01, promised by 2026-12-03."
    )


def test_a_large_parcel_to_a_po_box_falls_back_to_usps() -> None:
    selection = choose(facts("400", ("24", "18", "14"), po_box=True))
    assert (selection.source, selection.rule_id) == ("fallback", None)
    assert selection.card is not None and selection.card.carrier == "USPS"
    assert selection.reason.splitlines()[:2] == [
        "No rule matched (Rule 1 “Light parcels (under 1 lb)”: billable weight 44 lb > "
        "15.99 oz; Rule 2 “Standard parcels (up to 20 lb, 22 in)”: billable weight 44 lb > "
        "20 lb; Rule 3 “Large parcels”: destination is a PO Box address; Rule 4 “Large "
        "parcels (when FedEx cannot)”: destination is a PO Box address).",
        "Fallback: the cheapest service arriving by the promised date (1 of 1 do).",
    ]


@pytest.mark.parametrize(
    ("po_box", "military", "why"),
    [
        (True, False, "UPS does not deliver to PO Boxes"),
        (False, True, "UPS does not deliver to APO/FPO/DPO addresses"),
    ],
)
def test_a_rule_choosing_ups_for_a_po_box_or_military_address_ends_with_usps(
    po_box: bool, military: bool, why: str
) -> None:
    ups_always = [RuleSpec(id=9, position=1, name="Everything by UPS", service="ups_ground")]
    selection = choose(facts("8", po_box=po_box, military=military), ups_always)
    assert selection.source == "fallback"
    assert selection.card is not None and selection.card.carrier == "USPS"
    assert selection.reason.splitlines()[0] == (
        f"Rule 1 “Everything by UPS” matched (no conditions) but UPS Ground cannot take it: {why}."
    )


def test_a_matching_rule_that_cannot_take_the_parcel_hands_over_to_the_next() -> None:
    rules = [
        RuleSpec(id=1, position=1, name="FedEx first", service="fedex_ground"),
        RuleSpec(id=2, position=2, name="Then Priority", service="usps_priority_mail"),
    ]
    selection = choose(facts("8", po_box=True), rules)
    assert (selection.source, selection.rule_id) == ("rule", 2)
    assert selection.reason.splitlines()[:2] == [
        "Rule 1 “FedEx first” matched (no conditions) but FedEx Ground cannot take it: FedEx "
        "does not deliver to PO Boxes.",
        "Rule 2 “Then Priority” matched: no conditions.",
    ]


def test_a_tiktok_order_by_usps_gets_a_tiktok_shipping_label() -> None:
    selection = choose(facts("8", channel="tiktok", shipping_type="SELLER"))
    assert selection.card is not None and selection.card.carrier == "USPS"
    assert selection.provider == "tiktok"
    assert selection.reason.splitlines()[-1] == (
        "Label: a USPS label for a TikTok order must come from TikTok Shipping (labels bought "
        "elsewhere fail TikTok's tracking check)."
    )


def test_provider_routing() -> None:
    def route(channel: str, shipping_type: str, carrier: str) -> str:
        return provider_for(
            channel=channel, shipping_type=shipping_type, carrier=carrier, aggregator="easypost"
        )[0]

    assert route("tiktok", "SELLER", "USPS") == "tiktok"
    assert route("tiktok", "SELLER", "FedEx") == "easypost"
    assert route("tiktok", "TIKTOK", "FedEx") == "tiktok"
    assert route("shopify", "", "USPS") == "easypost"
    assert route("amazon", "", "UPS") == "easypost"


WEST = {"state": "CA", "zone": 8}


def test_fallback_takes_the_cheapest_rate_that_arrives_by_the_promised_date() -> None:
    # Zone 8 from Wednesday 2026-11-25: Ground Advantage 5 business days → 12-02, Priority
    # Mail 3 → 11-30, FedEx/UPS Ground 5 → 12-02. Promised 12-01: only Priority is in time.
    tight = facts("8", deliver_by=date(2026, 12, 1), **WEST)
    selection = choose(tight, [])
    assert selection.source == "fallback"
    assert selection.card is not None and selection.card.code == "usps_priority_mail"
    assert selection.reason.splitlines()[:2] == [
        "No rule matched (no active rules).",
        "Fallback: the cheapest service arriving by the promised date (1 of 4 do).",
    ]
    loose = choose(facts("8", deliver_by=date(2026, 12, 3), **WEST), [])
    assert loose.card is not None and loose.card.code == "usps_ground_advantage"
    assert loose.rate is not None and loose.rate.amount == Decimal("8.40")


def test_a_rule_whose_service_would_be_late_hands_over_to_the_next_matching_rule() -> None:
    selection = choose(facts("8", deliver_by=date(2026, 12, 1), **WEST))
    assert (selection.source, selection.rule_id) == ("rule", 2)
    assert selection.card is not None and selection.card.code == "usps_priority_mail"
    assert selection.reason.splitlines()[:2] == [
        "Rule 1 “Light parcels (under 1 lb)” matched (billable weight 8 oz ≤ 15.99 oz) but "
        "USPS Ground Advantage would arrive 2026-12-02, after the promised 2026-12-01.",
        "Rule 2 “Standard parcels (up to 20 lb, 22 in)” matched: billable weight 8 oz ≤ 20 lb; "
        "longest side 10 in ≤ 22 in.",
    ]


def test_a_late_rule_with_no_other_match_yields_to_the_fallback() -> None:
    only_ground = [DEFAULTS[0]]
    selection = choose(facts("8", deliver_by=date(2026, 12, 1), **WEST), only_ground)
    assert selection.source == "fallback"
    assert selection.card is not None and selection.card.code == "usps_priority_mail"


def test_when_nothing_arrives_in_time_the_earliest_arrival_wins() -> None:
    selection = choose(facts("8", deliver_by=date(2026, 11, 26), **WEST), [])
    assert selection.card is not None and selection.card.code == "usps_priority_mail"
    assert selection.reason.splitlines()[1] == (
        "Fallback: no service arrives by 2026-11-26; the earliest arrival is chosen."
    )


def test_no_service_at_all_leaves_the_parcel_unchosen_with_the_refusals() -> None:
    selection = choose(facts("1200", po_box=True), [])
    assert (selection.source, selection.rate, selection.provider) == ("none", None, "")
    assert selection.reason.splitlines()[1] == (
        "No service can carry this parcel: FedEx Ground: FedEx does not deliver to PO Boxes; "
        "UPS Ground: UPS does not deliver to PO Boxes; USPS Ground Advantage: over USPS Ground "
        "Advantage's 70 lb limit; USPS Priority Mail: over USPS Priority Mail's 70 lb limit."
    )


def rule(**conditions: Any) -> RuleSpec:
    return RuleSpec(id=7, position=1, name="Test", service="usps_priority_mail", **conditions)


@pytest.mark.parametrize(
    ("conditions", "changes", "matched", "phrase"),
    [
        (
            {"destination_states": frozenset({"AK", "HI"})},
            {"state": "HI"},
            True,
            "state HI in AK, HI",
        ),
        ({"destination_states": frozenset({"AK", "HI"})}, {}, False, "state NY not in AK, HI"),
        ({"min_zone": 5, "max_zone": 8}, {}, True, "zone 5 ≥ 5 and ≤ 8"),
        ({"min_zone": 6}, {}, False, "zone 5 < 6"),
        ({"ship_by_within_hours": 24}, {}, False, "ship-by in 30.0 h (limit 24 h)"),
        ({"ship_by_within_hours": 48}, {}, True, "ship-by in 30.0 h (limit 48 h)"),
        ({"ship_by_within_hours": 48}, {"ship_by": None}, False, "no ship-by deadline"),
        ({"min_order_value": Decimal("50")}, {}, False, "order value $19.99 < $50.00"),
        ({"max_order_value": Decimal("50")}, {}, True, "order value $19.99 ≤ $50.00"),
        ({"sku_tags": frozenset({"fragile"})}, {}, False, "no SKU tagged fragile"),
        (
            {"sku_tags": frozenset({"fragile"})},
            {"sku_tags": frozenset({"fragile", "glass"})},
            True,
            "SKU tags fragile",
        ),
        (
            {"destination_kind": "military"},
            {"military": True, "deliver_by": date(2026, 12, 15)},
            True,
            "destination is a military address",
        ),
        (
            {"destination_kind": "street"},
            {"po_box": True},
            False,
            "destination is a PO Box address",
        ),
        ({"min_longest_side_in": Decimal("12")}, {}, False, "longest side 10 in < 12 in"),
        ({"max_length_plus_girth_in": Decimal("20")}, {}, True, "length + girth 28 in > 20 in"),
    ],
)
def test_each_condition_matches_or_says_why_not(
    conditions: dict[str, Any], changes: dict[str, Any], matched: bool, phrase: str
) -> None:
    if phrase.startswith("length + girth"):
        matched = False  # 10 + 2 x (8 + 1) = 28 in, over the 20 in limit
    selection = choose(facts("8", **changes), [rule(**conditions)])
    if matched:
        assert selection.source == "rule"
        assert selection.reason.splitlines()[0] == f"Rule 1 “Test” matched: {phrase}."
    else:
        assert selection.source == "fallback"
        assert selection.reason.splitlines()[0] == f"No rule matched (Rule 1 “Test”: {phrase})."


def test_rules_run_in_order_and_the_first_match_wins() -> None:
    rules = [
        RuleSpec(
            id=11,
            position=1,
            name="West by Priority",
            service="usps_priority_mail",
            destination_states=frozenset({"CA"}),
        ),
        RuleSpec(id=12, position=2, name="Everything else GA", service="usps_ground_advantage"),
    ]
    assert choose(facts("8", **WEST), rules).rule_id == 11
    assert choose(facts("8"), rules).rule_id == 12
    assert choose(facts("8", **WEST), list(reversed(rules))).rule_id == 12
