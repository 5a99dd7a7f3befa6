"""The EasyPost fake over real HTTP: it accepts what EasyPost accepts and refuses the rest the
way EasyPost does (401, 422 with the fields named, a second purchase, a foreign rate)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import easypost
import httpx
import pytest
from easypost.errors.api.invalid_request_error import InvalidRequestError
from easypost.errors.api.unauthorized_error import UnauthorizedError

from aftershow.sandbox.easypost import EasyPostSandbox

KEY = "EZTK_fake_key"
ROANOKE = {
    "name": "Aftershow",
    "street1": "100 Main St",
    "city": "Roanoke",
    "state": "VA",
    "zip": "24001",
}
NEW_YORK = {
    "name": "Jamie Rivera",
    "street1": "350 Fifth Avenue",
    "city": "New York",
    "state": "NY",
    "zip": "10118",
}
PARCEL = {"weight": 10.5, "length": 10, "width": 8, "height": 2}


@pytest.fixture
def fake() -> Iterator[EasyPostSandbox]:
    sandbox = EasyPostSandbox(api_keys={KEY})
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def http(fake: EasyPostSandbox) -> Iterator[httpx.Client]:
    basic = base64.b64encode(f"{KEY}:".encode()).decode()
    with httpx.Client(
        base_url=fake.root_url, headers={"Authorization": f"Basic {basic}"}, timeout=10
    ) as client:
        yield client


def create(http: httpx.Client, **shipment: Any) -> dict[str, Any]:
    body = {"to_address": NEW_YORK, "from_address": ROANOKE, "parcel": PARCEL, **shipment}
    response = http.post("/v2/shipments", json={"shipment": body})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_basic_auth_with_the_key_as_user_name_creates_a_shipment_with_rates(
    http: httpx.Client,
) -> None:
    shipment = create(http, reference="package-1")
    assert shipment["id"].startswith("shp_") and len(shipment["id"]) == 36
    assert shipment["object"] == "Shipment"
    assert (shipment["reference"], shipment["postage_label"], shipment["messages"]) == (
        "package-1",
        None,
        [],
    )
    assert [(rate["carrier"], rate["service"], rate["rate"]) for rate in shipment["rates"]] == [
        ("USPS", "GroundAdvantage", "7.30"),
        ("USPS", "Priority", "11.10"),
        ("USPS", "Express", "33.50"),
        ("UPS", "Ground", "13.00"),
        ("FedEx", "FEDEX_GROUND", "12.85"),
    ]
    assert {rate["shipment_id"] for rate in shipment["rates"]} == {shipment["id"]}


def test_the_official_sdk_is_accepted(fake: EasyPostSandbox) -> None:
    client = easypost.EasyPostClient(KEY, api_base=fake.api_base)
    shipment = client.shipment.create(to_address=NEW_YORK, from_address=ROANOKE, parcel=PARCEL)
    bought = client.shipment.buy(shipment.id, rate=shipment.rates[0])
    assert bought.tracking_code == "9400100000000000000001"
    assert bought.postage_label.label_url == (
        f"{fake.root_url}/files/postage_label/{shipment.id}.png"
    )


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "APIKEY.REQUIRED"),
        ("Bearer EZTK_other", "APIKEY.INVALID"),
        (f"Basic {base64.b64encode(b'EZTK_other:').decode()}", "APIKEY.INVALID"),
        ("Token EZTK_fake_key", "APIKEY.REQUIRED"),
    ],
)
def test_a_missing_or_unknown_key_is_401(
    fake: EasyPostSandbox, authorization: str | None, code: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = httpx.post(
        f"{fake.api_base}/shipments", json={"shipment": {}}, headers=headers, timeout=10
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == code
    assert fake.store.shipments == {}


def test_the_sdk_raises_unauthorized_for_a_wrong_key(fake: EasyPostSandbox) -> None:
    client = easypost.EasyPostClient("EZTK_other", api_base=fake.api_base)
    with pytest.raises(UnauthorizedError) as raised:
        client.shipment.create(to_address=NEW_YORK, from_address=ROANOKE, parcel=PARCEL)
    assert (raised.value.http_status, raised.value.code) == (401, "APIKEY.INVALID")


def test_missing_fields_are_422_naming_each_field(http: httpx.Client) -> None:
    response = http.post(
        "/v2/shipments",
        json={"shipment": {"to_address": {"street1": "1 Main St"}, "parcel": {}}},
    )
    assert response.status_code == 422
    assert response.json() == {
        "error": {
            "code": "PARAMETER.REQUIRED",
            "message": "Missing required parameter.",
            "errors": [
                {"field": "shipment.to_address.city", "message": "cannot be blank"},
                {"field": "shipment.to_address.state", "message": "cannot be blank"},
                {"field": "shipment.to_address.zip", "message": "cannot be blank"},
                {"field": "shipment.from_address", "message": "cannot be blank"},
                {"field": "shipment.parcel.weight", "message": "cannot be blank"},
            ],
        }
    }
    no_shipment = http.post("/v2/shipments", json={"parcel": PARCEL})
    assert (no_shipment.status_code, no_shipment.json()["error"]["errors"]) == (
        422,
        [{"field": "shipment", "message": "cannot be blank"}],
    )


def test_a_weight_that_is_not_positive_is_invalid(http: httpx.Client) -> None:
    response = http.post(
        "/v2/shipments",
        json={
            "shipment": {
                "to_address": NEW_YORK,
                "from_address": ROANOKE,
                "parcel": {"weight": -1, "length": "x"},
            }
        },
    )
    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "PARAMETER.INVALID",
        "message": "Invalid parameter.",
        "errors": [
            {"field": "shipment.parcel.weight", "message": "must be a positive number"},
            {"field": "shipment.parcel.length", "message": "must be a positive number"},
        ],
    }


def test_a_shipment_is_bought_once(http: httpx.Client, fake: EasyPostSandbox) -> None:
    shipment = create(http, options={"label_format": "ZPL"})
    rate = shipment["rates"][1]
    bought = http.post(f"/v2/shipments/{shipment['id']}/buy", json={"rate": {"id": rate["id"]}})
    assert bought.status_code == 200
    body = bought.json()
    assert (body["tracking_code"], body["selected_rate"]["id"]) == (
        "9400100000000000000001",
        rate["id"],
    )
    label = body["postage_label"]
    assert (label["label_size"], label["label_resolution"], label["label_file_type"]) == (
        "4x6",
        300,
        "image/png",
    )
    assert label["label_zpl_url"] == f"{fake.root_url}/files/postage_label/{shipment['id']}.zpl"

    again = http.post(f"/v2/shipments/{shipment['id']}/buy", json={"rate": {"id": rate["id"]}})

    assert again.status_code == 422
    assert again.json()["error"] == {
        "code": "SHIPMENT.POSTAGE.EXISTS",
        "message": "Postage already exists for this shipment.",
        "errors": [],
    }
    assert fake.store.purchases == [(shipment["id"], rate["id"])]


def test_a_rate_of_another_shipment_or_none_is_refused(
    http: httpx.Client, fake: EasyPostSandbox
) -> None:
    first, second = create(http), create(http)
    foreign = http.post(
        f"/v2/shipments/{first['id']}/buy", json={"rate": {"id": second["rates"][0]["id"]}}
    )
    assert (foreign.status_code, foreign.json()["error"]["code"]) == (
        422,
        "SHIPMENT.RATE.INVALID",
    )
    missing = http.post(f"/v2/shipments/{first['id']}/buy", json={})
    assert (missing.status_code, missing.json()["error"]["errors"]) == (
        422,
        [{"field": "rate", "message": "cannot be blank"}],
    )
    unknown = http.post("/v2/shipments/shp_0000/buy", json={"rate": {"id": "rate_1"}})
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "NOT_FOUND")
    assert fake.store.purchases == []


def test_the_sdk_sees_the_second_purchase_refused(fake: EasyPostSandbox) -> None:
    client = easypost.EasyPostClient(KEY, api_base=fake.api_base)
    shipment = client.shipment.create(to_address=NEW_YORK, from_address=ROANOKE, parcel=PARCEL)
    client.shipment.buy(shipment.id, rate={"id": shipment.rates[0].id})
    with pytest.raises(InvalidRequestError) as raised:
        client.shipment.buy(shipment.id, rate={"id": shipment.rates[0].id})
    assert (raised.value.http_status, raised.value.code) == (422, "SHIPMENT.POSTAGE.EXISTS")
    assert len(fake.store.purchases) == 1


def test_po_boxes_and_military_addresses_get_usps_rates_only(http: httpx.Client) -> None:
    po_box = create(http, to_address={**NEW_YORK, "street1": "PO Box 12"})
    assert {rate["carrier"] for rate in po_box["rates"]} == {"USPS"}
    assert [message["message"] for message in po_box["messages"]] == [
        "UPS does not deliver to PO Boxes",
        "FedEx does not deliver to PO Boxes",
    ]
    military = create(http, to_address={**NEW_YORK, "city": "APO", "state": "AE", "zip": "09001"})
    assert {rate["carrier"] for rate in military["rates"]} == {"USPS"}


def test_an_invalid_zip_gets_no_rates_and_a_message_per_carrier(http: httpx.Client) -> None:
    shipment = create(http, to_address={**NEW_YORK, "zip": "ABCDE"})
    assert shipment["rates"] == []
    assert [(message["carrier"], message["message"]) for message in shipment["messages"]] == [
        ("USPS", "Invalid destination ZIP: ABCDE"),
        ("UPS", "Invalid destination ZIP: ABCDE"),
        ("FedEx", "Invalid destination ZIP: ABCDE"),
    ]


def test_label_files_are_served_and_converted(http: httpx.Client) -> None:
    shipment = create(http)
    not_yet = http.get(f"/v2/shipments/{shipment['id']}/label", params={"file_format": "PDF"})
    assert (not_yet.status_code, not_yet.json()["error"]["code"]) == (
        422,
        "SHIPMENT.POSTAGE.REQUIRED",
    )
    http.post(
        f"/v2/shipments/{shipment['id']}/buy", json={"rate": {"id": shipment["rates"][0]["id"]}}
    )
    converted = http.get(f"/v2/shipments/{shipment['id']}/label", params={"file_format": "PDF"})
    assert converted.status_code == 200
    label = converted.json()["postage_label"]
    png = httpx.get(label["label_url"], timeout=10)
    pdf = httpx.get(label["label_pdf_url"], timeout=10)
    assert (png.headers["content-type"], png.content[:8]) == (
        "image/png",
        b"\x89PNG\r\n\x1a\n",
    )
    assert (pdf.headers["content-type"], pdf.content[:8]) == ("application/pdf", b"%PDF-1.4")
    fetched = http.get(f"/v2/shipments/{shipment['id']}")
    assert fetched.json()["tracking_code"] == "9400100000000000000001"


def test_injected_faults_hit_only_the_matching_path(
    http: httpx.Client, fake: EasyPostSandbox
) -> None:
    fake.fail_next(r"/buy$", 503, times=2)
    shipment = create(http)
    for _attempt in range(2):
        failed = http.post(
            f"/v2/shipments/{shipment['id']}/buy",
            json={"rate": {"id": shipment["rates"][0]["id"]}},
        )
        assert failed.status_code == 503
    bought = http.post(
        f"/v2/shipments/{shipment['id']}/buy", json={"rate": {"id": shipment["rates"][0]["id"]}}
    )
    assert bought.status_code == 200
    assert len(fake.store.purchases) == 1
