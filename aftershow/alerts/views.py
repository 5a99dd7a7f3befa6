"""Alert pages: the inbox (what fired, and what each destination got), the destinations
(Apprise URLs), the thresholds, and the local inbox of the demo's loopback receivers.

Everyone in the team may look; only the owner changes destinations and thresholds (they decide
who is woken at night and where secrets go).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from aftershow.accounts.models import Role, User
from aftershow.alerts import selectors, services
from aftershow.alerts.forms import AlertSettingsForm, DestinationForm, SkuThresholdForm
from aftershow.alerts.models import AlertDestination, AlertKind
from aftershow.catalog.models import Sku
from aftershow.orders.views import login_required

PAGE_SIZE = 50


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _can_configure(request: HttpRequest) -> bool:
    return _user(request).has_role(Role.OWNER)


def _require_owner(request: HttpRequest) -> None:
    if not _can_configure(request):
        raise PermissionDenied(gettext("Only the owner changes alert settings."))


@login_required
def alert_inbox(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "")
    if kind not in AlertKind.values:
        kind = ""
    page = Paginator(selectors.alert_list(kind=kind), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "alerts/inbox.html",
        {"page": page, "kind": kind, "kinds": AlertKind.choices},
    )


@login_required
def destinations(request: HttpRequest) -> HttpResponse:
    form = DestinationForm()
    if request.method == "POST":
        _require_owner(request)
        form = DestinationForm(request.POST)
        if form.is_valid():
            services.destination_create(
                name=form.cleaned_data["name"],
                url=form.cleaned_data["url"],
                is_active=form.cleaned_data["is_active"],
            )
            messages.success(request, gettext("Destination added."))
            return redirect("alerts:destinations")
    return render(
        request,
        "alerts/destinations.html",
        {
            "destinations": selectors.destination_list(),
            "form": form,
            "can_configure": _can_configure(request),
        },
    )


@login_required
def destination_edit(request: HttpRequest, pk: int) -> HttpResponse:
    destination = get_object_or_404(AlertDestination, pk=pk)
    form = DestinationForm(
        initial={"name": destination.name, "is_active": destination.is_active}, require_url=False
    )
    if request.method == "POST":
        _require_owner(request)
        form = DestinationForm(request.POST, require_url=False)
        if form.is_valid():
            services.destination_update(
                destination=destination,
                name=form.cleaned_data["name"],
                url=form.cleaned_data["url"] or None,
                is_active=form.cleaned_data["is_active"],
            )
            messages.success(request, gettext("Destination saved."))
            return redirect("alerts:destinations")
    return render(
        request,
        "alerts/destination_edit.html",
        {"destination": destination, "form": form, "can_configure": _can_configure(request)},
    )


@login_required
@require_POST
def destination_send_test(request: HttpRequest, pk: int) -> HttpResponse:
    _require_owner(request)
    destination = get_object_or_404(AlertDestination, pk=pk)
    result = services.destination_test(destination=destination)
    if result.ok:
        messages.success(request, gettext("Test message sent to %s.") % destination.name)
    else:
        messages.error(
            request,
            gettext("Sending to %(name)s failed: %(error)s")
            % {"name": destination.name, "error": result.error},
        )
    return redirect("alerts:destinations")


@login_required
def thresholds(request: HttpRequest) -> HttpResponse:
    current = services.alert_settings()
    form = AlertSettingsForm(instance=current)
    if request.method == "POST":
        _require_owner(request)
        form = AlertSettingsForm(request.POST, instance=current)
        if form.is_valid():
            form.save()
            messages.success(request, gettext("Alert settings saved."))
            return redirect("alerts:thresholds")
    return render(
        request,
        "alerts/thresholds.html",
        {
            "form": form,
            "sku_form": SkuThresholdForm(),
            "overrides": selectors.sku_threshold_list(),
            "can_configure": _can_configure(request),
        },
    )


@login_required
@require_POST
def sku_threshold(request: HttpRequest) -> HttpResponse:
    _require_owner(request)
    if request.POST.get("clear"):
        cleared = get_object_or_404(Sku, code=request.POST.get("sku", ""))
        services.sku_threshold_clear(sku=cleared)
        messages.success(request, gettext("%s uses the default thresholds again.") % cleared.code)
        return redirect("alerts:thresholds")
    form = SkuThresholdForm(request.POST)
    sku: Sku | None = None
    if form.is_valid():
        sku = Sku.objects.filter(code=form.cleaned_data["sku"]).first()
        if sku is None:
            form.add_error("sku", gettext("No SKU with this code."))
    if not form.is_valid() or sku is None:
        return render(
            request,
            "alerts/thresholds.html",
            {
                "form": AlertSettingsForm(instance=services.alert_settings()),
                "sku_form": form,
                "overrides": selectors.sku_threshold_list(),
                "can_configure": True,
            },
            status=400,
        )
    services.sku_threshold_set(
        sku=sku,
        yellow=form.cleaned_data["yellow_below"],
        orange=form.cleaned_data["orange_below"],
        red=form.cleaned_data["red_below"],
    )
    messages.success(request, gettext("Thresholds of %s saved.") % sku.code)
    return redirect("alerts:thresholds")


@login_required
def local_inbox_page(request: HttpRequest) -> HttpResponse:
    return render(
        request, "alerts/local_inbox.html", {"messages_received": selectors.local_inbox()}
    )
