"""The burst, processed in one action: everything a live stream left to ship, for one shop.

``burst_process`` is what the button on the batches page, ``aftershow process_burst`` and
``POST /api/fulfillment/process`` run, in this order, each step calling the service that owns it:

1. release the orders whose holds are over (``orders_release_due``), which screens them;
2. confirm every clean order (``orders_confirm_clean``);
3. build parcels (``packages_build``) and choose carriers (``packages_select``);
4. cut batches of at most 600 orders and buy every label (``label_batch_process``);
5. write one PDF per batch (``batch_pdf``): pick list, then every label in pick order, drawn
   by a second process (``pdfprocess``) while the next steps run;
6. ship the labelled parcels (``packages_ship``), which queues the tracking push;
7. wait until the channel accepted every tracking number: the push runs on the task queue, in
   the worker, as it does after a scan at the packing station.

A step that fails for some orders does not stop the others: flagged orders wait in review, a
parcel without a label is listed with its reason, and the summary says which orders and why.
Each step is idempotent, so running the action again picks up where the last run stopped.
"""

from __future__ import annotations

import gc
import os
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from aftershow.accounts.models import User
from aftershow.fulfillment.batches import BatchReport, label_batch_process, label_batches_create
from aftershow.fulfillment.choosing import packages_select
from aftershow.fulfillment.conf import label_dir
from aftershow.fulfillment.documents import batch_pdf_write
from aftershow.fulfillment.labels.base import LabelProvider
from aftershow.fulfillment.labels.registry import label_provider
from aftershow.fulfillment.models import (
    BatchItemState,
    Package,
    PackageStatus,
)
from aftershow.fulfillment.packing import packages_build
from aftershow.fulfillment.pdfprocess import PdfProcess, can_draw_elsewhere
from aftershow.fulfillment.shipping import packages_ship
from aftershow.integrations.models import TrackingUpload, TrackingUploadState
from aftershow.integrations.tiktok.tracking import tracking_pushed_by_api
from aftershow.orders.models import OrderLine, OrderState
from aftershow.orders.release import orders_release_due
from aftershow.risk.models import FlagStatus, RiskFlag, RuleKind
from aftershow.risk.services import orders_confirm_clean
from aftershow.shops.models import Shop

TRACKING_POLL_SECONDS = 0.02
# The served demo sets it to "sandbox": the button then buys sample labels for every parcel.
BURST_PROVIDER_ENV = "AFTERSHOW_BURST_LABEL_PROVIDER"


def burst_label_provider(shop: Shop) -> LabelProvider | None:
    """The provider that replaces the rules' choice for the button and the API
    (``FULFILLMENT_BURST_LABEL_PROVIDER`` or the environment); None keeps the rules'."""
    code = getattr(settings, "FULFILLMENT_BURST_LABEL_PROVIDER", "") or os.environ.get(
        BURST_PROVIDER_ENV, ""
    )
    return label_provider(code, shop=shop) if code else None


@dataclass(frozen=True)
class StepTime:
    name: str
    seconds: float


@dataclass(frozen=True)
class OrderError:
    order: str  # the channel's order number
    step: str
    reason: str


@dataclass
class BurstSummary:
    shop_id: int
    released: int = 0
    held: int = 0
    screened: int = 0
    in_review: int = 0
    flagged_by_reason: dict[str, int] = field(default_factory=dict)
    confirmed: int = 0
    packages_built: int = 0
    carriers_chosen: int = 0
    labelled: int = 0
    batches: list[int] = field(default_factory=list)
    pdf_paths: list[str] = field(default_factory=list)
    shipped: int = 0
    already_shipped: int = 0
    tracking_requested: int = 0
    tracking_accepted: int = 0
    tracking_failed: int = 0
    tracking_waiting: int = 0
    errors: list[OrderError] = field(default_factory=list)
    steps: list[StepTime] = field(default_factory=list)
    total_seconds: float = 0.0

    @property
    def is_complete(self) -> bool:
        """Every labelled parcel shipped and, for a channel that takes tracking, accepted."""
        return not self.errors and self.tracking_waiting == 0 and self.tracking_failed == 0


class _Clock:
    def __init__(self, summary: BurstSummary) -> None:
        self.summary = summary
        self.started = self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.summary.steps.append(StepTime(name, now - self.last))
        self.last = now
        self.summary.total_seconds = now - self.started


def flagged_by_reason(shop: Shop) -> dict[str, int]:
    """Orders waiting in review, counted per rule kind of their open flags (an order with two
    flags counts under both), in the reader's language."""
    rows = (
        RiskFlag.objects.filter(
            status=FlagStatus.OPEN, order__shop=shop, order__state=OrderState.IN_REVIEW
        )
        .values_list("kind")
        .annotate(orders=Count("order_id", distinct=True))
        .order_by()
    )
    return {str(RuleKind(kind).label): int(orders) for kind, orders in sorted(rows)}


def _order_numbers(package_ids: Iterable[int]) -> dict[int, list[str]]:
    numbers: dict[int, list[str]] = defaultdict(list)
    rows = (
        OrderLine.objects.filter(package_id__in=list(package_ids))
        .order_by("order_id")
        .values_list("package_id", "order__remote_order_id")
        .distinct()
    )
    for package_id, number in rows:
        if number not in numbers[int(package_id)]:
            numbers[int(package_id)].append(str(number))
    return numbers


def _package_errors(
    step: str, reasons: dict[int, str], numbers: dict[int, list[str]]
) -> list[OrderError]:
    return [
        OrderError(order=number, step=step, reason=" ".join(reason.split()))
        for package_id, reason in reasons.items()
        for number in numbers.get(package_id) or [f"package {package_id}"]
    ]


def tracking_counts(batch_ids: list[int]) -> Counter[str]:
    """Tracking uploads of the batches' parcels by state (joined through the batches: an
    ``IN`` list of a thousand parcel ids costs more to build than the query takes)."""
    return Counter(
        dict(
            TrackingUpload.objects.filter(package__batch_item__batch_id__in=batch_ids)
            .values_list("state")
            .annotate(n=Count("id"))
            .order_by()
        )
    )


def _wait_for_tracking(
    shop: Shop, batch_ids: list[int], *, timeout: float, sleep: Callable[[float], None]
) -> Counter[str]:
    """Poll cheaply (one EXISTS) until no upload of the batches is queued; the worker pushing
    them runs in this process in the demo and the benchmark, so polling must not starve it.
    The EXISTS starts from the shop's queued uploads (an index), which run out as TikTok
    accepts them, rather than from every parcel of the batches (0.3 against 1.2 ms a poll)."""
    deadline = time.monotonic() + timeout
    waiting = TrackingUpload.objects.filter(
        shop=shop,
        state=TrackingUploadState.QUEUED,
        package__batch_item__batch_id__in=batch_ids,
    )
    while waiting.exists() and time.monotonic() < deadline:
        sleep(TRACKING_POLL_SECONDS)
    return tracking_counts(batch_ids)


def burst_process(
    *,
    shop: Shop,
    actor: User | None = None,
    provider: LabelProvider | None = None,
    pdf_dir: Path | None = None,
    tracking_timeout: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
    parallel_pdf: bool = True,
) -> BurstSummary:
    """Process everything ``shop`` has to ship (see the module docstring).

    ``provider`` replaces the label provider the rules chose for every parcel (the demo buys
    every label from the sandbox carrier). ``tracking_timeout`` is how long to wait for the
    worker to get the tracking numbers accepted; 0 returns as soon as they are queued.
    ``parallel_pdf`` draws the batch PDFs in a second process while the parcels ship and the
    tracking is pushed (``pdfprocess``), on the machine's other core; False draws them here
    (the web button and the API: a web request starts no process).
    """
    # The burst builds thousands of model objects that live until it ends. Each of the
    # collector's full passes, triggered by them, walks every object in the process (in the
    # demo and the benchmark the TikTok sandbox's store too): ~15 % of a 1,000-order burst's
    # time, and growing faster than the burst. Frozen, the objects that existed before are left
    # out of those passes until the burst ends. Process-wide but harmless: garbage that
    # existed before is only collected after the burst instead of during it. The collector is
    # also paused for the burst (its young-generation passes still cost ~0.09 s of a 1,000-order
    # burst): the burst is bounded, and what cyclic garbage it leaves is collected when it ends
    # (the benchmark's peak memory includes it).
    gc.freeze()
    was_enabled = gc.isenabled()
    gc.disable()
    # Started first: its interpreter and reportlab load on the other core during the first steps.
    pdfs = PdfProcess() if parallel_pdf and can_draw_elsewhere() else None
    try:
        return _burst_steps(
            shop=shop,
            actor=actor,
            provider=provider,
            pdf_dir=pdf_dir,
            tracking_timeout=tracking_timeout,
            sleep=sleep,
            pdfs=pdfs,
        )
    finally:
        if pdfs is not None:
            pdfs.cancel()
        if was_enabled:
            gc.enable()
        gc.unfreeze()


def _burst_steps(
    *,
    shop: Shop,
    actor: User | None,
    provider: LabelProvider | None,
    pdf_dir: Path | None,
    tracking_timeout: float,
    sleep: Callable[[float], None],
    pdfs: PdfProcess | None,
) -> BurstSummary:
    summary = BurstSummary(shop_id=shop.pk)
    clock = _Clock(summary)

    release = orders_release_due(now=timezone.now(), shop=shop)
    summary.released, summary.held = release.released, release.held
    summary.screened = release.screening.screened
    summary.in_review = shop.orders.filter(state=OrderState.IN_REVIEW).count()
    summary.flagged_by_reason = flagged_by_reason(shop)
    clock.lap("release and screen")

    summary.confirmed = orders_confirm_clean(by=actor, shop=shop)
    clock.lap("confirm clean orders")

    built = packages_build(shop=shop)
    summary.packages_built = len(built.created)
    clock.lap("build parcels")

    # A queryset: packages_select reads only its ids (a subquery), no parcel is loaded twice.
    unchosen = Package.objects.filter(
        shop=shop,
        status=PackageStatus.TO_FULFILL,
        batch_item__isnull=True,
        selection_source="",
    )
    chosen = packages_select(packages=unchosen)
    summary.carriers_chosen = sum(1 for package in chosen if package.service_code)
    clock.lap("choose carriers")

    batches = label_batches_create(shop=shop, created_by=actor)
    directory = pdf_dir or label_dir() / "batches"
    reports: list[BatchReport] = []
    for batch in batches:
        report = label_batch_process(batch=batch, provider=provider)
        reports.append(report)
        if pdfs is not None and report.labelled:
            # The second process draws this batch while the next one's labels are bought.
            pdfs.add(batch, directory)
    summary.batches = [batch.pk for batch in batches]
    summary.labelled = sum(report.labelled for report in reports)
    failed = {item.package_id: item.error_reason for report in reports for item in report.errors}
    clock.lap("buy labels")

    if pdfs is None:
        labelled = [report.batch for report in reports if report.labelled]
        summary.pdf_paths = [batch_pdf_write(batch, directory) for batch in labelled]
        clock.lap("batch PDF")
    else:
        pdfs.close_input()
        clock.lap("batch PDF (handed to a second process)")

    # A queryset: packages_ship reads the ids and locks the rows itself.
    to_ship = Package.objects.filter(
        batch_item__batch__in=batches, batch_item__state=BatchItemState.LABELLED
    )
    shipped = packages_ship(packages=to_ship, actor=actor, via="pipeline")
    summary.shipped = shipped.shipped
    summary.already_shipped = shipped.already_shipped
    refused = shipped.refused
    clock.lap("ship")

    numbers = _order_numbers([*failed, *refused, *shipped.tracking_refused])
    summary.errors = [
        *_package_errors("label", failed, numbers),
        *_package_errors("ship", refused, numbers),
        *_package_errors("tracking", shipped.tracking_refused, numbers),
    ]
    # A shop served through files (no API access) gets its tracking into TikTok through the
    # bulk upload file instead (``aftershow.imports.tracking``): there is nothing to wait for.
    if tracking_pushed_by_api(shop):
        counts = _wait_for_tracking(shop, summary.batches, timeout=tracking_timeout, sleep=sleep)
        summary.tracking_requested = sum(counts.values())
        summary.tracking_accepted = counts[TrackingUploadState.PUSHED]
        summary.tracking_failed = counts[TrackingUploadState.FAILED]
        summary.tracking_waiting = counts[TrackingUploadState.QUEUED]
        if summary.tracking_failed:
            refusals = dict(
                TrackingUpload.objects.filter(
                    package__batch_item__batch_id__in=summary.batches,
                    state=TrackingUploadState.FAILED,
                ).values_list("package_id", "last_error")
            )
            summary.errors += _package_errors("tracking", refusals, _order_numbers(refusals))
        clock.lap("tracking accepted by the channel")
    if pdfs is not None:
        summary.pdf_paths = pdfs.result()
        clock.lap("batch PDF (waiting for the second process)")
    return summary


def summary_text(summary: BurstSummary, *, max_errors: int = 20) -> str:
    """The summary as the CLI and the demo print it."""
    lines = [
        _("Burst processed for shop %(shop)s in %(seconds).2f s")
        % {"shop": summary.shop_id, "seconds": summary.total_seconds},
        _("  released %(released)s, still held %(held)s, screened %(screened)s")
        % {"released": summary.released, "held": summary.held, "screened": summary.screened},
        _("  flagged, waiting in review: %(count)s") % {"count": summary.in_review},
    ]
    lines += [f"    {reason:<40} {count}" for reason, count in summary.flagged_by_reason.items()]
    lines += [
        _("  confirmed %(confirmed)s, parcels %(parcels)s, carriers chosen %(chosen)s")
        % {
            "confirmed": summary.confirmed,
            "parcels": summary.packages_built,
            "chosen": summary.carriers_chosen,
        },
        _("  labels %(labels)s in %(batches)s batch(es)")
        % {"labels": summary.labelled, "batches": len(summary.batches)},
    ]
    lines += [f"    {path}" for path in summary.pdf_paths]
    lines.append(
        _("  shipped %(shipped)s (already shipped %(already)s)")
        % {"shipped": summary.shipped, "already": summary.already_shipped}
    )
    if summary.tracking_requested:
        lines.append(
            _("  tracking accepted by TikTok %(accepted)s, refused %(failed)s, waiting %(waiting)s")
            % {
                "accepted": summary.tracking_accepted,
                "failed": summary.tracking_failed,
                "waiting": summary.tracking_waiting,
            }
        )
    lines.append(_("  time of each step:"))
    lines += [f"    {step.name:<40} {step.seconds:7.3f} s" for step in summary.steps]
    if summary.errors:
        lines.append(_("  errors per order (%(count)s):") % {"count": len(summary.errors)})
        lines += [
            f"    {error.order} [{error.step}] {error.reason}"
            for error in summary.errors[:max_errors]
        ]
        if len(summary.errors) > max_errors:
            lines.append(_("    … and %(more)s more") % {"more": len(summary.errors) - max_errors})
    return "\n".join(lines) + "\n"
