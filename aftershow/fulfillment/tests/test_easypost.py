"""EasyPost through its official SDK against the strict local fake: labels bought and stored,
401 and 422 refusals as per-package errors, and no second purchase after a crash."""

from __future__ import annotations

import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from pypdf import PdfReader

from aftershow.audit.models import IntegrationLog
from aftershow.fulfillment.batches import labels_batch_run
from aftershow.fulfillment.choosing import packages_select
from aftershow.fulfillment.documents import batch_pdf, batch_zpl
from aftershow.fulfillment.labels.base import PurchasedLabel, RateQuote, ShipmentRequest
from aftershow.fulfillment.labels.easypost import EasyPostProvider
from aftershow.fulfillment.models import LabelPurchase, Package, PurchaseState
from aftershow.fulfillment.packing import packages_build
from aftershow.fulfillment.purchasing import label_buy, labels_buy, shipment_requests
from aftershow.fulfillment.storage import label_file_read
from aftershow.fulfillment.tests.conftest import OrderMaker, make_sku
from aftershow.fulfillment.tests.test_packing import default_rules
from aftershow.inventory.models import Warehouse
from aftershow.orders.models import Order, OrderState
from aftershow.sandbox.easypost import EasyPostSandbox
from aftershow.shops.models import Shop

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]
API_KEY = "EZTK_test_key"


class Crash(BaseException):
    """The worker dies: no handler runs."""


class CrashAfterBuy(EasyPostProvider):
    def buy(
        self, *, shipment: ShipmentRequest, quote: RateQuote, idempotency_key: str
    ) -> PurchasedLabel:
        super().buy(shipment=shipment, quote=quote, idempotency_key=idempotency_key)
        raise Crash


class CrashBeforeBuy(EasyPostProvider):
    def buy(
        self, *, shipment: ShipmentRequest, quote: RateQuote, idempotency_key: str
    ) -> PurchasedLabel:
        raise Crash


@pytest.fixture
def easypost_fake(settings: Any) -> Iterator[EasyPostSandbox]:
    fake = EasyPostSandbox(api_keys={API_KEY})
    settings.EASYPOST_API_BASE = fake.start()
    settings.EASYPOST_API_KEY = API_KEY
    settings.FULFILLMENT_AGGREGATOR_PROVIDER = "easypost"
    yield fake
    fake.stop()


@pytest.fixture
def package(
    easypost_fake: EasyPostSandbox,
    warehouse: Warehouse,
    shopify_shop: Shop,
    make_order: OrderMaker,
) -> Package:
    default_rules()
    make_order(shopify_shop, make_sku("TEE", weight_oz="6.2"))
    packages_build(shop=shopify_shop)
    packages_select(packages=list(Package.objects.all()))
    chosen = Package.objects.get()
    assert (chosen.provider, chosen.carrier, chosen.service) == (
        "easypost",
        "USPS",
        "Ground Advantage",
    )
    return chosen


def test_a_label_is_bought_through_the_sdk_and_its_files_stored(
    package: Package, easypost_fake: EasyPostSandbox
) -> None:
    outcome = label_buy(package=package)

    assert outcome.is_bought, outcome.error
    purchase = LabelPurchase.objects.get()
    (shipment_id, rate_id) = easypost_fake.store.purchases[0]
    assert easypost_fake.store.purchases == [(shipment_id, rate_id)]
    assert (purchase.remote_shipment_id, purchase.remote_rate_id) == (shipment_id, rate_id)
    assert (purchase.provider, purchase.carrier, purchase.service) == (
        "easypost",
        "USPS",
        "Ground Advantage",
    )
    assert purchase.tracking_number == "9400100000000000000001"
    # The fake prices Ground Advantage at 5.50 + 0.90/lb + 0.45 x its own zone, 1 + the gap
    # between the ZIPs' first digits (NY 1, VA 2: zone 2).
    assert purchase.amount == Decimal("7.30")
    image = label_file_read(purchase.label_image)
    assert image[:8] == b"\x89PNG\r\n\x1a\n"
    zpl = label_file_read(purchase.label_zpl).decode()
    assert zpl.startswith("^XA") and "^FD9400100000000000000001^FS" in zpl
    assert Order.objects.get().state == OrderState.LABELLED
    # Shipment created with the parcel in ounces and inches, then bought once.
    assert [path for method, path in easypost_fake.store.requests if method == "POST"] == [
        "/v2/shipments",
        f"/v2/shipments/{shipment_id}/buy",
    ]
    shipment = easypost_fake.store.shipments[shipment_id]
    assert shipment["parcel"]["weight"] == 6.7
    assert shipment["options"] == {"label_format": "ZPL", "label_size": "4x6"}
    # Every call and download is in the integration log, without bodies or the key.
    assert list(
        IntegrationLog.objects.filter(channel="easypost")
        .order_by("id")
        .values_list("method", "path", "status_code", "outcome")
    ) == [
        ("POST", "/v2/shipments", 201, "ok"),
        ("POST", f"/v2/shipments/{shipment_id}/buy", 200, "ok"),
        ("GET", f"/files/postage_label/{shipment_id}.png", 200, "ok"),
        ("GET", f"/files/postage_label/{shipment_id}.zpl", 200, "ok"),
    ]


def test_a_wrong_api_key_is_a_terminal_error_and_nothing_is_recorded(
    package: Package, settings: Any
) -> None:
    settings.EASYPOST_API_KEY = "EZTK_wrong"
    outcome = label_buy(package=package)
    assert (outcome.is_bought, outcome.error, outcome.is_retryable) == (
        False,
        "EasyPost [APIKEY.INVALID]: The API key is not valid.",
        False,
    )
    assert LabelPurchase.objects.count() == 0


def test_missing_fields_are_reported_field_by_field(package: Package, warehouse: Warehouse) -> None:
    Warehouse.objects.filter(pk=warehouse.pk).update(address_line1="", city="")
    outcome = label_buy(package=package)
    assert outcome.error == (
        "EasyPost [PARAMETER.REQUIRED]: Missing required parameter. "
        "(shipment.from_address.street1: cannot be blank; "
        "shipment.from_address.city: cannot be blank)"
    )
    assert LabelPurchase.objects.count() == 0


def test_no_second_purchase_after_a_crash_between_buying_and_recording(
    package: Package, easypost_fake: EasyPostSandbox
) -> None:
    with pytest.raises(Crash):
        labels_buy(packages=[package], provider=CrashAfterBuy())
    intent = LabelPurchase.objects.get()
    assert intent.state == PurchaseState.INTENT
    assert easypost_fake.purchases_of(intent.remote_shipment_id) == 1
    easypost_fake.store.requests.clear()

    outcome = label_buy(package=package)

    assert outcome.is_bought
    purchase = LabelPurchase.objects.get()
    assert (purchase.pk, purchase.state, purchase.tracking_number) == (
        intent.pk,
        PurchaseState.BOUGHT,
        "9400100000000000000001",
    )
    assert len(easypost_fake.store.purchases) == 1
    # The retry asked for the shipment (and fetched its files); it bought nothing.
    assert [request for request in easypost_fake.store.requests if request[0] == "POST"] == []
    assert ("GET", f"/v2/shipments/{intent.remote_shipment_id}") in easypost_fake.store.requests


def test_a_crash_before_buying_is_resumed_with_the_same_shipment(
    package: Package, easypost_fake: EasyPostSandbox
) -> None:
    with pytest.raises(Crash):
        labels_buy(packages=[package], provider=CrashBeforeBuy())
    intent = LabelPurchase.objects.get()
    assert easypost_fake.store.purchases == []

    assert label_buy(package=package).is_bought

    assert easypost_fake.store.purchases == [(intent.remote_shipment_id, intent.remote_rate_id)]
    assert len(easypost_fake.store.shipments) == 1


def test_buying_a_bought_shipment_returns_its_label(
    package: Package, easypost_fake: EasyPostSandbox
) -> None:
    provider = EasyPostProvider()
    request = shipment_requests([package])[package.pk]
    quote = next(
        quote for quote in provider.quote(shipment=request) if quote.service == "Ground Advantage"
    )
    first = provider.buy(shipment=request, quote=quote, idempotency_key="label-1-1")
    second = provider.buy(shipment=request, quote=quote, idempotency_key="label-1-1")
    assert first.tracking_number == second.tracking_number == "9400100000000000000001"
    assert easypost_fake.purchases_of(quote.remote_shipment_id) == 1


def test_the_fake_offers_every_carrier_to_a_street_address(
    package: Package, easypost_fake: EasyPostSandbox
) -> None:
    quotes = EasyPostProvider().quote(shipment=shipment_requests([package])[package.pk])
    assert sorted((quote.carrier, quote.service, quote.amount) for quote in quotes) == [
        ("FedEx", "Ground", Decimal("12.85")),
        ("UPS", "Ground", Decimal("13.00")),
        ("USPS", "Ground Advantage", Decimal("7.30")),
        ("USPS", "Priority Mail", Decimal("11.10")),
        ("USPS", "Priority Mail Express", Decimal("33.50")),
    ]


def test_a_server_error_on_buy_is_retryable_and_the_retry_buys_once(
    package: Package, easypost_fake: EasyPostSandbox
) -> None:
    easypost_fake.fail_next(r"/buy$", 500)

    outcome = label_buy(package=package)

    assert (outcome.is_bought, outcome.is_retryable, outcome.error) == (
        False,
        True,
        "EasyPost [INTERNAL_SERVER_ERROR]: Injected fault.",
    )
    intent = LabelPurchase.objects.get()
    assert (intent.state, easypost_fake.store.purchases) == (PurchaseState.INTENT, [])

    assert label_buy(package=package).is_bought

    assert easypost_fake.store.purchases == [(intent.remote_shipment_id, intent.remote_rate_id)]
    assert LabelPurchase.objects.get().state == PurchaseState.BOUGHT


def test_easypost_labels_are_placed_in_the_batch_pdf_and_zpl(
    package: Package, shopify_shop: Shop
) -> None:
    (report,) = labels_batch_run(shop=shopify_shop)
    assert (report.labelled, report.errors) == (1, [])
    pages = PdfReader(io.BytesIO(batch_pdf(batch=report.batch))).pages
    assert len(pages) == 2
    assert (pages[1].mediabox.width, pages[1].mediabox.height) == (288, 432)
    (image,) = pages[1].images
    assert (image.image.width, image.image.height) == (1200, 1800)
    zpl = batch_zpl(batch=report.batch)
    assert zpl.startswith("^XA") and "^FD9400100000000000000001^FS" in zpl
