"""Findings: what a rule saw, as a message code and its concrete values.

A flag stores its findings, so its reason can be shown in the reader's language; it also stores
the reason rendered once in the site's language, for the API, exports and searching.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

MESSAGES: dict[str, Promise] = {
    "address_missing": _("No shipping address"),
    "country_unsupported": _("Destination country %(country)s: only US addresses are checked"),
    "street_missing": _("Street address missing"),
    "street_unparseable": _("Street address “%(line)s” could not be parsed"),
    "street_number_missing": _("No street number in “%(line)s”"),
    "city_missing": _("City missing"),
    "state_missing": _("State missing"),
    "state_unknown": _("Unknown state “%(state)s”"),
    "zip_missing": _("ZIP code missing"),
    "zip_malformed": _("ZIP code “%(zip)s” is not 5 digits or ZIP+4"),
    "zip_unknown": _("ZIP code %(zip)s does not exist"),
    "zip_state_mismatch": _("ZIP code %(zip)s is in %(zip_state)s, not %(state)s"),
    "return_rate": _(
        "Buyer returned %(returned)s of %(orders)s delivered orders "
        "(%(rate)s %%, limit %(limit)s %%)"
    ),
    "velocity_ip": _("%(count)s orders from IP %(ip)s within %(minutes)s minutes: %(orders)s"),
    "velocity_buyer": _(
        "%(count)s orders from buyer %(buyer)s within %(minutes)s minutes: %(orders)s"
    ),
    "velocity_address": _(
        "%(count)s orders to the same address within %(minutes)s minutes: %(orders)s"
    ),
    "remote_destination": _("Remote destination: %(state)s"),
    "military_destination": _("Military address (APO/FPO/DPO): %(state)s"),
    "po_box_no_carrier": _("PO Box: only USPS can deliver"),
    "po_box_carrier": _("PO Box: %(carrier)s cannot deliver to a PO Box"),
    "high_value": _("Order total %(total)s %(currency)s is above %(limit)s %(currency)s"),
    "high_units": _("%(units)s units is more than %(limit)s"),
}


@dataclass(frozen=True)
class Finding:
    code: str
    values: Mapping[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "values": dict(self.values)}

    def render(self) -> str:
        return str(MESSAGES[self.code]) % dict(self.values)


def render_findings(findings: Iterable[Mapping[str, Any]]) -> str:
    """Stored findings as one sentence in the active language; unknown codes are skipped."""
    parts = []
    for item in findings:
        message = MESSAGES.get(str(item.get("code", "")))
        if message is None:
            continue
        try:
            parts.append(str(message) % dict(item.get("values") or {}))
        except (KeyError, TypeError, ValueError):
            continue
    return "; ".join(parts)


def reason_text(findings: Iterable[Finding]) -> str:
    """The reason as stored: the caller renders it in the site's language (screening holds
    ``translation.override(settings.LANGUAGE_CODE)`` around a whole batch)."""
    return "; ".join(finding.render() for finding in findings)
