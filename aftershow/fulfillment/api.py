"""Label batches over HTTP: run (build, choose, batch, buy), read with per-order errors, retry
the failed orders, download the print files; and an order's parcels with the carrier reason.

Mounted at ``/api/fulfillment/``; authentication is the Django session (see ``aftershow.api``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema
from ninja.errors import HttpError

from aftershow.accounts.models import Role, User
from aftershow.fulfillment import services
from aftershow.fulfillment.labels.base import LabelError
from aftershow.fulfillment.models import BatchItemState, LabelBatch, LabelBatchItem, Package
from aftershow.fulfillment.pipeline import BurstSummary, burst_label_provider, burst_process
from aftershow.fulfillment.selectors import batch_items, packages_for_order
from aftershow.shops.models import Shop

router = Router(tags=["fulfillment"])


def _require(request: HttpRequest, *roles: Role) -> User:
    user = request.user
    if not isinstance(user, User) or not user.has_role(*roles):
        raise HttpError(403, "Your role may not do this.")
    return user


class BatchRunIn(Schema):
    shop: int = Field(description="Shop id")
    max_orders: int = Field(600, ge=1, le=600, description="Orders per batch (TikTok cap: 600)")


class BatchItemOut(Schema):
    position: int
    package_id: int
    orders: list[str] = Field(description="Remote order ids in the parcel")
    state: str
    carrier: str
    service: str
    provider: str
    tracking_number: str
    error_reason: str
    is_retryable: bool
    attempts: int

    @staticmethod
    def resolve_orders(item: LabelBatchItem) -> list[str]:
        numbers: list[str] = []
        for line in item.package.lines.all():
            if line.order.remote_order_id not in numbers:
                numbers.append(line.order.remote_order_id)
        return numbers

    @staticmethod
    def resolve_carrier(item: LabelBatchItem) -> str:
        return item.package.carrier

    @staticmethod
    def resolve_service(item: LabelBatchItem) -> str:
        return item.package.service

    @staticmethod
    def resolve_provider(item: LabelBatchItem) -> str:
        return item.package.provider

    @staticmethod
    def resolve_tracking_number(item: LabelBatchItem) -> str:
        return item.package.tracking_number


class BatchOut(Schema):
    id: int
    shop_id: int
    created_at: datetime
    order_count: int
    labelled: int
    errors: int
    items: list[BatchItemOut]


def _batch_out(batch: LabelBatch) -> dict[str, object]:
    items = list(batch_items(batch))
    return {
        "id": batch.pk,
        "shop_id": batch.shop_id,
        "created_at": batch.created_at,
        "order_count": batch.order_count,
        "labelled": sum(1 for item in items if item.state == BatchItemState.LABELLED),
        "errors": sum(1 for item in items if item.state == BatchItemState.ERROR),
        "items": items,
    }


@router.post("/label-batches", response=list[BatchOut], summary="Label every confirmed order")
def run_batches(request: HttpRequest, payload: BatchRunIn) -> list[dict[str, object]]:
    user = _require(request, Role.OPERATOR)
    shop = get_object_or_404(Shop, pk=payload.shop)
    reports = services.labels_batch_run(shop=shop, created_by=user, max_orders=payload.max_orders)
    return [_batch_out(report.batch) for report in reports]


class BurstIn(Schema):
    shop: int = Field(description="Shop id")
    tracking_timeout: float = Field(
        20.0, ge=0, le=300, description="Seconds to wait for TikTok to accept the tracking"
    )


class StepOut(Schema):
    name: str
    seconds: float


class OrderErrorOut(Schema):
    order: str = Field(description="The channel's order number")
    step: str
    reason: str


class BurstOut(Schema):
    shop_id: int
    released: int
    held: int
    screened: int
    in_review: int
    flagged_by_reason: dict[str, int]
    confirmed: int
    packages_built: int
    carriers_chosen: int
    labelled: int
    batches: list[int]
    shipped: int
    already_shipped: int
    tracking_requested: int
    tracking_accepted: int
    tracking_failed: int
    tracking_waiting: int
    errors: list[OrderErrorOut]
    steps: list[StepOut]
    total_seconds: float


@router.post("/process", response=BurstOut, summary="Process the whole burst in one action")
def process_burst(request: HttpRequest, payload: BurstIn) -> BurstSummary:
    """Release and screen, confirm all clean, parcels, carriers, labels, one PDF per batch
    (``/label-batches/{id}/labels.pdf``), ship, and wait for TikTok to take the tracking."""
    user = _require(request, Role.OPERATOR)
    shop = get_object_or_404(Shop, pk=payload.shop)
    try:
        provider = burst_label_provider(shop)
    except LabelError as error:
        raise HttpError(400, error.reason) from error
    # A web request starts no process: the PDFs are drawn in this one.
    return burst_process(
        shop=shop,
        actor=user,
        provider=provider,
        tracking_timeout=payload.tracking_timeout,
        parallel_pdf=False,
    )


@router.get("/label-batches/{batch_id}", response=BatchOut, summary="A batch, errors per order")
def get_batch(request: HttpRequest, batch_id: int) -> dict[str, object]:
    _require(request, Role.OPERATOR, Role.PACKER)
    return _batch_out(get_object_or_404(LabelBatch, pk=batch_id))


@router.post(
    "/label-batches/{batch_id}/retry", response=BatchOut, summary="Retry only the failed orders"
)
def retry_batch(request: HttpRequest, batch_id: int) -> dict[str, object]:
    _require(request, Role.OPERATOR)
    batch = get_object_or_404(LabelBatch, pk=batch_id)
    services.label_batch_retry(batch=batch)
    return _batch_out(batch)


@router.get("/label-batches/{batch_id}/labels.pdf", summary="Pick list and labels, one PDF")
def batch_pdf(request: HttpRequest, batch_id: int, slips: bool = False) -> HttpResponse:
    _require(request, Role.OPERATOR, Role.PACKER)
    batch = get_object_or_404(LabelBatch, pk=batch_id)
    return HttpResponse(
        services.batch_pdf(batch=batch, packing_slips=slips), content_type="application/pdf"
    )


@router.get("/label-batches/{batch_id}/labels.zpl", summary="Every label in ZPL")
def batch_zpl(request: HttpRequest, batch_id: int) -> HttpResponse:
    _require(request, Role.OPERATOR, Role.PACKER)
    batch = get_object_or_404(LabelBatch, pk=batch_id)
    return HttpResponse(services.batch_zpl(batch=batch), content_type="text/plain")


class PackageOut(Schema):
    id: int
    carrier: str
    service: str
    service_code: str
    provider: str
    selection_source: str
    selection_reason: str
    rule: str | None
    zone: int | None
    weight_oz: Decimal
    billable_weight_oz: Decimal | None
    quoted_amount: Decimal | None
    estimated_delivery: date | None
    deliver_by: date | None
    tracking_number: str

    @staticmethod
    def resolve_rule(package: Package) -> str | None:
        return package.rule.name if package.rule else None


@router.get(
    "/orders/{order_id}/packages",
    response=list[PackageOut],
    summary="An order's parcels with the carrier choice and its reason",
)
def order_packages(request: HttpRequest, order_id: int) -> list[Package]:
    _require(request, Role.OPERATOR, Role.PACKER)
    return list(packages_for_order(order_id))
