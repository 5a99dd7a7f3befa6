"""USPS zones from the origin and destination ZIP codes.

The zone is the distance band between the centres of the origin's and the destination's 3-digit
ZIP areas (carrier-rates.md §2.1). USPS publishes the result as a ZIP3 x ZIP3 chart that is not
in our sources, so the distance is computed here from ZIP3 centroids (``data/zip3_centroids.csv``,
built from the offline ``zipcodes`` database by ``python -m aftershow.fulfillment.carriers.zones``).
That is an approximation: USPS measures on a 30-minute grid, so a pair near a band edge can land
one zone off the official chart. Zone 9 (Freely Associated States) and APO/FPO/DPO come from the
5-digit exception lists in ``data/zones.json``.

UPS and FedEx Ground zones are priced from the same distance zone (their zone 2 starts at 150
miles like USPS zone 2); see ``rates.py``.
"""

from __future__ import annotations

import csv
import functools
import json
import math
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
CENTROIDS_FILE = DATA_DIR / "zip3_centroids.csv"
ZONES_FILE = DATA_DIR / "zones.json"
EARTH_RADIUS_MILES = 3958.8


@dataclass(frozen=True)
class ZoneChart:
    bands: tuple[tuple[int, int], ...]  # (up to miles, zone), ascending
    beyond_last_band: int
    same_zip3: int
    military_zip3: dict[str, str]  # ZIP3 → AA / AE / AP
    military_zone: dict[str, int]
    zone_9_zip5: frozenset[str]
    noncontiguous_states: frozenset[str]
    # Added to a service's transit days (assumed: the sources give no figure).
    extra_transit_days: dict[str, int]
    centroids: dict[str, tuple[float, float]]  # ZIP3 → (latitude, longitude)
    zip3_states: dict[str, str]


@dataclass(frozen=True)
class ZoneResult:
    zone: int | None
    # How it was found, for the selection reason: "420 mi between ZIP3 240 and 100".
    basis: str
    miles: int | None = None


@functools.cache
def zone_chart() -> ZoneChart:
    spec = json.loads(ZONES_FILE.read_text())
    centroids: dict[str, tuple[float, float]] = {}
    states: dict[str, str] = {}
    with CENTROIDS_FILE.open(newline="") as handle:
        for row in csv.DictReader(handle):
            centroids[row["zip3"]] = (float(row["latitude"]), float(row["longitude"]))
            states[row["zip3"]] = row["state"]
    return ZoneChart(
        bands=tuple((int(miles), int(zone)) for miles, zone in spec["bands_miles"]),
        beyond_last_band=int(spec["beyond_last_band"]),
        same_zip3=int(spec["same_zip3"]),
        military_zip3=dict(spec["military_zip3"]),
        military_zone={key: int(value) for key, value in spec["military_zone"].items()},
        zone_9_zip5=frozenset(spec["zone_9_zip5"]),
        noncontiguous_states=frozenset(spec["noncontiguous_states"]),
        extra_transit_days={
            key: int(value)
            for key, value in spec["extra_transit_business_days"].items()
            if key != "source"
        },
        centroids=centroids,
        zip3_states=states,
    )


def zip5(postal_code: str) -> str:
    """The 5-digit ZIP of "10118", "10118-0110" or " 10118 "; "" when there is none."""
    digits = postal_code.strip()[:5]
    return digits if len(digits) == 5 and digits.isdigit() else ""


def great_circle_miles(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1 = map(math.radians, a)
    lat2, lon2 = map(math.radians, b)
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_MILES * math.asin(math.sqrt(h))


def zone_for_miles(miles: float, chart: ZoneChart) -> int:
    for up_to, zone in chart.bands:
        if miles <= up_to:
            return zone
    return chart.beyond_last_band


def military_region(postal_code: str) -> str:
    """AA, AE or AP for an APO/FPO/DPO ZIP; "" otherwise."""
    code = zip5(postal_code)
    return zone_chart().military_zip3.get(code[:3], "") if code else ""


def usps_zone(origin_postal_code: str, destination_postal_code: str) -> ZoneResult:
    chart = zone_chart()
    origin, destination = zip5(origin_postal_code), zip5(destination_postal_code)
    if not origin:
        return ZoneResult(None, f"no origin ZIP ({origin_postal_code!r})")
    if not destination:
        return ZoneResult(None, f"no destination ZIP ({destination_postal_code!r})")
    if destination in chart.zone_9_zip5:
        return ZoneResult(9, f"ZIP {destination} is a zone 9 exception")
    region = chart.military_zip3.get(destination[:3])
    if region:
        zone = chart.military_zone[region]
        return ZoneResult(zone, f"military {region} ZIP {destination}: zone {zone} exception")
    return _distance_zone(origin[:3], destination[:3])


@functools.lru_cache(maxsize=65536)
def _distance_zone(origin_zip3: str, destination_zip3: str) -> ZoneResult:
    """The zone between two ZIP3 areas (remembered: a burst's parcels share a few thousand)."""
    chart = zone_chart()
    if origin_zip3 == destination_zip3:
        return ZoneResult(chart.same_zip3, f"same ZIP3 {origin_zip3}")
    start = chart.centroids.get(origin_zip3)
    end = chart.centroids.get(destination_zip3)
    if start is None or end is None:
        unknown = origin_zip3 if start is None else destination_zip3
        return ZoneResult(None, f"ZIP3 {unknown} is not in the ZIP database")
    miles = great_circle_miles(start, end)
    zone = zone_for_miles(miles, chart)
    return ZoneResult(
        zone,
        f"{miles:,.0f} mi between ZIP3 {origin_zip3} and {destination_zip3}",
        miles=round(miles),
    )


def build_centroids(path: Path = CENTROIDS_FILE) -> int:
    """Rewrite ``zip3_centroids.csv`` from the ``zipcodes`` package: the mean position of every
    ZIP with coordinates in each 3-digit area, and the area's most common state."""
    import zipcodes

    positions: dict[str, list[tuple[float, float]]] = defaultdict(list)
    states: dict[str, Counter[str]] = defaultdict(Counter)
    for entry in zipcodes.list_all():  # type: ignore[no-untyped-call]
        latitude, longitude = float(entry["lat"]), float(entry["long"])
        if latitude == 0 and longitude == 0:  # military ZIPs carry no position
            continue
        prefix = entry["zip_code"][:3]
        positions[prefix].append((latitude, longitude))
        states[prefix][entry["state"]] += 1
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["zip3", "latitude", "longitude", "state"])
        for prefix in sorted(positions):
            points = positions[prefix]
            writer.writerow(
                [
                    prefix,
                    f"{sum(p[0] for p in points) / len(points):.4f}",
                    f"{sum(p[1] for p in points) / len(points):.4f}",
                    states[prefix].most_common(1)[0][0],
                ]
            )
    return len(positions)


if __name__ == "__main__":
    count = build_centroids()
    sys.stdout.write(f"wrote {count} ZIP3 centroids to {CENTROIDS_FILE}\n")
