"""What is wrong with a US shipping address, found offline: usaddress parses the street line,
the ZIP table (from ``zipcodes``) says which state a ZIP belongs to.

Never raises on bad input: whatever the text, the answer is a list of findings. Military
addresses (APO/FPO/DPO, "states" AA/AE/AP) have no street: "PSC 1234 Box 567" is their normal
form, so they are not asked for a street number and their unit box is not a PO Box.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import usaddress  # type: ignore[import-untyped]

from aftershow.risk.findings import Finding
from aftershow.risk.ziptable import state_codes
from aftershow.risk.ziptable import zip_state as zip_state_of

MILITARY_STATES = frozenset({"AA", "AE", "AP"})
MILITARY_CITIES = frozenset({"APO", "FPO", "DPO"})
REMOTE_STATES = ("AK", "HI", "PR", "GU", "VI", "AS", "MP")
ZIP_PATTERN = re.compile(r"^(\d{5})(?:-?\d{4})?$")
# "PO Box 12", "P.O. Box 12", "Post Office Box 12", "POB 12", "P O Box 12", "Box 12" alone.
PO_BOX_PATTERN = re.compile(
    r"^\s*(?:p\.?\s*o\.?\s*b(?:ox)?\.?|post\s+office\s+box|box)\s*#?\s*\d", re.IGNORECASE
)
# usaddress labels the box words of a PO Box as USPSBoxType.
PO_BOX_TYPE_PATTERN = re.compile(r"^(?:p\.?\s*o\.?\s*(?:b(?:ox)?)?\.?|post\s+office\s+box)$", re.I)


class AddressFields(Protocol):
    """What the analysis reads of an address: an ``orders.Address`` or ``AddressLines``."""

    @property
    def line1(self) -> str: ...
    @property
    def line2(self) -> str: ...
    @property
    def city(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def postal_code(self) -> str: ...
    @property
    def country(self) -> str: ...


@dataclass(frozen=True, slots=True)
class AddressLines:
    """An address read as plain values (screening reads a batch's addresses this way)."""

    line1: str
    line2: str
    city: str
    state: str
    postal_code: str
    country: str
    match_key: str


@dataclass(frozen=True)
class AddressReport:
    problems: tuple[Finding, ...]
    state: str  # as given, upper case; or the ZIP's state when none was given
    is_po_box: bool
    is_military: bool


def known_states() -> frozenset[str]:
    return state_codes()


@dataclass(frozen=True)
class _Street:
    labels: frozenset[str]
    box_type: str


@lru_cache(maxsize=8192)
def _parse_street(line: str) -> _Street | None:
    """What usaddress makes of a street line; None when it labels two parts the same way
    ("CMR 450 Box 12" reads as two box numbers)."""
    try:
        tagged, _ = usaddress.tag(line)
    except usaddress.RepeatedLabelError:
        return None
    return _Street(frozenset(tagged), tagged.get("USPSBoxType", "").strip())


def is_po_box_line(line: str, *, parse: bool = True) -> bool:
    """A PO Box by its spelling, or (``parse``) because usaddress labels it one."""
    line = line.strip()
    if not line:
        return False
    if PO_BOX_PATTERN.match(line):
        return True
    if not parse:
        return False
    street = _parse_street(line)
    return street is not None and bool(PO_BOX_TYPE_PATTERN.match(street.box_type))


def analyse_address(address: AddressFields | None) -> AddressReport:
    if address is None:
        return AddressReport((Finding("address_missing"),), "", False, False)
    line1, line2 = address.line1.strip(), address.line2.strip()
    city = address.city.strip()
    state = address.state.strip().upper()
    postal_code = address.postal_code.strip()
    country = (address.country or "US").strip().upper()
    problems: list[Finding] = []
    if country != "US":
        return AddressReport(
            (Finding("country_unsupported", {"country": country}),), state, False, False
        )
    is_military = state in MILITARY_STATES or city.upper() in MILITARY_CITIES
    # The first line is parsed anyway (street number); the second only by its spelling.
    is_po_box = not is_military and (
        is_po_box_line(line1 or line2) or is_po_box_line(line2, parse=False)
    )

    if not line1 and not line2:
        problems.append(Finding("street_missing"))
    elif not is_military and not is_po_box:
        street = _parse_street(line1 or line2)
        if street is None:
            problems.append(Finding("street_unparseable", {"line": line1 or line2}))
        elif "AddressNumber" not in street.labels:
            problems.append(Finding("street_number_missing", {"line": line1 or line2}))
    if not city:
        problems.append(Finding("city_missing"))
    if not state:
        problems.append(Finding("state_missing"))
    elif state not in known_states():
        problems.append(Finding("state_unknown", {"state": state}))

    zip_state = ""
    if not postal_code:
        problems.append(Finding("zip_missing"))
    else:
        match = ZIP_PATTERN.match(postal_code)
        if match is None:
            problems.append(Finding("zip_malformed", {"zip": postal_code}))
        else:
            zip_state = zip_state_of(match.group(1))
            if not zip_state:
                problems.append(Finding("zip_unknown", {"zip": match.group(1)}))
            elif state and state != zip_state and state in known_states():
                problems.append(
                    Finding(
                        "zip_state_mismatch",
                        {"zip": match.group(1), "zip_state": zip_state, "state": state},
                    )
                )
    return AddressReport(tuple(problems), state or zip_state, is_po_box, is_military)
