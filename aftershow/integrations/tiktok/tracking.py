"""Tracking push-back to TikTok Shop: the services the scan station and the UI call.

``tracking_push_request(package=...)`` records what TikTok should show for a shipped package
(a :class:`~aftershow.integrations.models.TrackingUpload`) and queues one push task per shop;
:mod:`.tracking_push` does the pushing (batched, retried, idempotent). A new tracking number
for a package TikTok already accepted is a revision: TikTok takes one, within 72 hours of the
first upload, so one it would refuse is refused here, with the reason, before any call.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from functools import partial

from django.db import transaction

from aftershow.core.timeutils import utcnow
from aftershow.fulfillment.models import Package
from aftershow.integrations.models import TrackingUpload, TrackingUploadState
from aftershow.integrations.services import cursor_task_claim_enqueue
from aftershow.integrations.tiktok.fulfillment import BATCH_SHIP_MAX_PACKAGES
from aftershow.integrations.tiktok.tasks import push_tracking
from aftershow.integrations.tiktok.tracking_rules import PUSH_CURSOR, revision_refusal
from aftershow.orders.bulk import RowInsert
from aftershow.shops.models import Channel, Shop

# Uploads queued at once above which a second push task is queued (two Batch Ship calls' worth).
PARALLEL_PUSH_MIN_UPLOADS = 2 * BATCH_SHIP_MAX_PACKAGES


class TrackingRevisionRefused(Exception):
    """TikTok would refuse this revision (one only, within 72 h): nothing was changed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def tracking_revision_refusal(*, package: Package, now: datetime | None = None) -> str | None:
    """Why TikTok would refuse a new tracking number for ``package`` now, or None if it would
    take one (or nothing was pushed yet)."""
    upload = TrackingUpload.objects.filter(package=package).first()
    return None if upload is None else revision_refusal(upload, now or utcnow())


def tracking_pushed_by_api(shop: Shop) -> bool:
    """Whether ``shop``'s tracking numbers go to TikTok through the Partner API. A TikTok shop
    served through files (no API address: ``aftershow.imports.tracking``) gets them into
    TikTok with the bulk upload file instead, so nothing is pushed for it."""
    return shop.channel == Channel.TIKTOK and bool(shop.api_base_url)


def _check(package: Package) -> None:
    if package.shop.channel != Channel.TIKTOK:
        raise ValueError(f"package {package.pk} is not from a TikTok shop")
    if not package.tracking_number or not package.carrier:
        raise ValueError(f"package {package.pk} has no tracking number or carrier yet")


def _new_upload(package: Package, now: datetime) -> TrackingUpload:
    return TrackingUpload(
        package=package,
        shop_id=package.shop_id,
        tracking_number=package.tracking_number,
        carrier=package.carrier,
        requested_at=now,
        next_attempt_at=now,
    )


def _request_again(upload: TrackingUpload, package: Package, now: datetime) -> str | None:
    """Apply a new request to an existing upload; the refusal reason when TikTok would refuse
    it (then nothing changes)."""
    wanted = (package.tracking_number, package.carrier)
    accepted = (upload.pushed_tracking_number, upload.pushed_carrier)
    if wanted == accepted:
        if upload.state != TrackingUploadState.PUSHED or wanted != (
            upload.tracking_number,
            upload.carrier,
        ):
            upload.tracking_number, upload.carrier = wanted
            upload.state = TrackingUploadState.PUSHED
            upload.last_error_code = upload.last_error = ""
            upload.save()
        return None
    if wanted == (upload.tracking_number, upload.carrier) and (
        upload.state == TrackingUploadState.QUEUED
    ):
        return None  # already on its way
    if upload.pushed_tracking_number:
        refusal = revision_refusal(upload, now)
        if refusal is not None:
            return refusal
    upload.tracking_number, upload.carrier = wanted
    upload.state = TrackingUploadState.QUEUED
    upload.requested_at = upload.next_attempt_at = now
    upload.attempts = 0
    upload.last_error_code = upload.last_error = ""
    upload.save()
    return None


def _enqueue_push(shop: Shop, *, uploads: int = 1) -> None:
    """Queue the shop's push task, unless one is queued already. A whole batch shipped at once
    (more than two of TikTok's 50-package batches) also gets a second task: on a deployment's
    two ``db_worker`` processes the two push disjoint batches side by side (each claims its
    own 50 at a time), on two cores."""
    if cursor_task_claim_enqueue(shop=shop, kind=PUSH_CURSOR):
        transaction.on_commit(partial(push_tracking.enqueue, shop.pk))
    if uploads > PARALLEL_PUSH_MIN_UPLOADS:
        transaction.on_commit(partial(push_tracking.enqueue, shop.pk))


def tracking_push_request(*, package: Package) -> TrackingUpload:
    """Queue the push of ``package``'s tracking number and carrier to TikTok.

    Call it once the package is marked shipped (``transaction.on_commit`` is fine). Asking
    again with the same tracking changes nothing; with a new one before TikTok accepted the
    first, it replaces it; after, it is a revision, refused with :class:`TrackingRevisionRefused`
    when TikTok would refuse it. A failed push asked for again is tried again.
    """
    _check(package)
    now = utcnow()
    with transaction.atomic():
        upload = TrackingUpload.objects.select_for_update().filter(package=package).first()
        if upload is None:
            upload = _new_upload(package, now)
            upload.save()
        else:
            refusal = _request_again(upload, package, now)
            if refusal is not None:
                raise TrackingRevisionRefused(refusal)
        if upload.state == TrackingUploadState.QUEUED:
            _enqueue_push(package.shop)
    return upload


def tracking_pushes_request(*, packages: Sequence[Package]) -> dict[int, str]:
    """:func:`tracking_push_request` for many packages in one transaction (a whole batch
    shipped at once). Returns the refused revisions: package id → reason."""
    for package in packages:
        _check(package)
    now = utcnow()
    refused: dict[int, str] = {}
    with transaction.atomic():
        existing = {
            upload.package_id: upload
            for upload in TrackingUpload.objects.select_for_update().filter(
                package__in=[package.pk for package in packages]
            )
        }
        # Plain rows, not model instances: a whole batch ships at once (the other columns
        # take their defaults, as ``_new_upload`` leaves them).
        RowInsert(
            TrackingUpload,
            ["package", "shop", "tracking_number", "carrier", "requested_at", "next_attempt_at"],
        ).execute(
            (p.pk, p.shop_id, p.tracking_number, p.carrier, now, now)
            for p in packages
            if p.pk not in existing
        )
        for package in packages:
            upload = existing.get(package.pk)
            if upload is not None:
                refusal = _request_again(upload, package, now)
                if refusal is not None:
                    refused[package.pk] = refusal
        per_shop = Counter(package.shop_id for package in packages)
        for shop in {package.shop_id: package.shop for package in packages}.values():
            _enqueue_push(shop, uploads=per_shop[shop.pk])
    return refused


def tracking_push_retry(*, upload: TrackingUpload) -> None:
    """Queue a failed push again, e.g. once a person fixed what TikTok refused."""
    TrackingUpload.objects.filter(pk=upload.pk, state=TrackingUploadState.FAILED).update(
        state=TrackingUploadState.QUEUED, attempts=0, next_attempt_at=utcnow()
    )
