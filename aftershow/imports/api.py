"""Files over HTTP: import an export (multipart upload) and read its report; TikTok's tracking
upload file and its report. Mounted at ``/api/imports/``; session authentication with CSRF.

Owners, operators and finance import (403 otherwise); owners, operators and packers export
tracking. An import answers 201 with its report, or 422 with the same report when the file was
refused as a whole (nothing of it stored).
"""

from __future__ import annotations

from datetime import datetime
from io import BytesIO

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, File, Form, Query, Router, Schema, UploadedFile
from ninja.errors import HttpError
from ninja.responses import Status

from aftershow.accounts.models import User
from aftershow.imports.models import ImportRun, ImportSource, ImportStatus
from aftershow.imports.selectors import can_export_tracking, can_import, tiktok_shops
from aftershow.imports.services import import_upload
from aftershow.imports.tracking import (
    TrackingUpload,
    tracking_upload_collect,
    tracking_upload_write,
)
from aftershow.imports.views import XLSX_TYPE
from aftershow.shops.models import Shop

router = Router(tags=["imports"])


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _shop(shop_id: int) -> Shop:
    return get_object_or_404(tiktok_shops(), pk=shop_id)


class IssueOut(Schema):
    row_number: int | None = Field(description="Row as a spreadsheet numbers it (header = 1)")
    column: str
    severity: str
    message: str


class ImportRunOut(Schema):
    id: int
    shop_id: int
    file_name: str
    file_size: int
    source: str
    detected_format: str
    layout: str
    status: str
    fatal_error: str = Field(description="Why nothing was imported; empty when imported")
    rows_read: int
    rows_skipped: int
    orders_in_file: int
    orders_created: int
    orders_updated: int
    orders_unchanged: int
    orders_stale: int = Field(description="Older than what aftershow has: left as they are")
    records_created: int
    records_updated: int
    records_unchanged: int
    errors_count: int
    warnings_count: int
    started_at: datetime
    finished_at: datetime | None
    issues: list[IssueOut] = Field(description="The first 500 row-level findings")

    @staticmethod
    def resolve_issues(run: ImportRun) -> list[object]:
        return list(run.issues.all())


class TrackingRowOut(Schema):
    order_id: str
    tracking_id: str
    provider_name: str = Field(description="TikTok's exact carrier string")
    combine_group_id: str


class RefusedRowOut(Schema):
    order_id: str
    tracking_id: str
    carrier: str
    reason: str


class TrackingUploadOut(Schema):
    rows: list[TrackingRowOut]
    refused: list[RefusedRowOut]
    already_shipped: int = Field(description="Orders TikTok already shows as shipped (left out)")


class ShopQuery(Schema):
    shop: int = Field(description="Shop id")


@router.post(
    "/",
    response={201: ImportRunOut, 422: ImportRunOut},
    summary="Import a Seller Center / Affiliate Center export (CSV or XLSX)",
)
def create_import(
    request: HttpRequest, shop: Form[int], file: File[UploadedFile]
) -> Status[ImportRun]:
    user = _user(request)
    if not can_import(user):
        raise HttpError(403, "Owners, operators and finance import files.")
    run = import_upload(shop=_shop(shop), upload=file, source=ImportSource.API, user=user)
    return Status(201 if run.status == ImportStatus.SUCCEEDED else 422, run)


@router.get("/{int:run_id}", response=ImportRunOut, summary="One import's report")
def get_import(request: HttpRequest, run_id: int) -> ImportRun:
    if not can_import(_user(request)):
        raise HttpError(403, "Owners, operators and finance import files.")
    return get_object_or_404(ImportRun, pk=run_id)


def _tracking(request: HttpRequest, shop_id: int) -> tuple[Shop, TrackingUpload]:
    if not can_export_tracking(_user(request)):
        raise HttpError(403, "Owners, operators and packers export tracking.")
    shop = _shop(shop_id)
    return shop, tracking_upload_collect(shop=shop)


@router.get(
    "/tracking-upload/report",
    response=TrackingUploadOut,
    summary="What the tracking upload file holds, and what it refuses and why",
)
def tracking_report(request: HttpRequest, query: Query[ShopQuery]) -> TrackingUpload:
    return _tracking(request, query.shop)[1]


@router.get(
    "/tracking-upload",
    summary="TikTok's bulk tracking upload file (XLSX)",
    response={200: None},
)
def tracking_file(request: HttpRequest, query: Query[ShopQuery]) -> HttpResponse:
    shop, upload = _tracking(request, query.shop)
    buffer = BytesIO()
    tracking_upload_write(upload, buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    name = f"tiktok-tracking-upload-{shop.pk}-{timezone.now():%Y%m%d-%H%M}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Rows-Written"] = str(len(upload.rows))
    response["X-Rows-Refused"] = str(len(upload.refused))
    return response
