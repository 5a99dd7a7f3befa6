"""Batches: the print PDF read back (pick list first, 4x6 pages, SAMPLE, labels in pick order,
fonts embedded), the ZPL file, the 600-order split, and errors retried one order at a time."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from typing import Any

import pytest
from pypdf import PdfReader
from reportlab.lib.pagesizes import A6
from reportlab.pdfgen.canvas import Canvas

from aftershow.catalog.models import Sku
from aftershow.fulfillment.batches import (
    label_batch_retry,
    label_batches_create,
    labels_batch_run,
)
from aftershow.fulfillment.documents import batch_pdf, batch_zpl, pick_list
from aftershow.fulfillment.labels.base import (
    LabelError,
    PurchasedLabel,
    RateQuote,
    ShipmentRequest,
)
from aftershow.fulfillment.labels.sandbox import SandboxCarrier
from aftershow.fulfillment.models import (
    BatchItemState,
    LabelBatch,
    LabelBatchItem,
    LabelPurchase,
    Package,
)
from aftershow.fulfillment.packing import packages_build
from aftershow.fulfillment.tests.conftest import NOW, OrderMaker, make_sku
from aftershow.fulfillment.tests.test_packing import default_rules
from aftershow.inventory.models import Warehouse
from aftershow.orders.models import Address, Order, OrderLine, OrderState, PlatformStatus
from aftershow.orders.tests.factories import AddressFactory
from aftershow.risk.selectors import review_queue_queryset
from aftershow.shops.models import Shop

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]
SANDBOX_TRACKING = re.compile(r"(?:9299990000|1ZSBXA|999)\d{12}")


def pdf_pages(data: bytes) -> list[Any]:
    return list(PdfReader(io.BytesIO(data)).pages)


def page_tracking(page: Any) -> str:
    """The tracking number printed under a label's barcode (in groups of four)."""
    text = page.extract_text().replace(" ", "")
    found = SANDBOX_TRACKING.findall(text)
    assert found, text
    return str(found[0])


@pytest.fixture
def skus(db: None) -> dict[str, Sku]:
    return {
        "tee": make_sku("TEE-BLK-M", weight_oz="6.2", bin_location="C-03"),
        "mug": make_sku("MUG-LIVE", weight_oz="14", dims=("5", "4", "4"), bin_location="A-01"),
        "serum": make_sku("SERUM-30", weight_oz="3.1", dims=("4", "2", "2"), bin_location="B-02"),
    }


@pytest.fixture
def three_orders(
    warehouse: Warehouse, shopify_shop: Shop, make_order: OrderMaker, skus: dict[str, Sku]
) -> list[Order]:
    default_rules()
    return [
        make_order(shopify_shop, skus["tee"]),
        make_order(shopify_shop, skus["mug"], skus["serum"]),
        make_order(shopify_shop, skus["serum"], quantity=2),
    ]


def test_the_batch_pdf_holds_the_pick_list_then_every_label_in_pick_order(
    three_orders: list[Order], shopify_shop: Shop
) -> None:
    (report,) = labels_batch_run(shop=shopify_shop)
    assert (report.labelled, report.errors) == (3, [])
    items = list(report.batch.items.select_related("package").order_by("position"))
    # Pick order: the first bin of each parcel (mug A-01, serum B-02, tee C-03).
    assert [set(item.package.lines.values_list("order_id", flat=True)) for item in items] == [
        {three_orders[1].pk},
        {three_orders[2].pk},
        {three_orders[0].pk},
    ]

    pages = pdf_pages(batch_pdf(batch=report.batch))

    assert len(pages) == 1 + 3
    assert {(page.mediabox.width, page.mediabox.height) for page in pages} == {(288, 432)}
    pick = pages[0].extract_text()
    assert pick.splitlines()[:2] == ["PICK LIST", f"Batch {report.batch.pk} · page 1/1"]
    assert "3 labels · 3 SKUs · 5 units" in pick
    rows = re.findall(r"^([A-C]-0\d)\n(\S+) +Item \S+\n(\d+)$", pick, flags=re.M)
    assert rows == [
        ("A-01", "MUG-LIVE", "1"),
        ("B-02", "SERUM-30", "3"),
        ("C-03", "TEE-BLK-M", "1"),
    ]
    labels = pages[1:]
    assert all("SAMPLE" in page.extract_text() for page in labels)
    assert [page_tracking(page) for page in labels] == [
        item.package.tracking_number for item in items
    ]
    assert all(item.package.tracking_number for item in items)


def test_every_font_in_the_pdf_is_embedded(three_orders: list[Order], shopify_shop: Shop) -> None:
    (report,) = labels_batch_run(shop=shopify_shop)
    reader = PdfReader(io.BytesIO(batch_pdf(batch=report.batch, packing_slips=True)))
    fonts = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/FontDescriptor"].get_object()
            fonts[str(font["/BaseFont"]).split("+")[-1]] = "/FontFile2" in descriptor
    assert fonts == {"BitstreamVeraSans-Roman": True, "BitstreamVeraSans-Bold": True}


def test_packing_slips_follow_their_label(three_orders: list[Order], shopify_shop: Shop) -> None:
    (report,) = labels_batch_run(shop=shopify_shop)
    pages = pdf_pages(batch_pdf(batch=report.batch, packing_slips=True))
    assert len(pages) == 1 + 3 * 2
    slip = pages[2].extract_text()
    assert slip.splitlines()[0] == "PACKING SLIP"
    assert f"Orders: {three_orders[1].remote_order_id}" in slip
    assert f"Tracking: {page_tracking(pages[1])}" in slip


def test_the_zpl_file_has_one_4x6_label_per_parcel_in_pick_order(
    three_orders: list[Order], shopify_shop: Shop
) -> None:
    (report,) = labels_batch_run(shop=shopify_shop)
    zpl = batch_zpl(batch=report.batch)
    formats = re.findall(r"\^XA\n.*?\^XZ\n", zpl, flags=re.S)
    assert "".join(formats) == zpl
    assert len(formats) == 3
    tracking = [
        item.package.tracking_number
        for item in report.batch.items.select_related("package").order_by("position")
    ]
    for label, number in zip(formats, tracking, strict=True):
        assert "^PW812\n^LL1218\n" in label
        assert f"^BY3^BCN,152,N,N,N^FD{number}^FS" in label
        assert "^FO240,30^A0N,90,90^FDSAMPLE^FS" in label


def make_orders(shop: Shop, sku: Sku, count: int) -> list[Order]:
    """Confirmed single-line orders in bulk (the factories would take minutes for 600)."""
    address = AddressFactory()
    orders = Order.objects.bulk_create(
        [
            Order(
                shop=shop,
                remote_order_id=f"58{index:010d}",
                shipping_address=address,
                platform_status=PlatformStatus.AWAITING_SHIPMENT,
                state=OrderState.CONFIRMED,
                placed_at=NOW,
                paid_at=NOW,
                remote_updated_at=NOW,
                total_amount=Decimal("19.99"),
            )
            for index in range(count)
        ]
    )
    OrderLine.objects.bulk_create(
        [
            OrderLine(order=order, remote_line_id=f"L{order.pk}", sku=sku, seller_sku=sku.code)
            for order in orders
        ]
    )
    return orders


def test_batches_are_cut_at_tiktoks_600_order_cap(
    warehouse: Warehouse, shopify_shop: Shop, skus: dict[str, Sku], monkeypatch: Any
) -> None:
    from aftershow.fulfillment import packing

    orders = make_orders(shopify_shop, skus["tee"], 601)
    # Three of them share one parcel (a combine group): it counts as three orders.
    combined = {orders[0].pk: "buyer-1", orders[1].pk: "buyer-1", orders[2].pk: "buyer-1"}
    monkeypatch.setattr(packing, "_combine_keys", lambda ids: combined)
    packages_build(shop=shopify_shop)
    assert Package.objects.count() == 599

    batches = label_batches_create(shop=shopify_shop)

    assert [batch.order_count for batch in batches] == [600, 1]
    assert [batch.items.count() for batch in batches] == [598, 1]
    assert LabelBatchItem.objects.count() == 599
    assert list(batches[0].items.order_by("position").values_list("position", flat=True)) == list(
        range(1, 599)
    )
    assert label_batches_create(shop=shopify_shop) == []


def test_errors_are_listed_per_order_and_only_they_are_retried(
    three_orders: list[Order], shopify_shop: Shop, make_order: OrderMaker, skus: dict[str, Sku]
) -> None:
    broken = make_order(
        shopify_shop, skus["tee"], address=AddressFactory(postal_code="ABCDE", state="NY")
    )
    (report,) = labels_batch_run(shop=shopify_shop)
    assert report.labelled == 3
    (error,) = report.errors
    assert list(error.package.lines.values_list("order_id", flat=True)) == [broken.pk]
    assert error.error_reason.startswith("no carrier chosen: ")
    assert error.error_reason.endswith(
        "No service can carry this parcel: FedEx Ground: zone unknown; UPS Ground: zone "
        "unknown; USPS Ground Advantage: zone unknown; USPS Priority Mail: zone unknown."
    )
    # No carrier takes the address: the order waits in the review queue with the reason.
    assert report.to_review == [broken.pk]
    broken.refresh_from_db()
    assert broken.state == OrderState.IN_REVIEW
    assert broken.hold_reason == (
        "Carrier refused the address: No service can carry this parcel: FedEx Ground: zone "
        "unknown; UPS Ground: zone unknown; USPS Ground Advantage: zone unknown; USPS Priority "
        "Mail: zone unknown."
    )
    assert list(review_queue_queryset().values_list("pk", flat=True)) == [broken.pk]
    change = broken.status_changes.get(to_state=OrderState.IN_REVIEW)
    assert (change.from_state, change.reason[:29]) == (
        OrderState.CONFIRMED,
        "Carrier refused the address: ",
    )
    labelled_before = dict(
        LabelBatchItem.objects.filter(state=BatchItemState.LABELLED).values_list(
            "pk", "package__tracking_number"
        )
    )
    assert len(pdf_pages(batch_pdf(batch=report.batch))) == 1 + 3

    # The reviewer corrects the address (a new row; the order points at it), then retries.
    corrected = Address.objects.create(
        name="Jamie Rivera",
        line1="350 Fifth Avenue",
        city="New York",
        state="NY",
        postal_code="10118",
    )
    Order.objects.filter(pk=broken.pk).update(shipping_address=corrected)
    retried = label_batch_retry(batch=report.batch)

    assert (retried.labelled, [item.error_reason for item in retried.errors]) == (1, [])
    items = {item.pk: item for item in LabelBatchItem.objects.select_related("package")}
    assert items[error.pk].state == BatchItemState.LABELLED
    assert items[error.pk].attempts == 2
    assert {
        pk: item.package.tracking_number for pk, item in items.items() if pk != error.pk
    } == labelled_before
    assert {item.attempts for pk, item in items.items() if pk != error.pk} == {1}
    assert len(pdf_pages(batch_pdf(batch=report.batch))) == 1 + 4


def test_a_provider_failure_is_an_error_of_that_order_only(
    three_orders: list[Order],
    tiktok_shop_row: Shop,
    make_order: OrderMaker,
    skus: dict[str, Sku],
    settings: Any,
) -> None:
    settings.FULFILLMENT_LABEL_PROVIDERS = {
        "sandbox": "aftershow.fulfillment.labels.sandbox.SandboxCarrier",
        "tiktok": "aftershow.integrations.tiktok.no_such_module.Provider",
    }
    tiktok_order = make_order(tiktok_shop_row, skus["tee"], shipping_type="SELLER")
    (report,) = labels_batch_run(shop=tiktok_shop_row)
    (error,) = report.errors
    assert list(error.package.lines.values_list("order_id", flat=True)) == [tiktok_order.pk]
    assert error.error_reason == (
        "label provider 'tiktok' is not installed "
        "(aftershow.integrations.tiktok.no_such_module.Provider)"
    )
    assert error.is_retryable is False
    assert LabelBatch.objects.count() == 1
    assert Order.objects.get(pk=tiktok_order.pk).state == OrderState.CONFIRMED


def test_the_pick_list_sums_units_across_parcels(
    three_orders: list[Order], shopify_shop: Shop
) -> None:
    (report,) = labels_batch_run(shop=shopify_shop)
    assert [(row.bin_location, row.sku, row.quantity) for row in pick_list(report.batch)] == [
        ("A-01", "MUG-LIVE", 1),
        ("B-02", "SERUM-30", 3),
        ("C-03", "TEE-BLK-M", 1),
    ]


class PdfOnlyCarrier(SandboxCarrier):
    """Like TikTok Shipping: the label comes back as an A6 PDF, no image, no ZPL."""

    def buy(
        self, *, shipment: ShipmentRequest, quote: RateQuote, idempotency_key: str
    ) -> PurchasedLabel:
        tracking = f"TT{shipment.package_id:08d}"
        buffer = io.BytesIO()
        canvas = Canvas(buffer, pagesize=A6)
        canvas.drawString(20, 200, f"PLATFORM LABEL {tracking}")
        canvas.showPage()
        canvas.save()
        return PurchasedLabel(
            provider="tiktok",
            carrier=quote.carrier,
            service=quote.service,
            tracking_number=tracking,
            amount=quote.amount,
            currency="USD",
            label_pdf=buffer.getvalue(),
        )


def test_labels_delivered_as_pdf_are_placed_in_the_batch_pdf(
    three_orders: list[Order], shopify_shop: Shop
) -> None:
    (report,) = labels_batch_run(shop=shopify_shop, provider=PdfOnlyCarrier())
    assert report.labelled == 3
    pages = pdf_pages(batch_pdf(batch=report.batch))
    assert len(pages) == 1 + 3
    assert {(page.mediabox.width, page.mediabox.height) for page in pages} == {(288, 432)}
    expected = [
        f"PLATFORM LABEL {item.package.tracking_number}"
        for item in report.batch.items.select_related("package").order_by("position")
    ]
    assert [page.extract_text().strip() for page in pages[1:]] == expected
    zpl = batch_zpl(batch=report.batch)
    assert zpl.count("^XA") == 3
    assert "print its PDF label" in zpl


def test_running_again_finishes_batches_left_pending(
    three_orders: list[Order], shopify_shop: Shop
) -> None:
    packages_build(shop=shopify_shop)
    (left,) = label_batches_create(shop=shopify_shop)  # cut, then the process died
    assert set(left.items.values_list("state", flat=True)) == {BatchItemState.PENDING}

    (report,) = labels_batch_run(shop=shopify_shop)
    assert (report.batch.pk, report.labelled, report.errors) == (left.pk, 3, [])
    assert set(left.items.values_list("state", flat=True)) == {BatchItemState.LABELLED}
    assert labels_batch_run(shop=shopify_shop) == []
    assert LabelPurchase.objects.count() == 3


class RefusingCarrier(SandboxCarrier):
    """Refuses one ZIP when quoting (an address it does not deliver to) and answers another
    with a transient failure."""

    def quote(self, *, shipment: ShipmentRequest) -> list[RateQuote]:
        if shipment.ship_to.postal_code == "98101":
            raise LabelError("USPS: Address not found (ship_to.street1)")
        if shipment.ship_to.postal_code == "60601":
            raise LabelError("carrier unavailable, try again", is_retryable=True)
        return super().quote(shipment=shipment)


def test_an_address_the_carrier_refuses_goes_to_review_and_the_batch_goes_on(
    three_orders: list[Order], shopify_shop: Shop, make_order: OrderMaker, skus: dict[str, Sku]
) -> None:
    refused = make_order(
        shopify_shop,
        skus["tee"],
        address=AddressFactory(
            line1="1 Nowhere Lane", city="Seattle", state="WA", postal_code="98101"
        ),
    )
    flaky = make_order(
        shopify_shop,
        skus["mug"],
        address=AddressFactory(
            line1="233 S Wacker Dr", city="Chicago", state="IL", postal_code="60601"
        ),
    )
    (report,) = labels_batch_run(shop=shopify_shop, provider=RefusingCarrier())

    assert report.labelled == 3
    reasons = {
        item.package.lines.get().order_id: (item.error_reason, item.is_retryable)
        for item in report.errors
    }
    assert reasons == {
        refused.pk: ("USPS: Address not found (ship_to.street1)", False),
        flaky.pk: ("carrier unavailable, try again", True),
    }
    assert report.to_review == [refused.pk]
    refused.refresh_from_db()
    flaky.refresh_from_db()
    assert (refused.state, refused.hold_reason) == (
        OrderState.IN_REVIEW,
        "Carrier refused the address: USPS: Address not found (ship_to.street1)",
    )
    assert flaky.state == OrderState.CONFIRMED  # a transient failure is only retried
    assert list(review_queue_queryset().values_list("pk", flat=True)) == [refused.pk]
    others = Order.objects.filter(pk__in=[order.pk for order in three_orders])
    assert set(others.values_list("state", flat=True)) == {OrderState.LABELLED}

    # Retrying refuses again: one history row, not a second move.
    again = label_batch_retry(batch=report.batch, provider=RefusingCarrier())
    assert (again.labelled, again.to_review) == (0, [])
    assert refused.status_changes.filter(to_state=OrderState.IN_REVIEW).count() == 1
