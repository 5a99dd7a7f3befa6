"""The one interface every label source implements: TikTok Shipping, a label aggregator
(EasyPost), and the sandbox carrier used by the demo.

A provider quotes rates for a parcel and buys a label. ``buy`` takes an idempotency key (one per
package and purchase attempt lineage): calling it again with the same key must return the same
label, never a second one, so a crash or a retry can never pay twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Parcel:
    weight_oz: Decimal
    length_in: Decimal
    width_in: Decimal
    height_in: Decimal


@dataclass(frozen=True)
class ShipTo:
    name: str
    line1: str
    line2: str
    city: str
    state: str
    postal_code: str
    country: str = "US"
    phone: str = ""


@dataclass(frozen=True)
class ShipmentRequest:
    """What a provider needs to quote or buy one label."""

    package_id: int
    shop_id: int
    channel: str  # "tiktok", "shopify", ... (USPS for TikTok orders must be a TikTok label)
    remote_order_ids: tuple[str, ...]
    remote_line_ids: tuple[str, ...]
    ship_from_postal_code: str
    ship_to: ShipTo
    parcel: Parcel
    ship_by: datetime | None = None
    deliver_by: datetime | None = None
    # Added for the aggregator and the sandbox carrier (both print the sender's address) and
    # so a provider can quote only the service aftershow chose; all optional.
    ship_from: ShipTo | None = None
    carrier: str = ""  # "USPS", "UPS", "FedEx": the carrier aftershow chose
    service: str = ""  # its service name, e.g. "Ground Advantage"
    service_code: str = ""  # aftershow's code, e.g. "usps_ground_advantage"


@dataclass(frozen=True)
class RateQuote:
    provider: str
    carrier: str  # "USPS", "UPS", "FedEx"
    service: str  # e.g. "Ground Advantage", "Priority Mail", "Ground"
    amount: Decimal
    currency: str
    delivery_days: int | None
    # The provider's own id for this rate (EasyPost rate id, TikTok shipping_service_id).
    remote_rate_id: str = ""
    # The provider's shipment the rate belongs to (EasyPost shp_...), when it has one: stored
    # with the purchase intent so a retry can ask for that shipment's label.
    remote_shipment_id: str = ""


@dataclass(frozen=True)
class PurchasedLabel:
    provider: str
    carrier: str
    service: str
    tracking_number: str
    amount: Decimal
    currency: str
    label_pdf: bytes = b""  # one 4x6 page
    label_zpl: bytes = b""
    remote_shipment_id: str = ""  # EasyPost shipment id, TikTok package id
    remote_provider_id: str = ""  # TikTok shipping_provider_id for the tracking upload
    extra: dict[str, str] = field(default_factory=dict)
    # A 4x6 image of the label (PNG or JPEG; EasyPost's default label_url, TikTok's
    # SHIPPING_LABEL_PICTURE): what the batch PDF places on a page.
    label_image: bytes = b""
    # True when aftershow draws the label itself from the package (the sandbox carrier), so
    # no file is stored and the batch PDF draws it directly.
    is_drawn: bool = False


class LabelError(Exception):
    """A provider refused the parcel (bad address, no service): the order goes to review
    with ``reason``; the batch goes on."""

    def __init__(self, reason: str, *, is_retryable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.is_retryable = is_retryable


class LabelProvider(Protocol):
    code: str

    def quote(self, *, shipment: ShipmentRequest) -> list[RateQuote]: ...

    def buy(
        self, *, shipment: ShipmentRequest, quote: RateQuote, idempotency_key: str
    ) -> PurchasedLabel: ...


@runtime_checkable
class LabelLookup(Protocol):
    """Optional: a provider that can find a label it already sold, by its shipment id.

    After a crash between recording the purchase intent and recording the result, the retry
    calls ``find_label``: a label found is recorded as bought, never bought again; None means
    the shipment was never bought, so buying it now is safe. Providers without it are asked to
    ``buy`` again with the same idempotency key, which must return the same label.
    """

    def find_label(
        self, *, shipment: ShipmentRequest, remote_shipment_id: str, idempotency_key: str
    ) -> PurchasedLabel | None: ...
