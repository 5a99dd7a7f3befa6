"""Buying labels with the sandbox carrier: the two-phase record, idempotency, failures."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from aftershow.fulfillment.choosing import packages_select
from aftershow.fulfillment.labels.base import LabelError, PurchasedLabel, RateQuote, ShipmentRequest
from aftershow.fulfillment.labels.sandbox import (
    SandboxCarrier,
    is_sandbox_tracking_number,
    sandbox_tracking_number,
)
from aftershow.fulfillment.models import LabelPurchase, Package, PackageStatus, PurchaseState
from aftershow.fulfillment.packing import packages_build
from aftershow.fulfillment.purchasing import label_buy, labels_buy
from aftershow.fulfillment.tests.conftest import OrderMaker, make_sku
from aftershow.fulfillment.tests.test_packing import default_rules
from aftershow.inventory.models import Warehouse
from aftershow.orders.models import Order, OrderState, OrderStatusChange
from aftershow.shops.models import Shop

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


class Crash(BaseException):
    """A worker killed mid-call: nothing after it runs, no handler catches it."""


class CrashAfterBuy(SandboxCarrier):
    def buy(
        self, *, shipment: ShipmentRequest, quote: RateQuote, idempotency_key: str
    ) -> PurchasedLabel:
        super().buy(shipment=shipment, quote=quote, idempotency_key=idempotency_key)
        raise Crash


class Refusing(SandboxCarrier):
    def __init__(self, *, retryable: bool) -> None:
        super().__init__()
        self.retryable = retryable
        self.calls = 0

    def buy(
        self, *, shipment: ShipmentRequest, quote: RateQuote, idempotency_key: str
    ) -> PurchasedLabel:
        self.calls += 1
        raise LabelError("carrier says: address not deliverable", is_retryable=self.retryable)


@pytest.fixture
def package(warehouse: Warehouse, shopify_shop: Shop, make_order: OrderMaker) -> Package:
    default_rules()
    make_order(shopify_shop, make_sku("TEE", weight_oz="6.2"))
    make_order(shopify_shop, make_sku("MUG", weight_oz="30", dims=("6", "6", "6")))
    packages_build(shop=shopify_shop)
    packages_select(packages=list(Package.objects.all()))
    return Package.objects.order_by("id").first()  # type: ignore[return-value]


def test_a_sandbox_label_is_bought_once_and_recorded(package: Package) -> None:
    outcome = label_buy(package=package)

    purchase = LabelPurchase.objects.get()
    assert outcome.is_bought and outcome.purchase == purchase
    assert (purchase.idempotency_key, purchase.state, purchase.provider) == (
        f"label-{package.pk}-1",
        PurchaseState.BOUGHT,
        "sandbox",
    )
    assert (purchase.carrier, purchase.service, purchase.amount) == (
        "USPS",
        "Ground Advantage",
        Decimal("7.46"),
    )
    assert is_sandbox_tracking_number(purchase.tracking_number)
    assert purchase.tracking_number.startswith(f"9299990000{package.pk:010d}")
    assert (purchase.label_pdf, purchase.label_image, purchase.label_zpl) == ("", "", "")
    package.refresh_from_db()
    assert (package.tracking_number, package.status) == (
        purchase.tracking_number,
        PackageStatus.PROCESSING,
    )
    order = Order.objects.get(lines__package=package)
    assert order.state == OrderState.LABELLED
    change = OrderStatusChange.objects.get(order=order)
    assert (change.from_state, change.to_state, change.reason) == (
        OrderState.CONFIRMED,
        OrderState.LABELLED,
        "label bought",
    )


def test_buying_again_returns_the_same_label_and_writes_nothing(package: Package) -> None:
    first = label_buy(package=package)
    again = label_buy(package=package)
    assert again.purchase == first.purchase
    assert LabelPurchase.objects.count() == 1
    assert OrderStatusChange.objects.count() == 1


def test_a_crash_after_the_buy_is_recovered_without_a_second_label(package: Package) -> None:
    with pytest.raises(Crash):
        labels_buy(packages=[package], provider=CrashAfterBuy())
    intent = LabelPurchase.objects.get()
    assert (intent.state, intent.tracking_number) == (PurchaseState.INTENT, "")

    outcome = label_buy(package=package)

    purchase = LabelPurchase.objects.get()
    assert outcome.is_bought and purchase.pk == intent.pk
    assert purchase.idempotency_key == intent.idempotency_key
    # The sandbox has no lookup: it is asked to buy again with the same key, which gives the
    # same label, not a second one.
    assert purchase.tracking_number == sandbox_tracking_number(
        package_id=package.pk, carrier="USPS", idempotency_key=intent.idempotency_key
    )


def test_a_terminal_refusal_fails_the_attempt_and_the_next_one_gets_a_new_key(
    package: Package,
) -> None:
    refusing = Refusing(retryable=False)
    outcome = label_buy(package=package, provider=refusing)
    assert (outcome.is_bought, outcome.error, outcome.is_retryable) == (
        False,
        "carrier says: address not deliverable",
        False,
    )
    failed = LabelPurchase.objects.get()
    assert (failed.state, failed.error, failed.idempotency_key) == (
        PurchaseState.FAILED,
        "carrier says: address not deliverable",
        f"label-{package.pk}-1",
    )
    assert Order.objects.get(lines__package=package).state == OrderState.CONFIRMED

    retried = label_buy(package=package)

    assert retried.is_bought
    assert list(LabelPurchase.objects.order_by("id").values_list("idempotency_key", "state")) == [
        (f"label-{package.pk}-1", PurchaseState.FAILED),
        (f"label-{package.pk}-2", PurchaseState.BOUGHT),
    ]


def test_a_retryable_error_keeps_the_intent_for_the_retry(package: Package) -> None:
    refusing = Refusing(retryable=True)
    outcome = label_buy(package=package, provider=refusing)
    assert (outcome.is_bought, outcome.is_retryable) == (False, True)
    intent = LabelPurchase.objects.get()
    assert (intent.state, intent.error) == (
        PurchaseState.INTENT,
        "carrier says: address not deliverable",
    )

    retried = label_buy(package=package)

    assert retried.is_bought
    assert list(LabelPurchase.objects.values_list("idempotency_key", "state")) == [
        (f"label-{package.pk}-1", PurchaseState.BOUGHT)
    ]


def test_the_database_allows_one_live_purchase_per_package(package: Package) -> None:
    LabelPurchase.objects.create(
        package=package, provider="sandbox", idempotency_key="label-x-1", state="intent"
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        LabelPurchase.objects.create(
            package=package, provider="sandbox", idempotency_key="label-x-2", state="intent"
        )
    LabelPurchase.objects.filter(idempotency_key="label-x-1").update(state="failed")
    LabelPurchase.objects.create(
        package=package, provider="sandbox", idempotency_key="label-x-3", state="intent"
    )
    assert LabelPurchase.objects.filter(package=package).count() == 2


def test_a_package_without_a_choice_is_not_bought(
    warehouse: Warehouse, shopify_shop: Shop, make_order: OrderMaker
) -> None:
    make_order(shopify_shop, make_sku("TEE", weight_oz="6.2"))
    packages_build(shop=shopify_shop)
    package = Package.objects.get()
    outcome = label_buy(package=package)
    assert (outcome.is_bought, outcome.error) == (False, "no carrier chosen: -")
    assert LabelPurchase.objects.count() == 0


def test_an_unavailable_provider_is_a_per_package_error(package: Package, settings: Any) -> None:
    Package.objects.filter(pk=package.pk).update(provider="tiktok")
    settings.FULFILLMENT_LABEL_PROVIDERS = {
        "tiktok": "aftershow.integrations.tiktok.no_such_module.Provider"
    }
    outcome = label_buy(package=package)
    assert outcome.error == (
        "label provider 'tiktok' is not installed "
        "(aftershow.integrations.tiktok.no_such_module.Provider)"
    )
    assert LabelPurchase.objects.count() == 0
