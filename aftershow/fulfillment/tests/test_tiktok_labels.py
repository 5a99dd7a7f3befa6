"""End to end with the TikTok sandbox: a TikTok order whose parcel goes by USPS gets its label
from TikTok Shipping (R-O3), through the provider registry, and TikTok's PDF label lands in the
batch PDF in its place."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from pypdf import PdfReader

from aftershow.fulfillment.batches import labels_batch_run
from aftershow.fulfillment.documents import batch_pdf
from aftershow.fulfillment.models import LabelPurchase, Package
from aftershow.fulfillment.tests.conftest import make_sku
from aftershow.fulfillment.tests.test_packing import default_rules
from aftershow.integrations.tiktok.sync import TikTokConnector
from aftershow.inventory.models import Warehouse
from aftershow.orders.models import Order, OrderState
from aftershow.shops.models import Shop


@pytest.mark.django_db
def test_a_tiktok_usps_parcel_is_labelled_by_tiktok_shipping_and_printed_in_the_batch(
    tiktok_sandbox: Any,
    tiktok_remote_shop: Any,
    tiktok_shop: Shop,
    warehouse: Warehouse,
    settings: Any,
) -> None:
    settings.HTTP_MAX_RETRY_WAIT_SECONDS = 0.01
    default_rules()
    make_sku("TEE", weight_oz="6.2")
    tiktok_sandbox.store.add_product(
        tiktok_remote_shop.id, "Tee", skus=[{"seller_sku": "TEE", "price": "19.99"}]
    )
    remote_id = tiktok_sandbox.store.create_order(
        tiktok_remote_shop.id, {"TEE": 1}, shipping_type="TIKTOK"
    )
    tiktok_sandbox.advance(timedelta(minutes=61))
    try:
        # The sandbox's clock ran an hour ahead (TikTok's remorse window): pull up to it.
        TikTokConnector(tiktok_shop).pull_orders(until=tiktok_sandbox.clock.now())
        Order.objects.filter(remote_order_id=remote_id).update(state=OrderState.CONFIRMED)

        (report,) = labels_batch_run(shop=tiktok_shop)

        assert [item.error_reason for item in report.errors] == []
        package = Package.objects.get()
        assert (package.provider, package.carrier, package.service) == (
            "tiktok",
            "USPS",
            "Ground Advantage",
        )
        purchase = LabelPurchase.objects.get()
        remote = tiktok_sandbox.store.get_order(remote_id)
        assert purchase.tracking_number == remote["tracking_number"] == package.tracking_number
        assert purchase.label_pdf != ""
        pages = PdfReader(io.BytesIO(batch_pdf(batch=report.batch))).pages
        assert len(pages) == 2
        assert (pages[1].mediabox.width, pages[1].mediabox.height) == (288, 432)
        assert "Label available as PDF only" not in pages[1].extract_text()
        assert Order.objects.get(remote_order_id=remote_id).state == OrderState.LABELLED
    finally:
        tiktok_sandbox.fulfillment.close()
