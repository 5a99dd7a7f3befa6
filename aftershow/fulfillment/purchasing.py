"""Buying labels, never twice for one package: a two-phase protocol on ``LabelPurchase``.

1. Quote: ask the provider for rates (EasyPost creates its shipment here; nothing is paid).
2. Intent: store a ``LabelPurchase`` in state ``intent`` with a unique idempotency key and the
   provider's shipment and rate ids, and COMMIT, before anything is bought. A partial unique
   constraint allows one live (intent or bought) purchase per package, so two workers cannot
   both get here for the same package.
3. Buy, then record the result (tracking number, cost, label files) and mark it ``bought``.

A crash between 2 and 3 leaves the intent. The retry finds it and asks the provider for the
label it may already have sold (``LabelLookup.find_label``, EasyPost's GET shipment) before
buying with the same shipment and key; a provider without a lookup is asked to ``buy`` again
with the same key, which its contract makes return the same label. A terminal refusal marks the
purchase ``failed`` (with the provider's reason) and frees the package for a later attempt
under a new key; a retryable error leaves the intent for the retry.

Phases run for a whole list of packages at once (all intents in one transaction, results saved
in chunks), so a 1,000-label batch is a handful of commits, with the same guarantee.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial

from django.db import DEFAULT_DB_ALIAS, IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from aftershow.fulfillment.bulk import shops_attach
from aftershow.fulfillment.labels.base import (
    LabelError,
    LabelLookup,
    LabelProvider,
    Parcel,
    PurchasedLabel,
    RateQuote,
    ShipmentRequest,
    ShipTo,
)
from aftershow.fulfillment.labels.registry import label_provider
from aftershow.fulfillment.models import LabelPurchase, Package, PackageStatus, PurchaseState
from aftershow.fulfillment.storage import label_file_write
from aftershow.fulfillment.writes import order_history_add, orders_state_move, rows_set
from aftershow.inventory.models import Warehouse
from aftershow.orders.bulk import RowInsert
from aftershow.orders.models import Address, OrderLine, OrderState
from aftershow.shops.models import Shop

RECORD_CHUNK = 100


@dataclass
class PurchaseOutcome:
    package: Package
    purchase: LabelPurchase | None = None
    error: str = ""
    is_retryable: bool = False
    # Another worker holds this package's live purchase right now: its result is theirs.
    is_busy: bool = False

    @property
    def is_bought(self) -> bool:
        return self.purchase is not None and self.purchase.state == PurchaseState.BOUGHT


def idempotency_key(package_id: int, attempt: int) -> str:
    return f"label-{package_id}-{attempt}"


def shipment_requests(packages: Sequence[Package]) -> dict[int, ShipmentRequest]:
    """What each provider needs, for every package that has an address and an origin.

    Addresses and warehouses are read as values, once each (a thousand parcels ship from one
    warehouse): loading them as model instances with every parcel cost more than the quotes.
    """
    order_ids: dict[int, list[str]] = defaultdict(list)
    line_ids: dict[int, list[str]] = defaultdict(list)
    rows = (
        OrderLine.objects.filter(package__in=[package.pk for package in packages])
        .order_by("order_id", "id")
        .values_list("package_id", "order__remote_order_id", "remote_line_id")
    )
    for package_id, remote_order_id, remote_line_id in rows:
        if remote_order_id not in order_ids[package_id]:
            order_ids[package_id].append(remote_order_id)
        line_ids[package_id].append(remote_line_id)
    ship_to = {
        pk: ShipTo(*values)
        for pk, *values in Address.objects.filter(
            pk__in={package.address_id for package in packages if package.address_id}
        ).values_list(
            "pk", "name", "line1", "line2", "city", "state", "postal_code", "country", "phone"
        )
    }
    ship_from = {
        pk: (postal_code, ShipTo(name, line1, "", city, state, postal_code, country))
        for pk, name, line1, city, state, postal_code, country in Warehouse.objects.filter(
            pk__in={package.warehouse_id for package in packages if package.warehouse_id}
        ).values_list("pk", "name", "address_line1", "city", "state", "postal_code", "country")
    }
    requests: dict[int, ShipmentRequest] = {}
    for package in packages:
        to = ship_to.get(package.address_id) if package.address_id else None
        origin = ship_from.get(package.warehouse_id) if package.warehouse_id else None
        if to is None or origin is None:
            continue
        requests[package.pk] = ShipmentRequest(
            package_id=package.pk,
            shop_id=package.shop_id,
            channel=package.shop.channel,
            remote_order_ids=tuple(order_ids[package.pk]),
            remote_line_ids=tuple(line_ids[package.pk]),
            ship_from_postal_code=origin[0],
            ship_to=to,
            parcel=Parcel(
                weight_oz=package.weight_oz,
                length_in=package.length_in,
                width_in=package.width_in,
                height_in=package.height_in,
            ),
            ship_by=package.ship_by,
            ship_from=origin[1],
            carrier=package.carrier,
            service=package.service,
            service_code=package.service_code,
        )
    return requests


def matching_quote(quotes: Sequence[RateQuote], package: Package) -> RateQuote:
    """The provider's rate for the chosen carrier and service (for TikTok Shipping, which
    assigns carriers itself, the cheapest of the chosen carrier, else the cheapest)."""
    exact = [
        quote
        for quote in quotes
        if (quote.remote_rate_id and quote.remote_rate_id == package.service_code)
        or (quote.carrier == package.carrier and quote.service == package.service)
    ]
    if exact:
        return min(exact, key=lambda quote: quote.amount)
    same_carrier = [quote for quote in quotes if quote.carrier == package.carrier]
    if package.provider == "tiktok" and (same_carrier or quotes):
        return min(same_carrier or list(quotes), key=lambda quote: quote.amount)
    offered = ", ".join(sorted({f"{quote.carrier} {quote.service}" for quote in quotes}))
    raise LabelError(
        _("%(provider)s does not offer %(carrier)s %(service)s (offers: %(offered)s)")
        % {
            "provider": package.provider,
            "carrier": package.carrier,
            "service": package.service,
            "offered": offered or "-",
        }
    )


def _provider(
    code: str, shop: Shop, providers: dict[str, LabelProvider], override: LabelProvider | None
) -> LabelProvider:
    if override is not None:
        return override
    if code not in providers:
        providers[code] = label_provider(code, shop=shop)
    return providers[code]


def _stored_quote(purchase: LabelPurchase) -> RateQuote:
    return RateQuote(
        provider=purchase.provider,
        carrier=purchase.carrier,
        service=purchase.service,
        amount=purchase.amount if purchase.amount is not None else Decimal("0"),
        currency=purchase.currency,
        delivery_days=None,
        remote_rate_id=purchase.remote_rate_id,
        remote_shipment_id=purchase.remote_shipment_id,
    )


def _record(purchase: LabelPurchase, label: PurchasedLabel) -> None:
    """Fill in a bought purchase (in memory) and write its label files."""
    purchase.state = PurchaseState.BOUGHT
    purchase.tracking_number = label.tracking_number
    purchase.carrier = label.carrier or purchase.carrier
    purchase.service = label.service or purchase.service
    purchase.amount = label.amount
    purchase.currency = label.currency
    purchase.remote_shipment_id = label.remote_shipment_id or purchase.remote_shipment_id
    purchase.remote_provider_id = label.remote_provider_id
    purchase.error = ""
    purchase.updated_at = timezone.now()
    for content, field, extension in (
        (label.label_pdf, "label_pdf", "pdf"),
        (label.label_image, "label_image", _image_extension(label.label_image)),
        (label.label_zpl, "label_zpl", "zpl"),
    ):
        if content:
            name = f"{purchase.idempotency_key}.{extension}"
            setattr(purchase, field, label_file_write(name=name, data=content))


def _image_extension(image: bytes) -> str:
    return "jpg" if image[:3] == b"\xff\xd8\xff" else "png"


_BOUGHT_FIELDS = (
    "tracking_number",
    "carrier",
    "service",
    "amount",
    "currency",
    "remote_shipment_id",
    "remote_provider_id",
    "label_pdf",
    "label_image",
    "label_zpl",
)


def _save_bought(purchases: Sequence[LabelPurchase], packages: dict[int, Package]) -> None:
    """Record bought labels: the purchases, their parcels (tracking, carrier, PROCESSING) and
    the orders now labelled, one transaction, a few statements for the whole chunk."""
    if not purchases:
        return
    now = timezone.now()
    for purchase in purchases:
        purchase.updated_at = now
    with transaction.atomic():
        rows_set(
            LabelPurchase,
            _BOUGHT_FIELDS,
            (
                (purchase.pk, *(getattr(purchase, name) for name in _BOUGHT_FIELDS))
                for purchase in purchases
            ),
            constants={"state": PurchaseState.BOUGHT, "error": "", "updated_at": now},
        )
        changed = []
        for purchase in purchases:
            package = packages[purchase.package_id]
            package.tracking_number = purchase.tracking_number
            package.carrier = purchase.carrier
            package.service = purchase.service
            package.status = PackageStatus.PROCESSING
            changed.append(package)
        rows_set(
            Package,
            ("tracking_number", "carrier", "service"),
            ((p.pk, p.tracking_number, p.carrier, p.service) for p in changed),
            constants={"status": PackageStatus.PROCESSING},
        )
        _orders_mark_labelled([package.pk for package in changed], now=now)


def _orders_mark_labelled(package_ids: list[int], *, now: datetime) -> None:
    """Confirmed orders whose parcel has its label move to LABELLED, with a history row."""
    order_ids = set(
        OrderLine.objects.filter(package_id__in=package_ids).values_list("order_id", flat=True)
    )
    moved = orders_state_move(
        order_ids, from_state=OrderState.CONFIRMED, to_state=OrderState.LABELLED, now=now
    )
    order_history_add(
        moved, from_state=OrderState.CONFIRMED, to_state=OrderState.LABELLED, reason="label bought"
    )


def _fail(purchase: LabelPurchase, error: LabelError) -> None:
    purchase.error = error.reason[:2000]
    if not error.is_retryable:
        purchase.state = PurchaseState.FAILED
    purchase.save(update_fields=["state", "error", "updated_at"])


def labels_buy(
    *,
    packages: Sequence[Package] = (),
    package_ids: Sequence[int] = (),
    provider: LabelProvider | None = None,
) -> list[PurchaseOutcome]:
    """Buy (or recover) the label of every package (``packages``, or their ``package_ids``);
    one outcome per package, in id order.

    ``provider`` replaces the registry's provider for every package (tests and tools).
    A package that already has a bought label gets it back, untouched.
    """
    wanted = [*(package.pk for package in packages), *package_ids]
    packages = list(Package.objects.filter(pk__in=wanted).order_by("id"))
    shops_attach(packages)
    by_id = {package.pk: package for package in packages}
    outcomes = {package.pk: PurchaseOutcome(package) for package in packages}
    live = {
        purchase.package_id: purchase
        for purchase in LabelPurchase.objects.filter(
            package__in=packages, state__in=[PurchaseState.INTENT, PurchaseState.BOUGHT]
        )
    }
    providers: dict[str, LabelProvider] = {}
    requests = shipment_requests(packages)
    resumed: list[LabelPurchase] = []
    new_intents: list[tuple[LabelPurchase, RateQuote]] = []
    failed_attempts = dict(
        LabelPurchase.objects.filter(package__in=packages)
        .values("package_id")
        .annotate(count=Count("pk", filter=Q(state=PurchaseState.FAILED)))
        .values_list("package_id", "count")
    )
    for package in packages:
        outcome = outcomes[package.pk]
        existing = live.get(package.pk)
        if existing is not None:
            outcome.purchase = existing
            if existing.state == PurchaseState.INTENT:
                resumed.append(existing)
            continue
        try:
            if not package.provider or not package.service_code:
                raise LabelError(
                    _("no carrier chosen: %(reason)s")
                    % {"reason": package.selection_reason or package.build_problem or "-"}
                )
            request = requests.get(package.pk)
            if request is None:
                raise LabelError(_("no shipping address or ship-from warehouse"))
            quote = matching_quote(
                _provider(package.provider, package.shop, providers, provider).quote(
                    shipment=request
                ),
                package,
            )
        except LabelError as error:
            outcome.error, outcome.is_retryable = error.reason, error.is_retryable
            continue
        attempt = 1 + int(failed_attempts.get(package.pk, 0))
        purchase = LabelPurchase(
            package=package,
            provider=package.provider if provider is None else provider.code,
            idempotency_key=idempotency_key(package.pk, attempt),
            attempt=attempt,
            state=PurchaseState.INTENT,
            carrier=quote.carrier,
            service=quote.service,
            remote_rate_id=quote.remote_rate_id,
            remote_shipment_id=quote.remote_shipment_id,
            currency=quote.currency,
            amount=quote.amount,
        )
        new_intents.append((purchase, quote))
    new_intents = _commit_intents(new_intents, outcomes)
    pending: list[LabelPurchase] = []
    for purchase in resumed:
        package = by_id[purchase.package_id]
        _buy_one(
            purchase,
            package=package,
            request=requests.get(package.pk),
            quote=_stored_quote(purchase),
            provider=partial(_provider, purchase.provider, package.shop, providers, provider),
            resume=True,
            outcome=outcomes[package.pk],
            pending=pending,
            packages=by_id,
        )
    for purchase, quote in new_intents:
        package = by_id[purchase.package_id]
        _buy_one(
            purchase,
            package=package,
            request=requests.get(package.pk),
            quote=quote,
            provider=partial(_provider, package.provider, package.shop, providers, provider),
            resume=False,
            outcome=outcomes[package.pk],
            pending=pending,
            packages=by_id,
        )
    _save_bought(pending, by_id)
    return [outcomes[package.pk] for package in packages]


# An intent row as inserted (the rest of the columns take their defaults).
_INTENT_ATTRIBUTES = (
    "package_id",
    "provider",
    "idempotency_key",
    "attempt",
    "state",
    "carrier",
    "service",
    "remote_rate_id",
    "remote_shipment_id",
    "currency",
    "amount",
)
_INTENT_FIELDS = [
    name.removesuffix("_id") if name == "package_id" else name for name in _INTENT_ATTRIBUTES
] + ["created_at", "updated_at"]


def _commit_intents(
    intents: list[tuple[LabelPurchase, RateQuote]], outcomes: dict[int, PurchaseOutcome]
) -> list[tuple[LabelPurchase, RateQuote]]:
    """Phase 2: store the intents, committed, before anything is bought."""
    if not intents:
        return []
    now = timezone.now()
    try:
        with transaction.atomic():
            ids = RowInsert(LabelPurchase, _INTENT_FIELDS).execute_returning_ids(
                [
                    (*(getattr(purchase, name) for name in _INTENT_ATTRIBUTES), now, now)
                    for purchase, _quote in intents
                ]
            )
        for (purchase, _quote), pk in zip(intents, ids, strict=True):
            purchase.pk, purchase.created_at, purchase.updated_at = pk, now, now
            purchase._state.adding, purchase._state.db = False, DEFAULT_DB_ALIAS
        kept = intents
    except IntegrityError:
        # Another worker started some of these packages: keep only the ones we inserted.
        kept = []
        for purchase, quote in intents:
            try:
                with transaction.atomic():
                    purchase.pk = None
                    purchase.save()
                kept.append((purchase, quote))
            except IntegrityError:
                outcome = outcomes[purchase.package_id]
                outcome.error = _("another worker is buying this label")
                outcome.is_retryable = outcome.is_busy = True
    for purchase, _quote in kept:
        outcomes[purchase.package_id].purchase = purchase
    return kept


def _buy_one(
    purchase: LabelPurchase,
    *,
    package: Package,
    request: ShipmentRequest | None,
    quote: RateQuote,
    provider: Callable[[], LabelProvider],
    resume: bool,
    outcome: PurchaseOutcome,
    pending: list[LabelPurchase],
    packages: dict[int, Package],
) -> None:
    try:
        seller = provider()
        if request is None:
            raise LabelError(_("no shipping address or ship-from warehouse"))
        label: PurchasedLabel | None = None
        if resume and purchase.remote_shipment_id and isinstance(seller, LabelLookup):
            label = seller.find_label(
                shipment=request,
                remote_shipment_id=purchase.remote_shipment_id,
                idempotency_key=purchase.idempotency_key,
            )
        if label is None:
            label = seller.buy(
                shipment=request, quote=quote, idempotency_key=purchase.idempotency_key
            )
        _record(purchase, label)
    except LabelError as error:
        _fail(purchase, error)
        outcome.error, outcome.is_retryable = error.reason, error.is_retryable
        return
    pending.append(purchase)
    if len(pending) >= RECORD_CHUNK:
        _save_bought(pending, packages)
        pending.clear()


def label_buy(*, package: Package, provider: LabelProvider | None = None) -> PurchaseOutcome:
    (outcome,) = labels_buy(packages=[package], provider=provider)
    return outcome
