"""Shipping parcels: stock leaves once, orders move to SHIPPED with history, refusals change
nothing, a repeat or a second packer never ships twice, and TikTok pushes are recorded in the
same transaction."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, cast

import pytest
from django.db import connection

from aftershow.accounts.models import User
from aftershow.audit.models import AuditAction, AuditEvent
from aftershow.catalog.models import Sku
from aftershow.fulfillment.batches import labels_batch_run
from aftershow.fulfillment.models import (
    BatchItemState,
    LabelBatch,
    LabelBatchItem,
    Package,
    PackageStatus,
)
from aftershow.fulfillment.shipping import (
    ScanResult,
    package_scan,
    packages_ship,
)
from aftershow.fulfillment.tests.conftest import OrderMaker, make_sku
from aftershow.fulfillment.tests.test_packing import default_rules
from aftershow.integrations.models import SyncCursor, TrackingUpload, TrackingUploadState
from aftershow.integrations.tiktok.tracking_rules import PUSH_CURSOR
from aftershow.inventory.allocation import order_lines_allocate
from aftershow.inventory.models import (
    AllocationStatus,
    MovementKind,
    StockAllocation,
    StockLevel,
    StockMovement,
    Warehouse,
)
from aftershow.orders.models import Order, OrderState, OrderStatusChange, PlatformStatus
from aftershow.orders.tests.factories import UserFactory
from aftershow.shops.models import Shop

SEQUENCE = iter(range(1, 10**9))


def person(**fields: Any) -> User:
    return cast(User, UserFactory(**fields))  # type: ignore[no-untyped-call]


def stock(sku: Sku, warehouse: Warehouse, on_hand: int) -> StockLevel:
    return StockLevel.objects.create(sku=sku, warehouse=warehouse, on_hand=on_hand)


def labelled(order: Order, *, tracking: str = "", carrier: str = "USPS") -> Package:
    """A parcel for ``order`` with a bought label (the state ``labels_buy`` leaves it in)."""
    number = tracking or f"9400111{next(SEQUENCE):015d}"
    package = Package.objects.create(
        shop=order.shop,
        tracking_number=number,
        carrier=carrier,
        service="Ground Advantage",
        status=PackageStatus.PROCESSING,
        build_key=f"order:{order.pk}",
    )
    order.lines.update(package=package)
    if order.state == OrderState.CONFIRMED:
        Order.objects.filter(pk=order.pk).update(state=OrderState.LABELLED)
    return package


@pytest.fixture
def tee(db: None, warehouse: Warehouse) -> Sku:
    sku = make_sku("TEE-BLK-M", weight_oz="6.2", bin_location="C-03")
    stock(sku, warehouse, 100)
    return sku


@pytest.fixture
def ready(shopify_shop: Shop, make_order: OrderMaker, tee: Sku) -> Callable[..., Package]:
    def make(quantity: int = 1, **fields: Any) -> Package:
        order = make_order(shopify_shop, tee, quantity=quantity, **fields)
        order_lines_allocate(order_ids=[order.pk])
        return labelled(order)

    return make


def level(sku: Sku) -> tuple[int, int]:
    row = StockLevel.objects.get(sku=sku)
    return row.on_hand, row.allocated


@pytest.mark.django_db
def test_shipping_moves_stock_orders_and_history_once(
    ready: Callable[..., Package], tee: Sku
) -> None:
    packer = person(packer=True)
    first, second = ready(quantity=2), ready()
    assert level(tee) == (100, 3)

    report = packages_ship(packages=[first, second], actor=packer, via="scan:dock-1")

    assert (report.shipped, report.already_shipped, report.refused) == (2, 0, {})
    assert level(tee) == (97, 0)
    for package in (first, second):
        package.refresh_from_db()
        assert package.status == PackageStatus.FULFILLING
        assert package.shipped_at is not None
        order = Order.objects.get(lines__package=package)
        assert order.state == OrderState.SHIPPED
        change = OrderStatusChange.objects.get(order=order, to_state=OrderState.SHIPPED)
        assert (change.from_state, change.actor, change.reason) == (
            OrderState.LABELLED,
            packer,
            "shipped (scan:dock-1)",
        )
    assert set(StockAllocation.objects.values_list("status", flat=True)) == {
        AllocationStatus.SHIPPED
    }
    assert StockMovement.objects.filter(kind=MovementKind.SHIPMENT).count() == 2
    event = AuditEvent.objects.get(action=AuditAction.PACKAGE_SHIPPED)
    assert (event.actor, event.data) == (
        packer,
        {
            "via": "scan:dock-1",
            "packages": {
                str(first.pk): ["USPS", first.tracking_number],
                str(second.pk): ["USPS", second.tracking_number],
            },
        },
    )

    again = packages_ship(packages=Package.objects.all(), actor=None, via="batch")
    assert (again.shipped, again.already_shipped, again.refused) == (0, 2, {})
    assert level(tee) == (97, 0)
    assert StockMovement.objects.filter(kind=MovementKind.SHIPMENT).count() == 2
    assert OrderStatusChange.objects.filter(to_state=OrderState.SHIPPED).count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"state": OrderState.CANCELLED}, "was cancelled"),
        ({"platform_status": PlatformStatus.CANCELLED}, "was cancelled"),
        ({"is_buyer_request_cancel": True}, "buyer asked to cancel"),
        ({"platform_status": PlatformStatus.ON_HOLD}, "on hold at TikTok"),
        ({"state": OrderState.HELD, "hold_reason": "Held by pat: call buyer"}, "call buyer"),
        ({"state": OrderState.IN_REVIEW}, "review queue"),
        ({"state": OrderState.NEW}, "not ready to ship"),
    ],
)
def test_orders_that_must_not_leave_are_refused_and_nothing_changes(
    ready: Callable[..., Package], tee: Sku, fields: dict[str, Any], reason: str
) -> None:
    package = ready()
    good = ready()
    Order.objects.filter(lines__package=package).update(**fields)

    report = packages_ship(packages=[package, good], actor=None, via="batch")

    assert report.shipped == 1
    assert list(report.refused) == [package.pk]
    assert reason in report.refused[package.pk]
    package.refresh_from_db()
    assert (package.shipped_at, package.status) == (None, PackageStatus.PROCESSING)
    assert level(tee) == (99, 1)
    assert list(
        AuditEvent.objects.filter(action=AuditAction.PACKAGE_SHIPPED).values_list(
            "object_id", flat=True
        )
    ) == [str(good.pk)]


@pytest.mark.django_db
def test_no_label_cancelled_package_batch_error_and_backorder_are_refused(
    shopify_shop: Shop, make_order: OrderMaker, ready: Callable[..., Package], tee: Sku
) -> None:
    no_label = ready()
    Package.objects.filter(pk=no_label.pk).update(tracking_number="")
    cancelled = ready()
    Package.objects.filter(pk=cancelled.pk).update(status=PackageStatus.CANCELLED)
    errored = ready()
    batch = LabelBatch.objects.create(shop=shopify_shop)
    LabelBatchItem.objects.create(
        batch=batch,
        package=errored,
        position=1,
        state=BatchItemState.ERROR,
        error_reason="address not deliverable",
    )
    scarce = make_sku("MUG", weight_oz="14")
    short_order = make_order(shopify_shop, scarce)
    order_lines_allocate(order_ids=[short_order.pk])  # no stock level: backordered
    backordered = labelled(short_order)
    before = level(tee)

    report = packages_ship(
        packages=[no_label, cancelled, errored, backordered, Package(pk=10**8)],
        actor=None,
        via="batch",
    )

    assert report.shipped == 0
    assert report.refused == {
        no_label.pk: "This package has no label yet.",
        cancelled.pk: "This package was cancelled.",
        errored.pk: "Its label batch lists an error: address not deliverable",
        backordered.pk: "An item in this package is backordered: there is no stock to ship.",
        10**8: "No such package.",
    }
    assert level(tee) == before
    assert not Package.objects.filter(shipped_at__isnull=False).exists()


@pytest.mark.django_db
def test_a_labelled_batch_from_the_real_pipeline_ships(
    warehouse: Warehouse, shopify_shop: Shop, make_order: OrderMaker, tee: Sku
) -> None:
    default_rules()
    orders = [make_order(shopify_shop, tee) for _ in range(3)]
    order_lines_allocate(order_ids=[order.pk for order in orders])
    (batch,) = labels_batch_run(shop=shopify_shop)
    assert batch.labelled == 3
    packages = Package.objects.filter(batch_item__batch=batch.batch)

    report = packages_ship(packages=packages, actor=None, via="batch")

    assert (report.shipped, report.refused) == (3, {})
    assert set(Order.objects.values_list("state", flat=True)) == {OrderState.SHIPPED}
    assert level(tee) == (97, 0)
    # A scan of a printed label finds the parcel, already shipped.
    outcome = package_scan(code=packages[0].tracking_number, actor=None, station="dock")
    assert outcome.result == ScanResult.ALREADY_SHIPPED


@pytest.mark.django_db
def test_a_tiktok_parcel_records_its_tracking_push_in_the_same_transaction(
    tiktok_shop_row: Shop, make_order: OrderMaker, tee: Sku
) -> None:
    order = make_order(tiktok_shop_row, tee)
    package = labelled(order, tracking="9400111899223344556677", carrier="USPS")

    outcome = package_scan(code="9400 1118 9922 3344 5566 77", actor=None, station="dock")

    assert outcome.result == ScanResult.SHIPPED
    upload = TrackingUpload.objects.get(package=package)
    assert (upload.tracking_number, upload.carrier, upload.state) == (
        "9400111899223344556677",
        "USPS",
        TrackingUploadState.QUEUED,
    )


@pytest.mark.django_db
def test_a_file_mode_tiktok_parcel_ships_without_queueing_a_push(
    tiktok_file_shop: Shop, tiktok_shop_row: Shop, make_order: OrderMaker, tee: Sku
) -> None:
    files = labelled(
        make_order(tiktok_file_shop, tee), tracking="1Z999AA10123456784", carrier="UPS"
    )
    api = labelled(make_order(tiktok_shop_row, tee), tracking="1Z999AA10123456791", carrier="UPS")

    report = packages_ship(packages=[files, api], actor=None, via="batch")

    assert (report.shipped, report.refused, report.tracking_refused) == (2, {}, {})
    assert Package.objects.filter(shipped_at__isnull=False).count() == 2
    # The file-mode shop's tracking goes in through the upload file: no upload, no task.
    assert list(TrackingUpload.objects.values_list("package_id", "state")) == [
        (api.pk, TrackingUploadState.QUEUED)
    ]
    assert list(
        SyncCursor.objects.filter(kind=PUSH_CURSOR, task_queued=True).values_list(
            "shop_id", flat=True
        )
    ) == [tiktok_shop_row.pk]


@pytest.mark.django_db
def test_scans_unknown_order_number_impb_and_duplicate(
    ready: Callable[..., Package], tee: Sku
) -> None:
    package = ready()
    order = Order.objects.get(lines__package=package)

    unknown = package_scan(code="NOPE123", actor=None, station="dock")
    assert (unknown.result, unknown.message) == (
        ScanResult.UNKNOWN,
        "Unknown barcode NOPE123: no package has this tracking number.",
    )
    slip = package_scan(code=order.remote_order_id, actor=None, station="dock")
    assert slip.result == ScanResult.UNKNOWN
    assert "is an order number" in slip.message
    assert level(tee) == (100, 1)

    # The USPS IMpb barcode: "420" + ZIP + the tracking number.
    first = package_scan(code=f"42010118{package.tracking_number}", actor=None, station="dock")
    assert (first.result, first.order_numbers) == (ScanResult.SHIPPED, [order.remote_order_id])
    assert first.message == f"Shipped: order {order.remote_order_id}."
    duplicate = package_scan(code=package.tracking_number, actor=None, station="dock")
    assert duplicate.result == ScanResult.ALREADY_SHIPPED
    assert not duplicate.is_success
    assert level(tee) == (99, 0)


@pytest.mark.django_db
def test_a_thousand_packages_ship_in_a_fixed_number_of_queries(
    django_assert_max_num_queries: Any,
    shopify_shop: Shop,
    make_order: OrderMaker,
    tee: Sku,
    warehouse: Warehouse,
) -> None:
    StockLevel.objects.filter(sku=tee).update(on_hand=2000)
    orders = [make_order(shopify_shop, tee) for _ in range(1000)]
    order_lines_allocate(order_ids=[order.pk for order in orders])
    for order in orders:
        labelled(order)
    # Inserts are batched (SQLite takes 999 parameters a statement): ~40 of these are
    # multi-row INSERTs, the rest one statement per step whatever the number of parcels.
    with django_assert_max_num_queries(60):
        report = packages_ship(packages=Package.objects.all(), actor=None, via="batch")
    assert report.shipped == 1000
    assert level(tee) == (1000, 0)
    assert Order.objects.filter(state=OrderState.SHIPPED).count() == 1000


def race(*actions: Callable[[], object]) -> tuple[list[object], list[BaseException]]:
    start = threading.Barrier(len(actions))
    results: list[object] = []
    errors: list[BaseException] = []

    def run(action: Callable[[], object]) -> None:
        try:
            start.wait()
            results.append(action())
        except BaseException as error:  # reported to the test thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


@pytest.mark.django_db(transaction=True)
def test_two_packers_scanning_the_same_parcel_ship_it_once(
    ready: Callable[..., Package], tee: Sku
) -> None:
    packages = [ready() for _ in range(4)]
    codes = [package.tracking_number for package in packages]
    first = person(packer=True)
    second = person(username="sam")

    def scan_all(user: Any, station: str) -> list[ScanResult]:
        return [package_scan(code=c, actor=user, station=station).result for c in codes]

    results, errors = race(lambda: scan_all(first, "dock-1"), lambda: scan_all(second, "dock-2"))

    assert errors == []
    outcomes = [r for run in results for r in run]  # type: ignore[attr-defined]
    assert sorted(outcomes) == sorted([ScanResult.SHIPPED] * 4 + [ScanResult.ALREADY_SHIPPED] * 4)
    assert level(tee) == (96, 0)
    assert StockMovement.objects.filter(kind=MovementKind.SHIPMENT).count() == 4
    assert AuditEvent.objects.filter(action=AuditAction.PACKAGE_SHIPPED).count() == 4
    assert OrderStatusChange.objects.filter(to_state=OrderState.SHIPPED).count() == 4


@pytest.mark.django_db
def test_an_order_whose_hold_ended_ships(ready: Callable[..., Package], tee: Sku) -> None:
    # TikTok keeps is_on_hold_order true after the hold ends; the status says it is over.
    package = ready()
    Order.objects.filter(lines__package=package).update(
        is_on_hold_order=True, platform_status=PlatformStatus.AWAITING_SHIPMENT
    )

    report = packages_ship(packages=[package], actor=None, via="batch")

    assert (report.shipped, report.refused) == (1, {})
