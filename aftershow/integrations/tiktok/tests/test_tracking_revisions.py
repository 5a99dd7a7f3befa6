"""Revising an accepted tracking number: once, within 72 hours, refused here before any call
when TikTok would refuse it."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from aftershow.audit.models import IntegrationLog
from aftershow.fulfillment.models import Package
from aftershow.integrations.models import TrackingUpload
from aftershow.integrations.tiktok.tests.test_tracking import (
    UPDATE,
    land_orders,
    pack_and_ship,
    pull,
    tracking_for,
)
from aftershow.integrations.tiktok.tracking import (
    TrackingRevisionRefused,
    tracking_push_request,
    tracking_pushes_request,
    tracking_revision_refusal,
)
from aftershow.integrations.tiktok.tracking_push import TrackingPusher


@pytest.fixture(autouse=True)
def _fast_retries(settings):
    settings.HTTP_MAX_RETRY_WAIT_SECONDS = 0.01


def revise(package: Package, tracking: str, carrier: str = "USPS") -> TrackingUpload:
    package.tracking_number, package.carrier = tracking, carrier
    package.save(update_fields=["tracking_number", "carrier"])
    return tracking_push_request(package=package)


def test_an_accepted_tracking_number_can_be_revised_once(
    tiktok_sandbox, tiktok_remote_shop, tiktok_shop
):
    order_ids = land_orders(tiktok_sandbox, tiktok_remote_shop, 1)
    pull(tiktok_shop)
    (package,) = pack_and_ship(tiktok_shop, order_ids)
    TrackingPusher(tiktok_shop).push_due()

    revise(package, "1Z999AA10123456784", "UPS")
    report = TrackingPusher(tiktok_shop).push_due()
    with pytest.raises(TrackingRevisionRefused) as refused:
        revise(package, tracking_for(7))

    remote = tiktok_sandbox.store.get_order(order_ids[0])
    upload = TrackingUpload.objects.get()
    assert report.accepted == 1
    assert (remote["tracking_number"], remote["shipping_provider"]) == ("1Z999AA10123456784", "UPS")
    assert (upload.state, upload.revisions, upload.pushed_tracking_number) == (
        "pushed",
        1,
        "1Z999AA10123456784",
    )
    assert upload.tracking_number == "1Z999AA10123456784"  # the refused request changed nothing
    assert refused.value.reason == (
        f"TikTok allows one tracking revision per package and package {package.pk} was "
        "already revised (it shows 1Z999AA10123456784)"
    )
    remote_id = remote["packages"][0]["id"]
    assert IntegrationLog.objects.filter(path=UPDATE.format(remote_id)).count() == 1


def test_a_revision_after_72_hours_is_refused_before_calling_tiktok(
    tiktok_sandbox, tiktok_remote_shop, tiktok_shop
):
    order_ids = land_orders(tiktok_sandbox, tiktok_remote_shop, 1)
    pull(tiktok_shop)
    (package,) = pack_and_ship(tiktok_shop, order_ids)
    TrackingPusher(tiktok_shop).push_due()
    first_push = TrackingUpload.objects.get().first_pushed_at

    with time_machine.travel(first_push + timedelta(hours=71, minutes=54, seconds=59), tick=False):
        still_open = tracking_revision_refusal(package=package)
    with time_machine.travel(first_push + timedelta(hours=71, minutes=55), tick=False):
        closed = tracking_revision_refusal(package=package)
        with pytest.raises(TrackingRevisionRefused) as refused:
            revise(package, tracking_for(9))

    assert still_open is None
    assert closed == refused.value.reason
    assert refused.value.reason == (
        "TikTok accepts a revision only within 72 hours of the first upload "
        f"({first_push:%Y-%m-%d %H:%M} UTC); the window closed at "
        f"{first_push + timedelta(hours=71, minutes=55):%Y-%m-%d %H:%M} UTC"
    )
    assert TrackingUpload.objects.get().tracking_number == tracking_for(0)
    assert not IntegrationLog.objects.filter(path__endswith="/shipping_info/update").exists()


def test_a_revision_queued_in_time_but_pushed_too_late_is_not_sent(
    tiktok_sandbox, tiktok_remote_shop, tiktok_shop
):
    order_ids = land_orders(tiktok_sandbox, tiktok_remote_shop, 1)
    pull(tiktok_shop)
    (package,) = pack_and_ship(tiktok_shop, order_ids)
    TrackingPusher(tiktok_shop).push_due()
    first_push = TrackingUpload.objects.get().first_pushed_at
    revise(package, tracking_for(9))  # in time, but TikTok is down until the window closes

    with time_machine.travel(first_push + timedelta(hours=72), tick=False):
        report = TrackingPusher(tiktok_shop).push_due()

    upload = TrackingUpload.objects.get()
    assert (report.failed, upload.state, upload.last_error_code) == (
        1,
        "failed",
        "revision_refused",
    )
    assert upload.last_error.startswith("not sent to TikTok: TikTok accepts a revision only")
    assert not IntegrationLog.objects.filter(path__endswith="/shipping_info/update").exists()
    assert tiktok_sandbox.store.get_order(order_ids[0])["tracking_number"] == tracking_for(0)


def test_a_new_tracking_before_the_first_was_accepted_simply_replaces_it(
    tiktok_sandbox, tiktok_remote_shop, tiktok_shop
):
    order_ids = land_orders(tiktok_sandbox, tiktok_remote_shop, 1)
    pull(tiktok_shop)
    (package,) = pack_and_ship(tiktok_shop, order_ids)

    revise(package, tracking_for(5))
    TrackingPusher(tiktok_shop).push_due()

    upload = TrackingUpload.objects.get()
    assert (upload.revisions, upload.pushed_tracking_number) == (0, tracking_for(5))
    assert tiktok_sandbox.store.get_order(order_ids[0])["tracking_number"] == tracking_for(5)


def test_a_whole_batch_is_requested_at_once_and_refusals_are_listed(
    tiktok_sandbox, tiktok_remote_shop, tiktok_shop
):
    order_ids = land_orders(tiktok_sandbox, tiktok_remote_shop, 3)
    pull(tiktok_shop)
    packages = pack_and_ship(tiktok_shop, order_ids)
    TrackingPusher(tiktok_shop).push_due()
    revise(packages[0], tracking_for(10))
    TrackingPusher(tiktok_shop).push_due()
    for index, package in enumerate(packages):
        package.tracking_number = tracking_for(20 + index)

    refused = tracking_pushes_request(packages=packages)

    assert list(refused) == [packages[0].pk]
    assert refused[packages[0].pk].startswith("TikTok allows one tracking revision per package")
    uploads = list(TrackingUpload.objects.order_by("package_id"))
    assert [(u.state, u.tracking_number) for u in uploads] == [
        ("pushed", tracking_for(10)),
        ("queued", tracking_for(21)),
        ("queued", tracking_for(22)),
    ]


def test_a_revision_whose_answer_was_lost_counts_once(
    tiktok_sandbox, tiktok_remote_shop, tiktok_shop
):
    order_ids = land_orders(tiktok_sandbox, tiktok_remote_shop, 1)
    pull(tiktok_shop)
    (package,) = pack_and_ship(tiktok_shop, order_ids)
    TrackingPusher(tiktok_shop).push_due()
    revise(package, tracking_for(3))
    tiktok_sandbox.fulfillment.lose_responses(next_count=1)

    report = TrackingPusher(tiktok_shop).push_due()

    upload = TrackingUpload.objects.get()
    sandbox_package = tiktok_sandbox.fulfillment.package(upload.remote_package_id)
    assert (report.accepted, report.already_on_tiktok) == (0, 1)
    assert (upload.state, upload.revisions, upload.pushed_tracking_number) == (
        "pushed",
        1,
        tracking_for(3),
    )
    assert (sandbox_package.tracking_updates, sandbox_package.tracking_number) == (
        1,
        tracking_for(3),
    )
    assert tiktok_sandbox.fulfillment.rejections == {21011050: 1}
