"""`aftershow demo --file-mode`: the burst as a Seller Center export, imported, screened,
labelled and shipped without any API call, and TikTok's bulk tracking-upload XLSX read back
with openpyxl and checked order by order against the database."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from openpyxl import load_workbook  # type: ignore[import-untyped]

from aftershow.audit.models import IntegrationLog
from aftershow.fulfillment.models import Package
from aftershow.imports.models import ImportRun, ImportStatus
from aftershow.imports.tracking import tiktok_provider_name, usps_refusal
from aftershow.orders.models import Order, OrderState
from aftershow.shops.models import Shop

pytestmark = pytest.mark.django_db(transaction=True)


def test_file_mode_round_trip(tmp_path: Path, settings: Any) -> None:
    settings.FULFILLMENT_LABEL_DIR = tmp_path / "labels"
    out = StringIO()

    call_command("demo", orders=80, file_mode=True, output=tmp_path / "files", stdout=out)

    shop = Shop.objects.get()
    assert (shop.api_base_url, shop.channel) == ("", "tiktok")
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.SUCCEEDED
    assert run.orders_created == Order.objects.filter(shop=shop).count() == run.orders_in_file
    # Nothing went to TikTok's API: no outbound call was logged.
    assert IntegrationLog.objects.count() == 0

    shipped = {
        order.remote_order_id: order
        for order in Order.objects.filter(shop=shop, state=OrderState.SHIPPED)
    }
    assert shipped
    parcels = {
        number: Package.objects.filter(lines__order=order, shipped_at__isnull=False)
        .distinct()
        .get()
        for number, order in shipped.items()
    }

    workbook = load_workbook(tmp_path / "files" / "tiktok-tracking-upload.xlsx")
    assert workbook.sheetnames == ["How to use it", "Shipping info"]
    sheet = workbook["Shipping info"]
    assert sheet["A1"].value == "Review the examples before you fill out this sheet."
    assert [cell.value for cell in sheet[2]] == [
        "Order ID",
        "Tracking ID",
        "Shipping Provider Name",
        "Auto Combine Group ID",
    ]
    rows = list(sheet.iter_rows(min_row=3))
    exported = {}
    for row in rows:
        order_cell, tracking_cell, provider_cell, group_cell = row
        # Ids are text cells, every digit kept.
        assert order_cell.data_type == "s" and order_cell.number_format == "@"
        assert tracking_cell.data_type == "s"
        exported[order_cell.value] = (tracking_cell.value, provider_cell.value, group_cell.value)
    assert len(exported) == len(rows)

    # Order by order: every shipped order is in the file with its parcel's tracking and
    # TikTok's carrier name, except USPS parcels, which are refused (and then only those).
    usps = {number for number, parcel in parcels.items() if parcel.carrier == "USPS"}
    assert set(exported) == set(shipped) - usps
    for number, (tracking, provider, group) in exported.items():
        parcel = parcels[number]
        assert tracking == parcel.tracking_number
        assert provider == tiktok_provider_name(parcel.carrier) == "UPS"
        assert group == "N/A"
    assert all(parcels[number].carrier == "UPS" for number in exported)
    text = out.getvalue()
    assert f"rows {len(exported)}, refused {len(usps)}" in text
    if usps:
        assert usps_refusal() in text
    # Orders not shipped (in review, cancelled) are not in the file.
    others = set(
        Order.objects.filter(shop=shop)
        .exclude(state=OrderState.SHIPPED)
        .values_list("remote_order_id", flat=True)
    )
    assert others and not others & set(exported)
