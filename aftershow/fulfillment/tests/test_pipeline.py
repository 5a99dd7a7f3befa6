"""The burst in one action: a stream pulled from the TikTok sandbox is released, screened,
confirmed, labelled, printed, shipped, and its tracking accepted by the sandbox through the
task queue and a real worker; running it again changes nothing."""

from __future__ import annotations

import gc
import importlib
import io
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db.models import Count
from django.test import Client
from pypdf import PdfReader

from aftershow.core.worker import WorkerThread
from aftershow.demo.burst import burst_clock_start, burst_world_create
from aftershow.fulfillment.documents import batch_pdf_write
from aftershow.fulfillment.labels.sandbox import SandboxCarrier, is_sandbox_tracking_number
from aftershow.fulfillment.models import LabelBatch, LabelPurchase, Package
from aftershow.fulfillment.pdfprocess import PdfProcess
from aftershow.fulfillment.pipeline import BurstSummary, burst_process, summary_text
from aftershow.integrations.models import TrackingUpload, TrackingUploadState
from aftershow.orders.models import Order, OrderState
from aftershow.orders.tests.factories import UserFactory
from aftershow.risk.models import FlagStatus, RiskFlag, RuleKind
from aftershow.risk.tests.conftest import ensure_default_rules
from aftershow.sandbox.tiktok import TikTokSandbox, VirtualClock
from aftershow.shops.models import Shop

APP_KEY, APP_SECRET = "pipeline_key", "pipeline_secret"
ORDERS = 60

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sandbox() -> Iterator[TikTokSandbox]:
    sandbox = TikTokSandbox(
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        seed=7,
        clock=VirtualClock(start=burst_clock_start(), speed=0),
    )
    sandbox.start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture
def burst(sandbox: TikTokSandbox, settings: Any, tmp_path: Path) -> tuple[Shop, list[str]]:
    settings.FULFILLMENT_LABEL_DIR = tmp_path / "labels"
    # Seeded by migrations, gone after an earlier transactional test's flush.
    ensure_default_rules()
    importlib.import_module(
        "aftershow.fulfillment.migrations.0003_default_carrier_rules"
    ).add_default_rules(apps, None)
    shop, plan = burst_world_create(
        sandbox=sandbox, app_key=APP_KEY, app_secret=APP_SECRET, orders=ORDERS, seed=7
    )
    return shop, [order.order_id for order in plan.orders]


@pytest.fixture
def worker() -> Iterator[WorkerThread]:
    thread = WorkerThread()
    thread.start()
    try:
        yield thread
    finally:
        thread.stop()


def run(shop: Shop, tmp_path: Path) -> BurstSummary:
    return burst_process(
        shop=shop, provider=SandboxCarrier(shop), pdf_dir=tmp_path / "pdf", tracking_timeout=60
    )


def test_the_whole_burst_ships_and_tiktok_accepts_every_tracking_number(
    sandbox: TikTokSandbox,
    burst: tuple[Shop, list[str]],
    worker: WorkerThread,
    tmp_path: Path,
) -> None:
    shop, remote_ids = burst
    orders_before = Order.objects.filter(shop=shop).count()
    assert orders_before == len(remote_ids)

    assert gc.isenabled()
    summary = run(shop, tmp_path)
    # The collector, paused and frozen for the burst, is back as it was.
    assert gc.isenabled() and gc.get_freeze_count() == 0

    states = Counter(Order.objects.filter(shop=shop).values_list("state", flat=True))
    # Every order ends shipped, cancelled by the buyer, or flagged in review.
    assert set(states) <= {OrderState.SHIPPED, OrderState.CANCELLED, OrderState.IN_REVIEW}
    assert summary.in_review == states[OrderState.IN_REVIEW] > 0
    assert summary.confirmed == states[OrderState.SHIPPED] > 0
    assert summary.released == states[OrderState.SHIPPED] + states[OrderState.IN_REVIEW]
    # Flag counts per reason are what the review queue holds.
    expected_flags = {
        str(RuleKind(kind).label): count
        for kind, count in RiskFlag.objects.filter(status=FlagStatus.OPEN)
        .values_list("kind")
        .annotate(n=Count("order", distinct=True))
    }
    assert summary.flagged_by_reason == expected_flags

    packages = list(Package.objects.filter(shop=shop, shipped_at__isnull=False))
    assert summary.packages_built == summary.labelled == summary.shipped == len(packages)
    assert LabelPurchase.objects.filter(state="bought").count() == len(packages)
    assert all(is_sandbox_tracking_number(package.tracking_number) for package in packages)

    # One PDF for the batch (under 600 orders): the pick list page, then one page per label.
    (pdf,) = summary.pdf_paths
    pages = PdfReader(io.BytesIO(Path(pdf).read_bytes())).pages
    assert len(pages) == 1 + len(packages)

    # TikTok (the sandbox) shows every shipped order with our parcel's tracking number, or the
    # pusher recorded why TikTok refused it, and the summary lists those orders.
    uploads = {upload.package_id: upload for upload in TrackingUpload.objects.all()}
    assert set(uploads) == {package.pk for package in packages}
    accepted = [p for p in packages if uploads[p.pk].state == TrackingUploadState.PUSHED]
    refused = [p for p in packages if uploads[p.pk].state == TrackingUploadState.FAILED]
    assert len(accepted) + len(refused) == len(packages)
    assert (summary.tracking_accepted, summary.tracking_failed) == (len(accepted), len(refused))
    assert summary.tracking_waiting == 0
    for package in accepted:
        for order in Order.objects.filter(lines__package=package).distinct():
            remote = sandbox.store.get_order(order.remote_order_id)
            assert remote["tracking_number"] == package.tracking_number
            assert remote["status"] == "AWAITING_COLLECTION"
    refused_orders = {
        number
        for package in refused
        for number in Order.objects.filter(lines__package=package).values_list(
            "remote_order_id", flat=True
        )
    }
    assert {e.order for e in summary.errors if e.step == "tracking"} == refused_orders
    assert [e for e in summary.errors if e.step != "tracking"] == []
    assert [step.name for step in summary.steps] == [
        "release and screen",
        "confirm clean orders",
        "build parcels",
        "choose carriers",
        "buy labels",
        "batch PDF (handed to a second process)",
        "ship",
        "tracking accepted by the channel",
        "batch PDF (waiting for the second process)",
    ]
    text = summary_text(summary)
    assert f"flagged, waiting in review: {summary.in_review}" in text
    assert "tracking accepted by the channel" in text

    # Again: nothing left to do, nothing done twice.
    pushes = sandbox.fulfillment.ship_requests.copy()
    again = run(shop, tmp_path)
    assert (again.confirmed, again.packages_built, again.labelled, again.shipped) == (0, 0, 0, 0)
    assert LabelPurchase.objects.count() == len(packages)
    assert TrackingUpload.objects.count() == len(packages)
    assert sandbox.fulfillment.ship_requests == pushes


def test_the_command_processes_the_burst_with_its_own_worker(
    burst: tuple[Shop, list[str]], tmp_path: Path
) -> None:
    shop, _ids = burst
    out = io.StringIO()
    call_command(
        "process_burst",
        shop=shop.pk,
        label_provider="sandbox",
        pdf_dir=tmp_path / "pdf",
        stdout=out,
    )
    text = out.getvalue()
    shipped = Package.objects.filter(shop=shop, shipped_at__isnull=False).count()
    assert shipped > 0
    assert f"shipped {shipped} (already shipped 0)" in text
    assert TrackingUpload.objects.filter(state=TrackingUploadState.QUEUED).count() == 0
    assert sorted(path.name for path in (tmp_path / "pdf").iterdir()) == [
        f"batch-{pk}.pdf"
        for pk in sorted(Package.objects.values_list("batch_item__batch", flat=True).distinct())
    ]


def test_the_button_and_the_api_process_the_burst_and_packers_may_not(
    burst: tuple[Shop, list[str]], worker: WorkerThread, client: Client, settings: Any
) -> None:
    shop, _ids = burst
    settings.FULFILLMENT_BURST_LABEL_PROVIDER = "sandbox"
    client.force_login(UserFactory(packer=True))
    assert client.get("/fulfillment/process/").status_code == 403
    assert (
        client.post("/api/fulfillment/process", {"shop": shop.pk}, "application/json").status_code
        == 403
    )
    assert Package.objects.count() == 0

    client.force_login(UserFactory(username="opal"))
    page = client.get("/fulfillment/process/")
    assert page.status_code == 200
    assert 'hx-post="/fulfillment/process/"' in page.content.decode()

    response = client.post("/fulfillment/process/", {"shop": shop.pk}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    html = response.content.decode()
    shipped = Package.objects.filter(shop=shop, shipped_at__isnull=False).count()
    in_review = Order.objects.filter(shop=shop, state=OrderState.IN_REVIEW).count()
    assert shipped > 0
    assert f'<th scope="row">Shipped</th><td class="num">{shipped}</td>' in html
    assert f">{in_review}</a></td>" in html
    batch = Package.objects.filter(shop=shop).values_list("batch_item__batch", flat=True).first()
    assert f"/fulfillment/batches/{batch}/labels.pdf" in html

    # The API: nothing is left, and it says so.
    api = client.post("/api/fulfillment/process", {"shop": shop.pk}, "application/json")
    assert api.status_code == 200
    body = api.json()
    assert (body["confirmed"], body["labelled"], body["shipped"]) == (0, 0, 0)
    assert body["in_review"] == in_review
    assert [step["name"] for step in body["steps"]][:2] == [
        "release and screen",
        "confirm clean orders",
    ]
    # A web worker starts no process: the PDFs are drawn in the request's own process.
    assert "batch PDF" in [step["name"] for step in body["steps"]]


def _page_texts(path: str) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(Path(path).read_bytes())).pages]


def test_the_second_process_draws_the_batch_pdf_and_a_failed_one_is_replaced_here(
    burst: tuple[Shop, list[str]], worker: WorkerThread, tmp_path: Path
) -> None:
    shop, _remote_ids = burst
    # By default the burst hands the PDFs to the second process.
    summary = run(shop, tmp_path)
    assert [step.name for step in summary.steps][5:] == [
        "batch PDF (handed to a second process)",
        "ship",
        "tracking accepted by the channel",
        "batch PDF (waiting for the second process)",
    ]
    batches = list(LabelBatch.objects.filter(pk__in=summary.batches).order_by("pk"))
    (drawn,) = summary.pdf_paths
    assert drawn == str(tmp_path / "pdf" / f"batch-{batches[0].pk}.pdf")
    # Drawn in this process instead: the same pages, word for word (pick list, every label).
    (here,) = [batch_pdf_write(batch, tmp_path / "in-process") for batch in batches]
    expected = _page_texts(here)
    assert len(expected) > 2 and "PICK LIST" in expected[0]
    assert _page_texts(drawn) == expected

    pdfs = PdfProcess()
    for batch in batches:
        pdfs.add(batch, tmp_path / "again")
    (path,) = pdfs.result()
    assert pdfs.process.returncode == 0  # the child wrote it
    assert _page_texts(path) == expected

    dead = PdfProcess()
    dead.process.kill()
    dead.process.wait()
    for batch in batches:
        dead.add(batch, tmp_path / "here")
    (path,) = dead.result()
    assert dead.process.returncode != 0
    assert path == str(tmp_path / "here" / f"batch-{batches[0].pk}.pdf")
    assert _page_texts(path) == expected
