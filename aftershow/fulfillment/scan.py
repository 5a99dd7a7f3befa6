"""The scan-to-ship station: a page for packers with a keyboard-wedge barcode scanner.

The scanner types the tracking number printed under the label's barcode, then Enter. Each scan
is one POST to :func:`scan_submit`, which calls ``package_scan`` (the conditional update makes
two stations scanning one parcel ship it once) and answers with the result as a fragment: the
page's script (``static/fulfillment/scan.js``) queues scans so none is lost while one is in
flight, shows the result, beeps, and on an error keeps a full-screen red panel up until the
packer acknowledges it. Without JavaScript the form still posts and the page shows the result.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_POST

from aftershow.accounts.models import Role, User
from aftershow.fulfillment.shipping import ScanOutcome, package_scan
from aftershow.orders.views import login_required

View = Callable[..., HttpResponse]
STATION_MAX_LENGTH = 40
CODE_MAX_LENGTH = 80


def packers(view: View) -> View:
    """Packers, operators and the owner."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        user = request.user
        if not isinstance(user, User) or not user.has_role(Role.PACKER, Role.OPERATOR):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _station(request: HttpRequest, user: User) -> str:
    value = request.POST.get("station") or request.GET.get("station") or user.get_username()
    return value.strip()[:STATION_MAX_LENGTH] or user.get_username()


def _count(value: str | None) -> int:
    try:
        return max(0, int(value or 0))
    except ValueError:
        return 0


@packers
@require_http_methods(["GET"])
def scan_station(request: HttpRequest) -> HttpResponse:
    assert isinstance(request.user, User)
    return render(
        request,
        "fulfillment/scan.html",
        {"station": _station(request, request.user), "count": 0, "outcome": None},
    )


@packers
@require_POST
def scan_submit(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    station = _station(request, user)
    outcome: ScanOutcome = package_scan(
        code=request.POST.get("code", "")[:CODE_MAX_LENGTH], actor=user, station=station
    )
    count = _count(request.POST.get("count")) + (1 if outcome.is_success else 0)
    context = {"station": station, "count": count, "outcome": outcome}
    if request.headers.get("X-Scan-Station"):
        return render(request, "fulfillment/_scan_result.html", context)
    return render(request, "fulfillment/scan.html", context)
