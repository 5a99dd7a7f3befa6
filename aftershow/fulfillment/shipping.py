"""Shipping parcels: the scan station, the demo's "ship everything" and the API call this.

A package ships once. The package rows are locked in pk order and re-read, then moved with a
conditional ``UPDATE … WHERE shipped_at IS NULL`` whose row count must match, so two packers
scanning the same parcel, or a retried request, never ship it twice. In the same transaction:
stock leaves the warehouse (``inventory.allocation.order_lines_ship``), the orders whose every
line is now in a shipped parcel move to SHIPPED with a history row, an ``AuditEvent`` records
who shipped what and where, and the TikTok tracking push is recorded (its task is queued on
commit by :mod:`aftershow.integrations.tiktok.tracking`). Recording the push in the shipping
transaction means a crash after the commit cannot lose it: the scheduler re-queues due pushes.

TikTok Shipping parcels go through the same push: TikTok already holds their tracking number,
and the pusher ships them with Batch Ship Packages without ``self_shipment``
(docs/decisions-tracking.md). A package that cannot ship is refused with a reason a packer can
act on; nothing about it changes.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from aftershow.accounts.models import User
from aftershow.audit.models import AuditAction, AuditEvent
from aftershow.core.timeutils import utcnow
from aftershow.fulfillment.bulk import shops_attach
from aftershow.fulfillment.models import BatchItemState, LabelBatchItem, Package, PackageStatus
from aftershow.fulfillment.writes import order_history_add, orders_state_move
from aftershow.integrations.tiktok.tracking import tracking_pushed_by_api, tracking_pushes_request
from aftershow.inventory.allocation import order_lines_ship
from aftershow.inventory.ledger import lock_in_pk_order
from aftershow.inventory.models import AllocationStatus, StockAllocation
from aftershow.orders.models import (
    ChangeSource,
    Order,
    OrderLine,
    OrderState,
    PlatformStatus,
)

_PACKAGE_FIELDS = ("id", "shipped_at", "status", "tracking_number", "carrier")
_ORDER_FIELDS = (
    "id",
    "remote_order_id",
    "state",
    "platform_status",
    "hold_reason",
    "is_buyer_request_cancel",
)
# Orders in these processing states may leave the building.
SHIPPABLE_STATES = frozenset({OrderState.CONFIRMED, OrderState.LABELLED})
# Packages per transaction: keeps every IN (...) list far below database parameter limits.
CHUNK = 1000
# A USPS Intelligent Mail package barcode carries "420" + the ZIP (5 or 9 digits) before the
# tracking number; a scanner reading that barcode types all of it.
_IMPB_PREFIX = re.compile(r"^420(?:\d{9}|\d{5})(?=\d{20,22}$)")


class ShipConflict(Exception):
    """Another transaction shipped one of these packages between the lock and the update
    (never expected: the rows are locked). The whole chunk is rolled back."""


@dataclass
class ShipReport:
    shipped: int = 0
    already_shipped: int = 0
    # Package id → why it was not shipped (nothing about it changed).
    refused: dict[int, str] = field(default_factory=dict)
    # Package id → why TikTok would refuse its tracking (the parcel shipped regardless).
    tracking_refused: dict[int, str] = field(default_factory=dict)
    shipped_ids: list[int] = field(default_factory=list)


class ScanResult(StrEnum):
    SHIPPED = "shipped"
    ALREADY_SHIPPED = "already_shipped"
    UNKNOWN = "unknown"
    REFUSED = "refused"


@dataclass
class ScanOutcome:
    result: ScanResult
    message: str
    code: str
    package_id: int | None = None
    tracking_number: str = ""
    carrier: str = ""
    order_numbers: list[str] = field(default_factory=list)
    shipped_at: datetime | None = None

    @property
    def is_success(self) -> bool:
        return self.result == ScanResult.SHIPPED


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _order_refusal(order: Order) -> str | None:
    number = order.remote_order_id
    if order.state == OrderState.CANCELLED or order.platform_status == PlatformStatus.CANCELLED:
        return _("Order %(order)s was cancelled: do not ship it.") % {"order": number}
    if order.is_buyer_request_cancel:
        return _("The buyer asked to cancel order %(order)s: do not ship it.") % {"order": number}
    # is_on_hold_order stays true after a hold ends (see orders/release.py): the status says.
    if order.platform_status == PlatformStatus.ON_HOLD:
        return _("Order %(order)s is on hold at TikTok.") % {"order": number}
    if order.state == OrderState.HELD:
        return _("Order %(order)s is held: %(reason)s") % {
            "order": number,
            "reason": order.hold_reason or _("no reason given"),
        }
    if order.state == OrderState.IN_REVIEW:
        return _("Order %(order)s is waiting in the review queue.") % {"order": number}
    if order.state == OrderState.BACKORDERED:
        return _("Order %(order)s is backordered.") % {"order": number}
    if order.state not in SHIPPABLE_STATES:
        return _("Order %(order)s is %(state)s, not ready to ship.") % {
            "order": number,
            "state": order.get_state_display(),
        }
    return None


def _package_refusal(package: Package, batch_item: tuple[str, str] | None) -> str | None:
    """``batch_item``: the state and error reason of the package's batch item, if any."""
    if package.status == PackageStatus.CANCELLED:
        return _("This package was cancelled.")
    if not package.tracking_number or not package.carrier:
        return _("This package has no label yet.")
    if batch_item is not None and batch_item[0] == BatchItemState.ERROR:
        return _("Its label batch lists an error: %(reason)s") % {"reason": batch_item[1] or "?"}
    return None


def packages_ship(
    *, packages: Sequence[Package] | QuerySet[Package], actor: User | None, via: str
) -> ShipReport:
    """Ship these packages (see the module docstring). ``via`` says how ("scan:<station>",
    "batch", "demo", "api") and goes into the audit trail. Safe to repeat: a package already
    shipped is counted in ``already_shipped`` and left alone."""
    if isinstance(packages, QuerySet):
        ids = sorted(set(packages.values_list("pk", flat=True)))
    else:
        ids = sorted({package.pk for package in packages})
    report = ShipReport()
    for chunk in _chunks(ids):
        _ship_chunk(chunk, actor=actor, via=via, report=report)
    return report


def _ship_chunk(ids: list[int], *, actor: User | None, via: str, report: ShipReport) -> None:
    now = utcnow()
    with transaction.atomic():
        locked = lock_in_pk_order(Package.objects.filter(pk__in=ids).only(*_PACKAGE_FIELDS, "shop"))
        # One shop row per shop, not one per parcel: loading a shop decrypts its credentials.
        shops_attach(locked)
        packages = {package.pk: package for package in locked}
        for missing in sorted(set(ids) - set(packages)):
            report.refused[missing] = _("No such package.")
        candidates: dict[int, Package] = {}
        for pk, package in packages.items():
            if package.shipped_at is not None:
                report.already_shipped += 1
            else:
                candidates[pk] = package
        items = {
            package_id: (state, error_reason)
            for package_id, state, error_reason in LabelBatchItem.objects.filter(
                package_id__in=candidates
            ).values_list("package_id", "state", "error_reason")
        }
        for pk, package in list(candidates.items()):
            refusal = _package_refusal(package, items.get(pk))
            if refusal is not None:
                report.refused[pk] = refusal
                del candidates[pk]

        lines_of: dict[int, list[tuple[int, int]]] = defaultdict(list)  # package → (line, order)
        for line_id, package_id, order_id in OrderLine.objects.filter(
            package_id__in=candidates
        ).values_list("pk", "package_id", "order_id"):
            lines_of[package_id].append((line_id, order_id))
        orders = {
            order.pk: order
            for order in lock_in_pk_order(
                Order.objects.filter(
                    pk__in={o for rows in lines_of.values() for _l, o in rows}
                ).only(*_ORDER_FIELDS)
            )
        }
        backordered = set(
            StockAllocation.objects.filter(
                order_line__package_id__in=candidates, status=AllocationStatus.BACKORDERED
            ).values_list("order_line__package_id", flat=True)
        )
        for pk in list(candidates):
            rows = lines_of.get(pk)
            refusal = None if rows else _("This package holds no order lines.")
            for order_id in sorted({order_id for _line, order_id in rows or ()}):
                refusal = refusal or _order_refusal(orders[order_id])
            if refusal is None and pk in backordered:
                refusal = _("An item in this package is backordered: there is no stock to ship.")
            if refusal is not None:
                report.refused[pk] = refusal
                del candidates[pk]
        if not candidates:
            return

        shipped = Package.objects.filter(pk__in=candidates, shipped_at__isnull=True).update(
            shipped_at=now, status=PackageStatus.FULFILLING
        )
        if shipped != len(candidates):
            raise ShipConflict(f"{len(candidates) - shipped} packages were shipped meanwhile")
        for package in candidates.values():
            package.shipped_at, package.status = now, PackageStatus.FULFILLING
        actor_label = "user" if actor is not None else "system"
        order_lines_ship(
            line_ids=[line for pk in candidates for line, _o in lines_of[pk]],
            by=actor,
            actor_label=actor_label,
        )
        _orders_mark_shipped(
            {order_id for pk in candidates for _l, order_id in lines_of[pk]},
            orders=orders,
            actor=actor,
            via=via,
            now=now,
        )
        # One event per call: each order's history row and each stock movement already say
        # who shipped it and when; this says how, and lists the tracking numbers together.
        single = next(iter(candidates)) if len(candidates) == 1 else None
        AuditEvent.objects.create(
            actor=actor,
            actor_label=actor_label,
            action=AuditAction.PACKAGE_SHIPPED,
            object_type="package",
            object_id="" if single is None else str(single),
            message=f"{len(candidates)} shipped via {via}",
            data={
                "via": via,
                "packages": {
                    str(pk): [package.carrier, package.tracking_number]
                    for pk, package in candidates.items()
                },
            },
        )
        # A TikTok shop served through files gets its tracking in via the upload file.
        tiktok = [p for p in candidates.values() if tracking_pushed_by_api(p.shop)]
        if tiktok:
            report.tracking_refused.update(tracking_pushes_request(packages=tiktok))
        report.shipped += len(candidates)
        report.shipped_ids.extend(candidates)


def _orders_mark_shipped(
    order_ids: set[int], *, orders: dict[int, Order], actor: User | None, via: str, now: datetime
) -> None:
    """Orders whose every line is in a shipped parcel move to SHIPPED (the packages were
    updated just before, in this transaction)."""
    unfinished = set(
        OrderLine.objects.filter(order_id__in=order_ids)
        .filter(Q(package__isnull=True) | Q(package__shipped_at__isnull=True))
        .values_list("order_id", flat=True)
    )
    done = sorted(pk for pk in order_ids - unfinished if orders[pk].state in SHIPPABLE_STATES)
    by_state: dict[str, list[int]] = defaultdict(list)
    for pk in done:
        by_state[orders[pk].state].append(pk)
    for from_state, pks in by_state.items():
        # The history rows are exactly the orders this UPDATE moved (the rows are locked).
        moved = orders_state_move(pks, from_state=from_state, to_state=OrderState.SHIPPED, now=now)
        order_history_add(
            moved,
            from_state=from_state,
            to_state=OrderState.SHIPPED,
            reason=f"shipped ({via})",
            source=ChangeSource.USER if actor is not None else ChangeSource.SYSTEM,
            actor_id=actor.pk if actor is not None else None,
        )
        for pk, _status in moved:
            orders[pk].state = OrderState.SHIPPED


def normalize_code(code: str) -> str:
    """What a scanner typed, as stored: no spaces or dashes, upper case."""
    return re.sub(r"[\s\-]", "", code).upper()


def _find(code: str) -> list[Package]:
    candidates = [code]
    stripped = _IMPB_PREFIX.sub("", code)
    if stripped != code:
        candidates.append(stripped)
    for value in candidates:
        found = list(Package.objects.filter(tracking_number=value).select_related("shop")[:2])
        if found:
            return found
    return []


def _order_numbers(package_id: int) -> list[str]:
    return sorted(
        set(
            OrderLine.objects.filter(package_id=package_id).values_list(
                "order__remote_order_id", flat=True
            )
        )
    )


def package_scan(*, code: str, actor: User | None, station: str) -> ScanOutcome:
    """One scan at the scan-to-ship station: find the package by the tracking number printed
    under its label's barcode and ship it. Every outcome says what the packer should do."""
    typed = normalize_code(code)
    if not typed:
        return ScanOutcome(ScanResult.UNKNOWN, _("Nothing was scanned."), typed)
    found = _find(typed)
    if not found:
        if Order.objects.filter(remote_order_id=typed).exists():
            message = _(
                "%(code)s is an order number, not a label: scan the barcode on the shipping label."
            ) % {"code": typed}
        else:
            message = _("Unknown barcode %(code)s: no package has this tracking number.") % {
                "code": typed
            }
        return ScanOutcome(ScanResult.UNKNOWN, message, typed)
    if len(found) > 1:
        return ScanOutcome(
            ScanResult.REFUSED,
            _("%(code)s is on more than one package: set this parcel aside and ask a supervisor.")
            % {"code": typed},
            typed,
        )
    package = found[0]
    report = packages_ship(packages=[package], actor=actor, via=f"scan:{station}"[:60])
    package.refresh_from_db(fields=["shipped_at", "status"])
    outcome = ScanOutcome(
        ScanResult.SHIPPED,
        "",
        typed,
        package_id=package.pk,
        tracking_number=package.tracking_number,
        carrier=package.carrier,
        order_numbers=_order_numbers(package.pk),
        shipped_at=package.shipped_at,
    )
    orders = ", ".join(outcome.order_numbers)
    if report.shipped:
        outcome.message = _("Shipped: order %(orders)s.") % {"orders": orders}
    elif report.already_shipped:
        outcome.result = ScanResult.ALREADY_SHIPPED
        outcome.message = _(
            "Already shipped (order %(orders)s): this parcel was scanned before. Set it aside."
        ) % {"orders": orders}
    else:
        outcome.result = ScanResult.REFUSED
        outcome.message = _("Do not ship: %(reason)s") % {"reason": report.refused[package.pk]}
    return outcome
