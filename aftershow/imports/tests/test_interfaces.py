"""The same import from the web page, the API and the command line, each with its report."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from aftershow.imports.models import ImportRun, ImportSource, ImportStatus
from aftershow.imports.tests.conftest import fingerprint
from aftershow.imports.tests.files import ORDER_ID, order_row, write_export
from aftershow.orders.models import Order
from aftershow.orders.tests.factories import UserFactory
from aftershow.shops.models import Shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def export(tmp_path: Path) -> Path:
    rows = [order_row(), order_row("576325155322950100", **{"Paid Time": "not a time"})]
    return write_export(tmp_path / "To Ship order-2026-03-06-21_00.csv", rows)


def test_upload_page_imports_and_shows_the_report(shop: Shop, export: Path, client: Client) -> None:
    owner = UserFactory(owner=True)
    client.force_login(owner)
    assert client.get("/imports/").status_code == 200

    with export.open("rb") as handle:
        response = client.post("/imports/", {"shop": shop.pk, "file": handle})

    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/imports/{run.pk}/"
    assert (run.source, run.created_by, run.file_name) == (ImportSource.UI, owner, export.name)
    page = client.get(response["Location"]).content.decode()
    assert "Orders created" in page
    assert "Paid Time" in page
    assert "&#x27;not a time&#x27; is not a date and time" in page
    listing = client.get("/imports/").content.decode()
    assert export.name in listing


def test_api_answers_with_the_report(shop: Shop, export: Path, client: Client) -> None:
    client.force_login(UserFactory(role="finance", username="fiona"))

    with export.open("rb") as handle:
        created = client.post("/api/imports/", {"shop": shop.pk, "file": handle})

    assert created.status_code == 201
    body = created.json()
    assert (body["status"], body["detected_format"], body["layout"]) == (
        "succeeded",
        "order_export",
        "us_2026",
    )
    assert (body["rows_read"], body["orders_created"], body["rows_skipped"]) == (2, 1, 1)
    assert body["issues"] == [
        {
            "row_number": 3,
            "column": "Paid Time",
            "severity": "error",
            "message": "order skipped (1 rows): Paid Time 'not a time' is not a date and time",
        }
    ]
    assert client.get(f"/api/imports/{body['id']}").json() == body


def test_api_refuses_a_bad_file_with_422_and_the_reason(
    shop: Shop, client: Client, tmp_path: Path
) -> None:
    client.force_login(UserFactory(owner=True))
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with path.open("rb") as handle:
        response = client.post("/api/imports/", {"shop": shop.pk, "file": handle})
    assert response.status_code == 422
    assert (response.json()["status"], response.json()["fatal_error"]) == (
        "failed",
        "The file is empty.",
    )


def test_who_may_import(shop: Shop, export: Path, client: Client) -> None:
    before = fingerprint()
    client.force_login(UserFactory(packer=True))
    with export.open("rb") as handle:
        assert client.post("/api/imports/", {"shop": shop.pk, "file": handle}).status_code == 403
    assert client.get("/imports/").status_code == 403
    client.logout()
    assert client.get("/imports/").status_code == 302
    with export.open("rb") as handle:
        assert client.post("/api/imports/", {"shop": shop.pk, "file": handle}).status_code == 401
    assert fingerprint() == before
    assert ImportRun.objects.count() == 0


def test_command_line_prints_the_report(shop: Shop, export: Path) -> None:
    stdout = StringIO()
    call_command("import_file", str(export), shop=shop.pk, stdout=stdout)
    assert stdout.getvalue().splitlines() == [
        f"{export.name}: Imported",
        "  format: Seller Center order export (us_2026)",
        "  rows read: 2, skipped: 1",
        "  orders: 1 in the file, 1 created, 0 updated, 0 unchanged, 0 older than stored",
        "  error: row 3, Paid Time: order skipped (1 rows): Paid Time 'not a time' is not a "
        "date and time",
    ]
    assert Order.objects.get().remote_order_id == ORDER_ID


def test_command_line_fails_on_a_refused_file(shop: Shop, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    stdout = StringIO()
    with pytest.raises(CommandError, match="the file was refused"):
        call_command("import_file", str(path), shop=shop.pk, stdout=stdout)
    assert "nothing imported: The file is empty." in stdout.getvalue()
    assert ImportRun.objects.get().status == ImportStatus.FAILED
    with pytest.raises(CommandError, match="no active TikTok shop with id 999"):
        call_command("import_file", str(path), shop=999)
