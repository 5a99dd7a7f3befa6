"""Label batches: one print run of at most 600 orders (TikTok's batch cap), labels in pick order.

``labels_batch_run`` is the one action behind the button, the CLI (``aftershow labels_batch``)
and the API: build parcels for the shop's confirmed orders, choose carriers, cut batches, buy
every label. A package that fails keeps its error reason on its batch item and the rest of the
batch goes on; ``label_batch_retry`` retries just those (after refreshing their address and
carrier choice, since the usual fix is a corrected address or an edited rule).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from aftershow.accounts.models import User
from aftershow.fulfillment.bulk import shops_attach
from aftershow.fulfillment.carriers.codes import SelectionSource
from aftershow.fulfillment.carriers.destination import is_military, is_po_box
from aftershow.fulfillment.choosing import packages_select
from aftershow.fulfillment.conf import setting
from aftershow.fulfillment.labels.base import LabelError, LabelProvider
from aftershow.fulfillment.labels.registry import label_provider
from aftershow.fulfillment.models import (
    BatchItemState,
    LabelBatch,
    LabelBatchItem,
    LabelPurchase,
    Package,
    PackageStatus,
    PurchaseState,
)
from aftershow.fulfillment.packing import packages_build
from aftershow.fulfillment.purchasing import PurchaseOutcome, labels_buy
from aftershow.fulfillment.writes import rows_set
from aftershow.orders.bulk import RowInsert
from aftershow.orders.models import (
    Address,
    ChangeSource,
    Order,
    OrderLine,
    OrderState,
    OrderStatusChange,
)
from aftershow.shops.models import Shop

NO_BIN = "\uffff"  # sorts after every bin location
# Orders a carrier's refusal sends back to review: not yet labelled, shipped or cancelled.
REVIEWABLE_STATES = (OrderState.READY, OrderState.CONFIRMED)


@dataclass
class BatchReport:
    batch: LabelBatch
    labelled: int = 0
    errors: list[LabelBatchItem] = field(default_factory=list)
    # Orders sent to the review queue because a carrier refused their parcel's address.
    to_review: list[int] = field(default_factory=list)


def _pick_keys(package_ids: list[int]) -> tuple[dict[int, tuple[str, str, int]], dict[int, int]]:
    """``package id → (first bin location, first SKU code, id)``, the order a picker walks, and
    ``package id → number of orders`` (one read of the parcels' lines for both)."""
    bins: dict[int, list[tuple[str, str]]] = defaultdict(list)
    orders: dict[int, set[int]] = defaultdict(set)
    rows = OrderLine.objects.filter(package_id__in=package_ids).values_list(
        "package_id", "order_id", "sku__location__bin_location", "sku__code", "seller_sku"
    )
    for package_id, order_id, bin_location, code, seller_sku in rows:
        bins[package_id].append((bin_location or NO_BIN, code or seller_sku or ""))
        orders[package_id].add(order_id)
    keys = {}
    for package_id in package_ids:
        first = min(bins.get(package_id) or [(NO_BIN, "")])
        keys[package_id] = (first[0], first[1], package_id)
    return keys, {package_id: len(ids) for package_id, ids in orders.items()}


def label_batches_create(
    *,
    shop: Shop,
    packages: Sequence[Package] | None = None,
    created_by: User | None = None,
    max_orders: int | None = None,
) -> list[LabelBatch]:
    """Put the shop's unbatched parcels (or ``packages``) into batches of at most
    ``max_orders`` orders (default 600), each sorted in pick order."""
    limit = int(max_orders or setting("FULFILLMENT_BATCH_MAX_ORDERS"))
    candidates = Package.objects.filter(
        shop=shop, status=PackageStatus.TO_FULFILL, batch_item__isnull=True
    )
    if packages is not None:
        candidates = candidates.filter(pk__in=[package.pk for package in packages])
    ids = list(candidates.values_list("pk", flat=True))
    if not ids:
        return []
    keys, counts = _pick_keys(ids)
    ordered = sorted(ids, key=lambda package_id: keys[package_id])
    chunks: list[list[int]] = [[]]
    orders_in_chunk = 0
    for package_id in ordered:
        count = counts.get(package_id, 1)
        if chunks[-1] and orders_in_chunk + count > limit:
            chunks.append([])
            orders_in_chunk = 0
        chunks[-1].append(package_id)
        orders_in_chunk += count
    batches = []
    with transaction.atomic():
        for chunk in chunks:
            batch = LabelBatch.objects.create(
                shop=shop,
                created_by=created_by,
                order_count=sum(counts.get(package_id, 1) for package_id in chunk),
            )
            RowInsert(LabelBatchItem, ["batch", "package", "position"]).execute(
                (batch.pk, package_id, position)
                for position, package_id in enumerate(chunk, start=1)
            )
            batches.append(batch)
    return batches


def _refresh_addresses(packages: list[Package]) -> None:
    """A reviewer's correction repoints the order at a new address: follow it."""
    current = dict(
        Order.objects.filter(lines__package__in=packages)
        .order_by("id")
        .values_list("lines__package_id", "shipping_address_id")
    )
    changed = [
        package
        for package in packages
        if current.get(package.pk) and current[package.pk] != package.address_id
    ]
    addresses = Address.objects.in_bulk([current[package.pk] for package in changed])
    for package in changed:
        address = addresses[current[package.pk]]
        package.address = address
        package.is_po_box = is_po_box(line1=address.line1, line2=address.line2)
        package.is_military = is_military(
            line1=address.line1,
            line2=address.line2,
            city=address.city,
            state=address.state,
            postal_code=address.postal_code,
        )
        if package.build_problem == "no shipping address" and address.postal_code:
            package.build_problem = ""
        package.save(update_fields=["address", "is_po_box", "is_military", "build_problem"])


class _Refusals:
    """Which failed parcels did a carrier refuse (the order needs a person), as opposed to a
    failure of our own set-up (provider not installed or not connected, no warehouse, an
    unmapped SKU) or a transient one, which stay batch errors only."""

    def __init__(self, override: LabelProvider | None) -> None:
        self.override = override
        self.loadable: dict[tuple[str, int], bool] = {}

    def _provider_loads(self, package: Package) -> bool:
        if self.override is not None:
            return True
        key = (package.provider, package.shop_id)
        if key not in self.loadable:
            try:
                label_provider(package.provider, shop=package.shop)
            except LabelError:
                self.loadable[key] = False
            else:
                self.loadable[key] = True
        return self.loadable[key]

    def refused(self, outcome: PurchaseOutcome) -> bool:
        if outcome.is_bought or outcome.is_retryable or outcome.is_busy:
            return False
        package = outcome.package
        if not package.provider or not package.service_code:
            # No service on any rate card can carry it to this address.
            return (
                package.selection_source == SelectionSource.NONE
                and not package.build_problem
                and package.address_id is not None
                and package.warehouse_id is not None
            )
        return self._provider_loads(package)


def _orders_to_review(refusals: dict[int, str], *, now: datetime) -> list[int]:
    """Send the orders of refused parcels (``package id → carrier's reason``) to the review
    queue: IN_REVIEW, the reason as the order's hold reason and in its history. Call inside
    the transaction that records the batch items. Returns the orders moved."""
    rows = (
        Order.objects.select_for_update(of=("self",))
        .filter(lines__package_id__in=list(refusals), state__in=REVIEWABLE_STATES)
        .values_list("pk", "lines__package_id", "state", "platform_status")
        .order_by("pk")
    )
    moved: dict[int, tuple[str, str, str]] = {}
    with translation.override(settings.LANGUAGE_CODE):  # history is in the site's language
        for order_id, package_id, state, status in rows:
            reason = _("Carrier refused the address: %(reason)s") % {"reason": refusals[package_id]}
            moved.setdefault(int(order_id), (str(state), str(status), reason))
    history = []
    for order_id, (state, status, reason) in moved.items():
        Order.objects.filter(pk=order_id, state=state).update(
            state=OrderState.IN_REVIEW, hold_reason=reason[:200], hold_until=None, updated_at=now
        )
        history.append(
            OrderStatusChange(
                order_id=order_id,
                source=ChangeSource.SYSTEM,
                from_status=status,
                to_status=status,
                from_state=state,
                to_state=OrderState.IN_REVIEW,
                reason=reason[:255],
            )
        )
    OrderStatusChange.objects.bulk_create(history)
    return list(moved)


def label_batch_process(
    *,
    batch: LabelBatch,
    only_errors: bool = False,
    provider: LabelProvider | None = None,
) -> BatchReport:
    """Buy the labels of the batch's pending items (or only its errored ones)."""
    states = [BatchItemState.ERROR]
    if not only_errors:
        states.append(BatchItemState.PENDING)
    # The items as values: the parcels are loaded once, by ``labels_buy``.
    items = list(
        batch.items.filter(state__in=states)
        .order_by("position")
        .values_list("pk", "package_id", "attempts")
    )
    package_ids = [package_id for _pk, package_id, _attempts in items]
    if only_errors:
        live = set(
            LabelPurchase.objects.filter(
                package__in=package_ids, state__in=[PurchaseState.INTENT, PurchaseState.BOUGHT]
            ).values_list("package_id", flat=True)
        )
        to_choose = list(
            Package.objects.filter(pk__in=[pk for pk in package_ids if pk not in live])
        )
        _refresh_addresses(to_choose)
    else:
        to_choose = list(Package.objects.filter(pk__in=package_ids, selection_source=""))
    if to_choose:
        shops_attach(to_choose)
        packages_select(packages=to_choose)
    outcomes = {
        outcome.package.pk: outcome
        for outcome in labels_buy(package_ids=package_ids, provider=provider)
    }
    report = BatchReport(batch)
    now = timezone.now()
    check = _Refusals(provider)
    refusals: dict[int, str] = {}
    rows = []
    for pk, package_id, attempts in items:
        outcome = outcomes[package_id]
        if outcome.is_busy:
            continue  # the other worker reports it
        if outcome.is_bought:
            state, error_reason, is_retryable = BatchItemState.LABELLED, "", False
            report.labelled += 1
        else:
            state = BatchItemState.ERROR
            error_reason = outcome.error or "label not bought"
            is_retryable = outcome.is_retryable
            if check.refused(outcome):
                # The last line is the verdict ("No service can carry this parcel: …"); the
                # lines above it (rule by rule) stay on the batch item and the parcel.
                refusals[package_id] = error_reason.strip().splitlines()[-1]
        rows.append((pk, state, error_reason, is_retryable, attempts + 1))
    with transaction.atomic():
        rows_set(
            LabelBatchItem,
            ("state", "error_reason", "is_retryable", "attempts"),
            rows,
            constants={"updated_at": now},
        )
        batch.processed_at = now
        batch.save(update_fields=["processed_at"])
        if refusals:
            report.to_review = _orders_to_review(refusals, now=now)
    failed = {row[0] for row in rows if row[1] == BatchItemState.ERROR}
    report.errors = (
        list(batch.items.filter(pk__in=failed).select_related("package").order_by("position"))
        if failed
        else []
    )
    return report


def label_batch_retry(*, batch: LabelBatch, provider: LabelProvider | None = None) -> BatchReport:
    """Retry only the items that failed: nothing already labelled is touched."""
    return label_batch_process(batch=batch, only_errors=True, provider=provider)


def labels_batch_run(
    *,
    shop: Shop,
    created_by: User | None = None,
    provider: LabelProvider | None = None,
    max_orders: int | None = None,
) -> list[BatchReport]:
    """Build, choose, batch and label everything confirmed for ``shop``: the one action.

    Batches of the shop that still hold pending items (a run killed halfway) are finished
    first, then the new ones: running it again resumes, and ``LabelPurchase`` makes sure no
    label is bought twice.
    """
    unfinished = list(
        LabelBatch.objects.filter(shop=shop, items__state=BatchItemState.PENDING)
        .distinct()
        .order_by("pk")
    )
    packages_build(shop=shop)
    unchosen = list(
        Package.objects.filter(
            shop=shop,
            status=PackageStatus.TO_FULFILL,
            batch_item__isnull=True,
            selection_source="",
        )
    )
    if unchosen:
        packages_select(packages=unchosen)
    batches = label_batches_create(shop=shop, created_by=created_by, max_orders=max_orders)
    return [
        label_batch_process(batch=batch, provider=provider) for batch in [*unfinished, *batches]
    ]
