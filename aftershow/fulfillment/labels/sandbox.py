"""The sandbox carrier: sample labels for the demo, priced from aftershow's own rate cards.

Nothing is bought and nothing leaves the machine. Tracking numbers are deterministic, in the
carrier's own shape (a channel that checks the shape, as TikTok does, takes them) behind a
prefix no real label uses: the package id in 10 digits + one digit of the idempotency key's
hash + a mod-10 check digit, after ``9299990000`` (USPS, 22 digits like an IMpb), ``1ZSBXA``
(UPS, ``1Z`` + 16) or ``999`` (FedEx, 15 digits); any other carrier gets ``SBXXX``. The same
key always gives the same number, so buying again with it returns the same label. Labels are
drawn by aftershow from the package when printed (``is_drawn``), marked SAMPLE.
"""

from __future__ import annotations

import hashlib
import re

from django.utils import timezone

from aftershow.fulfillment.carriers.destination import is_military, is_po_box
from aftershow.fulfillment.carriers.rates import Destination, Dimensions, Rate, price, rate_cards
from aftershow.fulfillment.carriers.zones import usps_zone
from aftershow.fulfillment.labels.base import (
    LabelError,
    PurchasedLabel,
    RateQuote,
    ShipmentRequest,
)
from aftershow.shops.models import Shop

# Carrier → the prefix that makes the number the carrier's shape and marks it as a sample.
PREFIXES = {"USPS": "9299990000", "UPS": "1ZSBXA", "FedEx": "999"}
OTHER_PREFIX = "SBXXX"
TRACKING_PATTERN = re.compile(r"^(9299990000|1ZSBXA|999|SBXXX)(\d{12})$")


def check_digit(digits: str) -> str:
    """Luhn (mod 10) check digit of a digit string."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def sandbox_tracking_number(*, package_id: int, carrier: str, idempotency_key: str) -> str:
    key_digit = int(hashlib.sha256(idempotency_key.encode()).hexdigest(), 16) % 10
    body = f"{package_id % 10**10:010d}{key_digit}"
    return f"{PREFIXES.get(carrier, OTHER_PREFIX)}{body}{check_digit(body)}"


def is_sandbox_tracking_number(value: str) -> bool:
    found = TRACKING_PATTERN.match(value)
    return found is not None and check_digit(found.group(2)[:-1]) == value[-1]


class SandboxCarrier:
    code = "sandbox"

    def __init__(self, shop: Shop | None = None) -> None:
        self.shop = shop

    def quote(self, *, shipment: ShipmentRequest) -> list[RateQuote]:
        to = shipment.ship_to
        zone = usps_zone(shipment.ship_from_postal_code, to.postal_code)
        destination = Destination(
            postal_code=to.postal_code,
            state=to.state.upper(),
            zone=zone.zone,
            is_po_box=is_po_box(line1=to.line1, line2=to.line2),
            is_military=is_military(
                line1=to.line1,
                line2=to.line2,
                city=to.city,
                state=to.state,
                postal_code=to.postal_code,
            ),
        )
        parcel = shipment.parcel
        dims = Dimensions(parcel.length_in, parcel.width_in, parcel.height_in)
        cards = rate_cards(timezone.localdate())
        if shipment.service_code:
            cards = {code: card for code, card in cards.items() if code == shipment.service_code}
        quotes: list[RateQuote] = []
        refusals: list[str] = []
        for card in cards.values():
            outcome = price(card, weight_oz=parcel.weight_oz, dims=dims, destination=destination)
            if isinstance(outcome, Rate):
                quotes.append(
                    RateQuote(
                        provider=self.code,
                        carrier=card.carrier,
                        service=card.name,
                        amount=outcome.amount,
                        currency=card.currency,
                        delivery_days=outcome.transit_days,
                        remote_rate_id=card.code,
                    )
                )
            else:
                refusals.append(f"{card.title}: {outcome.reason}")
        if not quotes:
            raise LabelError("sandbox carrier: " + ("; ".join(refusals) or "no service"))
        return quotes

    def buy(
        self, *, shipment: ShipmentRequest, quote: RateQuote, idempotency_key: str
    ) -> PurchasedLabel:
        return PurchasedLabel(
            provider=self.code,
            carrier=quote.carrier,
            service=quote.service,
            tracking_number=sandbox_tracking_number(
                package_id=shipment.package_id,
                carrier=quote.carrier,
                idempotency_key=idempotency_key,
            ),
            amount=quote.amount,
            currency=quote.currency,
            is_drawn=True,
        )
