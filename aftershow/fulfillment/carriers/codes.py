"""The carriers and services aftershow can choose, and the label providers that sell them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Carrier(models.TextChoices):
    USPS = "USPS", "USPS"
    UPS = "UPS", "UPS"
    FEDEX = "FedEx", "FedEx"


class ServiceCode(models.TextChoices):
    """One code per rate card service in ``data/rates/*.json``."""

    USPS_GROUND_ADVANTAGE = "usps_ground_advantage", _("USPS Ground Advantage")
    USPS_PRIORITY_MAIL = "usps_priority_mail", _("USPS Priority Mail")
    UPS_GROUND = "ups_ground", _("UPS Ground")
    FEDEX_GROUND = "fedex_ground", _("FedEx Ground")


SERVICE_CARRIER: dict[str, str] = {
    ServiceCode.USPS_GROUND_ADVANTAGE: Carrier.USPS,
    ServiceCode.USPS_PRIORITY_MAIL: Carrier.USPS,
    ServiceCode.UPS_GROUND: Carrier.UPS,
    ServiceCode.FEDEX_GROUND: Carrier.FEDEX,
}


class ProviderCode(models.TextChoices):
    TIKTOK = "tiktok", _("TikTok Shipping")
    EASYPOST = "easypost", _("EasyPost")
    SANDBOX = "sandbox", _("Sandbox carrier (sample labels)")


class DestinationKind(models.TextChoices):
    ANY = "any", _("Any address")
    PO_BOX = "po_box", _("PO Box")
    MILITARY = "military", _("Military (APO/FPO/DPO)")
    PO_BOX_OR_MILITARY = "po_box_or_military", _("PO Box or military")
    STREET = "street", _("Street address (neither)")


class SelectionSource(models.TextChoices):
    RULE = "rule", _("Rule")
    FALLBACK = "fallback", _("Fallback: cheapest in time")
    NONE = "none", _("No service possible")
