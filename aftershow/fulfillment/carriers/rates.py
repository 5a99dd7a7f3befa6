"""Rate cards as dated data, billable weight, and the price of one parcel by one service.

Cards live in ``data/rates/<carrier>-<effective date>.json``: each carries its ``effective_date``
and ``source`` (carrier-rates.md says rates change several times a year, so they are data, never
code). For a ship date, every carrier's newest card effective on or before it applies.

Billing rules (carrier-rates.md §1.1, §1.4, §3.3, §7):

- billable weight = the greater of the actual weight and the dimensional weight
  ``ceil(L x W x H / divisor)`` lb, each card with its own divisor; USPS applies it only above
  1,728 in³ (1 ft³), UPS and FedEx to every parcel; dimensions round up to whole inches;
- USPS Ground Advantage prices every parcel under 16 oz at the one "under 1 lb" row; from
  16.00 oz weight rounds up to the next whole pound (16.00 oz → 1 lb, 16.01 oz → 2 lb);
- a weight between two rows of a sparse table is priced at the next row up (an over-estimate,
  never an under-estimate);
- UPS and FedEx Ground are priced from the USPS distance zone (zone 1 priced as their zone 2,
  Alaska and Hawaii at their own "AKHI" rows); they add a residential surcharge, the large
  package surcharges (the highest one applies) and a fuel percentage on all of it.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from aftershow.fulfillment.carriers.zones import zone_chart

RATES_DIR = Path(__file__).resolve().parent.parent / "data" / "rates"
CENT = Decimal("0.01")
OUNCES_PER_POUND = 16
AKHI = "AKHI"


def ceil_int(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_CEILING))


@dataclass(frozen=True)
class Dimensions:
    length_in: Decimal
    width_in: Decimal
    height_in: Decimal

    @property
    def sides(self) -> tuple[Decimal, Decimal, Decimal]:
        """Longest first."""
        first, second, third = sorted((self.length_in, self.width_in, self.height_in), reverse=True)
        return first, second, third

    @property
    def longest_in(self) -> Decimal:
        return self.sides[0]

    @property
    def length_plus_girth_in(self) -> Decimal:
        longest, second, third = self.sides
        return longest + 2 * (second + third)

    @property
    def cubic_in(self) -> Decimal:
        return self.length_in * self.width_in * self.height_in

    def rounded_up(self) -> Dimensions:
        return Dimensions(
            Decimal(ceil_int(self.length_in)),
            Decimal(ceil_int(self.width_in)),
            Decimal(ceil_int(self.height_in)),
        )


@dataclass(frozen=True)
class DimRule:
    divisor: int
    applies_above_cubic_in: int  # 0: every parcel
    round_dimensions_up: bool


@dataclass(frozen=True)
class BillableWeight:
    actual_oz: Decimal
    dimensional_lb: int | None  # None when the card's rule does not apply to this parcel
    billable_oz: Decimal
    divisor: int

    @property
    def basis(self) -> str:
        if self.dimensional_lb is None:
            return "actual weight, no DIM weight at this size"
        if self.billable_oz > self.actual_oz:
            return (
                f"DIM weight {self.dimensional_lb} lb at ÷{self.divisor} over actual "
                f"{format_weight(self.actual_oz)}"
            )
        return f"actual weight over DIM {self.dimensional_lb} lb at ÷{self.divisor}"


def format_weight(ounces: Decimal) -> str:
    if ounces < OUNCES_PER_POUND:
        return f"{ounces.normalize():f} oz"
    pounds, rest = divmod(ounces, OUNCES_PER_POUND)
    return f"{int(pounds)} lb {rest.normalize():f} oz" if rest else f"{int(pounds)} lb"


def billable_weight(*, weight_oz: Decimal, dims: Dimensions, rule: DimRule) -> BillableWeight:
    measured = dims.rounded_up() if rule.round_dimensions_up else dims
    cubic = measured.cubic_in
    if cubic <= 0 or (rule.applies_above_cubic_in and cubic <= rule.applies_above_cubic_in):
        return BillableWeight(weight_oz, None, weight_oz, rule.divisor)
    dimensional_lb = ceil_int(cubic / rule.divisor)
    billable = max(weight_oz, Decimal(dimensional_lb * OUNCES_PER_POUND))
    return BillableWeight(weight_oz, dimensional_lb, billable, rule.divisor)


@dataclass(frozen=True)
class RateRow:
    up_to_lb: int  # 0: the "under 1 lb" tier
    prices: Mapping[str, Decimal]


@dataclass(frozen=True)
class LargePackageFee:
    name: str
    fee: Decimal
    minimum_billable_lb: int


@dataclass(frozen=True)
class ServiceCard:
    code: str
    carrier: str
    name: str
    easypost_service: str
    effective_date: date
    source: str
    currency: str
    dim: DimRule
    excluded_states: frozenset[str]
    allows_po_box: bool
    allows_military: bool
    fuel_percent: Decimal
    residential_surcharge: Decimal
    large_package: Mapping[str, Mapping[str, str]]
    max_weight_lb: Decimal
    max_length_plus_girth_in: Decimal
    max_longest_in: Decimal | None
    sub_pound_tier: bool
    nonstandard_fees: Mapping[str, Decimal]
    transit_business_days: Mapping[str, int]
    rows: tuple[RateRow, ...]

    @property
    def title(self) -> str:
        return f"{self.carrier} {self.name}"


@dataclass(frozen=True)
class Destination:
    postal_code: str
    state: str
    zone: int | None
    is_po_box: bool = False
    is_military: bool = False


@dataclass(frozen=True)
class Rate:
    card: ServiceCard
    amount: Decimal
    billable: BillableWeight
    priced_lb: int  # 0: the "under 1 lb" tier
    zone_key: str
    transit_days: int
    breakdown: str


@dataclass(frozen=True)
class Refusal:
    card: ServiceCard
    reason: str


def _card_services(path: Path) -> list[ServiceCard]:
    spec: dict[str, Any] = json.loads(path.read_text())
    dim = spec["dimensional_weight"]
    cards = []
    for code, service in spec["services"].items():
        rows = tuple(
            RateRow(
                0 if row["up_to_lb"] == "under_1" else int(row["up_to_lb"]),
                {zone: Decimal(price) for zone, price in row["prices"].items()},
            )
            for row in service["rows"]
        )
        cards.append(
            ServiceCard(
                code=code,
                carrier=spec["carrier"],
                name=service["name"],
                easypost_service=service["easypost_service"],
                effective_date=date.fromisoformat(spec["effective_date"]),
                source=spec["source"],
                currency=spec["currency"],
                dim=DimRule(
                    int(dim["divisor"]),
                    int(dim["applies_above_cubic_in"]),
                    bool(dim["round_dimensions_up"]),
                ),
                excluded_states=frozenset(spec["excluded_states"]),
                allows_po_box=bool(spec["allows_po_box"]),
                allows_military=bool(spec["allows_military"]),
                fuel_percent=Decimal(spec["fuel_percent"]),
                residential_surcharge=Decimal(spec["residential_surcharge"]),
                large_package=spec.get("large_package", {}),
                max_weight_lb=Decimal(service["max_weight_lb"]),
                max_length_plus_girth_in=Decimal(service["max_length_plus_girth_in"]),
                max_longest_in=(
                    Decimal(service["max_longest_in"]) if "max_longest_in" in service else None
                ),
                sub_pound_tier=bool(service["sub_pound_tier"]),
                nonstandard_fees={
                    key: Decimal(value)
                    for key, value in service.get("nonstandard_fees", {}).items()
                },
                transit_business_days={
                    zone: int(days) for zone, days in service["transit_business_days"].items()
                },
                rows=rows,
            )
        )
    return cards


@functools.cache
def all_cards(directory: Path = RATES_DIR) -> tuple[ServiceCard, ...]:
    return tuple(card for path in sorted(directory.glob("*.json")) for card in _card_services(path))


def rate_cards(on: date, *, directory: Path = RATES_DIR) -> dict[str, ServiceCard]:
    """Each service's newest card effective on ``on``; services with no card yet are absent."""
    current: dict[str, ServiceCard] = {}
    for card in all_cards(directory):
        if card.effective_date > on:
            continue
        kept = current.get(card.code)
        if kept is None or card.effective_date > kept.effective_date:
            current[card.code] = card
    return current


def _zone_key(card: ServiceCard, destination: Destination) -> str | None:
    if destination.zone is None:
        return None
    if card.carrier == "USPS":
        return str(destination.zone)
    if destination.state in ("AK", "HI"):
        return AKHI
    return str(max(destination.zone, 2))


def _priced_pounds(card: ServiceCard, billable_oz: Decimal) -> int:
    if card.sub_pound_tier and billable_oz < OUNCES_PER_POUND:
        return 0
    return max(1, ceil_int(billable_oz / OUNCES_PER_POUND))


def _large_package_fee(
    card: ServiceCard, dims: Dimensions, weight_oz: Decimal
) -> list[LargePackageFee]:
    """UPS/FedEx large package surcharges; only the highest one applies (carrier-rates §7)."""
    rules = card.large_package
    longest, second, _third = dims.sides
    girth = dims.length_plus_girth_in
    found: list[LargePackageFee] = []
    oversize = rules.get("oversize")
    if oversize and (
        longest > Decimal(oversize["longest_over_in"])
        or girth > Decimal(oversize["length_plus_girth_over_in"])
    ):
        found.append(
            LargePackageFee(
                "oversize", Decimal(oversize["fee"]), int(oversize["minimum_billable_lb"])
            )
        )
    handling = rules.get("additional_handling")
    if handling and (
        longest > Decimal(handling["longest_over_in"])
        or second > Decimal(handling["second_longest_over_in"])
        or girth > Decimal(handling["length_plus_girth_over_in"])
    ):
        found.append(
            LargePackageFee(
                "additional handling",
                Decimal(handling["fee"]),
                int(handling["minimum_billable_lb"]),
            )
        )
    heavy = rules.get("additional_handling_weight")
    if heavy and weight_oz > Decimal(heavy["actual_weight_over_lb"]) * OUNCES_PER_POUND:
        found.append(LargePackageFee("additional handling (weight)", Decimal(heavy["fee"]), 0))
    return sorted(found, key=lambda fee: fee.fee, reverse=True)[:1]


def _nonstandard_fee(card: ServiceCard, dims: Dimensions) -> tuple[str, Decimal] | None:
    """USPS nonstandard length/volume fees; the highest one applies."""
    fees = card.nonstandard_fees
    found: list[tuple[str, Decimal]] = []
    if "length_over_30_in" in fees and dims.longest_in > 30:
        found.append(("nonstandard length > 30 in", fees["length_over_30_in"]))
    elif "length_over_22_in" in fees and dims.longest_in > 22:
        found.append(("nonstandard length > 22 in", fees["length_over_22_in"]))
    if "volume_over_2_cubic_ft" in fees and dims.cubic_in > 3456:
        found.append(("nonstandard volume > 2 ft³", fees["volume_over_2_cubic_ft"]))
    return max(found, key=lambda item: item[1]) if found else None


def price(
    card: ServiceCard, *, weight_oz: Decimal, dims: Dimensions, destination: Destination
) -> Rate | Refusal:
    """What ``card`` charges for this parcel to ``destination``, or why it cannot carry it."""
    if destination.is_po_box and not card.allows_po_box:
        return Refusal(card, f"{card.carrier} does not deliver to PO Boxes")
    if destination.is_military and not card.allows_military:
        return Refusal(card, f"{card.carrier} does not deliver to APO/FPO/DPO addresses")
    if destination.state in card.excluded_states:
        return Refusal(card, f"{card.title} does not serve {destination.state}")
    zone_key = _zone_key(card, destination)
    if zone_key is None:
        return Refusal(card, "zone unknown")
    if weight_oz > card.max_weight_lb * OUNCES_PER_POUND:
        return Refusal(card, f"over {card.title}'s {card.max_weight_lb} lb limit")
    if dims.length_plus_girth_in > card.max_length_plus_girth_in:
        return Refusal(
            card,
            f"length + girth {dims.length_plus_girth_in:f} in over {card.title}'s "
            f"{card.max_length_plus_girth_in:f} in",
        )
    if card.max_longest_in is not None and dims.longest_in > card.max_longest_in:
        return Refusal(card, f"longest side over {card.title}'s {card.max_longest_in:f} in")

    billable = billable_weight(weight_oz=weight_oz, dims=dims, rule=card.dim)
    parts: list[str] = []
    surcharges = Decimal("0")
    large = _large_package_fee(card, dims, weight_oz)
    billable_oz = billable.billable_oz
    for fee in large:
        billable_oz = max(billable_oz, Decimal(fee.minimum_billable_lb * OUNCES_PER_POUND))
        surcharges += fee.fee
        parts.append(f"{fee.name} ${fee.fee}")
    pounds = _priced_pounds(card, billable_oz)
    row = next(
        (row for row in card.rows if row.up_to_lb >= pounds and zone_key in row.prices), None
    )
    if row is None:
        return Refusal(card, f"no {card.title} price for {pounds} lb to zone {zone_key}")
    base = row.prices[zone_key]
    nonstandard = _nonstandard_fee(card, dims)
    if nonstandard is not None:
        surcharges += nonstandard[1]
        parts.append(f"{nonstandard[0]} ${nonstandard[1]}")
    if card.residential_surcharge:
        surcharges += card.residential_surcharge
        parts.append(f"residential ${card.residential_surcharge}")
    subtotal = base + surcharges
    fuel = (subtotal * card.fuel_percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    if fuel:
        parts.append(f"fuel {card.fuel_percent.normalize():f}% ${fuel}")
    amount = subtotal + fuel
    tier = "under 1 lb" if pounds == 0 else f"{pounds} lb"
    if pounds and row.up_to_lb != pounds:
        tier = f"{pounds} lb at the {row.up_to_lb} lb row"
    breakdown = " + ".join([f"${base} ({tier}, zone {zone_key})", *parts])
    transit = card.transit_business_days.get(zone_key)
    if transit is None:
        return Refusal(card, f"no {card.title} transit time for zone {zone_key}")
    chart = zone_chart()
    if destination.is_military:
        transit += chart.extra_transit_days.get("military", 0)
    elif destination.state in chart.noncontiguous_states:
        transit += chart.extra_transit_days.get("noncontiguous", 0)
    return Rate(
        card=card,
        amount=amount,
        billable=billable,
        priced_lb=pounds,
        zone_key=zone_key,
        transit_days=transit,
        breakdown=f"{breakdown} = ${amount}" if parts else f"${amount} ({tier}, zone {zone_key})",
    )


def rates_for(
    cards: Mapping[str, ServiceCard],
    *,
    weight_oz: Decimal,
    dims: Dimensions,
    destination: Destination,
) -> list[Rate | Refusal]:
    return [
        price(card, weight_oz=weight_oz, dims=dims, destination=destination)
        for card in cards.values()
    ]


def dimensional_weight_lb(dims: Dimensions, divisor: int) -> int:
    """``ceil(L x W x H / divisor)``: the figure carrier-rates.md's examples quote."""
    return math.ceil(dims.cubic_in / divisor)
