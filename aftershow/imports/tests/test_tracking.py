"""TikTok's bulk tracking-upload XLSX, read back with openpyxl and checked order by order."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from openpyxl import load_workbook

from aftershow.fulfillment.models import Package, PackageStatus
from aftershow.imports.tracking import NOTE, tiktok_provider_name, tracking_upload_collect
from aftershow.orders.models import Order
from aftershow.orders.tests.factories import OrderFactory, OrderLineFactory, UserFactory
from aftershow.shops.models import Shop

pytestmark = pytest.mark.django_db

USPS_REASON = "since January 2026 TikTok Shop fails its verification"


def parcel(shop: Shop, carrier: str, tracking: str, *orders: Order, lines: int = 1) -> Package:
    package = Package.objects.create(shop=shop, carrier=carrier, tracking_number=tracking)
    for order in orders:
        for _ in range(lines):
            OrderLineFactory(order=order, package=package)
    return package


def order(shop: Shop, remote_id: str, **values: object) -> Order:
    return OrderFactory(
        shop=shop, remote_order_id=remote_id, **{"shipping_type": "SELLER", **values}
    )


@pytest.fixture
def shipped(shop: Shop) -> dict[str, Order]:
    """One order per case the file must handle."""
    orders = {
        "ups": order(shop, "576400000000000101"),
        "fedex": order(shop, "5764000000000001021", platform_status="AWAITING_COLLECTION"),
        "dhl": order(shop, "576400000000000103"),
        "usps": order(shop, "576400000000000104"),
        "unknown": order(shop, "576400000000000105"),
        "split": order(shop, "576400000000000106"),
        "partial": order(shop, "576400000000000107"),
        "cancelled": order(shop, "576400000000000108", platform_status="CANCELLED"),
        "tiktok": order(shop, "576400000000000109", shipping_type="TIKTOK"),
        "on_tiktok": order(shop, "576400000000000110", platform_status="IN_TRANSIT"),
        "combined_a": order(shop, "576400000000000111", auto_combine_group_id="580111"),
        "combined_b": order(shop, "576400000000000112", auto_combine_group_id="580111"),
        "not_packed": order(shop, "576400000000000113"),
    }
    parcel(shop, "UPS", "1Z999AA10123456784", orders["ups"], lines=2)
    parcel(shop, "fedex", "794613890123", orders["fedex"])
    parcel(shop, "dhl_ecommerce", "9261290100830114123456", orders["dhl"])
    parcel(shop, "USPS", "9400111899223345566778", orders["usps"])
    parcel(shop, "Sandbox Express", "SBX000000001", orders["unknown"])
    parcel(shop, "UPS", "1Z999AA10123456785", orders["split"])
    parcel(shop, "UPS", "1Z999AA10123456786", orders["split"])
    parcel(shop, "UPS", "1Z999AA10123456787", orders["partial"])
    OrderLineFactory(order=orders["partial"])
    parcel(shop, "UPS", "1Z999AA10123456788", orders["cancelled"])
    parcel(shop, "USPS", "9400111899223345566779", orders["tiktok"])
    parcel(shop, "UPS", "1Z999AA10123456789", orders["on_tiktok"])
    parcel(shop, "UPS", "1Z999AA10123456790", orders["combined_a"], orders["combined_b"])
    OrderLineFactory(order=orders["not_packed"])
    voided = parcel(shop, "UPS", "1Z999AA10123456791", order(shop, "576400000000000114"))
    voided.status = PackageStatus.CANCELLED
    voided.save()
    parcel(shop, "UPS", "", order(shop, "576400000000000115"))  # labelled, no tracking yet
    return orders


EXPECTED_ROWS = [
    ("576400000000000101", "1Z999AA10123456784", "UPS", "N/A"),
    ("576400000000000103", "9261290100830114123456", "DHL eCommerce", "N/A"),
    ("576400000000000111", "1Z999AA10123456790", "UPS", "580111"),
    ("576400000000000112", "1Z999AA10123456790", "UPS", "580111"),
    ("5764000000000001021", "794613890123", "FedEx", "N/A"),
]


def read_back(path: Path) -> tuple[object, list[tuple[str, ...]]]:
    workbook = load_workbook(path)
    sheet = workbook["Shipping info"]
    assert workbook.sheetnames == ["How to use it", "Shipping info"]
    assert workbook.active.title == "Shipping info"
    assert sheet["A1"].value == NOTE
    assert "A1:D1" in {str(merged) for merged in sheet.merged_cells.ranges}
    assert [cell.value for cell in sheet[2]] == [
        "Order ID",
        "Tracking ID",
        "Shipping Provider Name",
        "Auto Combine Group ID",
    ]
    rows = []
    for row in sheet.iter_rows(min_row=3):
        for cell in row[:2]:
            # Text, never a number: an 18-19 digit id as a number loses its last digits.
            assert (cell.data_type, cell.number_format, type(cell.value)) == ("s", "@", str)
        rows.append(tuple(cell.value for cell in row))
    return workbook, rows


def test_the_upload_file_order_by_order(shop: Shop, shipped, tmp_path: Path) -> None:
    out = tmp_path / "upload.xlsx"
    stdout = StringIO()

    call_command("export_tracking", shop=shop.pk, out=out, stdout=stdout)

    _, rows = read_back(out)
    assert rows == EXPECTED_ROWS
    upload = tracking_upload_collect(shop=shop)
    refused = {row.order_id: row.reason for row in upload.refused}
    assert set(refused) == {
        "576400000000000104",
        "576400000000000105",
        "576400000000000106",
        "576400000000000107",
        "576400000000000108",
        "576400000000000109",
    }
    assert USPS_REASON in refused["576400000000000104"]
    assert (
        refused["576400000000000105"] == "Carrier Sandbox Express is not on TikTok's carrier list."
    )
    assert "Split over several parcels" in refused["576400000000000106"]
    assert "Only part of the order is packed" in refused["576400000000000107"]
    assert "cancelled on TikTok" in refused["576400000000000108"]
    assert "TikTok Shipping order" in refused["576400000000000109"]
    assert upload.already_shipped == 1
    output = stdout.getvalue()
    assert output.startswith(f"{out}: 5 rows, 6 refused, 1 already shipped on TikTok\n")
    assert "refused 576400000000000104 (USPS 9400111899223345566778): " in output


@pytest.mark.parametrize(
    ("carrier", "name"),
    [
        ("USPS", "USPS"),
        ("usps", "USPS"),
        ("FedEx", "FedEx"),
        ("DHL Express", "DHL express"),
        ("OnTrac", "OnTrac"),
        ("Amazon Shipping", "Amazon shipping + Amazon MCF"),
        ("Spee-Dee", "Spee-Dee Delivery"),
        ("Royal Mail", ""),
    ],
)
def test_carrier_names_are_tiktoks_exact_strings(carrier: str, name: str) -> None:
    assert tiktok_provider_name(carrier) == name


def test_the_page_the_download_and_the_api(shop: Shop, shipped, client: Client, tmp_path) -> None:
    client.force_login(UserFactory(packer=True))

    page = client.get("/imports/tracking/", {"shop": shop.pk})
    download = client.get("/imports/tracking/upload.xlsx", {"shop": shop.pk})
    api_file = client.get("/api/imports/tracking-upload", {"shop": shop.pk})
    report = client.get("/api/imports/tracking-upload/report", {"shop": shop.pk})

    assert page.status_code == 200
    assert USPS_REASON in page.content.decode()
    for response in (download, api_file):
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        path = tmp_path / "x.xlsx"
        path.write_bytes(response.content)
        assert read_back(path)[1] == EXPECTED_ROWS
    assert (api_file["X-Rows-Written"], api_file["X-Rows-Refused"]) == ("5", "6")
    body = report.json()
    assert [row["order_id"] for row in body["rows"]] == [row[0] for row in EXPECTED_ROWS]
    assert body["rows"][0] == {
        "order_id": "576400000000000101",
        "tracking_id": "1Z999AA10123456784",
        "provider_name": "UPS",
        "combine_group_id": "N/A",
    }
    assert len(body["refused"]) == 6
    assert body["already_shipped"] == 1


def test_only_shipping_roles_export(shop: Shop, client: Client) -> None:
    client.force_login(UserFactory(role="finance", username="fiona"))
    assert client.get("/imports/tracking/", {"shop": shop.pk}).status_code == 403
    assert client.get("/api/imports/tracking-upload", {"shop": shop.pk}).status_code == 403
    client.logout()
    assert client.get("/api/imports/tracking-upload", {"shop": shop.pk}).status_code == 401
