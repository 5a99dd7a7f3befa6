"""The sandbox's US logistics catalogue: delivery options, shipping providers, services.

Two delivery options, matching the ids the sandbox's orders carry: TikTok Shipping ("Standard
Shipping") and seller shipping ("Shipped by seller", type ``SEND_BY_SELLER``). Provider ids are
numeric strings shaped like TikTok's; the USPS one is the id seen on real US orders. Each
provider has a tracking-number format the sandbox enforces (a wrong shape is ``21011022``): USPS
IMpb (22 digits from 92-95, or an S10 ``XX123456789US``), UPS ``1Z`` + 16, FedEx 12/15/20/22
digits, DHL eCommerce ``GM`` + 16-18 or 10-22 digits, OnTrac ``C``/``D`` + 14, Amazon ``TBA``
+ 12. TikTok Shipping services are priced per started pound so quotes are predictable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from .errors import invalid_param

TIKTOK_DELIVERY_OPTION = "7359159720562657056"
SELLER_DELIVERY_OPTION = "7359159720562657057"
GRAMS_PER_POUND = Decimal("453.59237")


@dataclass(frozen=True)
class Provider:
    id: str
    name: str
    tracking_format: re.Pattern[str]


USPS = Provider("7117858858072016686", "USPS", re.compile(r"9[2-5]\d{20}|[A-Z]{2}\d{9}US"))
UPS = Provider("7117859084333745966", "UPS", re.compile(r"1Z[0-9A-Z]{16}"))
FEDEX = Provider("7117858858072115990", "FedEx", re.compile(r"\d{12}|\d{15}|\d{20}|\d{22}"))
DHL_ECOMMERCE = Provider(
    "7129736104898889478", "DHL eCommerce", re.compile(r"GM\d{16,18}|\d{10,22}")
)
ONTRAC = Provider("7212604390011437870", "OnTrac", re.compile(r"[CD]\d{14}"))
AMAZON = Provider("7248364930591754030", "Amazon Logistics", re.compile(r"TBA\d{12}"))

PROVIDERS_BY_ID = {p.id: p for p in (USPS, UPS, FEDEX, DHL_ECOMMERCE, ONTRAC, AMAZON)}
_PROVIDERS_BY_OPTION = {
    TIKTOK_DELIVERY_OPTION: (USPS, UPS, FEDEX),
    SELLER_DELIVERY_OPTION: (USPS, UPS, FEDEX, DHL_ECOMMERCE, ONTRAC, AMAZON),
}


def providers_for_delivery_option(delivery_option_id: str) -> tuple[Provider, ...]:
    providers = _PROVIDERS_BY_OPTION.get(delivery_option_id)
    if providers is None:
        raise invalid_param(f"delivery option {delivery_option_id} does not exist")
    return providers


@dataclass(frozen=True)
class ShippingService:
    id: str
    name: str
    provider: Provider
    base_price: Decimal
    price_per_pound: Decimal
    earliest_delivery_days: int
    latest_delivery_days: int
    max_pounds: Decimal

    def price(self, pounds: Decimal) -> Decimal:
        started = pounds.to_integral_value(rounding=ROUND_CEILING)
        return self.base_price + self.price_per_pound * max(started, Decimal(1))

    def to_wire(self, pounds: Decimal) -> dict[str, object]:
        cheapest = min(eligible_services(pounds), key=lambda s: (s.price(pounds), s.id))
        return {
            "id": self.id,
            "name": self.name,
            "price": str(self.price(pounds)),
            "currency": "USD",
            "is_default": self is cheapest,
            "earliest_delivery_days": self.earliest_delivery_days,
            "latest_delivery_days": self.latest_delivery_days,
            "shipping_provider_id": self.provider.id,
            "shipping_provider_name": self.provider.name,
        }

    def tracking_number_for(self, package_id: str) -> str:
        """A tracking number in the provider's format, derived from the package id."""
        digits = int(package_id)
        if self.provider is UPS:
            return f"1ZSBX{digits % 10**13:013d}"
        if self.provider is FEDEX:
            return f"{digits % 10**12:012d}"
        return f"9400{digits % 10**18:018d}"


SERVICES = (
    ShippingService(
        "7403158236471283461", "USPS Ground Advantage", USPS,
        Decimal("4.35"), Decimal("0.95"), 2, 5, Decimal(70),
    ),
    ShippingService(
        "7403158236471283462", "USPS Priority Mail", USPS,
        Decimal("7.90"), Decimal("1.45"), 1, 3, Decimal(70),
    ),
    ShippingService(
        "7403158236471283463", "UPS Ground", UPS,
        Decimal("9.20"), Decimal("0.85"), 1, 5, Decimal(150),
    ),
    ShippingService(
        "7403158236471283464", "FedEx Ground", FEDEX,
        Decimal("9.45"), Decimal("0.80"), 1, 5, Decimal(150),
    ),
)  # fmt: skip
SERVICES_BY_ID = {service.id: service for service in SERVICES}


def weight_in_pounds(value: str, unit: str) -> Decimal:
    """TikTok's ``weight{value, unit}`` with unit ``GRAM`` or ``POUND``; must be positive."""
    amount = Decimal(value)
    if not amount.is_finite() or amount <= 0:
        raise ValueError("value must be a positive number")
    if unit == "POUND":
        return amount
    if unit == "GRAM":
        return amount / GRAMS_PER_POUND
    raise ValueError("unit must be GRAM or POUND")


def eligible_services(pounds: Decimal) -> list[ShippingService]:
    return [service for service in SERVICES if pounds <= service.max_pounds]
