"""Building parcels from confirmed orders: one per order, or one per combine group.

The risk screening decides which orders share a parcel (``OrderRelease.combine_key``, reached
through the order's ``release`` relation when that app is installed); without a key every order
is its own parcel. Weight is the SKUs' weights plus the box; the box is the smallest one in
``data/boxes.json`` that holds the items' volume, the largest item and the weight.

Building is idempotent: a parcel's ``build_key`` is unique, so running it twice, or in two
workers at once, never makes a second parcel for the same orders.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, QuerySet

from aftershow.catalog.models import BundleComponent
from aftershow.fulfillment.carriers.destination import is_military, is_po_box
from aftershow.fulfillment.carriers.promise import promised_delivery_date
from aftershow.fulfillment.carriers.rates import Dimensions
from aftershow.fulfillment.fastrows import instances_insert
from aftershow.fulfillment.models import LabelPurchase, Package, PurchaseState
from aftershow.inventory.models import ChannelWarehouse, Warehouse
from aftershow.orders.models import Order, OrderLine, OrderState
from aftershow.shops.models import Shop

BOXES_FILE = Path(__file__).resolve().parent / "data" / "boxes.json"
# TikTok combines at most 20 orders into one package (market-anchors.md, combine rules).
MAX_ORDERS_PER_PARCEL = 20
ZERO = Decimal("0")


@dataclass(frozen=True)
class Box:
    code: str
    name: str
    dims: Dimensions
    tare_oz: Decimal
    max_weight_oz: Decimal


@functools.cache
def box_table() -> tuple[Box, ...]:
    spec = json.loads(BOXES_FILE.read_text())
    boxes = [
        Box(
            code=row["code"],
            name=row["name"],
            dims=Dimensions(
                Decimal(row["length_in"]), Decimal(row["width_in"]), Decimal(row["height_in"])
            ),
            tare_oz=Decimal(row["tare_oz"]),
            max_weight_oz=Decimal(row["max_weight_oz"]),
        )
        for row in spec["boxes"]
    ]
    return tuple(sorted(boxes, key=lambda box: (box.dims.cubic_in, box.code)))


@dataclass(frozen=True)
class Packed:
    weight_oz: Decimal
    dims: Dimensions
    box_code: str
    problem: str


@functools.lru_cache(maxsize=4096)
def choose_box(
    *, items_weight_oz: Decimal, items_volume_in3: Decimal, largest: Dimensions
) -> Packed:
    """The smallest box that fits; a carton cut to the items' bounding size when none does.
    Remembered: a live stream's orders repeat a few SKU combinations."""
    for box in box_table():
        fits_item = all(
            item <= side for item, side in zip(largest.sides, box.dims.sides, strict=True)
        )
        if (
            fits_item
            and items_volume_in3 <= box.dims.cubic_in
            and items_weight_oz + box.tare_oz <= box.max_weight_oz
        ):
            return Packed(items_weight_oz + box.tare_oz, box.dims, box.code, "")
    # Nothing fits: a custom carton around the items, weighed like the largest box.
    biggest = box_table()[-1]
    longest, second, _third = largest.sides
    height = max(largest.sides[2], items_volume_in3 / (longest * second)) if longest else ZERO
    return Packed(
        items_weight_oz + biggest.tare_oz,
        Dimensions(longest, second, height.quantize(Decimal("0.01"))),
        "",
        "",
    )


@dataclass(frozen=True, slots=True)
class PackLine:
    """What packing reads of an order line and its SKU (``LINE_FIELDS``, in this order)."""

    order_id: int
    quantity: int
    seller_sku: str
    remote_sku_id: str
    sku_id: int | None  # None: the line is not mapped to a SKU (nor are the SKU's fields)
    sku_code: str | None
    weight_oz: Decimal | None
    length_in: Decimal | None
    width_in: Decimal | None
    height_in: Decimal | None
    is_bundle: bool | None
    # A bundle without its own weight weighs what its components weigh.
    components_weight_oz: Decimal = Decimal("0")


@dataclass(frozen=True, slots=True)
class PackOrder:
    """What packing reads of an order and its address (``ORDER_FIELDS``, in this order), and
    its lines: plain values, a 1,000-order burst builds parcels for 1,000 of them."""

    pk: int
    shop_id: int
    ship_by: datetime | None
    paid_at: datetime | None
    placed_at: datetime
    delivery_option_name: str
    currency: str
    total_amount: Decimal
    shipping_type: str
    remote_warehouse_id: str
    address_id: int | None
    line1: str | None
    line2: str | None
    city: str | None
    state: str | None
    postal_code: str | None
    lines: list[PackLine] = field(default_factory=list)


@dataclass
class _Group:
    key: str
    orders: list[PackOrder] = field(default_factory=list)


@dataclass
class BuildReport:
    created: list[Package] = field(default_factory=list)
    extended: list[Package] = field(default_factory=list)

    @property
    def packages(self) -> list[Package]:
        return [*self.created, *self.extended]


def _combine_keys(order_ids: list[int]) -> dict[int, str]:
    """``order id → combine key`` from the risk app's ``OrderRelease``, when it is installed."""
    try:
        relation = Order._meta.get_field("release")
    except FieldDoesNotExist:
        return {}
    release_model = relation.related_model
    rows = (
        release_model._default_manager.filter(order_id__in=order_ids)
        .exclude(combine_key="")
        .values_list("order_id", "combine_key")
    )
    return {int(order_id): str(key) for order_id, key in rows}


def _line_weight_and_dims(line: PackLine) -> tuple[Decimal, Dimensions]:
    """A bundle without its own weight weighs what its components weigh."""
    dims = Dimensions(line.length_in or ZERO, line.width_in or ZERO, line.height_in or ZERO)
    if line.is_bundle and not line.weight_oz:
        return line.components_weight_oz, dims
    return line.weight_oz or ZERO, dims


def measure(lines: Iterable[PackLine]) -> Packed:
    weight = ZERO
    volume = ZERO
    largest = Dimensions(ZERO, ZERO, ZERO)
    problems: list[str] = []
    for line in lines:
        if line.sku_id is None:
            problems.append(f"{line.seller_sku or line.remote_sku_id}: not mapped to a SKU")
            continue
        unit_weight, dims = _line_weight_and_dims(line)
        if unit_weight <= 0:
            problems.append(f"{line.sku_code}: no weight")
        weight += unit_weight * line.quantity
        volume += dims.cubic_in * line.quantity
        if dims.cubic_in > largest.cubic_in:
            largest = dims
    packed = choose_box(items_weight_oz=weight, items_volume_in3=volume, largest=largest)
    if problems:
        return Packed(packed.weight_oz, packed.dims, packed.box_code, "; ".join(problems)[:255])
    return packed


def _origin_warehouses(
    orders: list[PackOrder],
) -> tuple[Warehouse | None, dict[tuple[int, str], Any]]:
    default = Warehouse.objects.filter(is_default=True).first()
    remote_ids = {(order.shop_id, order.remote_warehouse_id) for order in orders}
    mapped = {
        (row.shop_id, row.remote_warehouse_id): row.warehouse
        for row in ChannelWarehouse.objects.select_related("warehouse").filter(
            remote_warehouse_id__in=[remote for _shop, remote in remote_ids if remote]
        )
    }
    return default, mapped


ORDER_FIELDS = (
    "id",
    "shop_id",
    "ship_by",
    "paid_at",
    "placed_at",
    "delivery_option_name",
    "currency",
    "total_amount",
    "shipping_type",
    "remote_warehouse_id",
    "shipping_address_id",
    "shipping_address__line1",
    "shipping_address__line2",
    "shipping_address__city",
    "shipping_address__state",
    "shipping_address__postal_code",
)
LINE_FIELDS = (
    "order_id",
    "quantity",
    "seller_sku",
    "remote_sku_id",
    "sku_id",
    "sku__code",
    "sku__weight_oz",
    "sku__length_in",
    "sku__width_in",
    "sku__height_in",
    "sku__is_bundle",
)
READ_CHUNK = 500


def _pack_orders(orders: QuerySet[Order]) -> list[PackOrder]:
    """The orders of ``orders`` (in its order) with their lines (by id), as plain values."""
    loaded = [PackOrder(*row) for row in orders.values_list(*ORDER_FIELDS)]
    by_id = {order.pk: order for order in loaded}
    rows: list[tuple[Any, ...]] = []
    ids = list(by_id)
    for start in range(0, len(ids), READ_CHUNK):
        chunk = ids[start : start + READ_CHUNK]
        rows += (
            OrderLine.objects.filter(order_id__in=chunk).order_by("id").values_list(*LINE_FIELDS)
        )
    bundles = {row[4] for row in rows if row[10] and not row[6]}
    weights = _components_weights(bundles) if bundles else {}
    for row in rows:
        line = PackLine(*row)
        if line.sku_id in weights:
            line = dataclasses.replace(line, components_weight_oz=weights[line.sku_id])
        by_id[line.order_id].lines.append(line)
    return loaded


def _components_weights(bundle_ids: set[int]) -> dict[int, Decimal]:
    weights: dict[int, Decimal] = defaultdict(lambda: ZERO)
    rows = BundleComponent.objects.filter(bundle_id__in=bundle_ids).values_list(
        "bundle_id", "component__weight_oz", "quantity"
    )
    for bundle_id, weight_oz, quantity in rows:
        weights[bundle_id] += weight_oz * quantity
    return dict(weights)


def _candidate_orders(*, shop: Shop | None, order_ids: list[int] | None) -> list[PackOrder]:
    """Confirmed orders without a parcel, with only what packing reads, as plain values (a
    1,000-order burst reads 1,000 orders and their lines: model instances cost more than
    packing them)."""
    packaged_line = OrderLine.objects.filter(order=OuterRef("pk"), package__isnull=False)
    orders = (
        Order.objects.filter(state=OrderState.CONFIRMED)
        .filter(~Exists(packaged_line))
        .order_by("id")
    )
    if shop is not None:
        orders = orders.filter(shop=shop)
    if order_ids is not None:
        orders = orders.filter(pk__in=order_ids)
    return _pack_orders(orders)


def _fill(
    package: Package, group: _Group, warehouses: tuple[Warehouse | None, dict[Any, Any]]
) -> None:
    first = group.orders[0]
    lines = [line for order in group.orders for line in order.lines]
    packed = measure(lines)
    default, mapped = warehouses
    package.shop_id = first.shop_id
    package.warehouse = mapped.get((first.shop_id, first.remote_warehouse_id)) or default
    package.weight_oz = packed.weight_oz
    package.length_in, package.width_in, package.height_in = (
        packed.dims.length_in,
        packed.dims.width_in,
        packed.dims.height_in,
    )
    package.box_code = packed.box_code
    package.address_id = first.address_id
    package.shipping_type = first.shipping_type
    if first.address_id is not None:
        line1, line2 = first.line1 or "", first.line2 or ""
        package.is_po_box = is_po_box(line1=line1, line2=line2)
        package.is_military = is_military(
            line1=line1,
            line2=line2,
            city=first.city or "",
            state=first.state or "",
            postal_code=first.postal_code or "",
        )
    deadlines = [order.ship_by for order in group.orders if order.ship_by]
    package.ship_by = min(deadlines) if deadlines else None
    promises = [
        promised_delivery_date(
            paid_at=order.paid_at or order.placed_at,
            delivery_option_name=order.delivery_option_name,
        )
        for order in group.orders
    ]
    package.deliver_by = min(promises)
    package.currency = first.currency
    package.order_value = sum((order.total_amount for order in group.orders), start=ZERO)
    problems = [packed.problem] if packed.problem else []
    if first.address_id is None or not first.postal_code:
        problems.append("no shipping address")
    if package.warehouse is None:
        problems.append("no ship-from warehouse (set a default warehouse)")
    package.build_problem = "; ".join(problems)[:255]
    # A changed parcel must be chosen for again.
    package.service_code = ""
    package.selection_source = ""


def _groups(orders: list[PackOrder]) -> list[_Group]:
    keys = _combine_keys([order.pk for order in orders])
    groups: dict[str, _Group] = {}
    for order in orders:
        combine = keys.get(order.pk, "")
        key = f"combine:{order.shop_id}:{combine}" if combine else f"order:{order.pk}"
        groups.setdefault(key, _Group(key)).orders.append(order)
    return list(groups.values())


def _attach(pairs: list[tuple[Package, _Group]]) -> None:
    """Point the groups' unpackaged lines at their parcel, one statement per order."""
    table = connection.ops.quote_name(OrderLine._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(
            # Identifiers come from the model, values are parameters.
            f"UPDATE {table} SET package_id = %s WHERE order_id = %s AND package_id IS NULL",  # noqa: S608
            [(package.pk, order.pk) for package, group in pairs for order in group.orders],
        )


def _chunks(key: str, orders: list[PackOrder], start: int = 1) -> list[_Group]:
    """At most ``MAX_ORDERS_PER_PARCEL`` orders a parcel: ``key``, ``key:2``, ``key:3``, …"""
    return [
        _Group(
            key if index == 1 else f"{key}:{index}",
            orders[offset : offset + MAX_ORDERS_PER_PARCEL],
        )
        for index, offset in enumerate(range(0, len(orders), MAX_ORDERS_PER_PARCEL), start=start)
    ]


def _place(group: _Group, base: Package) -> tuple[list[tuple[Package, _Group]], list[_Group]]:
    """Orders joining a combine group whose parcel exists: into the group's unlabelled parcels
    while they have room (re-measured), the rest into new parcels with the next keys."""
    parcels = [base, *Package.objects.filter(build_key__startswith=f"{group.key}:")]
    labelled = set(
        LabelPurchase.objects.filter(
            package__in=parcels, state__in=[PurchaseState.INTENT, PurchaseState.BOUGHT]
        ).values_list("package_id", flat=True)
    )
    extended: list[tuple[Package, _Group]] = []
    pending = list(group.orders)
    for parcel in parcels:
        if parcel.pk in labelled or not pending:
            continue
        held = _orders_of(parcel)
        room = MAX_ORDERS_PER_PARCEL - len(held)
        if room > 0:
            extended.append((parcel, _Group(parcel.build_key, held + pending[:room])))
            pending = pending[room:]
    used = {parcel.build_key for parcel in parcels}
    index = 2
    fresh: list[_Group] = []
    for order in pending:
        while f"{group.key}:{index}" in used:
            index += 1
        if not fresh or len(fresh[-1].orders) >= MAX_ORDERS_PER_PARCEL:
            used.add(f"{group.key}:{index}")
            fresh.append(_Group(f"{group.key}:{index}"))
        fresh[-1].orders.append(order)
    return extended, fresh


def packages_build(*, shop: Shop | None = None, order_ids: list[int] | None = None) -> BuildReport:
    """Parcels for every confirmed order that has none yet (of ``shop``, or of ``order_ids``).

    A combine group holds at most 20 orders a parcel (TikTok's combine limit). An order joining
    a group whose parcel exists and has no label yet is added to it (and the parcel is
    re-measured); a labelled or full parcel makes the order start a new one.
    """
    orders = _candidate_orders(shop=shop, order_ids=order_ids)
    report = BuildReport()
    if not orders:
        return report
    warehouses = _origin_warehouses(orders)
    groups = _groups(orders)
    existing = {
        package.build_key: package
        for package in Package.objects.filter(build_key__in=[group.key for group in groups])
    }
    new: list[tuple[Package, _Group]] = []
    extended: list[tuple[Package, _Group]] = []
    for group in groups:
        base = existing.get(group.key)
        if base is None:
            chunks = _chunks(group.key, group.orders)
            grown: list[tuple[Package, _Group]] = []
        else:
            grown, chunks = _place(group, base)
        for parcel, chunk in grown:
            _fill(parcel, chunk, warehouses)
            extended.append((parcel, chunk))
        for chunk in chunks:
            package = Package(build_key=chunk.key)
            _fill(package, chunk, warehouses)
            new.append((package, chunk))
    try:
        with transaction.atomic():
            _save(new, extended)
    except IntegrityError:
        # Another worker built some of the same parcels: take theirs, one group at a time.
        created = []
        for package, group in new:
            with transaction.atomic():
                found = Package.objects.filter(build_key=group.key).first()
                if found is None:
                    package.pk = None
                    package.save()
                    created.append((package, group))
                _attach([(found or package, group)])
        new = created
        with transaction.atomic():
            _save([], extended)
    report.created = [package for package, _group in new]
    report.extended = [package for package, _group in extended]
    return report


def _orders_of(package: Package) -> list[PackOrder]:
    return _pack_orders(Order.objects.filter(lines__package=package).distinct())


def _save(new: list[tuple[Package, _Group]], extended: list[tuple[Package, _Group]]) -> None:
    _packages_insert([package for package, _group in new])
    for package, _group in extended:
        package.save()
    _attach([*new, *extended])


def _packages_insert(packages: Sequence[Package]) -> None:
    """``Package.objects.bulk_create(packages)`` at a fraction of its CPU (``fastrows``); the
    new ids are read back by ``build_key``, which is unique."""
    if not packages:
        return
    instances_insert(Package, packages)
    keys = [package.build_key for package in packages]
    ids: dict[str, int] = {}
    for start in range(0, len(keys), READ_CHUNK):
        found = Package.objects.filter(build_key__in=keys[start : start + READ_CHUNK])
        ids.update(found.values_list("build_key", "pk"))
    for package in packages:
        package.pk = ids[package.build_key]
        package._state.adding = False
        package._state.db = connection.alias
