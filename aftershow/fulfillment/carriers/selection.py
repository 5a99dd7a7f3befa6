"""Choosing a carrier and service for one parcel: the seller's ordered rules, then the fallback.

Pure functions over plain values (no database), so the rules engine is tested exhaustively and
runs 1,000 parcels in milliseconds. ``fulfillment.selection`` loads the rules and facts.

1. The first active rule, in the seller's order, whose every set condition holds picks the
   service. Billable weight in a rule is computed with that rule's carrier's DIM divisor.
   When that service cannot carry the parcel (a PO Box for UPS, over the size limit) or would
   arrive after the promised date, the next matching rule is tried.
2. When no rule matches, or no matching rule's service can make it, the fallback takes the
   cheapest rate of any service that arrives by the promised date (if none does: the earliest
   arrival).
3. The label provider follows (R-O3): a USPS label for a TikTok order, and any label for a
   TikTok Shipping order, comes from TikTok Shipping; other labels from the aggregator.

Every outcome carries its reason in words, stored on the package and shown to the seller.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.utils import translation
from django.utils.translation import gettext_noop

from aftershow.fulfillment.carriers.codes import (
    Carrier,
    DestinationKind,
    ProviderCode,
    SelectionSource,
)
from aftershow.fulfillment.carriers.promise import add_business_days
from aftershow.fulfillment.carriers.rates import (
    BillableWeight,
    Destination,
    Dimensions,
    Rate,
    Refusal,
    ServiceCard,
    billable_weight,
    format_weight,
    price,
)


@functools.lru_cache(maxsize=1024)
def _translated(language: str | None, message: str) -> str:
    return translation.gettext(message)


# The active language, looked up once per ``select_service`` call: Django keeps it in an
# asgiref ``Local``, whose lookup cost as much as the rest of a parcel's choice.
_LANGUAGE: ContextVar[str | None] = ContextVar("selection_language", default=None)


def _(message: str) -> str:
    """``gettext``, remembered per language: a parcel's reason looks up a dozen phrases, and
    Django searches its catalogues on every call (half of choosing a carrier, profiled). The
    catalogues do not change while the process runs."""
    language = _LANGUAGE.get() or translation.get_language()
    return _translated(language, message)


SOURCE_RULE = SelectionSource.RULE
SOURCE_FALLBACK = SelectionSource.FALLBACK
SOURCE_NONE = SelectionSource.NONE


@dataclass(frozen=True)
class PackageFacts:
    channel: str
    shipping_type: str  # TikTok's TIKTOK (platform shipping) or SELLER; "" elsewhere
    weight_oz: Decimal
    dims: Dimensions
    destination: Destination
    zone_basis: str
    ship_by: datetime | None
    order_value: Decimal
    sku_tags: frozenset[str]
    ship_date: date
    deliver_by: date | None


@dataclass(frozen=True)
class RuleSpec:
    id: int | None
    position: int
    name: str
    service: str
    min_billable_weight_oz: Decimal | None = None
    max_billable_weight_oz: Decimal | None = None
    min_longest_side_in: Decimal | None = None
    max_longest_side_in: Decimal | None = None
    min_length_plus_girth_in: Decimal | None = None
    max_length_plus_girth_in: Decimal | None = None
    destination_states: frozenset[str] = frozenset()
    min_zone: int | None = None
    max_zone: int | None = None
    destination_kind: str = DestinationKind.ANY
    ship_by_within_hours: int | None = None
    min_order_value: Decimal | None = None
    max_order_value: Decimal | None = None
    sku_tags: frozenset[str] = frozenset()

    @property
    def label(self) -> str:
        return _("Rule %(position)s “%(name)s”") % {"position": self.position, "name": self.name}


@dataclass(frozen=True)
class Selection:
    source: str  # rule / fallback / none
    rule_id: int | None
    rate: Rate | None
    provider: str
    estimated_delivery: date | None
    reason: str

    @property
    def card(self) -> ServiceCard | None:
        return self.rate.card if self.rate else None


@dataclass(frozen=True)
class _Check:
    matched: bool
    detail: str


def _range_check(
    label: str,
    value: Decimal | int | None,
    low: Decimal | int | None,
    high: Decimal | int | None,
    show: Callable[[Decimal | int], str],
) -> _Check | None:
    if low is None and high is None:
        return None
    label = _(label)  # marked with gettext_noop by the caller: translated only when it is set
    if value is None:
        return _Check(False, _("%(label)s unknown") % {"label": label})
    if low is not None and value < low:
        return _Check(False, f"{label} {show(value)} < {show(low)}")
    if high is not None and value > high:
        return _Check(False, f"{label} {show(value)} > {show(high)}")
    bounds = []
    if low is not None:
        bounds.append(f"≥ {show(low)}")
    if high is not None:
        bounds.append(f"≤ {show(high)}")
    return _Check(True, f"{label} {show(value)} {' and '.join(bounds)}")


def _weight(value: Decimal | int) -> str:
    return format_weight(Decimal(value))


def _inches(value: Decimal | int) -> str:
    return f"{Decimal(value).normalize():f} in"


def _money(value: Decimal | int) -> str:
    return f"${Decimal(value):.2f}"


def _plain(value: Decimal | int) -> str:
    return str(value)


def _kind_matches(kind: str, destination: Destination) -> bool:
    if kind == DestinationKind.PO_BOX:
        return destination.is_po_box
    if kind == DestinationKind.MILITARY:
        return destination.is_military
    if kind == DestinationKind.PO_BOX_OR_MILITARY:
        return destination.is_po_box or destination.is_military
    if kind == DestinationKind.STREET:
        return not (destination.is_po_box or destination.is_military)
    return True


def rule_check(
    rule: RuleSpec, facts: PackageFacts, card: ServiceCard, *, now: datetime
) -> tuple[bool, list[str], BillableWeight]:
    """Whether every set condition of ``rule`` holds, with one phrase per condition (the
    failing one last when it does not)."""
    billable = billable_weight(weight_oz=facts.weight_oz, dims=facts.dims, rule=card.dim)
    destination = facts.destination
    checks: list[_Check | None] = [
        _range_check(
            gettext_noop("billable weight"),
            billable.billable_oz,
            rule.min_billable_weight_oz,
            rule.max_billable_weight_oz,
            _weight,
        ),
        _range_check(
            gettext_noop("longest side"),
            facts.dims.longest_in,
            rule.min_longest_side_in,
            rule.max_longest_side_in,
            _inches,
        ),
        _range_check(
            gettext_noop("length + girth"),
            facts.dims.length_plus_girth_in,
            rule.min_length_plus_girth_in,
            rule.max_length_plus_girth_in,
            _inches,
        ),
        _range_check(gettext_noop("zone"), destination.zone, rule.min_zone, rule.max_zone, _plain),
        _range_check(
            gettext_noop("order value"),
            facts.order_value,
            rule.min_order_value,
            rule.max_order_value,
            _money,
        ),
    ]
    if rule.destination_states:
        inside = destination.state.upper() in rule.destination_states
        checks.append(
            _Check(
                inside,
                _("state %(state)s %(verb)s %(states)s")
                % {
                    "state": destination.state or "?",
                    "verb": _("in") if inside else _("not in"),
                    "states": ", ".join(sorted(rule.destination_states)),
                },
            )
        )
    if rule.destination_kind != DestinationKind.ANY:
        kind_ok = _kind_matches(rule.destination_kind, destination)
        kind = (
            _("PO Box")
            if destination.is_po_box
            else _("military")
            if destination.is_military
            else _("street")
        )
        checks.append(
            _Check(
                kind_ok,
                _("destination is a %(kind)s address") % {"kind": kind},
            )
        )
    if rule.ship_by_within_hours is not None:
        if facts.ship_by is None:
            checks.append(_Check(False, _("no ship-by deadline")))
        else:
            hours = (facts.ship_by - now).total_seconds() / 3600
            checks.append(
                _Check(
                    hours <= rule.ship_by_within_hours,
                    _("ship-by in %(hours).1f h (limit %(limit)s h)")
                    % {"hours": hours, "limit": rule.ship_by_within_hours},
                )
            )
    if rule.sku_tags:
        common = sorted(facts.sku_tags & rule.sku_tags)
        checks.append(
            _Check(
                bool(common),
                _("SKU tags %(tags)s") % {"tags": ", ".join(common)}
                if common
                else _("no SKU tagged %(tags)s") % {"tags": ", ".join(sorted(rule.sku_tags))},
            )
        )
    phrases: list[str] = []
    for check in checks:
        if check is None:
            continue
        phrases.append(check.detail)
        if not check.matched:
            return False, phrases[-1:], billable
    return True, phrases, billable


def provider_for(
    *, channel: str, shipping_type: str, carrier: str, aggregator: str
) -> tuple[str, str]:
    """The label provider for a chosen carrier, and why (R-O3)."""
    if channel == "tiktok" and shipping_type.upper() == "TIKTOK":
        return ProviderCode.TIKTOK, _("TikTok Shipping order: the label comes from TikTok")
    if channel == "tiktok" and carrier == Carrier.USPS:
        return ProviderCode.TIKTOK, _(
            "a USPS label for a TikTok order must come from TikTok Shipping "
            "(labels bought elsewhere fail TikTok's tracking check)"
        )
    return aggregator, _("bought from %(provider)s") % {"provider": aggregator}


def _arrival(rate: Rate, facts: PackageFacts) -> date:
    return add_business_days(facts.ship_date, rate.transit_days)


def _rate_phrase(rate: Rate, facts: PackageFacts) -> str:
    arrival = _arrival(rate, facts)
    promised = (
        _(", promised by %(date)s") % {"date": facts.deliver_by.isoformat()}
        if facts.deliver_by
        else ""
    )
    return _(
        "%(service)s %(breakdown)s; billable %(billable)s (%(basis)s); zone %(zone)s "
        "(%(zone_basis)s); %(days)s business days, arrives %(arrival)s%(promised)s"
    ) % {
        "service": rate.card.title,
        "breakdown": rate.breakdown,
        "billable": format_weight(rate.billable.billable_oz),
        "basis": rate.billable.basis,
        "zone": facts.destination.zone,
        "zone_basis": facts.zone_basis,
        "days": rate.transit_days,
        "arrival": arrival.isoformat(),
        "promised": promised,
    }


def _in_time(rate: Rate, facts: PackageFacts) -> bool:
    return facts.deliver_by is None or _arrival(rate, facts) <= facts.deliver_by


def _finish(
    *,
    source: str,
    rule_id: int | None,
    rate: Rate | None,
    facts: PackageFacts,
    lines: list[str],
    aggregator: str,
) -> Selection:
    if rate is None:
        return Selection(source, rule_id, None, "", None, "\n".join(lines))
    provider, why = provider_for(
        channel=facts.channel,
        shipping_type=facts.shipping_type,
        carrier=rate.card.carrier,
        aggregator=aggregator,
    )
    lines.append(_("Label: %(why)s.") % {"why": why})
    return Selection(source, rule_id, rate, provider, _arrival(rate, facts), "\n".join(lines))


def select_service(
    facts: PackageFacts,
    rules: Sequence[RuleSpec],
    cards: Mapping[str, ServiceCard],
    *,
    now: datetime,
    aggregator: str,
) -> Selection:
    """The first matching rule whose service can carry the parcel in time; else the fallback.

    A matching rule whose service cannot take the parcel (a PO Box for FedEx, too big, too
    slow for the promise) hands over to the next matching rule, so "FedEx Ground, else UPS
    Ground" is two rules; when none is left, the fallback decides.
    """
    token = _LANGUAGE.set(translation.get_language())
    try:
        return _select(facts, rules, cards, now=now, aggregator=aggregator)
    finally:
        _LANGUAGE.reset(token)


def _select(
    facts: PackageFacts,
    rules: Sequence[RuleSpec],
    cards: Mapping[str, ServiceCard],
    *,
    now: datetime,
    aggregator: str,
) -> Selection:
    lines: list[str] = []
    misses: list[str] = []
    matched_any = False
    for rule in rules:
        card = cards.get(rule.service)
        if card is None:
            misses.append(
                _("%(rule)s: no rate card for %(service)s")
                % {"rule": rule.label, "service": rule.service}
            )
            continue
        matched, phrases, _billable = rule_check(rule, facts, card, now=now)
        if not matched:
            misses.append(f"{rule.label}: {phrases[0]}")
            continue
        matched_any = True
        conditions = "; ".join(phrases) or _("no conditions")
        outcome = price(
            card, weight_oz=facts.weight_oz, dims=facts.dims, destination=facts.destination
        )
        if isinstance(outcome, Refusal):
            lines.append(
                _("%(rule)s matched (%(conditions)s) but %(service)s cannot take it: %(why)s.")
                % {
                    "rule": rule.label,
                    "conditions": conditions,
                    "service": card.title,
                    "why": outcome.reason,
                }
            )
            continue
        if not _in_time(outcome, facts):
            lines.append(
                _(
                    "%(rule)s matched (%(conditions)s) but %(service)s would arrive "
                    "%(arrival)s, after the promised %(promised)s."
                )
                % {
                    "rule": rule.label,
                    "conditions": conditions,
                    "service": card.title,
                    "arrival": _arrival(outcome, facts).isoformat(),
                    "promised": facts.deliver_by.isoformat() if facts.deliver_by else "",
                }
            )
            continue
        if misses:
            lines.insert(0, _("Skipped %(misses)s.") % {"misses": "; ".join(misses)})
        lines.append(
            _("%(rule)s matched: %(conditions)s.") % {"rule": rule.label, "conditions": conditions}
        )
        lines.append(f"→ {_rate_phrase(outcome, facts)}.")
        return _finish(
            source=SOURCE_RULE,
            rule_id=rule.id,
            rate=outcome,
            facts=facts,
            lines=lines,
            aggregator=aggregator,
        )
    if not matched_any:
        lines.append(
            _("No rule matched (%(misses)s).")
            % {"misses": "; ".join(misses) or _("no active rules")}
        )
    return _fallback(facts, cards, lines=lines, aggregator=aggregator)


def _fallback(
    facts: PackageFacts,
    cards: Mapping[str, ServiceCard],
    *,
    lines: list[str],
    aggregator: str,
) -> Selection:
    rates: list[Rate] = []
    refusals: list[str] = []
    for card in cards.values():
        outcome = price(
            card, weight_oz=facts.weight_oz, dims=facts.dims, destination=facts.destination
        )
        if isinstance(outcome, Refusal):
            refusals.append(f"{card.title}: {outcome.reason}")
        else:
            rates.append(outcome)
    if not rates:
        lines.append(
            _("No service can carry this parcel: %(refusals)s.") % {"refusals": "; ".join(refusals)}
        )
        return _finish(
            source=SOURCE_NONE,
            rule_id=None,
            rate=None,
            facts=facts,
            lines=lines,
            aggregator=aggregator,
        )
    in_time = [rate for rate in rates if _in_time(rate, facts)]
    if in_time:
        chosen = min(in_time, key=lambda rate: (rate.amount, rate.transit_days, rate.card.code))
        lines.append(
            _(
                "Fallback: the cheapest service arriving by the promised date "
                "(%(in_time)s of %(total)s do)."
            )
            % {"in_time": len(in_time), "total": len(rates)}
        )
    else:
        chosen = min(rates, key=lambda rate: (rate.transit_days, rate.amount, rate.card.code))
        lines.append(
            _("Fallback: no service arrives by %(promised)s; the earliest arrival is chosen.")
            % {"promised": facts.deliver_by.isoformat() if facts.deliver_by else "?"}
        )
    lines.append(f"→ {_rate_phrase(chosen, facts)}.")
    return _finish(
        source=SOURCE_FALLBACK,
        rule_id=None,
        rate=chosen,
        facts=facts,
        lines=lines,
        aggregator=aggregator,
    )
