"""Writes on orders. Connectors, file imports and the UI all come through here."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields

from django.db import IntegrityError, transaction
from django.utils import timezone

from aftershow.catalog.models import ChannelListing, Sku
from aftershow.inventory.services import order_deallocate, order_lines_allocate
from aftershow.orders.bulk import RowInsert
from aftershow.orders.models import (
    Address,
    Buyer,
    ChangeSource,
    Order,
    OrderLine,
    OrderState,
    OrderStatusChange,
    PlatformStatus,
)
from aftershow.orders.types import IncomingAddress, IncomingLine, IncomingOrder
from aftershow.risk.models import AddressCorrection
from aftershow.shops.models import Shop

# The id prefix of a line stored from a file export (no line ids there) until the platform's
# own line takes it over: see ``_adopt`` and aftershow/imports/reconcile.py.
PROVISIONAL_LINE_PREFIX = "file:"

# Order fields copied as they are from the incoming order on every accepted update.
COPIED_FIELDS = (
    "platform_status",
    "placed_at",
    "paid_at",
    "remote_updated_at",
    "ship_by",
    "collect_by",
    "shipping_due_at",
    "cancelled_at",
    "collected_at",
    "delivered_at",
    "currency",
    "subtotal",
    "shipping_fee",
    "tax",
    "seller_discount",
    "platform_discount",
    "total_amount",
    "shipping_type",
    "fulfillment_type",
    "delivery_option_name",
    "remote_warehouse_id",
    "auto_combine_group_id",
    "order_type",
    "is_on_hold_order",
    "is_buyer_request_cancel",
    "is_sample_order",
    "buyer_message",
    "buyer_ip",
)
LINE_FIELDS = tuple(f.name for f in fields(IncomingLine) if f.name != "remote_line_id")


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0

    def __iadd__(self, other: UpsertResult) -> UpsertResult:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.stale += other.stale
        return self


# Master SKU id per (remote SKU id, seller SKU) of incoming lines.
SkuIds = dict[tuple[str, str], int]


def buyer_key(*, channel: str, user_id: str) -> str:
    return hashlib.sha256(f"{channel}:{user_id}".encode()).hexdigest()


def address_match_key(address: IncomingAddress | Address) -> str:
    """Same parcel destination, whatever the case and spacing: used to combine and to screen."""
    parts = [address.line1, address.line2, address.city, address.state, address.postal_code[:5]]
    normalised = "|".join(" ".join(part.lower().split()) for part in parts)
    return hashlib.sha256(normalised.encode()).hexdigest() if normalised.strip("|") else ""


def _new_address(incoming: IncomingAddress) -> Address:
    return Address(
        name=incoming.name,
        phone=incoming.phone,
        line1=incoming.line1,
        line2=incoming.line2,
        city=incoming.city,
        state=incoming.state,
        postal_code=incoming.postal_code,
        country=incoming.country,
        full_address=incoming.full_address,
        match_key=address_match_key(incoming),
    )


def _address_differs(current: Address | None, incoming: IncomingAddress) -> bool:
    if incoming.is_empty:
        return False
    if current is None:
        return True
    return any(
        getattr(current, name) != getattr(incoming, name)
        for name in ("name", "phone", "line1", "line2", "city", "state", "postal_code", "country")
    )


def state_for_status(status: str, current: str) -> str:
    """The processing state that a platform status forces, whatever the team was doing."""
    if status == PlatformStatus.CANCELLED:
        return OrderState.CANCELLED
    if status in (PlatformStatus.DELIVERED, PlatformStatus.COMPLETED):
        return OrderState.DONE
    if status == PlatformStatus.IN_TRANSIT and current not in (OrderState.DONE,):
        return OrderState.SHIPPED
    return current


def orders_upsert(
    *, shop: Shop, incoming: Sequence[IncomingOrder], source: ChangeSource
) -> UpsertResult:
    """Create or update a batch of orders from one shop, idempotently.

    An update older than what is stored (by the platform's update time) is ignored, so a late
    redelivery never rolls an order back. The batch is written in one transaction; if another
    worker inserts one of the same orders at the same moment, the batch is retried order by
    order, so nothing is stored twice and nothing is lost.
    """
    unique: dict[str, IncomingOrder] = {}
    for order in incoming:
        kept = unique.get(order.remote_order_id)
        if kept is None or order.remote_updated_at >= kept.remote_updated_at:
            unique[order.remote_order_id] = order
    batch = list(unique.values())
    if not batch:
        return UpsertResult()
    try:
        with transaction.atomic():
            return _upsert_batch(shop=shop, batch=batch, source=source)
    except IntegrityError:
        result = UpsertResult()
        for order in batch:
            with transaction.atomic():
                result += _upsert_batch(shop=shop, batch=[order], source=source)
        return result


def _upsert_batch(*, shop: Shop, batch: list[IncomingOrder], source: ChangeSource) -> UpsertResult:
    result = UpsertResult()
    sku_ids = sku_ids_for(shop=shop, lines=(line for order in batch for line in order.lines))
    existing = {
        order.remote_order_id: order
        for order in Order.objects.select_for_update(of=("self",))
        .filter(shop=shop, remote_order_id__in=[o.remote_order_id for o in batch])
        .select_related("shipping_address")
    }
    new_order_ids = _orders_insert(
        shop=shop,
        batch=[data for data in batch if data.remote_order_id not in existing],
        sku_ids=sku_ids,
        source=source,
    )
    result.created = len(new_order_ids)

    platform_addresses = _platform_addresses(existing.values())
    changes: list[OrderStatusChange] = []
    updated_orders: list[tuple[Order, IncomingOrder, set[str]]] = []
    new_addresses: list[tuple[Order, Address]] = []
    for data in batch:
        order = existing.get(data.remote_order_id)
        if order is None:
            continue
        if data.remote_updated_at < order.remote_updated_at:
            result.stale += 1
            continue
        previous_status, previous_state = order.platform_status, order.state
        changed = _copy(order, data)
        order.state = state_for_status(data.platform_status, order.state)
        if order.state != previous_state:
            changed.add("state")
        platform_address = platform_addresses.get(order.pk, order.shipping_address)
        if _address_differs(platform_address, data.address):
            new_addresses.append((order, _new_address(data.address)))
            changed.add("shipping_address")
        if previous_status != order.platform_status or previous_state != order.state:
            changes.append(
                OrderStatusChange(
                    order=order,
                    source=source,
                    from_status=previous_status,
                    to_status=order.platform_status,
                    from_state=previous_state,
                    to_state=order.state,
                )
            )
        updated_orders.append((order, data, changed))

    created_addresses = Address.objects.bulk_create([address for _, address in new_addresses])
    for (order, _), address in zip(new_addresses, created_addresses, strict=True):
        order.shipping_address = address
    # Row by row, and only what changed: a poll re-reading orders it already has writes
    # nothing, and Django's bulk_update (one CASE per field) is far slower than this.
    now = timezone.now()
    for order, _, changed in updated_orders:
        if changed:
            values = {name: getattr(order, name) for name in changed}
            Order.objects.filter(pk=order.pk).update(**values, updated_at=now)
            result.updated += 1
        else:
            result.unchanged += 1
    _upsert_lines([(order, data) for order, data, _ in updated_orders], sku_ids)
    OrderStatusChange.objects.bulk_create(changes)
    # Stock, in this same transaction: new orders reserve theirs (or are backordered), orders
    # that became cancelled release it. Both are idempotent.
    order_lines_allocate(order_ids=new_order_ids, actor_label=source, just_inserted=True)
    order_deallocate(
        order_ids=[
            order.pk
            for order, _, changed in updated_orders
            if "state" in changed and order.state == OrderState.CANCELLED
        ],
        actor_label=source,
    )
    return result


ADDRESS_COLUMNS = (
    "name",
    "phone",
    "line1",
    "line2",
    "city",
    "state",
    "postal_code",
    "country",
    "full_address",
    "match_key",
)
_ORDER_COLUMNS = ("shop", "remote_order_id", "buyer", "shipping_address", "state", *COPIED_FIELDS)
_LINE_COLUMNS = ("order", "remote_line_id", "sku", *LINE_FIELDS)
_CHANGE_COLUMNS = ("order", "source", "to_status", "to_state", "reason")


def _orders_insert(
    *,
    shop: Shop,
    batch: list[IncomingOrder],
    sku_ids: SkuIds,
    source: ChangeSource,
) -> list[int]:
    """Store orders aftershow has not seen, with their address, lines and first history row.

    Plain rows through ``RowInsert`` rather than models through ``bulk_create``: this is the
    ingest's hot path (a pull of new orders, a file import), and Django's per-value field
    preparation and model instantiation were most of its time. Returns the new orders' ids.
    """
    if not batch:
        return []
    buyers = _buyers_for(shop=shop, batch=batch)
    with_address = [data for data in batch if not data.address.is_empty]
    address_ids = RowInsert(Address, ADDRESS_COLUMNS).execute_returning_ids(
        (
            *(getattr(data.address, name) for name in ADDRESS_COLUMNS[:-1]),
            address_match_key(data.address),
        )
        for data in with_address
    )
    address_of = {
        data.remote_order_id: address_id
        for data, address_id in zip(with_address, address_ids, strict=True)
    }
    states = [state_for_status(data.platform_status, OrderState.NEW) for data in batch]
    order_ids = RowInsert(Order, _ORDER_COLUMNS).execute_returning_ids(
        (
            shop.pk,
            data.remote_order_id,
            buyers.get(data.buyer_user_id),
            address_of.get(data.remote_order_id),
            state,
            *(getattr(data, name) for name in COPIED_FIELDS),
        )
        for data, state in zip(batch, states, strict=True)
    )
    RowInsert(OrderLine, _LINE_COLUMNS).execute(
        (
            order_id,
            line.remote_line_id,
            sku_ids.get((line.remote_sku_id, line.seller_sku)) or None,
            *(getattr(line, name) for name in LINE_FIELDS),
        )
        for data, order_id in zip(batch, order_ids, strict=True)
        for line in data.lines
    )
    RowInsert(OrderStatusChange, _CHANGE_COLUMNS).execute(
        (order_id, source, data.platform_status, state, "first seen")
        for data, order_id, state in zip(batch, order_ids, states, strict=True)
    )
    return order_ids


def _platform_addresses(orders: Iterable[Order]) -> dict[int, Address | None]:
    """The last address the platform sent, for orders whose address a reviewer corrected.

    A correction points the order at a new row; the platform's own stays as the correction's
    ``from_address``. An incoming order is compared with that one, so re-reading an unchanged
    order keeps the reviewer's address, while a real change on the platform (the buyer edited
    the address) still replaces it. Orders without a correction are not in the result.
    """
    current = {order.pk: order.shipping_address_id for order in orders}
    if not current:
        return {}
    corrected_from: dict[tuple[int, int], int | None] = {
        (order_id, to_id): from_id
        for order_id, from_id, to_id in AddressCorrection.objects.filter(
            order_id__in=current
        ).values_list("order_id", "from_address_id", "to_address_id")
    }
    if not corrected_from:
        return {}
    platform_ids: dict[int, int | None] = {}
    for order_id, address_id in current.items():
        found: int | None = address_id
        seen: set[int] = set()
        # Corrections can follow one another: walk back to the row before the first one.
        while found is not None and (order_id, found) in corrected_from and found not in seen:
            seen.add(found)
            found = corrected_from[(order_id, found)]
        if found != address_id:
            platform_ids[order_id] = found
    rows = Address.objects.in_bulk([pk for pk in platform_ids.values() if pk is not None])
    return {order_id: rows[pk] if pk is not None else None for order_id, pk in platform_ids.items()}


def _copy(order: Order, data: IncomingOrder) -> set[str]:
    """Copy the incoming values onto the order; return the names of the fields that changed."""
    changed = set()
    for name in COPIED_FIELDS:
        value = getattr(data, name)
        if getattr(order, name) != value:
            setattr(order, name, value)
            changed.add(name)
    return changed


def _buyers_for(*, shop: Shop, batch: Iterable[IncomingOrder]) -> dict[str, int]:
    keys = {
        order.buyer_user_id: (buyer_key(channel=shop.channel, user_id=order.buyer_user_id), order)
        for order in batch
        if order.buyer_user_id
    }
    if not keys:
        return {}
    # A buyer already known (or inserted by a concurrent ingest) is left as it is. In key
    # order: two ingests inserting the same new buyers in different orders deadlocked on
    # PostgreSQL's unique index (each waiting for the other's uncommitted key).
    RowInsert(Buyer, ("channel", "buyer_key", "nickname")).execute(
        (
            (shop.channel, key, order.buyer_nickname)
            for key, order in sorted(keys.values(), key=lambda entry: entry[0])
        ),
        ignore_conflicts=True,
    )
    ids = dict(
        Buyer.objects.filter(
            channel=shop.channel, buyer_key__in=[key for key, _ in keys.values()]
        ).values_list("buyer_key", "id")
    )
    return {user_id: ids[key] for user_id, (key, _) in keys.items()}


def sku_ids_for(*, shop: Shop, lines: Iterable[IncomingLine]) -> SkuIds:
    """Master SKU per (remote SKU id, seller SKU): the channel listing first, else the seller
    SKU code. Keyed by both: lines without a remote SKU id (files) share the empty id."""
    lines = list(lines)
    by_remote = dict(
        ChannelListing.objects.filter(
            shop=shop,
            remote_sku_id__in={line.remote_sku_id for line in lines if line.remote_sku_id},
        ).values_list("remote_sku_id", "sku_id")
    )
    missing = {line.seller_sku for line in lines if line.remote_sku_id not in by_remote}
    by_code = dict(Sku.objects.filter(code__in=missing).values_list("code", "id"))
    return {
        (line.remote_sku_id, line.seller_sku): by_remote.get(line.remote_sku_id)
        or by_code.get(line.seller_sku, 0)
        for line in lines
    }


def _upsert_lines(orders: list[tuple[Order, IncomingOrder]], sku_ids: SkuIds) -> None:
    if not orders:
        return
    existing = {
        (line.order_id, line.remote_line_id): line
        for line in OrderLine.objects.filter(order__in=[order for order, _ in orders if order.pk])
    }
    provisional = _provisional_lines(existing.values())
    to_create: list[OrderLine] = []
    for order, data in orders:
        incoming_ids = {incoming.remote_line_id for incoming in data.lines}
        for incoming in data.lines:
            values = {name: getattr(incoming, name) for name in LINE_FIELDS}
            values["sku_id"] = sku_ids.get((incoming.remote_sku_id, incoming.seller_sku)) or None
            line = existing.get((order.pk, incoming.remote_line_id))
            if line is None and order.pk in provisional:
                line = _adopt(provisional[order.pk], incoming, incoming_ids)
                if line is not None:
                    values["remote_line_id"] = incoming.remote_line_id
            if line is None:
                to_create.append(
                    OrderLine(order=order, remote_line_id=incoming.remote_line_id, **values)
                )
                continue
            changed = {
                name: value for name, value in values.items() if getattr(line, name) != value
            }
            if changed:
                OrderLine.objects.filter(pk=line.pk).update(**changed)
    OrderLine.objects.bulk_create(to_create)


def _provisional_lines(lines: Iterable[OrderLine]) -> dict[int, list[OrderLine]]:
    """Lines a file import stored under a provisional id, per order, oldest first."""
    found: dict[int, list[OrderLine]] = {}
    for line in lines:
        if line.remote_line_id.startswith(PROVISIONAL_LINE_PREFIX):
            found.setdefault(line.order_id, []).append(line)
    for candidates in found.values():
        candidates.sort(key=lambda line: line.pk)
    return found


def _adopt(
    candidates: list[OrderLine], incoming: IncomingLine, incoming_ids: set[str]
) -> OrderLine | None:
    """The provisional line (same SKU, oldest first) that becomes this new platform line.

    A file import stores an order's units as ``file:…`` lines; when the platform later sends
    the order, each of its unknown line ids takes over one such line instead of adding a line
    beside it, so the order keeps one line per unit and the line's allocation follows it (no
    stock taken twice). A line the incoming order itself names is never adopted.
    """
    if incoming.remote_line_id.startswith(PROVISIONAL_LINE_PREFIX):
        return None
    for index, line in enumerate(candidates):
        same_sku = (
            line.remote_sku_id == incoming.remote_sku_id
            if line.remote_sku_id
            else line.seller_sku == incoming.seller_sku
        )
        if same_sku and line.remote_line_id not in incoming_ids:
            return candidates.pop(index)
    return None
