"""File pages: upload an export and read its report; download TikTok's tracking-upload file."""

from __future__ import annotations

from io import BytesIO

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from aftershow.accounts.models import User
from aftershow.imports.forms import ImportForm, TrackingExportForm
from aftershow.imports.models import ImportRun, ImportSource
from aftershow.imports.selectors import (
    can_export_tracking,
    can_import,
    recent_runs,
    run_with_issues,
)
from aftershow.imports.services import import_upload
from aftershow.imports.tracking import tracking_upload_collect, tracking_upload_write
from aftershow.orders.views import login_required

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@login_required
def import_page(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not can_import(user):
        return HttpResponseForbidden(_("Your role may not import files."))
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        run = import_upload(
            shop=form.cleaned_data["shop"],
            upload=form.cleaned_data["file"],
            source=ImportSource.UI,
            user=user,
        )
        return redirect("imports:run", pk=run.pk)
    return render(request, "imports/upload.html", {"form": form, "runs": recent_runs()})


@login_required
def run_report(request: HttpRequest, pk: int) -> HttpResponse:
    if not can_import(_user(request)):
        return HttpResponseForbidden(_("Your role may not import files."))
    try:
        run = run_with_issues(pk)
    except ImportRun.DoesNotExist as error:
        raise Http404 from error
    return render(request, "imports/run.html", {"run": run, "issues": run.issues.all()})


@login_required
def tracking_page(request: HttpRequest) -> HttpResponse:
    if not can_export_tracking(_user(request)):
        return HttpResponseForbidden(_("Your role may not export tracking."))
    form = TrackingExportForm(request.GET or None)
    upload = tracking_upload_collect(shop=form.cleaned_data["shop"]) if form.is_valid() else None
    return render(request, "imports/tracking.html", {"form": form, "upload": upload})


@login_required
def tracking_download(request: HttpRequest) -> HttpResponse:
    if not can_export_tracking(_user(request)):
        return HttpResponseForbidden(_("Your role may not export tracking."))
    form = TrackingExportForm(request.GET)
    if not form.is_valid():
        raise Http404
    shop = form.cleaned_data["shop"]
    buffer = BytesIO()
    tracking_upload_write(tracking_upload_collect(shop=shop), buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    name = f"tiktok-tracking-upload-{shop.pk}-{timezone.now():%Y%m%d-%H%M}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
