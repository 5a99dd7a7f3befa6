"""Pushing tracking numbers to TikTok Shop: the worker side of :mod:`.tracking`.

``tracking_push_request(package=...)`` records what TikTok should show (a
:class:`~aftershow.integrations.models.TrackingUpload`) and queues one push task per shop. The
task (:class:`TrackingPusher`) claims up to 50 due uploads at a time and:

1. reads the orders on TikTok (Get Order Detail, 50 a call): a package whose lines TikTok
   already shows shipped with our tracking number is recorded as accepted without a call, so
   a push TikTok accepted is never sent again, even if we lost its answer;
2. maps the carrier to TikTok's ``shipping_provider_id`` (Get Shipping Providers for the
   order's delivery option, cached a day per shop);
3. combines a parcel's orders into one TikTok package first when it holds several orders
   (Combine Package, :mod:`.tracking_combine`), then
   ships with **Batch Ship Packages** when the parcel's lines are exactly one TikTok package
   (TikTok Shipping packages too, without ``self_shipment``), and with **Mark Package As
   Shipped** when they are part of a TikTok package or in none (our own split of an order);
4. treats "shipped twice" (``21011040``) as success once Get Package Detail (or the order's
   lines) shows our tracking number: that is a retry of a call whose answer was lost;
5. revises an accepted tracking number with Update Package Shipping Info, but only if TikTok
   would take it: once, within 72 hours of the first upload. Otherwise it is refused here,
   with the reason, before any call.

Throttling and 5xx are retried inside a call by :mod:`aftershow.core.http`; what still fails
is retried on a later run with exponential backoff (``attempts``, ``next_attempt_at``), and the
scheduler re-queues shops whose retries fall due.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any, TypeVar

from django.db import connection, transaction
from django.db.models import F, Q

from aftershow.core.http import ChannelError, RetryableChannelError
from aftershow.core.timeutils import utcnow
from aftershow.integrations.models import (
    TrackingUpload,
    TrackingUploadState,
)
from aftershow.integrations.tiktok.client import ORDER_DETAIL_MAX_IDS
from aftershow.integrations.tiktok.fulfillment import (
    BATCH_SHIP_MAX_PACKAGES,
    ORDER_CANCELLED,
    REMORSE_WINDOW,
    SHIPPED_TWICE,
    TRACKING_UPDATED_ONCE,
    CombinablePackage,
    OrderLinePackage,
    OrderPackages,
    SelfShipment,
    TikTokFulfillmentApi,
)
from aftershow.integrations.tiktok.sync import TikTokConnector
from aftershow.integrations.tiktok.tracking_combine import combine_orders, orders_to_combine
from aftershow.integrations.tiktok.tracking_rules import (
    SHIPPED_STATUSES,
    ProviderDirectory,
    revision_refusal,
)
from aftershow.orders.models import OrderLine
from aftershow.shops.models import Shop

T = TypeVar("T")

CLAIM_LEASE = timedelta(minutes=2)
RETRY_BASE = timedelta(seconds=30)
RETRY_MAX = timedelta(hours=1)
MAX_ATTEMPTS = 24


@dataclass
class PushReport:
    accepted: int = 0  # shipped or revised on TikTok by this run
    already_on_tiktok: int = 0  # found there already (an earlier answer was lost)
    failed: int = 0
    retry_later: int = 0


@dataclass
class _Plan:
    upload: TrackingUpload
    order: OrderPackages
    line_ids: list[str]
    remote_package_id: str = ""  # "" → Mark Package As Shipped
    provider_id: str = ""
    is_platform_label: bool = False  # TikTok Shipping: ship without self_shipment


@dataclass
class _Acceptance:
    upload: TrackingUpload
    remote_package_id: str
    provider_id: str
    order: OrderPackages | None
    revision: bool

    @property
    def sent(self) -> tuple[str, str]:
        return (self.upload.tracking_number, self.upload.carrier)


def _set_remote_package_ids(rows: list[tuple[str, int]]) -> None:
    """One prepared UPDATE run for every row: the one per-row value of an acceptance. (An
    ORM ``Case(When(pk=...))`` over 50 rows costs more to compile than the rest of the flush.)"""
    table = connection.ops.quote_name(TrackingUpload._meta.db_table)
    column = connection.ops.quote_name(
        str(TrackingUpload._meta.get_field("remote_package_id").column)
    )
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET {column} = %s WHERE id = %s", rows)  # noqa: S608


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class TrackingPusher:
    """Pushes one shop's due tracking uploads to TikTok (see the module docstring)."""

    def __init__(self, shop: Shop, *, connector: TikTokConnector | None = None) -> None:
        self.shop = shop
        self.connector = connector or TikTokConnector(shop)
        self.api = TikTokFulfillmentApi(self.connector.client)
        self.report = PushReport()
        self._acceptances: list[_Acceptance] = []
        self._combine_refusals: dict[tuple[str, ...], str] = {}
        self._offered: list[CombinablePackage] | None = None  # Search Combinable Packages
        self._directory = ProviderDirectory(
            shop, lambda option: self._call(self.api.get_shipping_providers, option)
        )

    def _call(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        # The connector refreshes an expired token and repeats the call once.
        return self.connector._authorized(partial(call, *args, **kwargs))

    def push_due(self, *, max_batches: int | None = None) -> PushReport:
        batches = 0
        while max_batches is None or batches < max_batches:
            claimed = self._claim()
            if not claimed:
                break
            batches += 1
            try:
                self._push([u for u in claimed if not u.pushed_tracking_number])
                for upload in claimed:
                    if upload.pushed_tracking_number:
                        self._revise(upload)
            finally:
                # Even when something unexpected escapes: what TikTok took is recorded.
                self._flush()
        return self.report

    def _claim(self) -> list[TrackingUpload]:
        now = utcnow()
        token = uuid.uuid4().hex
        claimable = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
        with transaction.atomic():
            due = TrackingUpload.objects.filter(
                claimable,
                shop=self.shop,
                state=TrackingUploadState.QUEUED,
                next_attempt_at__lte=now,
            ).order_by("next_attempt_at", "id")
            if connection.features.has_select_for_update_skip_locked:
                due = due.select_for_update(skip_locked=True)
            ids = list(due.values_list("id", flat=True)[:BATCH_SHIP_MAX_PACKAGES])
            if not ids:
                return []
            TrackingUpload.objects.filter(claimable, id__in=ids).update(
                claimed_until=now + CLAIM_LEASE, claim_token=token, updated_at=now
            )
        # Through the ids (the primary key), not the token: the token has no index, and the
        # table keeps a row for every parcel ever shipped.
        return list(TrackingUpload.objects.filter(id__in=ids, claim_token=token).order_by("id"))

    # -- first pushes -----------------------------------------------------------------------

    def _push(self, uploads: list[TrackingUpload]) -> None:
        if not uploads:
            return
        lines: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for package_id, order_id, line_id in OrderLine.objects.filter(
            package_id__in=[u.package_id for u in uploads]
        ).values_list("package_id", "order__remote_order_id", "remote_line_id"):
            lines[package_id].append((order_id, line_id))
        order_ids = sorted({order_id for rows in lines.values() for order_id, _ in rows})
        orders: dict[str, OrderPackages] = {}
        try:
            for chunk in _chunks(order_ids, ORDER_DETAIL_MAX_IDS):
                orders.update((o.id, o) for o in self._call(self.api.get_order_packages, chunk))
        except ChannelError as error:
            self._retry_later(uploads, error)
            return
        parcels = [sorted({order_id for order_id, _ in rows}) for rows in lines.values()]
        try:  # a parcel of several orders: TikTok must hold them as one package first
            combining, self._offered = combine_orders(
                self.api, self._call, orders_to_combine(parcels, orders), offered=self._offered
            )
            for chunk in _chunks(sorted(combining.combined), ORDER_DETAIL_MAX_IDS):
                orders.update((o.id, o) for o in self._call(self.api.get_order_packages, chunk))
        except ChannelError as error:
            self._retry_later(uploads, error)
            return
        self._combine_refusals = combining.refusals
        plans = []
        for upload in uploads:
            try:
                plan = self._plan(upload, lines.get(upload.package_id, []), orders)
            except RetryableChannelError as error:  # Get Shipping Providers
                self._retry_later([upload], error)
                continue
            except ChannelError as error:
                self._fail(upload, str(error), code=error.code)
                continue
            if plan is not None:
                plans.append(plan)
        self._batch_ship([p for p in plans if p.remote_package_id])
        for plan in plans:
            if not plan.remote_package_id:
                self._mark_shipped(plan)

    def _plan(
        self, upload: TrackingUpload, rows: list[tuple[str, str]], orders: dict[str, OrderPackages]
    ) -> _Plan | None:
        """How to push ``upload``; None when settled here (already on TikTok, or refused)."""
        if not rows:
            self._fail(upload, "the package holds no order lines")
            return None
        order_ids = sorted({order_id for order_id, _ in rows})
        missing = [order_id for order_id in order_ids if order_id not in orders]
        if missing:
            self._retry_later([upload], ChannelError(f"TikTok did not return order {missing[0]}"))
            return None
        remote_lines = {line.id: line for o in order_ids for line in orders[o].line_items}
        line_ids = [line_id for _, line_id in rows]
        if any(line_id not in remote_lines for line_id in line_ids):
            self._fail(upload, "a line of the package is not on the TikTok order")
            return None
        mine = [remote_lines[line_id] for line_id in line_ids]
        order = orders[order_ids[0]]
        statuses = {orders[o].status for o in order_ids}
        if "CANCELLED" in statuses:
            self._fail(upload, "the order was cancelled on TikTok", code=ORDER_CANCELLED)
            return None
        if "ON_HOLD" in statuses:
            self._retry_later([upload], ChannelError("remorse window", code=REMORSE_WINDOW))
            return None
        if all(line.display_status in SHIPPED_STATUSES for line in mine):
            if all(line.tracking_number == upload.tracking_number for line in mine):
                self._accepted(
                    upload,
                    remote_package_id=mine[0].package_id,
                    provider_id=mine[0].shipping_provider_id,
                    order=order,
                    found=True,
                )
            else:
                self._fail(upload, f"TikTok shows it shipped as {mine[0].tracking_number}")
            return None
        package_ids = {line.package_id for line in mine}
        package_id = package_ids.pop() if len(package_ids) == 1 else ""
        if order.shipping_type == "TIKTOK":
            return self._plan_platform_label(upload, order, line_ids, package_id, mine[0])
        provider_id = self._directory.provider_id(order.delivery_option_id, upload.carrier)
        if provider_id is None:
            self._fail(
                upload,
                f"carrier {upload.carrier!r} is not one of TikTok's shipping providers for "
                "this order",
            )
            return None
        if package_id:
            package_lines = {
                line.id
                for o in order_ids
                for line in orders[o].line_items
                if line.package_id == package_id
            }
            if package_lines == set(line_ids):
                return _Plan(upload, order, line_ids, package_id, provider_id)
        if len(order_ids) > 1:
            why = self._combine_refusals.get(tuple(order_ids), "")
            self._fail(
                upload,
                "the parcel holds several orders that TikTok would not combine into one "
                f"package{': ' + why if why else ''}; ship them as separate parcels",
            )
            return None
        return _Plan(upload, order, line_ids, "", provider_id)

    def _plan_platform_label(
        self,
        upload: TrackingUpload,
        order: OrderPackages,
        line_ids: list[str],
        package_id: str,
        first_line: OrderLinePackage,
    ) -> _Plan | None:
        """A TikTok Shipping parcel ships as the package its label was bought for."""
        if not package_id or not first_line.tracking_number:
            self._fail(upload, "buy the TikTok Shipping label (Create Packages) before shipping")
            return None
        if first_line.tracking_number != upload.tracking_number:
            self._fail(
                upload,
                f"the parcel's tracking {upload.tracking_number} is not its TikTok Shipping "
                f"label's ({first_line.tracking_number})",
            )
            return None
        package_lines = {line.id for line in order.line_items if line.package_id == package_id}
        if package_lines != set(line_ids):
            self._fail(upload, "the TikTok Shipping label covers other lines than this parcel")
            return None
        return _Plan(upload, order, line_ids, package_id, is_platform_label=True)

    # -- the calls --------------------------------------------------------------------------

    def _batch_ship(self, plans: list[_Plan]) -> None:
        for chunk in _chunks(plans, BATCH_SHIP_MAX_PACKAGES):
            shipments = [
                SelfShipment(plan.remote_package_id)
                if plan.is_platform_label
                else SelfShipment(
                    plan.remote_package_id, plan.upload.tracking_number, plan.provider_id
                )
                for plan in chunk
            ]
            try:
                errors = self._call(self.api.batch_ship, shipments)
            except RetryableChannelError as error:
                self._retry_later([plan.upload for plan in chunk], error)
                continue
            except ChannelError as error:
                for plan in chunk:
                    self._fail(plan.upload, f"TikTok refused the batch: {error}", code=error.code)
                continue
            refused = {error.detail.package_id: error for error in errors}
            if set(refused) - {plan.remote_package_id for plan in chunk}:
                # An error TikTok did not attribute: the next run's check of the orders
                # tells what was shipped.
                self._retry_later(
                    [plan.upload for plan in chunk], ChannelError("unattributed batch errors")
                )
                continue
            for plan in chunk:
                refusal = refused.get(plan.remote_package_id)
                if refusal is None:
                    self._accepted(plan.upload, plan=plan)
                elif str(refusal.code) == SHIPPED_TWICE:
                    self._verify_shipped(plan)
                elif str(refusal.code) == REMORSE_WINDOW:
                    self._retry_later(
                        [plan.upload], ChannelError(refusal.message, code=REMORSE_WINDOW)
                    )
                else:
                    self._fail(plan.upload, f"TikTok: {refusal.message}", code=str(refusal.code))

    def _verify_shipped(self, plan: _Plan) -> None:
        """ "Shipped twice": ours if TikTok shows the package shipped with our tracking."""
        try:
            detail = self._call(self.api.get_package_detail, plan.remote_package_id)
        except RetryableChannelError as error:
            self._retry_later([plan.upload], error)
            return
        except ChannelError as error:
            self._fail(plan.upload, str(error), code=error.code)
            return
        if detail.tracking_number == plan.upload.tracking_number and detail.package_status not in (
            "",
            "PROCESSING",
        ):
            self._accepted(plan.upload, plan=plan, found=True)
        else:
            self._fail(
                plan.upload,
                f"TikTok already shipped package {plan.remote_package_id} as "
                f"{detail.tracking_number}",
                code=SHIPPED_TWICE,
            )

    def _mark_shipped(self, plan: _Plan) -> None:
        upload = plan.upload
        try:
            marked = self._call(
                self.api.mark_package_shipped,
                plan.order.id,
                line_item_ids=plan.line_ids,
                tracking_number=upload.tracking_number,
                shipping_provider_id=plan.provider_id,
            )
        except RetryableChannelError as error:
            self._retry_later([upload], error)
            return
        except ChannelError as error:
            if error.code == REMORSE_WINDOW:
                self._retry_later([upload], error)
            elif error.code == SHIPPED_TWICE:
                self._verify_marked(plan)
            else:
                self._fail(upload, str(error), code=error.code)
            return
        plan.remote_package_id = marked.package_id
        self._accepted(upload, plan=plan)

    def _verify_marked(self, plan: _Plan) -> None:
        """ "Shipped twice" after Mark Package As Shipped: ours if the lines show our tracking."""
        try:
            (order,) = self._call(self.api.get_order_packages, [plan.order.id])
        except RetryableChannelError as error:
            self._retry_later([plan.upload], error)
            return
        except ChannelError as error:
            self._fail(plan.upload, str(error), code=error.code)
            return
        lines = [line for line in order.line_items if line.id in plan.line_ids]
        if lines and all(
            line.tracking_number == plan.upload.tracking_number
            and line.display_status in SHIPPED_STATUSES
            for line in lines
        ):
            plan.remote_package_id = lines[0].package_id
            self._accepted(plan.upload, plan=plan, found=True)
        else:
            shown = lines[0].tracking_number if lines else ""
            self._fail(plan.upload, f"TikTok shows it shipped as {shown}", code=SHIPPED_TWICE)

    def _revise(self, upload: TrackingUpload) -> None:
        refusal = revision_refusal(upload, utcnow())
        if refusal is not None:
            self._fail(upload, f"not sent to TikTok: {refusal}", code="revision_refused")
            return
        provider_id: str | None = ""
        try:
            provider_id = self._directory.provider_id(upload.delivery_option_id, upload.carrier)
            if provider_id is None:
                self._fail(upload, f"carrier {upload.carrier!r} is not a TikTok shipping provider")
                return
            self._call(
                self.api.update_package_shipping_info,
                upload.remote_package_id,
                tracking_number=upload.tracking_number,
                shipping_provider_id=provider_id,
            )
        except RetryableChannelError as error:
            self._retry_later([upload], error)
            return
        except ChannelError as error:
            if error.code != TRACKING_UPDATED_ONCE:
                self._fail(upload, f"TikTok refused the revision: {error}", code=error.code)
                return
            # "Updated once already": ours, if it is the retry of a call whose answer was lost.
            try:
                detail = self._call(self.api.get_package_detail, upload.remote_package_id)
            except RetryableChannelError as lookup_error:
                self._retry_later([upload], lookup_error)
                return
            except ChannelError:
                detail = None
            if detail is None or detail.tracking_number != upload.tracking_number:
                self._fail(upload, f"TikTok refused the revision: {error}", code=error.code)
                return
            self._accepted(upload, revision=True, found=True, provider_id=provider_id or "")
            return
        self._accepted(upload, revision=True, provider_id=provider_id or "")

    # -- outcomes ---------------------------------------------------------------------------

    def _accepted(
        self,
        upload: TrackingUpload,
        *,
        plan: _Plan | None = None,
        order: OrderPackages | None = None,
        remote_package_id: str = "",
        provider_id: str = "",
        found: bool = False,
        revision: bool = False,
    ) -> None:
        """TikTok shows ``upload``'s tracking: recorded by :meth:`_flush`, a batch at a time."""
        order = plan.order if plan is not None else order
        self._acceptances.append(
            _Acceptance(
                upload=upload,
                remote_package_id=(plan.remote_package_id if plan else "") or remote_package_id,
                provider_id=(plan.provider_id if plan else "") or provider_id,
                order=order,
                revision=revision,
            )
        )
        if found:
            self.report.already_on_tiktok += 1
        else:
            self.report.accepted += 1

    def _flush(self) -> None:
        """Record the acceptances in one transaction.

        The usual case (a first push, nothing asked meanwhile) is one UPDATE per group of
        rows sharing provider and delivery option, the TikTok package ids in one CASE; the
        rest is one UPDATE a row with plain values. Django's ``bulk_update`` (one CASE per
        field) and per-row expressions cost milliseconds a row here.
        """
        if not self._acceptances:
            return
        now = utcnow()
        with transaction.atomic():
            current = {
                row[0]: row[1:]
                for row in TrackingUpload.objects.select_for_update()
                .filter(pk__in=[acceptance.upload.pk for acceptance in self._acceptances])
                .values_list("pk", "tracking_number", "carrier", "first_pushed_at", "revisions")
            }
            common = {
                "last_pushed_at": now,
                "updated_at": now,
                "next_attempt_at": now,
                "attempts": 0,
                "claimed_until": None,
                "claim_token": "",
                "last_error_code": "",
                "last_error": "",
            }
            groups: dict[tuple[str, str, bool], list[_Acceptance]] = defaultdict(list)
            for acceptance in self._acceptances:
                tracking, carrier, first_pushed_at, revisions = current[acceptance.upload.pk]
                where = self._where(acceptance)
                if (
                    (tracking, carrier) == acceptance.sent
                    and first_pushed_at is None
                    and not acceptance.revision
                    and acceptance.remote_package_id
                    and acceptance.provider_id
                    and acceptance.order is not None
                ):
                    groups[where].append(acceptance)
                    continue
                values: dict[str, Any] = {
                    **common,
                    "pushed_tracking_number": acceptance.sent[0],
                    "pushed_carrier": acceptance.sent[1],
                    "first_pushed_at": first_pushed_at or now,
                    "revisions": revisions + int(acceptance.revision),
                    # A new tracking number asked for while this one was on its way: next.
                    "state": TrackingUploadState.PUSHED
                    if (tracking, carrier) == acceptance.sent
                    else TrackingUploadState.QUEUED,
                }
                if acceptance.remote_package_id:
                    values["remote_package_id"] = acceptance.remote_package_id
                if acceptance.provider_id:
                    values["shipping_provider_id"] = acceptance.provider_id
                if acceptance.order is not None:
                    values["delivery_option_id"], _, values["is_platform_label"] = where
                TrackingUpload.objects.filter(pk=acceptance.upload.pk).update(**values)
            for (delivery_option_id, provider_id, is_platform_label), rows in groups.items():
                TrackingUpload.objects.filter(pk__in=[a.upload.pk for a in rows]).update(
                    **common,
                    state=TrackingUploadState.PUSHED,
                    pushed_tracking_number=F("tracking_number"),
                    pushed_carrier=F("carrier"),
                    first_pushed_at=now,
                    shipping_provider_id=provider_id,
                    delivery_option_id=delivery_option_id,
                    is_platform_label=is_platform_label,
                )
                _set_remote_package_ids([(a.remote_package_id, a.upload.pk) for a in rows])
        self._acceptances.clear()

    @staticmethod
    def _where(acceptance: _Acceptance) -> tuple[str, str, bool]:
        order = acceptance.order
        if order is None:
            return ("", acceptance.provider_id, False)
        return (order.delivery_option_id, acceptance.provider_id, order.shipping_type == "TIKTOK")

    def _fail(self, upload: TrackingUpload, reason: str, *, code: str = "") -> None:
        """Refused: a person has to act (the reason says what). Unless the request changed
        meanwhile: then the new request stays queued."""
        claimed = TrackingUpload.objects.filter(pk=upload.pk, claim_token=upload.claim_token)
        claimed.filter(tracking_number=upload.tracking_number, carrier=upload.carrier).update(
            state=TrackingUploadState.FAILED, last_error=reason, last_error_code=code[:40]
        )
        claimed.update(claimed_until=None, claim_token="", updated_at=utcnow())
        self.report.failed += 1

    def _retry_later(self, uploads: list[TrackingUpload], error: ChannelError) -> None:
        now = utcnow()
        for upload in uploads:
            attempts = upload.attempts + 1
            if attempts >= MAX_ATTEMPTS:
                self._fail(upload, f"gave up after {attempts} attempts: {error}", code=error.code)
                continue
            delay = min(RETRY_BASE * 2 ** (attempts - 1), RETRY_MAX)
            if isinstance(error, RetryableChannelError) and error.retry_after:
                delay = max(delay, timedelta(seconds=error.retry_after))
            TrackingUpload.objects.filter(pk=upload.pk, claim_token=upload.claim_token).update(
                attempts=attempts,
                next_attempt_at=now + delay,
                last_error=str(error),
                last_error_code=error.code[:40],
                claimed_until=None,
                claim_token="",
                updated_at=now,
            )
            self.report.retry_later += 1
