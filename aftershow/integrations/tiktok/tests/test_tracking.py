"""Tracking push-back against the sandbox over real HTTP: batches, faults, idempotency, and
the revise-once-within-72-hours rule enforced before any call."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from aftershow.audit.models import IntegrationLog
from aftershow.core.timeutils import utcnow
from aftershow.fulfillment.models import Package
from aftershow.integrations.models import TrackingUpload, TrackingUploadState
from aftershow.integrations.tiktok.shipping import TikTokShippingProvider
from aftershow.integrations.tiktok.sync import TikTokConnector
from aftershow.integrations.tiktok.tests.test_shipping import ground_advantage, shipment_for
from aftershow.integrations.tiktok.tracking import (
    tracking_push_request,
    tracking_pushes_request,
    tracking_revision_refusal,
)
from aftershow.integrations.tiktok.tracking_push import TrackingPusher
from aftershow.integrations.tiktok.tracking_rules import match_provider
from aftershow.orders.models import Order

SHIP = "/fulfillment/202309/packages/ship"
DETAIL = "/order/202309/orders"
UPDATE = "/fulfillment/202309/packages/{}/shipping_info/update"
USPS_ID = "7117858858072016686"
UPS_ID = "7117859084333745966"


@pytest.fixture(autouse=True)
def _fast_retries(settings):
    settings.HTTP_MAX_RETRY_WAIT_SECONDS = 0.01


def land_orders(sandbox, remote_shop, count: int, *, lines: int = 1, **kwargs) -> list[str]:
    """``count`` paid orders past their remorse window, pulled into aftershow."""
    if not sandbox.store.products(remote_shop.id):
        sandbox.store.add_product(
            remote_shop.id, "Cloud Tee", skus=[{"seller_sku": "TEE-BLK-M", "price": "19.99"}]
        )
    ids = [
        sandbox.store.create_order(remote_shop.id, {"TEE-BLK-M": lines}, **kwargs)
        for _ in range(count)
    ]
    sandbox.advance(timedelta(minutes=61))
    return ids


def pull(shop) -> None:
    TikTokConnector(shop).pull_orders(until=utcnow() + timedelta(days=3))


def tracking_for(index: int) -> str:
    return f"9400111899{index:012d}"


def pack_and_ship(shop, order_ids: list[str], *, carrier: str = "USPS") -> list[Package]:
    """One shipped package per order, in the order given, their pushes requested at once."""
    orders = {o.remote_order_id: o for o in Order.objects.filter(remote_order_id__in=order_ids)}
    packages = []
    for index, order_id in enumerate(order_ids):
        package = Package.objects.create(
            shop=shop,
            carrier=carrier,
            tracking_number=tracking_for(index),
            shipped_at=utcnow(),
        )
        orders[order_id].lines.update(package=package)
        packages.append(package)
    assert tracking_pushes_request(packages=packages) == {}
    return packages


def remote_package(sandbox, order_id: str) -> str:
    return sandbox.store.get_order(order_id)["packages"][0]["id"]


def push_until_done(shop, *, rounds: int = 50) -> None:
    """Run the pusher, making backed-off retries due between runs, until nothing is queued."""
    for _ in range(rounds):
        TrackingPusher(shop).push_due()
        queued = TrackingUpload.objects.filter(state=TrackingUploadState.QUEUED)
        if not queued.exists():
            return
        queued.update(next_attempt_at=utcnow() - timedelta(seconds=1))
    raise AssertionError("tracking uploads still queued")


def test_a_burst_is_pushed_in_batches_of_50(tiktok_sandbox, tiktok_remote_shop, tiktok_shop):
    order_ids = land_orders(tiktok_sandbox, tiktok_remote_shop, 120)
    pull(tiktok_shop)
    pack_and_ship(tiktok_shop, order_ids)

    report = TrackingPusher(tiktok_shop).push_due()

    assert (report.accepted, report.already_on_tiktok, report.failed) == (120, 0, 0)
    calls = list(IntegrationLog.objects.filter(direction="out").values_list("method", "path"))
    assert calls.count(("POST", SHIP)) == 3
    assert calls.count(("GET", DETAIL)) == 3
    providers = f"/logistics/202309/delivery_options/{7359159720562657057}/shipping_providers"
    assert calls.count(("GET", providers)) == 1
    for index, order_id in enumerate(order_ids):
        remote = tiktok_sandbox.store.get_order(order_id)
        assert (remote["status"], remote["tracking_number"]) == (
            "AWAITING_COLLECTION",
            tracking_for(index),
        )
    uploads = TrackingUpload.objects.order_by("package_id")
    assert {u.state for u in uploads} == {"pushed"}
    assert [u.remote_package_id for u in uploads] == [
        remote_package(tiktok_sandbox, order_id) for order_id in order_ids
    ]
    assert {(u.shipping_provider_id, u.delivery_option_id) for u in uploads} == {
        (USPS_ID, "7359159720562657057")
    }


@pytest.mark.parametrize("attempts_per_call", [6, 1])
def test_200_packages_through_10_percent_429_and_500_are_all_pushed_exactly_once(
    tiktok_sandbox, tiktok_remote_shop, tiktok_shop, settings, attempts_per_call
):
    """6: the HTTP wrapper's retries absorb the faults; 1: every fault ends the call and the
    durable retry (attempts, next_attempt_at) carries the push to a later run."""
    order_ids = land_orders(tiktok_sandbox, tiktok_remote_shop, 200)
    pull(tiktok_shop)
    pack_and_ship(tiktok_shop, order_ids)
    settings.HTTP_MAX_ATTEMPTS = attempts_per_call
    # Batching makes few calls (200 packages: 4 reads, 4 batches, 1 provider list); this seed
    # makes the 10 % land on both a Batch Ship and a Get Order Detail, with both kinds.
    tiktok_sandbox.faults.configure(rate=0.1, kinds=("429", "500"), seed=83)

    push_until_done(tiktok_shop)

    desk = tiktok_sandbox.fulfillment
    package_ids = [remote_package(tiktok_sandbox, order_id) for order_id in order_ids]
    assert [desk.package(p).accepted_ships for p in package_ids] == [1] * 200
    assert [desk.ship_requests[p] for p in package_ids] == [1] * 200
    assert desk.rejections == {}
    assert tiktok_sandbox.faults.injected["429"] > 0
    assert tiktok_sandbox.faults.injected["500"] > 0
    assert set(TrackingUpload.objects.values_list("state", "last_error")) == {("pushed", "")}
    for index, order_id in enumerate(order_ids):
        assert tiktok_sandbox.store.get_order(order_id)["tracking_number"] == tracking_for(index)
    if attempts_per_call == 1:
        retried = IntegrationLog.objects.filter(outcome="retryable", path=SHIP).count()
        assert retried > 0


def test_a_lost_answer_is_verified_and_counts_as_pushed(
    tiktok_sandbox, tiktok_remote_shop, tiktok_shop
):
    order_ids = land_orders(tiktok_sandbox, tiktok_remote_shop, 50)
    pull(tiktok_shop)
    pack_and_ship(tiktok_shop, order_ids)
    # TikTok applies the batch, then its answer is lost: the wrapper sends the batch again.
    tiktok_sandbox.fulfillment.lose_responses(next_count=1)

    report = TrackingPusher(tiktok_shop).push_due()

    desk = tiktok_sandbox.fulfillment
    package_ids = [remote_package(tiktok_sandbox, order_id) for order_id in order_ids]
    assert [desk.package(p).accepted_ships for p in package_ids] == [1] * 50
    assert desk.rejections == {21011040: 50}
    assert (report.accepted, report.already_on_tiktok, report.failed) == (0, 50, 0)
    assert set(TrackingUpload.objects.values_list("state", flat=True)) == {"pushed"}
    details = IntegrationLog.objects.filter(
        path__in=[f"/fulfillment/202309/packages/{p}" for p in package_ids]
    )
    assert details.count() == 50


def test_answers_lost_on_every_try_are_found_on_tiktok_by_the_next_run(
    tiktok_sandbox, tiktok_remote_shop, tiktok_shop, settings
):
    settings.HTTP_MAX_ATTEMPTS = 3
    order_ids = land_orders(tiktok_sandbox, tiktok_remote_shop, 50)
    pull(tiktok_shop)
    pack_and_ship(tiktok_shop, order_ids)
    tiktok_sandbox.fulfillment.lose_responses(rate=1.0)

    first = TrackingPusher(tiktok_shop).push_due()
    tiktok_sandbox.fulfillment.lose_responses(rate=0.0)
    TrackingUpload.objects.update(next_attempt_at=utcnow())
    ship_calls = IntegrationLog.objects.filter(path=SHIP).count()
    second = TrackingPusher(tiktok_shop).push_due()

    desk = tiktok_sandbox.fulfillment
    package_ids = [remote_package(tiktok_sandbox, order_id) for order_id in order_ids]
    assert (first.retry_later, second.already_on_tiktok, second.accepted) == (50, 50, 0)
    assert ship_calls == 3
    assert IntegrationLog.objects.filter(path=SHIP).count() == 3
    assert [desk.package(p).accepted_ships for p in package_ids] == [1] * 50
    assert desk.rejections == {21011040: 100}  # the wrapper's second and third tries
    assert set(TrackingUpload.objects.values_list("state", flat=True)) == {"pushed"}


def test_a_push_tiktok_already_took_is_never_sent_again(
    tiktok_sandbox, tiktok_remote_shop, tiktok_shop
):
    order_ids = land_orders(tiktok_sandbox, tiktok_remote_shop, 30)
    pull(tiktok_shop)
    pack_and_ship(tiktok_shop, order_ids)
    TrackingPusher(tiktok_shop).push_due()
    # A worker killed after TikTok accepted, before it recorded that: the uploads look queued.
    TrackingUpload.objects.update(
        state=TrackingUploadState.QUEUED, pushed_tracking_number="", pushed_carrier=""
    )
    ship_calls = IntegrationLog.objects.filter(path=SHIP).count()

    report = TrackingPusher(tiktok_shop).push_due()

    assert (report.accepted, report.already_on_tiktok) == (0, 30)
    assert IntegrationLog.objects.filter(path=SHIP).count() == ship_calls
    assert tiktok_sandbox.fulfillment.rejections == {}
    assert set(TrackingUpload.objects.values_list("state", flat=True)) == {"pushed"}


def test_asking_again_for_the_same_tracking_changes_nothing(
    tiktok_sandbox, tiktok_remote_shop, tiktok_shop
):
    order_ids = land_orders(tiktok_sandbox, tiktok_remote_shop, 1)
    pull(tiktok_shop)
    (package,) = pack_and_ship(tiktok_shop, order_ids)
    TrackingPusher(tiktok_shop).push_due()
    before = TrackingUpload.objects.values().get()

    again = tracking_push_request(package=package)
    report = TrackingPusher(tiktok_shop).push_due()

    assert again.pk == before["id"]
    assert TrackingUpload.objects.values().get() == before
    assert (report.accepted, report.already_on_tiktok) == (0, 0)


def test_a_parcel_with_part_of_an_order_is_marked_shipped_by_its_lines(
    tiktok_sandbox, tiktok_remote_shop, tiktok_shop
):
    (order_id,) = land_orders(tiktok_sandbox, tiktok_remote_shop, 1, lines=2)
    pull(tiktok_shop)
    first_line, second_line = Order.objects.get().lines.order_by("remote_line_id")
    packages = []
    for index, line in enumerate((first_line, second_line)):
        package = Package.objects.create(
            shop=tiktok_shop, carrier="UPS", tracking_number=f"1Z999AA1012345678{index}"
        )
        line.package = package
        line.save(update_fields=["package"])
        packages.append(package)
    tracking_push_request(package=packages[0])

    TrackingPusher(tiktok_shop).push_due()
    halfway = tiktok_sandbox.store.get_order(order_id)["status"]
    tracking_push_request(package=packages[1])
    TrackingPusher(tiktok_shop).push_due()

    remote = tiktok_sandbox.store.get_order(order_id)
    uploads = list(TrackingUpload.objects.order_by("package_id"))
    assert halfway == "PARTIALLY_SHIPPING"
    assert remote["status"] == "AWAITING_COLLECTION"
    assert [(i["tracking_number"], i["shipping_provider_id"]) for i in remote["line_items"]] == [
        ("1Z999AA10123456780", UPS_ID),
        ("1Z999AA10123456781", UPS_ID),
    ]
    assert [u.remote_package_id for u in uploads] == [
        remote["line_items"][0]["package_id"],
        remote["line_items"][1]["package_id"],
    ]
    # The first parcel splits the order (Mark Package As Shipped); the rest is then exactly
    # TikTok's remaining package (Batch Ship).
    marked = IntegrationLog.objects.filter(path=f"/fulfillment/202309/orders/{order_id}/packages")
    assert (marked.count(), IntegrationLog.objects.filter(path=SHIP).count()) == (1, 1)


def test_a_carrier_tiktok_does_not_know_fails_with_its_reason(
    tiktok_sandbox, tiktok_remote_shop, tiktok_shop
):
    order_ids = land_orders(tiktok_sandbox, tiktok_remote_shop, 1)
    pull(tiktok_shop)
    pack_and_ship(tiktok_shop, order_ids, carrier="Pony Express")

    report = TrackingPusher(tiktok_shop).push_due()

    upload = TrackingUpload.objects.get()
    assert (report.failed, upload.state) == (1, "failed")
    assert upload.last_error == (
        "carrier 'Pony Express' is not one of TikTok's shipping providers for this order"
    )
    assert IntegrationLog.objects.filter(path=SHIP).count() == 0
    assert tiktok_sandbox.store.get_order(order_ids[0])["status"] == "AWAITING_SHIPMENT"


def test_an_order_cancelled_on_tiktok_fails_without_a_ship_call(
    tiktok_sandbox, tiktok_remote_shop, tiktok_shop
):
    order_ids = land_orders(tiktok_sandbox, tiktok_remote_shop, 2)
    pull(tiktok_shop)
    tiktok_sandbox.store.cancel_order(order_ids[0], initiator="BUYER")
    pack_and_ship(tiktok_shop, order_ids)

    TrackingPusher(tiktok_shop).push_due()

    states = dict(
        TrackingUpload.objects.values_list("package__lines__order__remote_order_id", "state")
    )
    assert states == {order_ids[0]: "failed", order_ids[1]: "pushed"}
    failed = TrackingUpload.objects.get(state="failed")
    assert (failed.last_error_code, failed.last_error) == (
        "21011041",
        "the order was cancelled on TikTok",
    )


def test_a_failed_push_is_retried_later_with_backoff(
    tiktok_sandbox, tiktok_remote_shop, tiktok_shop, settings
):
    order_ids = land_orders(tiktok_sandbox, tiktok_remote_shop, 1)
    pull(tiktok_shop)
    pack_and_ship(tiktok_shop, order_ids)
    settings.HTTP_MAX_ATTEMPTS = 2
    tiktok_sandbox.faults.fail_next(2, "500")

    start = utcnow()
    with time_machine.travel(start, tick=False) as clock:
        first = TrackingPusher(tiktok_shop).push_due()
        after_first = TrackingUpload.objects.get()
        tiktok_sandbox.faults.fail_next(2, "429")
        clock.shift(timedelta(seconds=30))
        second = TrackingPusher(tiktok_shop).push_due()
        after_second = TrackingUpload.objects.get()
        clock.shift(timedelta(seconds=60))
        third = TrackingPusher(tiktok_shop).push_due()

    assert first.retry_later == 1
    assert after_first.attempts == 1
    assert after_first.next_attempt_at == start + timedelta(seconds=30)
    assert after_first.last_error_code == "36009003"
    assert second.retry_later == 1
    assert after_second.attempts == 2
    assert after_second.next_attempt_at == start + timedelta(seconds=30 + 60)
    assert after_second.last_error_code == "36009002"
    assert third.accepted == 1
    assert TrackingUpload.objects.get().state == "pushed"


def test_an_order_still_in_its_remorse_window_is_retried_later(
    tiktok_sandbox, tiktok_remote_shop, tiktok_shop
):
    tiktok_sandbox.store.add_product(
        tiktok_remote_shop.id, "Mug", skus=[{"seller_sku": "MUG", "price": "9.00"}]
    )
    order_id = tiktok_sandbox.store.create_order(tiktok_remote_shop.id, {"MUG": 1})
    pull(tiktok_shop)
    pack_and_ship(tiktok_shop, [order_id])

    report = TrackingPusher(tiktok_shop).push_due()

    upload = TrackingUpload.objects.get()
    assert (report.retry_later, upload.state, upload.attempts) == (1, "queued", 1)
    assert upload.last_error_code == "21011044"
    assert IntegrationLog.objects.filter(path=SHIP).count() == 0


# -- carrier names -------------------------------------------------------------------------------

PROVIDERS = [
    {"id": "1", "name": "USPS"},
    {"id": "2", "name": "UPS"},
    {"id": "3", "name": "FedEx"},
    {"id": "4", "name": "DHL eCommerce"},
]


@pytest.mark.parametrize(
    ("carrier", "provider_id"),
    [
        ("USPS", "1"),
        ("usps", "1"),
        ("United States Postal Service", "1"),
        ("UPS", "2"),
        ("Fed Ex", "3"),
        ("FEDEX", "3"),
        ("DHL", "4"),
        ("OnTrac", None),
    ],
)
def test_carriers_map_to_tiktok_providers(carrier: str, provider_id: str | None):
    assert match_provider(PROVIDERS, carrier) == provider_id


def test_only_tiktok_packages_with_tracking_can_be_pushed(db):
    from aftershow.orders.tests.factories import ShopFactory
    from aftershow.shops.models import Channel

    shopify = Package.objects.create(
        shop=ShopFactory(channel=Channel.SHOPIFY), carrier="USPS", tracking_number="1"
    )
    untracked = Package.objects.create(shop=ShopFactory(), carrier="USPS")

    with pytest.raises(ValueError, match="is not from a TikTok shop"):
        tracking_push_request(package=shopify)
    with pytest.raises(ValueError, match="has no tracking number or carrier yet"):
        tracking_push_request(package=untracked)
    assert TrackingUpload.objects.count() == 0


def test_a_tiktok_shipping_parcel_ships_as_its_labelled_package(
    tiktok_sandbox, tiktok_remote_shop, tiktok_shop
):
    (order_id,) = land_orders(tiktok_sandbox, tiktok_remote_shop, 1, shipping_type="TIKTOK")
    pull(tiktok_shop)
    remote = tiktok_sandbox.store.get_order(order_id)
    label = TikTokShippingProvider(tiktok_shop).buy(
        shipment=shipment_for(remote, tiktok_shop), quote=ground_advantage(), idempotency_key="k"
    )
    package = Package.objects.create(
        shop=tiktok_shop, carrier=label.carrier, tracking_number=label.tracking_number
    )
    Order.objects.get().lines.update(package=package)
    tracking_push_request(package=package)

    report = TrackingPusher(tiktok_shop).push_due()

    upload = TrackingUpload.objects.get()
    sandbox_package = tiktok_sandbox.fulfillment.package(label.remote_shipment_id)
    assert report.accepted == 1
    assert (upload.state, upload.is_platform_label, upload.remote_package_id) == (
        "pushed",
        True,
        label.remote_shipment_id,
    )
    assert (sandbox_package.accepted_ships, sandbox_package.handover_method) == (1, "DROP_OFF")
    assert tiktok_sandbox.store.get_order(order_id)["status"] == "AWAITING_COLLECTION"
    assert tracking_revision_refusal(package=package) == (
        "the tracking number of a TikTok Shipping label is TikTok's own and cannot be revised: "
        "buy a new label instead"
    )


def test_a_tiktok_shipping_parcel_without_its_label_is_not_shipped(
    tiktok_sandbox, tiktok_remote_shop, tiktok_shop
):
    order_ids = land_orders(tiktok_sandbox, tiktok_remote_shop, 1, shipping_type="TIKTOK")
    pull(tiktok_shop)
    pack_and_ship(tiktok_shop, order_ids)

    TrackingPusher(tiktok_shop).push_due()

    upload = TrackingUpload.objects.get()
    assert (upload.state, upload.last_error) == (
        "failed",
        "buy the TikTok Shipping label (Create Packages) before shipping",
    )
    assert IntegrationLog.objects.filter(path=SHIP).count() == 0


def test_an_order_with_a_pending_cancellation_request_fails_with_tiktoks_reason(
    tiktok_sandbox, tiktok_remote_shop, tiktok_shop
):
    order_ids = land_orders(tiktok_sandbox, tiktok_remote_shop, 1)
    pull(tiktok_shop)
    tiktok_sandbox.store.update_order(
        order_ids[0], lambda o: o.update(is_buyer_request_cancel=True)
    )
    pack_and_ship(tiktok_shop, order_ids)

    TrackingPusher(tiktok_shop).push_due()

    upload = TrackingUpload.objects.get()
    assert (upload.state, upload.last_error_code, upload.last_error) == (
        "failed",
        "21011046",
        "TikTok: The buyer has requested cancellation. Handle the request first.",
    )
    assert tiktok_sandbox.store.get_order(order_ids[0])["status"] == "AWAITING_SHIPMENT"
