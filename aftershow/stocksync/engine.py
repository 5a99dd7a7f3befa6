"""The sync engine: stock changes in, each channel's absolute quantity out, coalesced.

One pass:

1. :func:`changes_apply` turns the :class:`StockChange` marks into targets: for every listing of
   a changed SKU (and of the bundles built from it) the quantity the channel should hold is
   recomputed from the stock *now* through the channel buffer; a listing whose target moved
   gets a new idempotency key and is due. The marks read are deleted in the same transaction,
   so a crash before the commit leaves them for the next pass.
2. :func:`push_due` sends every due listing's latest target, grouped per shop, one
   ``push_quantities`` per shop (the connector batches: eBay 25 a call, Shopify 250 quantities
   a mutation), shops in parallel threads, and records each answer with a conditional update
   on the target's key: a value superseded while it was in flight never marks the listing in
   sync.

Coalescing is structural: a burst of sales between two passes is one target per listing, and
one push carries it. Failures wait (Retry-After when the channel said, else exponential backoff
with jitter) and are retried; nothing lives in memory between passes, so a killed run's work is
simply found again by the next one.

:func:`engine_run` loops passes while there is work, holding a lease so one engine runs at a
time; it exits when idle and the next stock change wakes it (:mod:`aftershow.stocksync.marks`).
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.db.models import F, Min, Q, Sum

from aftershow.catalog.models import BundleComponent, ChannelListing
from aftershow.core.http import ChannelError, Exchange, Recorder
from aftershow.core.timeutils import utcnow
from aftershow.integrations.inventory_push import (
    InventoryChannel,
    PushResult,
    PushStatus,
    QuantityUpdate,
    results_for_error,
)
from aftershow.integrations.services import integration_log_record
from aftershow.inventory.models import StockLevel
from aftershow.shops.models import Shop
from aftershow.stocksync.channels import inventory_channel_for
from aftershow.stocksync.marks import LEASE_NAME, engine_wake
from aftershow.stocksync.models import (
    ChannelBuffer,
    EngineLease,
    ListingSync,
    StockChange,
    SyncStatus,
    listed_quantity,
)

logger = logging.getLogger(__name__)

CHANGES_PER_PASS = 2000
DUE_PER_PASS = 2000
LEASE = timedelta(seconds=60)
MAX_BACKOFF_SECONDS = 300.0
STALE_RETRY = timedelta(milliseconds=50)
# Channels whose stock API takes one SKU per call, paced by the connector (Amazon's Listings
# Items PATCH, 5 a second): pushed one listing per call, see _push_shop_due_in_thread.
ONE_SKU_PER_CALL = frozenset({"amazon"})
ONE_PER_CALL_TURN = 10.0


def _setting(name: str, default: float) -> float:
    value: float = float(getattr(settings, name, default))
    return value


def new_key() -> str:
    return uuid.uuid4().hex


def backoff_seconds(attempts: int, *, rng: random.Random | None = None) -> float:
    """0.5 s, 1 s, 2 s … capped at 5 minutes, with ±20 % jitter so retries spread out."""
    base: float = min(MAX_BACKOFF_SECONDS, 0.5 * 2.0 ** max(attempts - 1, 0))
    jitter: float = 0.8 + 0.4 * (rng or random.Random()).random()
    return base * jitter


# -- what each listing should hold ---------------------------------------------------------


def available_by_sku(sku_ids: Iterable[int]) -> dict[int, int]:
    """Sellable units per SKU across warehouses; a bundle's is what its components allow."""
    ids = set(sku_ids)
    components: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for bundle_id, component_id, quantity in BundleComponent.objects.filter(
        bundle_id__in=ids
    ).values_list("bundle_id", "component_id", "quantity"):
        components[bundle_id].append((component_id, quantity))
    wanted = ids | {c for parts in components.values() for c, _ in parts}
    sums = (
        StockLevel.objects.filter(sku_id__in=wanted)
        .values("sku_id")
        .annotate(sellable=Sum(F("on_hand") - F("allocated")))
        .values_list("sku_id", "sellable")
    )
    available = {sku_id: int(sellable or 0) for sku_id, sellable in sums}
    result = {}
    for sku_id in ids:
        parts = components.get(sku_id)
        if parts:
            result[sku_id] = min(available.get(c, 0) // max(q, 1) for c, q in parts)
        else:
            result[sku_id] = available.get(sku_id, 0)
    return result


def affected_skus(sku_ids: Iterable[int]) -> set[int]:
    """The SKUs themselves and every bundle that contains one of them."""
    ids = set(sku_ids)
    bundles = BundleComponent.objects.filter(component_id__in=ids).values_list(
        "bundle_id", flat=True
    )
    return ids | set(bundles)


def buffers_for(
    shop_ids: Iterable[int], sku_ids: Iterable[int]
) -> dict[tuple[int, int | None], ChannelBuffer]:
    rows = ChannelBuffer.objects.filter(shop_id__in=set(shop_ids)).filter(
        Q(sku__isnull=True) | Q(sku_id__in=set(sku_ids))
    )
    return {(row.shop_id, row.sku_id): row for row in rows}


def target_for(
    buffers: dict[tuple[int, int | None], ChannelBuffer],
    *,
    shop_id: int,
    sku_id: int,
    available: int,
) -> int:
    buffer = buffers.get((shop_id, sku_id)) or buffers.get((shop_id, None))
    return buffer.listed(available) if buffer is not None else listed_quantity(available)


def targets_refresh(
    *, sku_ids: Iterable[int], changed_at: dict[int, list[datetime]] | None = None
) -> int:
    """Recompute the targets of every active listing of these SKUs; returns how many moved.

    ``changed_at``: when each SKU's changes in this pass happened (its marks). A listing that
    had nothing due is due from its oldest change after its current target was set, not from
    now: a paced channel pushes the listing whose change has waited longest first, and the
    time this pass happens to run at says nothing about that."""
    skus = affected_skus(sku_ids)
    listings = list(
        ChannelListing.objects.filter(sku_id__in=skus, shop__is_active=True).only(
            "pk", "sku_id", "shop_id"
        )
    )
    if not listings:
        return 0
    available = available_by_sku(skus)
    buffers = buffers_for({listing.shop_id for listing in listings}, skus)
    existing = {
        sync.listing_id: sync
        for sync in ListingSync.objects.filter(listing_id__in=[listing.pk for listing in listings])
    }
    now = utcnow()
    created: list[ListingSync] = []
    moved = 0

    def existing_pk(listing_id: int) -> int:
        sync = existing.get(listing_id)
        return sync.pk if sync is not None else listing_id

    # Rows are updated in ListingSync pk order (new ones last), like every other writer of
    # them: on PostgreSQL two transactions updating the same rows in different orders deadlock
    # (measured: this pass against a push recording its answers).
    listings.sort(key=lambda listing: (listing.pk not in existing, existing_pk(listing.pk)))
    for listing in listings:
        target = target_for(
            buffers,
            shop_id=listing.shop_id,
            sku_id=listing.sku_id,
            available=available[listing.sku_id],
        )
        sync = existing.get(listing.pk)
        if sync is None:
            created.append(
                ListingSync(
                    listing_id=listing.pk,
                    target_quantity=target,
                    target_key=new_key(),
                    target_set_at=now,
                    is_due=True,
                    due_at=now,
                )
            )
            moved += 1
        elif sync.target_quantity != target:
            # A row already waiting keeps its place in the queue (pushes go oldest due first):
            # moving it to the back on every sale starved a SKU that sells all the time on a
            # paced channel. A row waiting out a backoff is due now: its new value is news.
            waiting = sync.is_due and sync.due_at is not None and sync.due_at < now
            # Changes before the current target was set are in it: the oldest one after it.
            since = min(
                (
                    at
                    for at in (changed_at or {}).get(listing.sku_id, ())
                    if at > sync.target_set_at
                ),
                default=now,
            )
            ListingSync.objects.filter(pk=sync.pk).update(
                target_quantity=target,
                target_key=new_key(),
                target_set_at=now,
                is_due=True,
                due_at=sync.due_at if waiting else min(since, now),
                attempts=0,
                status=SyncStatus.PENDING,
            )
            moved += 1
    ListingSync.objects.bulk_create(created, ignore_conflicts=True)
    return moved


def changes_apply(*, limit: int = CHANGES_PER_PASS) -> int:
    """Turn pending stock-change marks into targets; returns how many marks were consumed.

    Exactly the marks read are deleted (not an id range: on PostgreSQL a smaller id can commit
    after a larger one, and must not be deleted unseen)."""
    if not StockChange.objects.exists():  # a read: no write lock taken while there is nothing
        return 0
    with transaction.atomic():
        marks = list(StockChange.objects.order_by("id").values_list("id", "sku_id", "at")[:limit])
        if not marks:
            return 0
        changed_at: dict[int, list[datetime]] = defaultdict(list)
        for _, sku_id, at in marks:
            changed_at[sku_id].append(at)
        targets_refresh(sku_ids=set(changed_at), changed_at=changed_at)
        StockChange.objects.filter(id__in=[mark_id for mark_id, _, _ in marks]).delete()
    return len(marks)


# -- pushing ---------------------------------------------------------------------------------


@dataclass
class PassReport:
    changes: int = 0
    pushed: int = 0
    calls_by_status: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def did_work(self) -> bool:
        return bool(self.changes or self.pushed)

    def add(self, other: PassReport) -> None:
        self.changes += other.changes
        self.pushed += other.pushed
        for status, count in other.calls_by_status.items():
            self.calls_by_status[status] += count


class ChannelFactory(Protocol):
    def __call__(self, shop: Shop, *, recorder: Recorder | None = None) -> InventoryChannel: ...


def _push(
    shop: Shop,
    updates: list[QuantityUpdate],
    channel_for: ChannelFactory,
    recorder: Recorder | None = None,
) -> list[PushResult]:
    try:
        results = channel_for(shop, recorder=recorder).push_quantities(updates)
        if len(results) != len(updates):
            raise RuntimeError(f"{shop} answered {len(results)} results for {len(updates)} updates")
        return results
    except ChannelError as error:
        return results_for_error(updates, error)
    except Exception as error:  # a connector bug must not stop the other channels' pushes
        logger.exception("stock push to %s failed", shop)
        return [
            PushResult(update, PushStatus.FAILED, "ENGINE_ERROR", str(error)[:500])
            for update in updates
        ]


def due_shop_ids() -> dict[int, str]:
    """The shops with a push due now, and their channels."""
    return dict(
        ListingSync.objects.filter(is_due=True, due_at__lte=utcnow()).values_list(
            "listing__shop_id", "listing__shop__channel"
        )
    )


def push_shop_due(
    *, shop_id: int, channel_for: ChannelFactory = inventory_channel_for, limit: int = DUE_PER_PASS
) -> PassReport:
    """Push one shop's due listings (their latest targets) and record the answers."""
    report = PassReport()
    rows = list(
        ListingSync.objects.filter(is_due=True, due_at__lte=utcnow(), listing__shop_id=shop_id)
        .select_related("listing__shop", "listing__sku")
        .order_by("due_at", "pk")[:limit]
    )
    if not rows:
        return report
    updates = [
        QuantityUpdate(
            sku_code=sync.listing.sku.code,
            remote_product_id=sync.listing.remote_product_id,
            remote_sku_id=sync.listing.remote_sku_id,
            quantity=sync.target_quantity,
            compare_quantity=sync.pushed_quantity,
            idempotency_key=sync.target_key,
        )
        for sync in rows
    ]
    shop = rows[0].listing.shop
    # The calls' integration-log rows are written with the answers, in one short transaction,
    # rather than one write each: on SQLite every write waits for the single writer lock.
    exchanges: list[Exchange] = []
    read_at = utcnow()
    results = _push(shop, updates, channel_for, exchanges.append)
    with transaction.atomic():
        for exchange in exchanges:
            integration_log_record(shop=shop, exchange=exchange)
        # In pk order, the lock order of every writer of these rows (see targets_refresh).
        for sync, result in sorted(zip(rows, results, strict=True), key=lambda pair: pair[0].pk):
            _record(sync, result, read_at=read_at)
            report.calls_by_status[result.status] += 1
    report.pushed = len(rows)
    return report


def listing_target_now(listing: ChannelListing) -> int:
    """The quantity the listing should hold, from the stock as it is now (what
    :func:`targets_refresh` would compute), without writing anything."""
    available = available_by_sku([listing.sku_id])
    buffers = buffers_for([listing.shop_id], [listing.sku_id])
    return target_for(
        buffers, shop_id=listing.shop_id, sku_id=listing.sku_id, available=available[listing.sku_id]
    )


@dataclass
class _PacedAnswer:
    """One paced call's answer, waiting to be written (see :func:`_paced_record`)."""

    sync: ListingSync
    result: PushResult
    read_at: datetime
    fresh: bool
    exchanges: list[Exchange]


def _paced_call(
    *,
    shop: Shop,
    channel: InventoryChannel,
    exchanges: list[Exchange],
    skip: Iterable[int] = (),
) -> _PacedAnswer | None:
    """Send the shop's one due listing whose change has waited longest (earliest deadline
    first; ``skip``: listings whose answers are still being written), with its quantity
    computed from the stock at this moment, not from the last targets pass (which trails the
    sales by its debounce and its own run)."""
    sync = (
        ListingSync.objects.filter(is_due=True, due_at__lte=utcnow(), listing__shop_id=shop.pk)
        .exclude(pk__in=list(skip))
        .select_related("listing__sku")
        .order_by("due_at", "pk")
        .first()
    )
    if sync is None:
        return None
    read_at = utcnow()
    quantity = listing_target_now(sync.listing)
    fresh = quantity != sync.target_quantity
    update = QuantityUpdate(
        sku_code=sync.listing.sku.code,
        remote_product_id=sync.listing.remote_product_id,
        remote_sku_id=sync.listing.remote_sku_id,
        quantity=quantity,
        compare_quantity=sync.pushed_quantity,
        idempotency_key=new_key() if fresh else sync.target_key,
    )
    exchanges.clear()
    (result,) = _push(shop, [update], lambda _shop, recorder=None: channel)
    return _PacedAnswer(sync, result, read_at, fresh, list(exchanges))


def _paced_record(shop: Shop, answers: list[_PacedAnswer]) -> PassReport:
    """Write paced calls' log rows and answers in one transaction (rows in pk order, the lock
    order of every writer of them)."""
    report = PassReport()
    with transaction.atomic():
        for answer in answers:
            for exchange in answer.exchanges:
                integration_log_record(shop=shop, exchange=exchange)
        for answer in sorted(answers, key=lambda answer: answer.sync.pk):
            sync, result = answer.sync, answer.result
            if answer.fresh:
                # The pushed value becomes the target: it was computed from the stock at
                # read_at, so it is newer than any target set before then (a later one is
                # kept, and the answer then leaves the row due unless it is this quantity).
                ListingSync.objects.filter(pk=sync.pk, target_set_at__lt=answer.read_at).update(
                    target_quantity=result.update.quantity,
                    target_key=result.update.idempotency_key,
                    target_set_at=answer.read_at,
                )
            _record(sync, result, read_at=answer.read_at)
            report.calls_by_status[result.status] += 1
            report.pushed += 1
    return report


def _record_in_thread(shop: Shop, answers: list[_PacedAnswer]) -> PassReport:
    if not answers:  # the turn is over: the recording thread's connection goes
        connections.close_all()
        return PassReport()
    return _paced_record(shop, answers)


def _push_shop_due_in_thread(
    shop_id: int,
    channel_for: ChannelFactory,
    *,
    one_per_call: bool = False,
    stop: threading.Event | None = None,
    sleep: Callable[[float], object] | None = None,
) -> PassReport:
    """:func:`push_shop_due` in a pool thread, which closes its own connections when done.

    A channel that takes one SKU per paced call (``ONE_SKU_PER_CALL``) is pushed one listing
    at a time: wait until the channel has a token, then read the longest-waiting listing's
    quantity from the stock and send it at once (:func:`_paced_call`). Reading first and
    waiting for the token after held each value back up to one token's time (0.2 s at
    Amazon's 5 a second). Answers are written by a second thread (those that piled up
    meanwhile in one transaction) while the next calls wait for their tokens, so a wait for
    SQLite's writer lock costs no token; a listing is skipped until its answer is written.
    The loop ends when nothing is due, after
    ``ONE_PER_CALL_TURN`` seconds (the run loop starts it again) or when ``stop`` is set (the
    run is ending).
    """
    try:
        if not one_per_call:
            return push_shop_due(shop_id=shop_id, channel_for=channel_for)
        return _push_paced_turn(shop_id, channel_for, stop or threading.Event(), sleep)
    finally:
        connections.close_all()


def _push_paced_turn(
    shop_id: int,
    channel_for: ChannelFactory,
    stop: threading.Event,
    sleep: Callable[[float], object] | None,
) -> PassReport:
    report = PassReport()
    until = time.monotonic() + ONE_PER_CALL_TURN
    shop = Shop.objects.get(pk=shop_id)
    exchanges: list[Exchange] = []
    try:
        channel = channel_for(shop, recorder=exchanges.append)  # one HTTP client per turn
    except Exception:
        # The batch path records the failure on every due row, which then backs off (this
        # turn would otherwise be started again on every pass and fail the same way).
        return push_shop_due(shop_id=shop_id, channel_for=channel_for)
    ready_in: Callable[[], float] = getattr(channel, "push_ready_in", lambda: 0.0)
    wait_for = sleep or stop.wait
    due = ListingSync.objects.filter(listing__shop_id=shop_id, is_due=True)
    recorder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stocksync-record")
    writing: Future[PassReport] | None = None
    writing_pks: set[int] = set()
    unwritten: list[_PacedAnswer] = []  # answered, not yet handed to the recorder

    def hand_over(*, wait: bool) -> None:
        nonlocal writing, writing_pks, unwritten
        if writing is not None and (wait or writing.done()):
            report.add(writing.result())
            writing, writing_pks = None, set()
        if writing is None and unwritten:
            writing = recorder.submit(_record_in_thread, shop, unwritten)
            writing_pks = {answer.sync.pk for answer in unwritten}
            unwritten = []

    try:
        while time.monotonic() < until and not stop.is_set():
            hand_over(wait=False)
            skip = writing_pks | {answer.sync.pk for answer in unwritten}
            if not due.filter(due_at__lte=utcnow()).exclude(pk__in=skip).exists():
                if not skip:
                    break  # no token spent waiting for nothing: the run loop starts a new turn
                hand_over(wait=True)  # a listing being written may be due again
                continue
            wait = ready_in()
            if wait > 0:
                if time.monotonic() + wait >= until:
                    break
                wait_for(wait)
                if stop.is_set():
                    break
            answer = _paced_call(shop=shop, channel=channel, exchanges=exchanges, skip=skip)
            if answer is not None:
                unwritten.append(answer)
    finally:
        try:
            while writing is not None or unwritten:
                hand_over(wait=True)
        finally:
            recorder.submit(_record_in_thread, shop, []).result()
            recorder.shutdown(wait=True)
    return report


def push_due(*, channel_for: ChannelFactory = inventory_channel_for) -> PassReport:
    """Push every shop's due listings, shops in parallel, and wait for all of them."""
    report = PassReport()
    shop_ids = sorted(due_shop_ids())
    if len(shop_ids) == 1:
        parts = [push_shop_due(shop_id=shop_ids[0], channel_for=channel_for)]
    else:  # channels answer at their own pace: one slow (or throttled) shop delays no other
        with ThreadPoolExecutor(max_workers=min(8, max(len(shop_ids), 1))) as pool:
            parts = list(pool.map(lambda sid: _push_shop_due_in_thread(sid, channel_for), shop_ids))
    for part in parts:
        report.add(part)
    return report


def _record(sync: ListingSync, result: PushResult, *, read_at: datetime | None = None) -> None:
    """Store one answer. Updates naming the pushed key only touch the row while that key is
    still the target: a newer target that arrived meanwhile stays due. An applied quantity
    that equals the row's newer target settles it all the same (quantities are absolute and a
    shop has one push in flight). ``read_at``: when the pushed value was read."""
    now = utcnow()
    key = result.update.idempotency_key
    current = ListingSync.objects.filter(pk=sync.pk, target_key=key)
    if result.status == PushStatus.APPLIED:
        applied = ListingSync.objects.filter(
            Q(target_key=key) | Q(target_quantity=result.update.quantity), pk=sync.pk
        ).update(
            is_due=False,
            status=SyncStatus.SYNCED,
            pushed_quantity=result.update.quantity,
            pushed_at=now,
            attempts=0,
            last_error_code="",
            last_error="",
        )
        if not applied:  # superseded in flight: the channel holds the older value for now
            # Due again since the value was read (what superseded it came later), behind the
            # rows that were already waiting then (oldest change first, so round robin).
            ListingSync.objects.filter(pk=sync.pk).update(
                pushed_quantity=result.update.quantity,
                pushed_at=now,
                is_due=True,
                due_at=read_at or now,
            )
        return
    error = {
        "last_error_code": result.error_code[:64],
        "last_error": result.message[:500],
        "last_error_at": now,
    }
    if result.status == PushStatus.STALE:
        # The channel moved (a sale there): compare against what it holds and go again.
        changes: dict[str, object] = {"due_at": now + STALE_RETRY, "attempts": F("attempts") + 1}
        if result.remote_quantity is not None:
            changes["pushed_quantity"] = result.remote_quantity
        ListingSync.objects.filter(pk=sync.pk).update(**changes, **error)
    elif result.status == PushStatus.FAILED:
        wait = max(result.retry_after or 0.0, backoff_seconds(sync.attempts + 1))
        current.update(
            status=SyncStatus.RETRYING,
            attempts=F("attempts") + 1,
            due_at=now + timedelta(seconds=wait),
            **error,
        )
    else:  # REJECTED: repeating it cannot help; a new target or the drift check tries again
        current.update(is_due=False, status=SyncStatus.REJECTED, **error)


def engine_pass(*, channel_for: ChannelFactory = inventory_channel_for) -> PassReport:
    changes = changes_apply()
    report = push_due(channel_for=channel_for)
    report.changes = changes
    return report


# -- the run loop ----------------------------------------------------------------------------


def lease_acquire(holder: str) -> bool:
    now = utcnow()
    with transaction.atomic():
        EngineLease.objects.bulk_create([EngineLease(name=LEASE_NAME)], ignore_conflicts=True)
        return bool(
            EngineLease.objects.filter(name=LEASE_NAME)
            .filter(Q(expires_at__isnull=True) | Q(expires_at__lte=now) | Q(holder=holder))
            .update(holder=holder, expires_at=now + LEASE, kicked_at=None)
        )


def lease_renew(holder: str) -> bool:
    with transaction.atomic():
        return bool(
            EngineLease.objects.filter(name=LEASE_NAME, holder=holder).update(
                expires_at=utcnow() + LEASE
            )
        )


def lease_release(holder: str) -> None:
    with transaction.atomic():
        EngineLease.objects.filter(name=LEASE_NAME, holder=holder).update(
            holder="", expires_at=None
        )


def next_due_at() -> datetime | None:
    found: datetime | None = ListingSync.objects.filter(is_due=True).aggregate(at=Min("due_at"))[
        "at"
    ]
    return found


def oldest_change_at() -> datetime | None:
    found: datetime | None = StockChange.objects.aggregate(at=Min("at"))["at"]
    return found


@dataclass
class RunReport:
    passes: int = 0
    changes: int = 0
    pushed: int = 0
    ran: bool = False


def engine_run(
    *,
    channel_for: ChannelFactory = inventory_channel_for,
    idle_seconds: float | None = None,
    max_seconds: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    stop: threading.Event | None = None,
) -> RunReport:
    """Run passes while there is work (or a retry falls due within ``idle_seconds``), then
    give the lease back. Returns without doing anything when another engine holds the lease.

    ``aftershow sync_engine`` runs it with no idle or run limit until ``stop`` is set: it then
    holds the lease while idle, so committed changes enqueue no wake-up tasks, and no hand-over
    to a fresh task ever interrupts a stream's pushes."""
    halt = stop or threading.Event()
    idle_limit = _setting("STOCKSYNC_IDLE_SECONDS", 2.0) if idle_seconds is None else idle_seconds
    # Bounded, so a queue worker shared with other jobs is handed back regularly.
    run_limit = _setting("STOCKSYNC_MAX_RUN_SECONDS", 30.0) if max_seconds is None else max_seconds
    debounce = _setting("STOCKSYNC_DEBOUNCE_SECONDS", 0.05)
    # A shop's next push starts at least this long after its last one started: the window in
    # which a burst's sales coalesce into one call per SKU (a push in flight is one too).
    shop_interval = _setting("STOCKSYNC_SHOP_PUSH_INTERVAL_SECONDS", 0.25)
    poll = _setting("STOCKSYNC_POLL_SECONDS", 0.025)
    holder = f"engine-{uuid.uuid4().hex[:12]}"
    report = RunReport()
    started = time.monotonic()
    while True:
        if halt.is_set() or not lease_acquire(holder):
            return report
        report.ran = True
        renewed = time.monotonic()
        idle_since = time.monotonic()
        # One push in flight per shop at most; shops do not wait for each other, so a paced or
        # throttled channel (Amazon's 5 requests a second) delays only itself.
        pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="stocksync-push")
        stopping = threading.Event()  # ends a paced channel's turn early when the run ends
        inflight: dict[int, Future[PassReport]] = {}
        last_started: dict[int, float] = {}
        try:
            while time.monotonic() - started < run_limit and not halt.is_set():
                if time.monotonic() - renewed > LEASE.total_seconds() / 3:
                    if not lease_renew(holder):
                        return report  # taken over: another engine carries on
                    renewed = time.monotonic()
                oldest = oldest_change_at()
                if oldest is not None:
                    # A short debounce gathers a burst's near-simultaneous sales into one push.
                    wait = debounce - (utcnow() - oldest).total_seconds()
                    if wait > 0:
                        sleep(wait)
                try:
                    changes = changes_apply()
                except DatabaseError:  # e.g. a deadlock victim: rolled back, marks kept
                    logger.exception("applying stock changes failed; the next pass retries")
                    changes = 0
                report.passes += 1
                report.changes += changes
                for shop_id in [sid for sid, future in inflight.items() if future.done()]:
                    report.pushed += _finished(inflight.pop(shop_id))
                due_shops = {
                    shop_id: channel
                    for shop_id, channel in due_shop_ids().items()
                    if shop_id not in inflight
                }
                now_monotonic = time.monotonic()
                # A one-SKU-per-call channel needs no interval: its rate limit paces it, and
                # each call carries the latest quantity (_paced_call).
                started_pushes = {
                    shop_id
                    for shop_id, channel in due_shops.items()
                    if channel in ONE_SKU_PER_CALL
                    or now_monotonic - last_started.get(shop_id, -math.inf) >= shop_interval
                }
                for shop_id in started_pushes:
                    last_started[shop_id] = now_monotonic
                    inflight[shop_id] = pool.submit(
                        _push_shop_due_in_thread,
                        shop_id,
                        channel_for,
                        one_per_call=due_shops[shop_id] in ONE_SKU_PER_CALL,
                        stop=stopping,
                    )
                if changes or due_shops or inflight:
                    idle_since = time.monotonic()
                    if not changes:
                        sleep(poll)
                    continue
                due = next_due_at()
                now = utcnow()
                if due is not None and (due - now).total_seconds() < idle_limit:
                    idle_since = time.monotonic()  # a retry is coming soon: stay for it
                if time.monotonic() - idle_since > idle_limit:
                    break
                until_due = (due - now).total_seconds() if due is not None else poll
                sleep(min(poll, max(until_due, 0.0)) or poll)
        finally:
            stopping.set()
            pool.shutdown(wait=True)  # answers are recorded before the lease goes
            for future in inflight.values():
                report.pushed += _finished(future)
            lease_release(holder)
        # A change committed just before the release found the lease held and enqueued
        # nothing: look again now that it is released.
        if not work_pending():
            _wake_at_next_retry()
            return report
        if halt.is_set() or time.monotonic() - started >= run_limit:
            engine_wake()  # hand over to a fresh task rather than hold a worker forever
            return report


def _finished(future: Future[PassReport]) -> int:
    try:
        return future.result().pushed
    except Exception:  # recorded nothing: the rows stay due and are pushed again
        logger.exception("a stock push thread failed")
        return 0


def _wake_at_next_retry() -> None:
    """Retries due later than the idle wait get a run deferred to their time (the minute's
    sweep would also find them)."""
    due = next_due_at()
    if due is None:
        return
    from aftershow.stocksync.tasks import run_engine

    with transaction.atomic():
        run_engine.using(run_after=due).enqueue()


def work_pending() -> bool:
    now = utcnow()
    return (
        StockChange.objects.exists()
        or ListingSync.objects.filter(is_due=True, due_at__lte=now).exists()
    )


# -- drift check -----------------------------------------------------------------------------


@dataclass
class DriftReport:
    checked: int = 0
    corrected: int = 0
    unknown: int = 0


def drift_check(*, shop: Shop, channel: InventoryChannel | None = None) -> DriftReport:
    """Read back what the channel holds for every settled listing of the shop and owe a push
    wherever it differs from the target (a sale there not yet ingested is corrected again as
    soon as its order is: the order changes the stock, which moves the target)."""
    report = DriftReport()
    settled = list(
        ListingSync.objects.filter(listing__shop=shop, is_due=False)
        .select_related("listing__sku")
        .order_by("pk")
    )
    unsynced = ChannelListing.objects.filter(shop=shop, sync__isnull=True).values_list(
        "sku_id", flat=True
    )
    missing = set(unsynced)
    if missing:
        from aftershow.stocksync.marks import skus_changed

        with transaction.atomic():
            skus_changed(sku_ids=missing)
    if not settled:
        return report
    remote = (channel or inventory_channel_for(shop)).read_quantities(
        [sync.listing.sku.code for sync in settled]
    )
    now = utcnow()
    for sync in settled:
        report.checked += 1
        holds = remote.get(sync.listing.sku.code)
        if holds is None:
            report.unknown += 1
            continue
        unchanged = ListingSync.objects.filter(pk=sync.pk, target_key=sync.target_key, is_due=False)
        if holds == sync.target_quantity:
            unchanged.update(drift_checked_at=now)
            continue
        if unchanged.update(
            drift_checked_at=now,
            pushed_quantity=holds,
            target_key=new_key(),
            is_due=True,
            due_at=now,
            attempts=0,
            status=SyncStatus.PENDING,
            drift_corrections=F("drift_corrections") + 1,
        ):
            report.corrected += 1
    if report.corrected:
        engine_wake()
    return report
