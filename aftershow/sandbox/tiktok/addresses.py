"""Realistic US recipients: real ZIP → city/state/county rows, plus the broken ones sellers see.

Valid addresses use the rows in ``data/us_zips.csv`` (real ZIP codes with their city, state and
county), so an address the sandbox calls valid passes a real ZIP/state check. The anomalies are
built from the same rows: a street with no house number, a missing ZIP, a ZIP from another state,
a PO Box, a non-contiguous destination (AK, HI, PR, GU, VI, AS, MP) or a military APO/FPO/DPO
address (states AA/AE/AP). Phone numbers use the fictional 555-01xx range.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import cache
from importlib import resources

# State name and an approximate state-level sales-tax rate (percent) used for order tax.
STATES: dict[str, tuple[str, Decimal]] = {
    "AL": ("Alabama", Decimal("4")), "AK": ("Alaska", Decimal("0")),
    "AZ": ("Arizona", Decimal("5.6")), "AR": ("Arkansas", Decimal("6.5")),
    "CA": ("California", Decimal("7.25")), "CO": ("Colorado", Decimal("2.9")),
    "CT": ("Connecticut", Decimal("6.35")), "DE": ("Delaware", Decimal("0")),
    "DC": ("District of Columbia", Decimal("6")), "FL": ("Florida", Decimal("6")),
    "GA": ("Georgia", Decimal("4")), "HI": ("Hawaii", Decimal("4")),
    "ID": ("Idaho", Decimal("6")), "IL": ("Illinois", Decimal("6.25")),
    "IN": ("Indiana", Decimal("7")), "IA": ("Iowa", Decimal("6")),
    "KS": ("Kansas", Decimal("6.5")), "KY": ("Kentucky", Decimal("6")),
    "LA": ("Louisiana", Decimal("4.45")), "ME": ("Maine", Decimal("5.5")),
    "MD": ("Maryland", Decimal("6")), "MA": ("Massachusetts", Decimal("6.25")),
    "MI": ("Michigan", Decimal("6")), "MN": ("Minnesota", Decimal("6.875")),
    "MS": ("Mississippi", Decimal("7")), "MO": ("Missouri", Decimal("4.225")),
    "MT": ("Montana", Decimal("0")), "NE": ("Nebraska", Decimal("5.5")),
    "NV": ("Nevada", Decimal("6.85")), "NH": ("New Hampshire", Decimal("0")),
    "NJ": ("New Jersey", Decimal("6.625")), "NM": ("New Mexico", Decimal("4.875")),
    "NY": ("New York", Decimal("4")), "NC": ("North Carolina", Decimal("4.75")),
    "ND": ("North Dakota", Decimal("5")), "OH": ("Ohio", Decimal("5.75")),
    "OK": ("Oklahoma", Decimal("4.5")), "OR": ("Oregon", Decimal("0")),
    "PA": ("Pennsylvania", Decimal("6")), "RI": ("Rhode Island", Decimal("7")),
    "SC": ("South Carolina", Decimal("6")), "SD": ("South Dakota", Decimal("4.2")),
    "TN": ("Tennessee", Decimal("7")), "TX": ("Texas", Decimal("6.25")),
    "UT": ("Utah", Decimal("6.1")), "VT": ("Vermont", Decimal("6")),
    "VA": ("Virginia", Decimal("5.3")), "WA": ("Washington", Decimal("6.5")),
    "WV": ("West Virginia", Decimal("6")), "WI": ("Wisconsin", Decimal("5")),
    "WY": ("Wyoming", Decimal("4")), "PR": ("Puerto Rico", Decimal("10.5")),
    "GU": ("Guam", Decimal("0")), "VI": ("U.S. Virgin Islands", Decimal("0")),
    "AS": ("American Samoa", Decimal("0")), "MP": ("Northern Mariana Islands", Decimal("0")),
    "AA": ("Armed Forces Americas", Decimal("0")), "AE": ("Armed Forces Europe", Decimal("0")),
    "AP": ("Armed Forces Pacific", Decimal("0")),
}  # fmt: skip

REMOTE_STATES = frozenset({"AK", "HI", "PR", "GU", "VI", "AS", "MP"})
MILITARY_STATES = frozenset({"AA", "AE", "AP"})

# Real APO/FPO/DPO ZIP prefixes: AA 340xx, AE 090xx-098xx, AP 962xx-966xx.
_MILITARY_ZIPS = {
    "AA": ("34002", "34007", "34020", "34030", "34038", "34055"),
    "AE": ("09021", "09094", "09131", "09180", "09302", "09459", "09630", "09707", "09812"),
    "AP": ("96205", "96271", "96303", "96319", "96349", "96362", "96515", "96601"),
}

FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "James", "Isabella", "Lucas",
    "Mia", "Mateo", "Amelia", "Ethan", "Harper", "Aiden", "Evelyn", "Jayden", "Abigail", "Daniel",
    "Camila", "Jackson", "Luna", "Sebastian", "Sofia", "Jose", "Aaliyah", "Logan", "Chloe",
    "Carter", "Grace", "Owen", "Zoey", "Wyatt", "Nora", "Isaiah", "Layla", "Malik", "Priya",
    "Mei", "Tyrone", "Keisha", "Diego", "Valentina", "Hannah", "Nguyen", "Fatima", "Omar",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Patel", "Kim", "Washington", "Okafor",
)  # fmt: skip
STREETS = (
    "Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Elm St", "Pine St", "Washington Ave",
    "Lake Shore Dr", "2nd St", "Park Ave", "Sunset Blvd", "Highland Ave", "Broadway",
    "Hillcrest Rd", "River Rd", "Church St", "Lincoln Ave", "Jefferson St", "Madison Ave",
    "Franklin St", "Willow Way", "Chestnut St", "Spruce St", "Walnut St", "Forest Ave",
    "Meadow Ln", "Ridge Rd", "Valley View Dr", "Cherry St", "Magnolia Blvd", "5th Ave",
    "Martin Luther King Jr Blvd", "Orchard Rd", "Birch Ct", "Sycamore St", "Lakeview Ter",
)  # fmt: skip
UNITS = ("Apt {n}", "Apt {n}B", "Unit {n}", "Suite {n}", "# {n}", "Apt {n}A")
PO_BOX_FORMS = ("PO Box {n}", "P.O. Box {n}", "Post Office Box {n}", "POB {n}", "PO BOX {n}")


class AddressKind(StrEnum):
    VALID = "valid"
    MISSING_STREET_NUMBER = "missing_street_number"
    MISSING_ZIP = "missing_zip"
    ZIP_STATE_MISMATCH = "zip_state_mismatch"
    PO_BOX = "po_box"
    REMOTE = "remote_destination"
    MILITARY = "military_apo_fpo"


BROKEN_KINDS = (
    AddressKind.MISSING_STREET_NUMBER,
    AddressKind.MISSING_ZIP,
    AddressKind.ZIP_STATE_MISMATCH,
)


@dataclass(frozen=True)
class ZipRow:
    postal_code: str
    city: str
    state: str
    county: str


@cache
def zip_rows() -> tuple[ZipRow, ...]:
    text = resources.files(__package__).joinpath("data/us_zips.csv").read_text(encoding="utf-8")
    return tuple(
        ZipRow(row["zip"], row["city"], row["state"], row["county"])
        for row in csv.DictReader(text.splitlines())
    )


@cache
def _contiguous_rows() -> tuple[ZipRow, ...]:
    return tuple(row for row in zip_rows() if row.state not in REMOTE_STATES)


@cache
def _remote_rows() -> tuple[ZipRow, ...]:
    return tuple(row for row in zip_rows() if row.state in REMOTE_STATES)


@dataclass(frozen=True)
class Recipient:
    """A buyer's shipping address as the seller will eventually see it."""

    first_name: str
    last_name: str
    phone_number: str
    address_line1: str
    address_line2: str
    city: str
    state: str
    county: str
    postal_code: str
    kind: AddressKind
    region_code: str = "US"

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def state_name(self) -> str:
        return STATES[self.state][0]

    @property
    def tax_rate_millipercent(self) -> int:
        """Sales-tax rate in thousandths of a percent (7.25 % → 7250), for exact cent math."""
        return int(STATES[self.state][1] * 1000)

    @property
    def tax_rate_fraction(self) -> str:
        """The rate as TikTok's ``item_tax[].tax_rate`` writes it (7.25 % → ``"0.0725"``)."""
        return str((STATES[self.state][1] / 100).normalize())

    def district_info(self) -> list[dict[str, str]]:
        # TikTok US: L0 Country, L1 State, L2 County, L3 City; city/state exist only here.
        levels = [
            ("L0", "Country", "United States", "US"),
            ("L1", "State", self.state_name, f"US-{self.state}"),
            ("L2", "County", self.county, ""),
            ("L3", "City", self.city, ""),
        ]
        return [
            {
                "address_level": level,
                "address_level_name": level_name,
                "address_name": value,
                "iso_code": iso,
            }
            for level, level_name, value, iso in levels
            if value
        ]

    def full_address(self) -> str:
        parts = [
            self.address_line1,
            self.address_line2,
            self.city,
            self.county,
            self.state_name,
            self.postal_code,
            "United States",
        ]
        return ", ".join(part for part in parts if part)

    def to_wire(self, *, masked: bool = False) -> dict[str, object]:
        first, last, phone = self.first_name, self.last_name, self.phone_number
        if masked:  # TikTok Shipping orders: name and phone come desensitized.
            first, last = f"{first[0]}***", f"{last[0]}***"
            phone = f"{phone[:7]}*****{phone[-2:]}"
        return {
            "name": f"{first} {last}",
            "first_name": first,
            "last_name": last,
            "phone_number": phone,
            "address_line1": self.address_line1,
            "address_line2": self.address_line2,
            "address_line3": "",
            "address_line4": "",
            "address_detail": self.address_line2,
            "full_address": self.full_address(),
            "postal_code": self.postal_code,
            "region_code": self.region_code,
            "district_info": self.district_info(),
        }


def hidden_recipient() -> dict[str, object]:
    """What ON_HOLD orders show during the remorse window: everything blank but the region."""
    return {
        "name": "",
        "first_name": "",
        "last_name": "",
        "phone_number": "",
        "address_line1": "",
        "address_line2": "",
        "address_line3": "",
        "address_line4": "",
        "address_detail": "",
        "full_address": "",
        "postal_code": "",
        "region_code": "US",
        "district_info": [],
    }


def _phone(rng: random.Random) -> str:
    area = rng.randrange(201, 990)
    if area % 100 == 11:  # N11 codes are not area codes
        area += 1
    return f"(+1){area}55501{rng.randrange(0, 100):02d}"


def _street(rng: random.Random) -> str:
    return f"{rng.randrange(1, 9900)} {rng.choice(STREETS)}"


def _unit(rng: random.Random) -> str:
    if rng.random() < 0.7:
        return ""
    return rng.choice(UNITS).format(n=rng.randrange(1, 40) * (rng.choice((1, 1, 10))))


def make_recipient(rng: random.Random, kind: AddressKind = AddressKind.VALID) -> Recipient:
    first, last, phone = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES), _phone(rng)
    line1, line2 = _street(rng), _unit(rng)
    if kind is AddressKind.MILITARY:
        state = rng.choice(sorted(MILITARY_STATES))
        city = rng.choice(("APO", "APO", "FPO", "DPO"))
        line1 = rng.choice(("PSC {a} Box {b}", "Unit {a} Box {b}", "CMR {a} Box {b}")).format(
            a=rng.randrange(100, 9999), b=rng.randrange(1, 9999)
        )
        postal_code = rng.choice(_MILITARY_ZIPS[state])
        return Recipient(first, last, phone, line1, "", city, state, "", postal_code, kind)
    row = rng.choice(_remote_rows() if kind is AddressKind.REMOTE else _contiguous_rows())
    postal_code = row.postal_code
    if kind is AddressKind.MISSING_STREET_NUMBER:
        line1 = rng.choice(STREETS)
    elif kind is AddressKind.MISSING_ZIP:
        postal_code = ""
    elif kind is AddressKind.ZIP_STATE_MISMATCH:
        postal_code = rng.choice(
            [r for r in _contiguous_rows() if r.state != row.state]
        ).postal_code
    elif kind is AddressKind.PO_BOX:
        line1, line2 = rng.choice(PO_BOX_FORMS).format(n=rng.randrange(1, 99999)), ""
    return Recipient(
        first, last, phone, line1, line2, row.city, row.state, row.county, postal_code, kind
    )


def anonymized_email(rng: random.Random) -> str:
    """TikTok relays buyer mail through an anonymized address; never mail it directly."""
    local = f"{rng.getrandbits(108):027X}"
    return f"{local}@scs{rng.randrange(1, 4)}.tiktok.com"
