"""Carrier and service selection for stored parcels: load the seller's rules and each parcel's
facts, run ``carriers.selection.select_service``, store the choice and its reason."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from aftershow.fulfillment.carriers.codes import SelectionSource
from aftershow.fulfillment.carriers.rates import Destination, Dimensions, rate_cards
from aftershow.fulfillment.carriers.selection import (
    PackageFacts,
    RuleSpec,
    Selection,
    select_service,
)
from aftershow.fulfillment.carriers.zones import usps_zone
from aftershow.fulfillment.conf import setting
from aftershow.fulfillment.fastrows import instances_update
from aftershow.fulfillment.models import CarrierRule, Package
from aftershow.inventory.models import Warehouse
from aftershow.orders.models import Address, OrderLine
from aftershow.shops.models import Shop

SELECTION_FIELDS = [
    "carrier",
    "service",
    "service_code",
    "provider",
    "rule",
    "selection_source",
    "selection_reason",
    "selected_at",
    "zone",
    "billable_weight_oz",
    "quoted_amount",
    "estimated_delivery",
]
READ_CHUNK = 500


def rule_specs() -> list[RuleSpec]:
    """The active rules in the seller's order, numbered 1, 2, … as the rules page shows them."""
    rules = CarrierRule.objects.filter(is_active=True).prefetch_related("sku_tags")
    return [
        RuleSpec(
            id=rule.pk,
            position=rank,
            name=rule.name,
            service=rule.service,
            min_billable_weight_oz=rule.min_billable_weight_oz,
            max_billable_weight_oz=rule.max_billable_weight_oz,
            min_longest_side_in=rule.min_longest_side_in,
            max_longest_side_in=rule.max_longest_side_in,
            min_length_plus_girth_in=rule.min_length_plus_girth_in,
            max_length_plus_girth_in=rule.max_length_plus_girth_in,
            destination_states=rule.state_codes,
            min_zone=rule.min_zone,
            max_zone=rule.max_zone,
            destination_kind=rule.destination_kind,
            ship_by_within_hours=rule.ship_by_within_hours,
            min_order_value=rule.min_order_value,
            max_order_value=rule.max_order_value,
            sku_tags=frozenset(tag.name for tag in rule.sku_tags.all()),
        )
        for rank, rule in enumerate(rules, start=1)
    ]


def _tags_by_package(package_ids: list[int]) -> dict[int, frozenset[str]]:
    tags: dict[int, set[str]] = defaultdict(set)
    rows = OrderLine.objects.filter(
        package_id__in=package_ids, sku__tags__isnull=False
    ).values_list("package_id", "sku__tags__name")
    for package_id, name in rows:
        tags[int(package_id)].add(str(name))
    return {package_id: frozenset(names) for package_id, names in tags.items()}


def package_facts(
    package: Package,
    *,
    channel: str,
    address: tuple[str, str] | None,
    origin_postal_code: str | None,
    tags: frozenset[str],
    now: datetime,
) -> PackageFacts | None:
    """What the rules look at (``address`` is its postal code and state, ``origin_postal_code``
    the warehouse's); None when the parcel lacks an address or an origin."""
    if address is None or origin_postal_code is None:
        return None
    postal_code, state = address
    zone = usps_zone(origin_postal_code, postal_code)
    return PackageFacts(
        channel=channel,
        shipping_type=package.shipping_type,
        weight_oz=package.weight_oz,
        dims=Dimensions(package.length_in, package.width_in, package.height_in),
        destination=Destination(
            postal_code=postal_code,
            state=state.upper(),
            zone=zone.zone,
            is_po_box=package.is_po_box,
            is_military=package.is_military,
        ),
        zone_basis=zone.basis,
        ship_by=package.ship_by,
        order_value=package.order_value,
        sku_tags=tags,
        ship_date=timezone.localdate(now),
        deliver_by=package.deliver_by,
    )


def _addresses(address_ids: set[int]) -> dict[int, tuple[str, str]]:
    """Postal code and state of each address (two columns, not the rows)."""
    found: dict[int, tuple[str, str]] = {}
    ids = sorted(address_ids)
    for start in range(0, len(ids), READ_CHUNK):
        rows = Address.objects.filter(pk__in=ids[start : start + READ_CHUNK]).values_list(
            "pk", "postal_code", "state"
        )
        found.update((pk, (postal_code, state)) for pk, postal_code, state in rows)
    return found


def _apply(package: Package, selection: Selection | None, reason: str, now: datetime) -> None:
    package.selected_at = now
    if selection is None or selection.rate is None:
        package.carrier = package.service = package.service_code = package.provider = ""
        package.rule_id = None
        package.selection_source = SelectionSource.NONE
        package.selection_reason = selection.reason if selection else reason
        package.zone = None
        package.billable_weight_oz = package.quoted_amount = package.estimated_delivery = None
        return
    rate = selection.rate
    package.carrier = rate.card.carrier
    package.service = rate.card.name
    package.service_code = rate.card.code
    package.provider = selection.provider
    package.rule_id = selection.rule_id
    package.selection_source = selection.source
    package.selection_reason = selection.reason
    package.zone = int(rate.zone_key) if rate.zone_key.isdigit() else None
    package.billable_weight_oz = rate.billable.billable_oz
    package.quoted_amount = rate.amount
    package.estimated_delivery = selection.estimated_delivery


def packages_select(
    *, packages: Iterable[Package] | QuerySet[Package], now: datetime | None = None
) -> list[Package]:
    """Choose a carrier, service and label provider for each parcel and store the reason.

    Parcels that already have a label keep their choice. Returns the parcels it chose for.
    ``packages`` may be a queryset: only its ids are read (a subquery).
    """
    now = now or timezone.now()
    if isinstance(packages, QuerySet):
        wanted = Package.objects.filter(pk__in=packages.values_list("pk", flat=True))
    else:
        wanted = Package.objects.filter(pk__in=[package.pk for package in packages])
    # Parcels without their address, warehouse and shop rows: the few values the rules read
    # come from value queries (a shop row decrypts its credentials when loaded).
    chosen = list(
        wanted.exclude(purchases__state__in=["intent", "bought"]).order_by("id"),
    )
    channels = dict(
        Shop.objects.filter(pk__in={package.shop_id for package in chosen}).values_list(
            "pk", "channel"
        )
    )
    origins = dict(
        Warehouse.objects.filter(
            pk__in={package.warehouse_id for package in chosen if package.warehouse_id}
        ).values_list("pk", "postal_code")
    )
    addresses = _addresses({package.address_id for package in chosen if package.address_id})
    rules = rule_specs()
    cards = rate_cards(timezone.localdate(now))
    tags = _tags_by_package([package.pk for package in chosen])
    aggregator = str(setting("FULFILLMENT_AGGREGATOR_PROVIDER"))
    for package in chosen:
        if package.build_problem:
            _apply(
                package,
                None,
                _("Cannot choose: %(problem)s.") % {"problem": package.build_problem},
                now,
            )
            continue
        facts = package_facts(
            package,
            channel=channels[package.shop_id],
            address=addresses.get(package.address_id) if package.address_id else None,
            origin_postal_code=origins.get(package.warehouse_id) if package.warehouse_id else None,
            tags=tags.get(package.pk, frozenset()),
            now=now,
        )
        if facts is None:
            _apply(package, None, _("Cannot choose: no address or ship-from warehouse."), now)
            continue
        selection = select_service(facts, rules, cards, now=now, aggregator=aggregator)
        _apply(package, selection, "", now)
    with transaction.atomic():
        instances_update(Package, chosen, SELECTION_FIELDS)
    return chosen


def package_select(*, package: Package, now: datetime | None = None) -> Package | None:
    selected = packages_select(packages=[package], now=now)
    return selected[0] if selected else None
