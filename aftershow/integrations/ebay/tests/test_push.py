"""Stock pushes and read-backs against the eBay sandbox over real HTTP on 127.0.0.1."""

from __future__ import annotations

import uuid

from aftershow.audit.models import AuditAction, AuditEvent, IntegrationLog
from aftershow.core.timeutils import utcnow
from aftershow.integrations.ebay.sync import EbayConnector
from aftershow.integrations.inventory_push import PushStatus, QuantityUpdate
from aftershow.integrations.registry import connector_for
from aftershow.integrations.tests.convergence import (
    Listing,
    assert_no_lost_update,
    drive,
    falling_sequences,
)
from aftershow.shops.models import Shop

from .conftest import list_skus

BULK_PATH = "/sell/inventory/v1/bulk_update_price_quantity"
TOKEN_PATH = "/identity/v1/oauth2/token"


def update(code: str, quantity: int, offer_id: str = "") -> QuantityUpdate:
    return QuantityUpdate(
        sku_code=code,
        remote_product_id=offer_id,
        remote_sku_id=code,
        quantity=quantity,
        compare_quantity=None,
        idempotency_key=str(uuid.uuid4()),
    )


def test_push_sets_item_and_offer_quantity(ebay_sandbox, ebay_shop):
    offers = list_skus(ebay_sandbox, ebay_shop, ["TEE-BLK-M", "TEE-WHT-L"], quantity=50)
    results = EbayConnector(ebay_shop).push_quantities(
        [update("TEE-BLK-M", 41, offers["TEE-BLK-M"]), update("TEE-WHT-L", 0, offers["TEE-WHT-L"])]
    )
    assert [r.status for r in results] == [PushStatus.APPLIED, PushStatus.APPLIED]
    assert (ebay_sandbox.quantity("TEE-BLK-M"), ebay_sandbox.quantity("TEE-WHT-L")) == (41, 0)
    assert ebay_sandbox.offer_quantity(offers["TEE-BLK-M"]) == 41
    assert ebay_sandbox.offer_quantity(offers["TEE-WHT-L"]) == 0
    (call,) = ebay_sandbox.server.calls_to("POST", BULK_PATH)
    assert call.json_body() == {
        "requests": [
            {
                "sku": "TEE-BLK-M",
                "shipToLocationAvailability": {"quantity": 41},
                "offers": [{"offerId": offers["TEE-BLK-M"], "availableQuantity": 41}],
            },
            {
                "sku": "TEE-WHT-L",
                "shipToLocationAvailability": {"quantity": 0},
                "offers": [{"offerId": offers["TEE-WHT-L"], "availableQuantity": 0}],
            },
        ]
    }


def test_26_items_take_two_calls_of_25_and_1(ebay_sandbox, ebay_shop):
    codes = [f"SKU-{n:02d}" for n in range(26)]
    list_skus(ebay_sandbox, ebay_shop, codes, quantity=5)
    results = EbayConnector(ebay_shop).push_quantities(
        [update(code, 100 + n) for n, code in enumerate(codes)]
    )
    assert [r.status for r in results] == [PushStatus.APPLIED] * 26
    calls = ebay_sandbox.server.calls_to("POST", BULK_PATH)
    assert [len(call.json_body()["requests"]) for call in calls] == [25, 1]
    assert [call.status for call in calls] == [200, 200]
    assert [ebay_sandbox.quantity(code) for code in codes] == [100 + n for n in range(26)]


def test_a_sku_twice_in_one_batch_is_written_in_order_in_two_calls(ebay_sandbox, ebay_shop):
    list_skus(ebay_sandbox, ebay_shop, ["MUG", "CAP"], quantity=9)
    results = EbayConnector(ebay_shop).push_quantities(
        [update("MUG", 8), update("CAP", 4), update("MUG", 7)]
    )
    assert [r.status for r in results] == [PushStatus.APPLIED] * 3
    calls = ebay_sandbox.server.calls_to("POST", BULK_PATH)
    assert [[r["sku"] for r in call.json_body()["requests"]] for call in calls] == [
        ["MUG", "CAP"],
        ["MUG"],
    ]
    assert ebay_sandbox.history("MUG") == [8, 7]


def test_unknown_sku_is_rejected_alone_and_the_rest_applied(ebay_sandbox, ebay_shop):
    list_skus(ebay_sandbox, ebay_shop, ["TEE-BLK-M"], quantity=3)
    results = EbayConnector(ebay_shop).push_quantities(
        [update("GHOST-SKU", 5), update("TEE-BLK-M", 2)]
    )
    assert [(r.status, r.error_code) for r in results] == [
        (PushStatus.REJECTED, "25702"),
        (PushStatus.APPLIED, ""),
    ]
    (call,) = ebay_sandbox.server.calls_to("POST", BULK_PATH)
    assert call.status == 207
    assert ebay_sandbox.quantity("TEE-BLK-M") == 2


def test_negative_quantity_is_rejected_without_a_call(ebay_sandbox, ebay_shop):
    list_skus(ebay_sandbox, ebay_shop, ["TEE-BLK-M"], quantity=3)
    (result,) = EbayConnector(ebay_shop).push_quantities([update("TEE-BLK-M", -1)])
    assert (result.status, result.error_code) == (PushStatus.REJECTED, "invalid_quantity")
    assert ebay_sandbox.server.calls_to("POST", BULK_PATH) == []
    assert ebay_sandbox.quantity("TEE-BLK-M") == 3


def test_expired_token_is_refreshed_and_the_call_repeated(ebay_sandbox, ebay_shop):
    list_skus(ebay_sandbox, ebay_shop, ["TEE-BLK-M"], quantity=3)
    old_token = ebay_shop.credentials["access_token"]
    ebay_sandbox.store.expire_access_token(old_token)
    (result,) = EbayConnector(ebay_shop).push_quantities([update("TEE-BLK-M", 12)])
    assert result.status == PushStatus.APPLIED
    assert ebay_sandbox.quantity("TEE-BLK-M") == 12
    shop = Shop.objects.get()
    assert shop.credentials["access_token"] != old_token
    assert shop.credentials["refresh_token"] == ebay_shop.credentials["refresh_token"]
    assert AuditEvent.objects.filter(action=AuditAction.TOKEN_REFRESHED).count() == 1
    assert list(
        IntegrationLog.objects.filter(path=BULK_PATH)
        .order_by("pk")
        .values_list("status_code", "error_code")
    ) == [(401, "1001"), (200, "")]


def test_a_token_about_to_expire_is_refreshed_before_the_call(ebay_sandbox, ebay_shop):
    list_skus(ebay_sandbox, ebay_shop, ["TEE-BLK-M"], quantity=3)
    Shop.objects.filter(pk=ebay_shop.pk).update(access_token_expires_at=utcnow())
    ebay_shop.refresh_from_db()
    (result,) = EbayConnector(ebay_shop).push_quantities([update("TEE-BLK-M", 1)])
    assert result.status == PushStatus.APPLIED
    assert list(IntegrationLog.objects.order_by("pk").values_list("path", "status_code")) == [
        (TOKEN_PATH, 200),
        (BULK_PATH, 200),
    ]


def test_revoked_refresh_token_is_terminal_and_changes_nothing(ebay_sandbox, ebay_shop):
    list_skus(ebay_sandbox, ebay_shop, ["TEE-BLK-M"], quantity=3)
    ebay_sandbox.store.revoke_refresh_token(ebay_shop.credentials["refresh_token"])
    (result,) = EbayConnector(ebay_shop).push_quantities([update("TEE-BLK-M", 12)])
    assert (result.status, result.error_code) == (PushStatus.REJECTED, "invalid_grant")
    assert ebay_sandbox.quantity("TEE-BLK-M") == 3
    # One attempt at each: a terminal error is never retried.
    assert list(
        IntegrationLog.objects.order_by("pk").values_list("path", "status_code", "outcome")
    ) == [
        (BULK_PATH, 401, "terminal"),
        (TOKEN_PATH, 400, "terminal"),
    ]
    assert Shop.objects.get().credentials["access_token"] == ebay_shop.credentials["access_token"]


def test_wrong_client_secret_is_terminal(ebay_sandbox, ebay_shop):
    list_skus(ebay_sandbox, ebay_shop, ["TEE-BLK-M"], quantity=3)
    ebay_shop.credentials = {**ebay_shop.credentials, "client_secret": "wrong"}
    ebay_shop.access_token_expires_at = None
    ebay_shop.credentials.pop("access_token")
    ebay_shop.save()
    (result,) = EbayConnector(ebay_shop).push_quantities([update("TEE-BLK-M", 12)])
    assert (result.status, result.error_code) == (PushStatus.REJECTED, "invalid_client")
    assert ebay_sandbox.quantity("TEE-BLK-M") == 3
    assert ebay_sandbox.server.calls_to("POST", BULK_PATH) == []


def test_a_token_without_the_inventory_scope_is_refused(ebay_sandbox, ebay_shop):
    list_skus(ebay_sandbox, ebay_shop, ["TEE-BLK-M"], quantity=3)
    grant = ebay_sandbox.store.issue_user_token(
        frozenset({"https://api.ebay.com/oauth/api_scope/sell.fulfillment"})
    )
    ebay_shop.credentials = {**ebay_shop.credentials, "access_token": grant.access_token}
    ebay_shop.save()
    (result,) = EbayConnector(ebay_shop).push_quantities([update("TEE-BLK-M", 12)])
    assert (result.status, result.error_code) == (PushStatus.REJECTED, "1100")
    assert ebay_sandbox.quantity("TEE-BLK-M") == 3


def test_server_errors_and_throttling_are_retried(ebay_sandbox, ebay_shop):
    list_skus(ebay_sandbox, ebay_shop, ["TEE-BLK-M"], quantity=3)
    ebay_sandbox.faults.fail_next(1, "500")
    ebay_sandbox.faults.fail_next(1, "429")
    (result,) = EbayConnector(ebay_shop).push_quantities([update("TEE-BLK-M", 2)])
    assert result.status == PushStatus.APPLIED
    assert list(
        IntegrationLog.objects.filter(path=BULK_PATH)
        .order_by("pk")
        .values_list("status_code", "outcome")
    ) == [(500, "retryable"), (429, "retryable"), (200, "ok")]


def test_retries_exhausted_leave_the_items_failed_for_later(ebay_sandbox, ebay_shop, settings):
    settings.HTTP_MAX_ATTEMPTS = 2
    list_skus(ebay_sandbox, ebay_shop, ["TEE-BLK-M", "CAP"], quantity=3)
    ebay_sandbox.faults.fail_next(2, "429")
    results = EbayConnector(ebay_shop).push_quantities([update("TEE-BLK-M", 2), update("CAP", 1)])
    assert [(r.status, r.error_code) for r in results] == [(PushStatus.FAILED, "2001")] * 2
    assert (ebay_sandbox.quantity("TEE-BLK-M"), ebay_sandbox.quantity("CAP")) == (3, 3)


def test_a_timed_out_call_is_retried(ebay_sandbox, ebay_shop, settings):
    settings.HTTP_TIMEOUT_SECONDS = 0.3
    ebay_sandbox.faults.configure(rate=0.0, timeout_seconds=0.8)
    list_skus(ebay_sandbox, ebay_shop, ["TEE-BLK-M"], quantity=3)
    ebay_sandbox.faults.fail_next(1, "timeout")
    (result,) = EbayConnector(ebay_shop).push_quantities([update("TEE-BLK-M", 2)])
    assert result.status == PushStatus.APPLIED
    outcomes = list(
        IntegrationLog.objects.filter(path=BULK_PATH)
        .order_by("pk")
        .values_list("status_code", "outcome")
    )
    assert outcomes == [(None, "retryable"), (200, "ok")]
    # The timed-out write landed on arrival, the retry wrote the same value again.
    assert ebay_sandbox.history("TEE-BLK-M") == [2, 2]


def test_read_quantities_25_a_call_unknown_left_out(ebay_sandbox, ebay_shop):
    codes = [f"SKU-{n:02d}" for n in range(30)]
    list_skus(ebay_sandbox, ebay_shop, codes, quantity=7)
    ebay_sandbox.store.set_quantities(sku="SKU-03", quantity=2, offers=[])
    quantities = EbayConnector(ebay_shop).read_quantities([*codes, "NOT-LISTED"])
    assert quantities == {code: (2 if code == "SKU-03" else 7) for code in codes}
    calls = ebay_sandbox.server.calls_to("POST", "/sell/inventory/v1/bulk_get_inventory_item")
    assert [len(call.json_body()["requests"]) for call in calls] == [25, 5]


def test_pushes_converge_with_20_percent_of_calls_failing(ebay_sandbox, ebay_shop, settings):
    """The proof: 429s, 500s and timeouts on a fifth of the calls; every SKU ends on its last
    intended quantity and no older value ever overwrote a newer one."""
    settings.HTTP_TIMEOUT_SECONDS = 0.25
    settings.HTTP_MAX_ATTEMPTS = 2  # let failures reach the engine's own retry, too
    codes = [f"LIVE-{n:02d}" for n in range(30)]  # two calls a round: 25 + 5
    offers = list_skus(ebay_sandbox, ebay_shop, codes, quantity=600)
    sequences = falling_sequences(codes, steps=8, seed=11)
    ebay_sandbox.faults.configure(
        rate=0.2, kinds=("429", "500", "timeout"), seed=5, timeout_seconds=0.5
    )
    report = drive(
        EbayConnector(ebay_shop),
        [Listing(code, offers[code], code) for code in codes],
        sequences,
        initial=dict.fromkeys(codes, 600),
        use_compare=False,
    )
    assert set(ebay_sandbox.faults.injected) == {"429", "500", "timeout"}
    assert report.statuses[PushStatus.FAILED] > 0  # the engine's retry was exercised
    for code in codes:
        assert_no_lost_update(
            sequences[code], ebay_sandbox.history(code), ebay_sandbox.quantity(code)
        )
        assert ebay_sandbox.offer_quantity(offers[code]) == sequences[code][-1]


def test_the_registry_reaches_this_connector(ebay_shop):
    connector = connector_for(ebay_shop)
    assert type(connector) is EbayConnector
    assert {"push_quantities", "read_quantities", "pull_orders"} <= set(dir(connector))
