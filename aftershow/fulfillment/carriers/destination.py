"""What kind of place a parcel goes to: PO Box, military (APO/FPO/DPO) or a street address.

UPS and FedEx deliver to neither PO Boxes nor military addresses; carrier-rates.md §2.3: "force
USPS when state in (AA, AE, AP), city in (APO, FPO, DPO) or address line matches PO BOX / PSC /
CMR / UNIT..BOX".
"""

from __future__ import annotations

import re

from aftershow.fulfillment.carriers.zones import military_region

PO_BOX = re.compile(
    r"\b(?:P\.?\s*O\.?\s*BOX|POST\s+OFFICE\s+BOX|P\.?\s*O\.?\s*B\b|POB\b)",
    re.IGNORECASE,
)
MILITARY_LINE = re.compile(r"\b(?:PSC\s+\d+|CMR\s+\d+|UNIT\s+\d+\s+BOX)\b", re.IGNORECASE)
MILITARY_STATES = frozenset({"AA", "AE", "AP"})
MILITARY_CITIES = frozenset({"APO", "FPO", "DPO"})


def is_military(*, line1: str, line2: str, city: str, state: str, postal_code: str) -> bool:
    return (
        state.strip().upper() in MILITARY_STATES
        or city.strip().upper() in MILITARY_CITIES
        or bool(military_region(postal_code))
        or bool(MILITARY_LINE.search(line1) or MILITARY_LINE.search(line2))
    )


def is_po_box(*, line1: str, line2: str) -> bool:
    return bool(PO_BOX.search(line1) or PO_BOX.search(line2))
