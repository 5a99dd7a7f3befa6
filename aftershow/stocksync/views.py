"""The sync page: per SKU and channel listing, the last quantity pushed, when, and any error;
the channel buffers, which owners edit."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from aftershow.accounts.models import User
from aftershow.orders.views import login_required
from aftershow.stocksync import selectors, services
from aftershow.stocksync.forms import BufferForm
from aftershow.stocksync.models import ChannelBuffer

PAGE_SIZE = 100


def _can_configure(request: HttpRequest) -> bool:
    user = request.user
    return isinstance(user, User) and user.has_role()  # owners only


@login_required
def sync_page(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.listing_syncs(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "stocksync/sync.html",
        {
            "page": page,
            "buffers": selectors.buffers(),
            "form": BufferForm(),
            "can_configure": _can_configure(request),
        },
    )


@login_required
@require_POST
def buffer_save(request: HttpRequest) -> HttpResponse:
    if not _can_configure(request):
        raise PermissionDenied(gettext("Your role may not do this."))
    form = BufferForm(request.POST)
    if not form.is_valid():
        page = Paginator(selectors.listing_syncs(), PAGE_SIZE).get_page(1)
        context = {"page": page, "buffers": selectors.buffers(), "form": form}
        return render(
            request, "stocksync/sync.html", {**context, "can_configure": True}, status=400
        )
    user = request.user
    assert isinstance(user, User)
    services.buffer_save(
        shop=form.cleaned_data["shop"],
        sku=form.cleaned_data["sku"],
        percent_of_available=form.cleaned_data["percent_of_available"],
        units_held_back=form.cleaned_data["units_held_back"],
        max_listed=form.cleaned_data["max_listed"],
        by=user,
    )
    messages.success(request, gettext("Buffer saved; the channels' quantities follow."))
    return redirect("stocksync:page")


@login_required
@require_POST
def buffer_delete(request: HttpRequest, pk: int) -> HttpResponse:
    if not _can_configure(request):
        raise PermissionDenied(gettext("Your role may not do this."))
    services.buffer_delete(buffer=get_object_or_404(ChannelBuffer, pk=pk))
    messages.success(request, gettext("Buffer removed."))
    return redirect("stocksync:page")
