"""USPS zones: the worked origin-240 (Roanoke, VA) values of carrier-rates.md §2.3, the distance
bands of §2.1, and the ZIP parsing around them."""

from __future__ import annotations

import pytest

from aftershow.fulfillment.carriers.zones import (
    ZoneResult,
    military_region,
    usps_zone,
    zip5,
    zone_chart,
    zone_for_miles,
)

ROANOKE = "24001"


@pytest.mark.parametrize(
    ("destination", "zone"),
    [
        ("99501", 8),  # Anchorage, AK: "origin ZIP3 240, VA: zone 8"
        ("96813", 8),  # Honolulu, HI: zone 8
        ("00901", 7),  # San Juan, PR: zone 7
        ("09001", 4),  # APO AE: 090xx-099xx = zone 4 from VA
        ("96201", 4),  # APO AP: 962xx-966xx = zone 4
        ("34001", 5),  # APO AA 340: zone 5
        ("96940", 9),  # Palau (Freely Associated State): zone 9
        ("96910", 8),  # Guam: ZIP3 969 exceptions put Guam at zone 8
    ],
)
def test_origin_240_examples_from_the_reference(destination: str, zone: int) -> None:
    assert usps_zone(ROANOKE, destination).zone == zone


def test_distance_bands_are_the_reference_table() -> None:
    chart = zone_chart()
    assert chart.bands == (
        (50, 1),
        (150, 2),
        (300, 3),
        (600, 4),
        (1000, 5),
        (1400, 6),
        (1800, 7),
    )
    assert [zone_for_miles(miles, chart) for miles in (1, 50, 51, 150, 151, 300, 301)] == [
        1,
        1,
        2,
        2,
        3,
        3,
        4,
    ]
    assert [zone_for_miles(miles, chart) for miles in (600, 601, 1000, 1001, 1400, 1401)] == [
        4,
        5,
        5,
        6,
        6,
        7,
    ]
    assert [zone_for_miles(miles, chart) for miles in (1800, 1801, 9000)] == [7, 8, 8]


def test_a_zone_says_how_it_was_found() -> None:
    assert usps_zone(ROANOKE, "10118") == ZoneResult(
        4, "408 mi between ZIP3 240 and 101", miles=408
    )
    assert usps_zone(ROANOKE, "24011-1234") == ZoneResult(1, "same ZIP3 240")
    assert usps_zone(ROANOKE, "24401") == ZoneResult(2, "71 mi between ZIP3 240 and 244", miles=71)
    assert usps_zone(ROANOKE, "90277") == ZoneResult(
        8, "2,150 mi between ZIP3 240 and 902", miles=2150
    )


def test_unknown_or_missing_zips_give_no_zone_and_say_why() -> None:
    assert usps_zone(ROANOKE, "ABCDE") == ZoneResult(None, "no destination ZIP ('ABCDE')")
    assert usps_zone("", "10118") == ZoneResult(None, "no origin ZIP ('')")
    assert usps_zone(ROANOKE, "00001") == ZoneResult(None, "ZIP3 000 is not in the ZIP database")


def test_zip5_and_military_regions() -> None:
    assert [zip5(value) for value in ("10118", " 10118-0110 ", "1011", "ABCDE", "")] == [
        "10118",
        "10118",
        "",
        "",
        "",
    ]
    assert [military_region(value) for value in ("09001", "34001", "96201", "10118")] == [
        "AE",
        "AA",
        "AP",
        "",
    ]
