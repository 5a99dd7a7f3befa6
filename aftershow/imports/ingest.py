"""A batch of parsed file orders written: new orders from rows the reader process prepared,
orders aftershow already has through ``orders_upsert``.

Most orders of an import are orders aftershow has never seen (a first import, the new part of
an overlapping export). For them ``orders_upsert`` would build an ``IncomingOrder`` and flatten
it into insert rows, work that needs nothing from the database; on a 2-core machine the
importing process's CPU bounds the import, so the reader process (aftershow/imports/pipeline.py)
does it ahead, for every order, as if it were new. ``OrderPreparer`` gives the very rows
``orders_upsert`` would insert: ``to_incoming`` without stored state, the column lists and the
state rule of :mod:`aftershow.orders.services`, the same buyer and address keys, converted to
what the database driver takes (``RowInsert.converted``). The parsed order travels along,
pickled, for when it is not new.

The writer (``orders_write``) asks once which of the batch's orders exist. The new ones are
inserted from their rows as ``orders_upsert`` inserts them (buyers, addresses, orders, lines,
the first history row, then stock allocation); the known ones take the usual way,
``to_incoming`` with their stored state and ``orders_upsert``. If the insert meets an order
that another ingest stored meanwhile (a unique violation), it is rolled back to its savepoint
and the batch's new orders take the usual way too, which settles such races order by order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from operator import attrgetter, itemgetter
from typing import Any, NamedTuple, TypeVar, cast

from django.db import IntegrityError, transaction

from aftershow.imports.orders import FileOrder, SkuRow
from aftershow.imports.reconcile import (
    line_values,
    order_returns,
    order_values,
    stored_state,
    to_incoming,
)
from aftershow.inventory.allocation import order_lines_allocate
from aftershow.orders.bulk import RowInsert
from aftershow.orders.models import (
    Address,
    Buyer,
    ChangeSource,
    Order,
    OrderLine,
    OrderState,
    OrderStatusChange,
)

# The column lists and the state rule that orders_upsert inserts new orders with: one source,
# so that an order stored here is the order orders_upsert would have stored (a test compares
# them field by field).
from aftershow.orders.services import (
    ADDRESS_COLUMNS,
    COPIED_FIELDS,
    LINE_FIELDS,
    UpsertResult,
    address_match_key,
    buyer_key,
    orders_upsert,
    sku_ids_for,
    state_for_status,
)
from aftershow.orders.types import IncomingAddress, IncomingLine
from aftershow.shops.models import Shop

SOURCE = ChangeSource.IMPORT
FIRST_SEEN = "first seen"
# The ids known only when writing come last, so the reader converts the leading values.
ORDER_COLUMNS = ("remote_order_id", "state", *COPIED_FIELDS, "shop", "buyer", "shipping_address")
LINE_COLUMNS = ("remote_line_id", *LINE_FIELDS, "order", "sku")
CHANGE_COLUMNS = ("order", "source", "to_status", "to_state", "reason")
BUYER_COLUMNS = ("channel", "buyer_key", "nickname")
_REMOTE_SKU_AT = LINE_COLUMNS.index("remote_sku_id")
_SELLER_SKU_AT = LINE_COLUMNS.index("seller_sku")


# A parsed order crosses the pipe as plain tuples of its fields: unpickling a dataclass
# rebuilds its ``__dict__`` key by key, which cost the writer about 3 s of CPU per 100,000
# rows; plain tuples unpickle about ten times faster. (Decimals and times as text were
# measured too: no cheaper to unpickle, and the conversion cost the reader more than
# pickling the objects.)
_ORDER_FIELDS = tuple(f.name for f in fields(FileOrder) if f.name not in ("address", "skus"))
_ADDRESS_FIELDS = tuple(f.name for f in fields(IncomingAddress))
_SKU_FIELDS = tuple(f.name for f in fields(SkuRow))
_order_values = attrgetter(*_ORDER_FIELDS)
_address_values = attrgetter(*_ADDRESS_FIELDS)
_sku_values = attrgetter(*_SKU_FIELDS)
T = TypeVar("T")
EncodedOrder = tuple[tuple[Any, ...], tuple[Any, ...], list[tuple[Any, ...]]]


def encode(order: FileOrder) -> EncodedOrder:
    """A parsed order as plain tuples (``decode`` gives it back)."""
    return (
        _order_values(order),
        _address_values(order.address),
        [_sku_values(sku) for sku in order.skus],
    )


def _rebuild(kind: type[T], names: Sequence[str], values: Sequence[Any]) -> T:
    # The fields are set as the dataclass's own __init__ would (these classes have no
    # __post_init__ and no slots), without its per-field call overhead; frozen classes too.
    instance = object.__new__(kind)
    instance.__dict__.update(zip(names, values, strict=True))
    return instance


def decode(encoded: EncodedOrder) -> FileOrder:
    values, address, skus = encoded
    order = _rebuild(FileOrder, _ORDER_FIELDS, values)
    order.address = _rebuild(IncomingAddress, _ADDRESS_FIELDS, address)
    order.skus = [_rebuild(SkuRow, _SKU_FIELDS, sku) for sku in skus]
    return order


class PreparedOrder(NamedTuple):
    """One parsed order of the file, as the rows that store it if it is new."""

    order_id: str
    # ORDER_COLUMNS up to "shop", converted.
    order: tuple[Any, ...]
    # ADDRESS_COLUMNS (the last is the match key), converted; None for an empty address.
    address: tuple[Any, ...] | None
    # (buyer key, nickname), None without a buyer.
    buyer: tuple[str, str] | None
    # LINE_COLUMNS up to "order", converted, one per unit.
    lines: list[tuple[Any, ...]]
    platform_status: str
    state: str
    # The export's own return columns (reconcile.order_returns), new or not.
    returns: list[dict[str, Any]]
    # The FileOrder (``encode``), for when the order is not new.
    parsed: EncodedOrder


class _SkuReference(NamedTuple):
    remote_sku_id: str
    seller_sku: str


class OrderPreparer:
    """Turns parsed orders into ``PreparedOrder``; needs no database (runs in the reader)."""

    def __init__(self, *, channel: str) -> None:
        self.channel = channel
        self.orders = RowInsert(Order, ORDER_COLUMNS)
        self.lines = RowInsert(OrderLine, LINE_COLUMNS)
        self.copied_values = itemgetter(*COPIED_FIELDS)
        self.line_field_values = itemgetter(*LINE_FIELDS)
        self.address_values = attrgetter(*ADDRESS_COLUMNS[:-1])

    def __call__(self, order: FileOrder) -> PreparedOrder:
        # What to_incoming(order, None, []) holds, without building it.
        values = order_values(order, None)
        status = values["platform_status"]
        state = state_for_status(status, OrderState.NEW)
        address = order.address
        user_id = values["buyer_user_id"]
        convert_line = self.lines.converted
        line_field_values = self.line_field_values
        return PreparedOrder(
            order_id=order.order_id,
            order=self.orders.converted(
                (values["remote_order_id"], state, *self.copied_values(values))
            ),
            address=None
            if address.is_empty
            else (*self.address_values(address), address_match_key(address)),
            buyer=(buyer_key(channel=self.channel, user_id=user_id), values["buyer_nickname"])
            if user_id
            else None,
            lines=[
                convert_line((unit["remote_line_id"], *line_field_values(unit)))
                for unit in line_values(order, [])
            ],
            platform_status=status,
            state=state,
            returns=order_returns(order),
            parsed=encode(order),
        )


def parsed_order(prepared: PreparedOrder) -> FileOrder:
    return decode(prepared.parsed)


def orders_write(*, shop: Shop, batch: Sequence[PreparedOrder]) -> UpsertResult:
    """Store a batch of the file's orders: new ones from their rows, known ones updated."""
    order_ids = [prepared.order_id for prepared in batch]
    existing = set(
        Order.objects.filter(shop=shop, remote_order_id__in=order_ids).values_list(
            "remote_order_id", flat=True
        )
    )
    new = [prepared for prepared in batch if prepared.order_id not in existing]
    known = [prepared for prepared in batch if prepared.order_id in existing]
    result = UpsertResult()
    if new and len(set(order_ids)) == len(order_ids):
        try:
            with transaction.atomic():
                result.created = _insert(shop=shop, batch=new)
        except IntegrityError:
            known = list(batch)  # another ingest stored some of them meanwhile
    else:
        known = list(batch)
    if known:
        parsed = [parsed_order(prepared) for prepared in known]
        stored, lines = stored_state(shop.pk, [order.order_id for order in parsed])
        result += orders_upsert(
            shop=shop,
            incoming=[
                to_incoming(order, stored.get(order.order_id), lines.get(order.order_id, []))
                for order in parsed
            ],
            source=SOURCE,
        )
    return result


def _insert(*, shop: Shop, batch: Sequence[PreparedOrder]) -> int:
    """Insert orders aftershow does not have, as ``orders_upsert``'s ``_orders_insert`` does."""
    buyer_of = _buyers(shop=shop, batch=batch)
    with_address = [prepared for prepared in batch if prepared.address is not None]
    address_ids = RowInsert(Address, ADDRESS_COLUMNS).execute_returning_ids(
        (prepared.address for prepared in with_address if prepared.address is not None),
        converted=True,
    )
    address_of = {
        prepared.order_id: address_id
        for prepared, address_id in zip(with_address, address_ids, strict=True)
    }
    shop_id = shop.pk
    new_ids = RowInsert(Order, ORDER_COLUMNS).execute_returning_ids(
        (
            (
                *prepared.order,
                shop_id,
                buyer_of.get(prepared.buyer[0]) if prepared.buyer else None,
                address_of.get(prepared.order_id),
            )
            for prepared in batch
        ),
        converted=True,
    )
    # orders_upsert's own look-up, which reads the lines' remote SKU id and seller SKU only.
    references = [
        _SkuReference(line[_REMOTE_SKU_AT], line[_SELLER_SKU_AT])
        for prepared in batch
        for line in prepared.lines
    ]
    sku_ids = sku_ids_for(shop=shop, lines=cast(list[IncomingLine], references))
    RowInsert(OrderLine, LINE_COLUMNS).execute(
        (
            (*line, order_id, sku_ids.get((line[_REMOTE_SKU_AT], line[_SELLER_SKU_AT])) or None)
            for prepared, order_id in zip(batch, new_ids, strict=True)
            for line in prepared.lines
        ),
        converted=True,
    )
    RowInsert(OrderStatusChange, CHANGE_COLUMNS).execute(
        (order_id, SOURCE, prepared.platform_status, prepared.state, FIRST_SEEN)
        for prepared, order_id in zip(batch, new_ids, strict=True)
    )
    order_lines_allocate(order_ids=new_ids, actor_label=SOURCE, just_inserted=True)
    return len(new_ids)


def _buyers(*, shop: Shop, batch: Sequence[PreparedOrder]) -> dict[str, int]:
    """Buyer id per buyer key, inserting the buyers not known yet (as orders_upsert does: in
    key order, a buyer already there left as it is)."""
    nickname_of = {prepared.buyer[0]: prepared.buyer[1] for prepared in batch if prepared.buyer}
    if not nickname_of:
        return {}
    channel = shop.channel
    RowInsert(Buyer, BUYER_COLUMNS).execute(
        ((channel, key, nickname_of[key]) for key in sorted(nickname_of)),
        ignore_conflicts=True,
    )
    return dict(
        Buyer.objects.filter(channel=channel, buyer_key__in=list(nickname_of)).values_list(
            "buyer_key", "id"
        )
    )
