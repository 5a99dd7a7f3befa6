"""TikTok Shipping as a label provider, against the sandbox: quotes, one label per package
whatever happens (same key twice, a crash after TikTok bought it, two workers at once)."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader

from aftershow.audit.models import IntegrationLog
from aftershow.core.timeutils import utcnow
from aftershow.fulfillment.labels.base import (
    LabelError,
    LabelProvider,
    Parcel,
    RateQuote,
    ShipmentRequest,
    ShipTo,
)
from aftershow.integrations.models import PlatformLabelPurchase
from aftershow.integrations.tiktok.shipping import TikTokShippingProvider

CREATE = "/fulfillment/202309/packages"
GROUND_ADVANTAGE = "7403158236471283461"


@pytest.fixture(autouse=True)
def _fast_retries(settings):
    settings.HTTP_MAX_RETRY_WAIT_SECONDS = 0.01


@pytest.fixture
def tiktok_order(tiktok_sandbox, tiktok_remote_shop) -> dict:
    """A TikTok Shipping order past its remorse window, as TikTok holds it."""
    tiktok_sandbox.store.add_product(
        tiktok_remote_shop.id,
        "Tee",
        skus=[
            {"seller_sku": "TEE", "price": "19.99"},
            {"seller_sku": "MUG", "price": "12.00"},
        ],
    )
    order_id = tiktok_sandbox.store.create_order(
        tiktok_remote_shop.id, {"TEE": 1, "MUG": 1}, shipping_type="TIKTOK"
    )
    tiktok_sandbox.advance(timedelta(minutes=61))
    yield tiktok_sandbox.store.get_order(order_id)
    tiktok_sandbox.fulfillment.close()


def shipment_for(order: dict, shop, *, weight_oz: str = "19.2") -> ShipmentRequest:
    return ShipmentRequest(
        package_id=1,
        shop_id=shop.pk,
        channel="tiktok",
        remote_order_ids=(order["id"],),
        remote_line_ids=tuple(item["id"] for item in order["line_items"]),
        ship_from_postal_code="90021",
        ship_to=ShipTo("J***", "1 Main St", "", "Austin", "TX", "78701"),
        parcel=Parcel(Decimal(weight_oz), Decimal("10"), Decimal("8"), Decimal("2")),
    )


def ground_advantage() -> RateQuote:
    return RateQuote(
        provider="tiktok",
        carrier="USPS",
        service="Ground Advantage",
        amount=Decimal("6.25"),
        currency="USD",
        delivery_days=5,
        remote_rate_id=GROUND_ADVANTAGE,
    )


def test_it_is_a_label_provider(tiktok_shop):
    provider: LabelProvider = TikTokShippingProvider(tiktok_shop)
    assert provider.code == "tiktok"


def test_quotes_are_tiktok_shippings_eligible_services(tiktok_shop, tiktok_order):
    quotes = TikTokShippingProvider(tiktok_shop).quote(
        shipment=shipment_for(tiktok_order, tiktok_shop)
    )

    assert quotes == [
        RateQuote(
            "tiktok", "USPS", "Ground Advantage", Decimal("6.25"), "USD", 5, GROUND_ADVANTAGE
        ),
        RateQuote(
            "tiktok", "USPS", "Priority Mail", Decimal("10.80"), "USD", 3, "7403158236471283462"
        ),
        RateQuote("tiktok", "UPS", "Ground", Decimal("10.90"), "USD", 5, "7403158236471283463"),
        RateQuote("tiktok", "FedEx", "Ground", Decimal("11.05"), "USD", 5, "7403158236471283464"),
    ]


def test_buying_creates_the_package_and_returns_its_4x6_pdf(
    tiktok_sandbox, tiktok_shop, tiktok_order
):
    label = TikTokShippingProvider(tiktok_shop).buy(
        shipment=shipment_for(tiktok_order, tiktok_shop),
        quote=ground_advantage(),
        idempotency_key="pkg-1-a",
    )

    remote = tiktok_sandbox.store.get_order(tiktok_order["id"])
    package_id = remote["packages"][0]["id"]
    assert (label.provider, label.carrier, label.service) == ("tiktok", "USPS", "Ground Advantage")
    assert (label.amount, label.currency) == (Decimal("6.25"), "USD")
    assert label.tracking_number == remote["tracking_number"]
    assert (label.remote_shipment_id, label.remote_provider_id) == (
        package_id,
        "7117858858072016686",
    )
    page = PdfReader(io.BytesIO(label.label_pdf)).pages[0]
    assert (page.mediabox.width, page.mediabox.height) == (288, 432)
    assert label.tracking_number in page.extract_text()
    assert tiktok_sandbox.fulfillment.label_purchases[tiktok_order["id"]] == 1


def test_the_same_key_twice_buys_once(tiktok_sandbox, tiktok_shop, tiktok_order):
    provider = TikTokShippingProvider(tiktok_shop)
    shipment = shipment_for(tiktok_order, tiktok_shop)

    first = provider.buy(shipment=shipment, quote=ground_advantage(), idempotency_key="pkg-1-a")
    second = provider.buy(shipment=shipment, quote=ground_advantage(), idempotency_key="pkg-1-a")

    assert second == first
    assert tiktok_sandbox.fulfillment.label_purchases[tiktok_order["id"]] == 1
    assert IntegrationLog.objects.filter(method="POST", path=CREATE).count() == 1
    assert PlatformLabelPurchase.objects.get().claimed_until is None


class Crash(Exception):
    """The worker dies right after TikTok bought the label, before anything is recorded."""


@pytest.mark.parametrize("retry_key", ["pkg-1-a", "pkg-1-b"])
def test_a_crash_after_tiktok_bought_the_label_never_buys_a_second(
    tiktok_sandbox, tiktok_shop, tiktok_order, retry_key
):
    shipment = shipment_for(tiktok_order, tiktok_shop)
    crashing = TikTokShippingProvider(tiktok_shop)
    create = crashing.api.create_package

    def create_then_die(*args, **kwargs):
        create(*args, **kwargs)
        raise Crash

    crashing.api.create_package = create_then_die  # type: ignore[method-assign]
    with pytest.raises(Crash):
        crashing.buy(shipment=shipment, quote=ground_advantage(), idempotency_key="pkg-1-a")
    # A killed worker keeps its claim until the lease lapses.
    PlatformLabelPurchase.objects.update(claimed_until=utcnow() + timedelta(minutes=1))
    with pytest.raises(LabelError) as busy:
        TikTokShippingProvider(tiktok_shop).buy(
            shipment=shipment, quote=ground_advantage(), idempotency_key="pkg-1-a"
        )
    PlatformLabelPurchase.objects.update(claimed_until=utcnow() - timedelta(seconds=1))

    label = TikTokShippingProvider(tiktok_shop).buy(
        shipment=shipment, quote=ground_advantage(), idempotency_key=retry_key
    )

    remote = tiktok_sandbox.store.get_order(tiktok_order["id"])
    assert (busy.value.reason, busy.value.is_retryable) == (
        "this label is being bought right now",
        True,
    )
    assert tiktok_sandbox.fulfillment.label_purchases[tiktok_order["id"]] == 1
    assert IntegrationLog.objects.filter(method="POST", path=CREATE).count() == 1
    assert label.tracking_number == remote["tracking_number"]
    assert label.remote_shipment_id == remote["packages"][0]["id"]
    assert (label.service, label.amount) == ("Ground Advantage", Decimal("6.25"))


def test_find_label_returns_the_label_already_bought_or_none(
    tiktok_sandbox, tiktok_shop, tiktok_order
):
    provider = TikTokShippingProvider(tiktok_shop)
    shipment = shipment_for(tiktok_order, tiktok_shop)

    before = provider.find_label(shipment=shipment, remote_shipment_id="", idempotency_key="k1")
    bought = provider.buy(shipment=shipment, quote=ground_advantage(), idempotency_key="k1")
    found = provider.find_label(
        shipment=shipment, remote_shipment_id=bought.remote_shipment_id, idempotency_key="k1"
    )

    assert before is None
    assert found == bought


def test_an_expired_document_link_is_asked_for_again(tiktok_sandbox, tiktok_shop, tiktok_order):
    provider = TikTokShippingProvider(tiktok_shop)
    shipment = shipment_for(tiktok_order, tiktok_shop)
    bought = provider.buy(shipment=shipment, quote=ground_advantage(), idempotency_key="k1")
    document = provider.api.get_shipping_document
    stale = document(bought.remote_shipment_id)
    tiktok_sandbox.advance(timedelta(hours=25))  # the link TikTok gave is dead now
    calls = iter([stale])
    provider.api.get_shipping_document = lambda package_id, **kw: (
        next(calls, None)
        or document(  # type: ignore[method-assign]
            package_id, **kw
        )
    )

    again = provider.buy(shipment=shipment, quote=ground_advantage(), idempotency_key="k1")

    assert again == bought
    assert IntegrationLog.objects.filter(outcome="terminal", status_code=403).count() == 1


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"channel": "shopify"}, "TikTok Shipping only ships TikTok orders"),
        (
            {"remote_order_ids": ("1", "2")},
            "TikTok Shipping labels one order per package: combine the orders on TikTok first",
        ),
    ],
)
def test_shipments_tiktok_shipping_cannot_label(tiktok_shop, tiktok_order, change, reason):
    from dataclasses import replace

    shipment = replace(shipment_for(tiktok_order, tiktok_shop), **change)

    with pytest.raises(LabelError) as refused:
        TikTokShippingProvider(tiktok_shop).quote(shipment=shipment)

    assert (refused.value.reason, refused.value.is_retryable) == (reason, False)


def test_tiktoks_refusals_become_label_errors(tiktok_sandbox, tiktok_shop, tiktok_order):
    tiktok_sandbox.store.cancel_order(tiktok_order["id"], initiator="SELLER")

    with pytest.raises(LabelError) as refused:
        TikTokShippingProvider(tiktok_shop).quote(shipment=shipment_for(tiktok_order, tiktok_shop))

    assert refused.value.reason.startswith("TikTok Shipping refused: TikTok 21011041:")
    assert refused.value.is_retryable is False
