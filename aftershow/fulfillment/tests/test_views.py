"""The rules page (CRUD, htmx reordering), the batch pages (run, errors, one-click retry,
downloads), the API and the two CLI commands."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from pypdf import PdfReader

from aftershow.accounts.models import User
from aftershow.catalog.models import Sku
from aftershow.fulfillment.models import BatchItemState, CarrierRule, LabelBatch, LabelBatchItem
from aftershow.fulfillment.tests.conftest import OrderMaker, make_sku
from aftershow.fulfillment.tests.test_packing import default_rules
from aftershow.inventory.models import Warehouse
from aftershow.orders.models import Address, Order
from aftershow.orders.tests.factories import AddressFactory, UserFactory
from aftershow.shops.models import Shop

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("frozen_now"),
    pytest.mark.urls("aftershow.fulfillment.tests.urls"),
]


@pytest.fixture
def operator_client(client: Client) -> Client:
    client.force_login(UserFactory(username="opal"))
    return client


@pytest.fixture
def packer_client(client: Client) -> Client:
    client.force_login(UserFactory(packer=True))
    return client


@pytest.fixture
def tee(db: None) -> Sku:
    return make_sku("TEE-BLK-M", weight_oz="6.2", bin_location="A-01")


def rule_names() -> list[str]:
    return list(CarrierRule.objects.order_by("position", "id").values_list("name", flat=True))


def test_the_rules_page_lists_the_default_rules_in_order(operator_client: Client) -> None:
    default_rules()
    response = operator_client.get("/fulfillment/rules/")
    assert response.status_code == 200
    html = response.content.decode()
    positions = [html.index(name) for name in rule_names()]
    assert positions == sorted(positions)
    assert "billable weight ≤ 15.99 oz" in html
    assert 'href="/fulfillment/batches/"' in html  # the nav link, once the URLs are mounted


def test_a_rule_is_added_and_validated(operator_client: Client) -> None:
    default_rules()
    bad = operator_client.post(
        "/fulfillment/rules/new/",
        {
            "name": "Hawaii",
            "is_active": "on",
            "service": "usps_priority_mail",
            "min_zone": "8",
            "max_zone": "5",
            "destination_kind": "any",
            "destination_states": "HI, Hawaii",
        },
    )
    assert bad.status_code == 200
    assert "Must not be below the minimum." in bad.content.decode()
    assert "Not two-letter codes: HAWAII" in bad.content.decode()
    assert len(rule_names()) == 4

    good = operator_client.post(
        "/fulfillment/rules/new/",
        {
            "name": "Hawaii",
            "is_active": "on",
            "service": "usps_priority_mail",
            "destination_kind": "any",
            "destination_states": "hi, ak",
        },
    )
    assert (good.status_code, good["Location"]) == (302, "/fulfillment/rules/")
    rule = CarrierRule.objects.get(name="Hawaii")
    assert (rule.position, rule.state_codes, rule.conditions) == (
        50,
        frozenset({"HI", "AK"}),
        ["to AK, HI"],
    )


def test_rules_move_and_delete_with_htmx(operator_client: Client) -> None:
    default_rules()
    standard = CarrierRule.objects.get(service="usps_priority_mail")
    moved = operator_client.post(
        f"/fulfillment/rules/{standard.pk}/move/up/", headers={"HX-Request": "true"}
    )
    assert moved.status_code == 200
    assert moved.content.decode().lstrip().startswith('<div class="tablewrap" id="rules-table">')
    assert rule_names() == [
        "Standard parcels (up to 20 lb, 22 in)",
        "Light parcels (under 1 lb)",
        "Large parcels",
        "Large parcels (when FedEx cannot)",
    ]
    assert list(CarrierRule.objects.order_by("position").values_list("position", flat=True)) == [
        10,
        20,
        30,
        40,
    ]
    deleted = operator_client.post(
        f"/fulfillment/rules/{standard.pk}/delete/", headers={"HX-Request": "true"}
    )
    assert deleted.status_code == 200
    assert "Standard parcels" not in deleted.content.decode()
    assert len(rule_names()) == 3


def test_packers_may_not_edit_rules_but_may_open_batches(packer_client: Client) -> None:
    default_rules()
    assert packer_client.get("/fulfillment/rules/").status_code == 403
    rule = CarrierRule.objects.first()
    assert rule is not None
    assert packer_client.post(f"/fulfillment/rules/{rule.pk}/delete/").status_code == 403
    assert len(rule_names()) == 4
    assert packer_client.get("/fulfillment/batches/").status_code == 200


def test_anonymous_users_are_sent_to_log_in(client: Client) -> None:
    response = client.get("/fulfillment/batches/")
    assert (response.status_code, response["Location"]) == (
        302,
        "/accounts/login/?next=/fulfillment/batches/",
    )


@pytest.fixture
def orders_to_label(
    warehouse: Warehouse, shopify_shop: Shop, make_order: OrderMaker, tee: Sku
) -> tuple[Order, Order]:
    default_rules()
    good = make_order(shopify_shop, tee)
    broken = make_order(shopify_shop, tee, address=AddressFactory(postal_code="ABCDE"))
    return good, broken


def test_running_a_batch_lists_its_errors_and_retries_only_them(
    operator_client: Client, shopify_shop: Shop, orders_to_label: tuple[Order, Order]
) -> None:
    good, broken = orders_to_label
    response = operator_client.post("/fulfillment/batches/run/", {"shop": shopify_shop.pk})
    batch = LabelBatch.objects.get()
    assert (response.status_code, response["Location"]) == (
        302,
        f"/fulfillment/batches/{batch.pk}/",
    )

    page = operator_client.get(f"/fulfillment/batches/{batch.pk}/").content.decode()
    assert "1 batches: 1 labels bought, 1 errors." in page
    assert "1 of 2 parcels labelled." in page
    assert f">{broken.remote_order_id}</a>" in page
    assert "no carrier chosen:" in page
    assert f'hx-post="/fulfillment/batches/{batch.pk}/retry/"' in page

    corrected = Address.objects.create(
        name="Jamie Rivera",
        line1="350 Fifth Avenue",
        city="New York",
        state="NY",
        postal_code="10118",
    )
    Order.objects.filter(pk=broken.pk).update(shipping_address=corrected)
    good_item = LabelBatchItem.objects.get(package__lines__order=good)
    retried = operator_client.post(
        f"/fulfillment/batches/{batch.pk}/retry/", headers={"HX-Request": "true"}
    )

    assert retried.status_code == 200
    fragment = retried.content.decode()
    assert fragment.lstrip().startswith('<div id="batch-items">')
    assert "Retried: 1 labelled, 0 still failing." in fragment
    assert "2 of 2 parcels labelled." in fragment
    assert set(LabelBatchItem.objects.values_list("state", flat=True)) == {BatchItemState.LABELLED}
    good_item_after = LabelBatchItem.objects.get(pk=good_item.pk)
    assert (good_item_after.attempts, good_item_after.updated_at) == (1, good_item.updated_at)


def test_the_print_files_download(
    packer_client: Client, shopify_shop: Shop, orders_to_label: tuple[Order, Order]
) -> None:
    call_command("labels_batch", "--shop", str(shopify_shop.pk), "--no-files", stdout=io.StringIO())
    batch = LabelBatch.objects.get()
    pdf = packer_client.get(f"/fulfillment/batches/{batch.pk}/labels.pdf?slips=1")
    assert (pdf.status_code, pdf["Content-Type"]) == (200, "application/pdf")
    assert len(PdfReader(io.BytesIO(pdf.content)).pages) == 1 + 2
    zpl = packer_client.get(f"/fulfillment/batches/{batch.pk}/labels.zpl")
    assert (zpl.status_code, zpl["Content-Type"]) == (200, "text/plain")
    assert zpl["Content-Disposition"] == f'attachment; filename="batch-{batch.pk}.zpl"'
    assert zpl.content.decode().count("^XA") == 1


def test_the_api_runs_reads_and_retries_batches(
    operator_client: Client, shopify_shop: Shop, orders_to_label: tuple[Order, Order]
) -> None:
    good, broken = orders_to_label
    response = operator_client.post(
        "/test-api/fulfillment/label-batches",
        {"shop": shopify_shop.pk},
        content_type="application/json",
    )
    assert response.status_code == 200
    (batch,) = response.json()
    assert (batch["order_count"], batch["labelled"], batch["errors"]) == (2, 1, 1)
    failed = [item for item in batch["items"] if item["state"] == "error"]
    assert [item["orders"] for item in failed] == [[broken.remote_order_id]]
    assert failed[0]["error_reason"].startswith("no carrier chosen: ")
    assert failed[0]["is_retryable"] is False

    fetched = operator_client.get(f"/test-api/fulfillment/label-batches/{batch['id']}")
    assert fetched.json()["items"] == batch["items"]

    packages = operator_client.get(f"/test-api/fulfillment/orders/{good.pk}/packages").json()
    assert [(p["carrier"], p["service"], p["rule"], p["selection_source"]) for p in packages] == [
        ("USPS", "Ground Advantage", "Light parcels (under 1 lb)", "rule")
    ]
    assert packages[0]["selection_reason"].startswith("Rule 1 “Light parcels (under 1 lb)”")

    retried = operator_client.post(f"/test-api/fulfillment/label-batches/{batch['id']}/retry")
    assert (retried.json()["labelled"], retried.json()["errors"]) == (1, 1)


def test_the_api_refuses_packers_buying_labels(
    packer_client: Client, shopify_shop: Shop, orders_to_label: tuple[Order, Order]
) -> None:
    response = packer_client.post(
        "/test-api/fulfillment/label-batches",
        {"shop": shopify_shop.pk},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert LabelBatch.objects.count() == 0


def test_the_cli_labels_a_shop_and_retries_a_batch(
    shopify_shop: Shop, orders_to_label: tuple[Order, Order], tmp_path: Path
) -> None:
    _good, broken = orders_to_label
    out = io.StringIO()
    call_command(
        "labels_batch", "--shop", str(shopify_shop.pk), "--output", str(tmp_path), stdout=out
    )
    batch = LabelBatch.objects.get()
    lines = out.getvalue().splitlines()
    assert lines[0] == f"batch {batch.pk}: 2 orders, 1 labelled, 1 errors"
    assert lines[1].startswith(
        f"  error package {LabelBatchItem.objects.get(state='error').package_id} "
        f"orders {broken.remote_order_id}: no carrier chosen: "
    )
    assert (
        lines[2] == f"  wrote {tmp_path}/batch-{batch.pk}.pdf and {tmp_path}/batch-{batch.pk}.zpl"
    )
    assert (tmp_path / f"batch-{batch.pk}.pdf").read_bytes()[:5] == b"%PDF-"

    Order.objects.filter(pk=broken.pk).update(
        shipping_address=Address.objects.create(
            name="J", line1="1 Main St", city="Boston", state="MA", postal_code="02108"
        )
    )
    out = io.StringIO()
    call_command("labels_retry", str(batch.pk), "--no-files", stdout=out)
    assert out.getvalue().splitlines() == [f"batch {batch.pk}: 2 orders, 1 labelled, 0 errors"]


def test_the_cli_says_when_there_is_nothing_to_label(shopify_shop: Shop, warehouse: Any) -> None:
    out = io.StringIO()
    call_command("labels_batch", "--shop", str(shopify_shop.pk), stdout=out)
    assert out.getvalue() == "nothing to label\n"


def test_a_batch_page_for_an_unknown_user_role(client: Client) -> None:
    user: User = UserFactory(username="fin", role="finance")
    client.force_login(user)
    assert client.get("/fulfillment/batches/").status_code == 403
