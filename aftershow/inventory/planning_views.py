"""Stock plan pages: planned lives with their plan, one session's plan (edit the inputs), and
replenishment suggestions. Anyone may look; owners and operators change plans."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext

from aftershow.accounts.models import Role, User
from aftershow.core.timeutils import utcnow
from aftershow.creators.models import LiveSession, LiveSessionStatus
from aftershow.inventory.planning import (
    replenishment_suggestions,
    stock_plan_for,
    stock_plan_save,
)
from aftershow.inventory.planning_forms import StockPlanForm
from aftershow.orders.views import login_required

UPCOMING_DAYS = 30


def _can_plan(request: HttpRequest) -> bool:
    user = request.user
    assert isinstance(user, User)
    return user.has_role(Role.OPERATOR)


@login_required
def planned_sessions(request: HttpRequest) -> HttpResponse:
    now = utcnow()
    sessions = (
        LiveSession.objects.filter(
            status=LiveSessionStatus.PLANNED,
            starts_at__gte=now - timedelta(hours=12),
            starts_at__lte=now + timedelta(days=UPCOMING_DAYS),
        )
        .select_related("creator")
        .order_by("starts_at", "pk")[:200]
    )
    plans = [stock_plan_for(session) for session in sessions]
    return render(request, "inventory/planning/sessions.html", {"plans": plans, "now": now})


@login_required
def session_plan(request: HttpRequest, session_pk: int) -> HttpResponse:
    session = get_object_or_404(LiveSession.objects.select_related("creator"), pk=session_pk)
    plan = stock_plan_for(session)
    form = StockPlanForm(
        initial={
            "followers": plan.followers,
            "view_rate": plan.view_rate,
            "conversion_rate": plan.conversion_rate,
            "safety_factor": plan.safety_factor,
            "first_batch_share": plan.first_batch_share,
            "skus": "\n".join(f"{line.sku.code} {line.share}" for line in plan.lines),
        }
    )
    if request.method == "POST":
        if not _can_plan(request):
            raise PermissionDenied(gettext("Your role may not do this."))
        form = StockPlanForm(request.POST)
        if form.is_valid():
            stock_plan_save(session=session, **form.plan_values())
            messages.success(request, gettext("Stock plan saved."))
            return redirect("planning:session", session_pk=session.pk)
    return render(
        request,
        "inventory/planning/plan.html",
        {"plan": plan, "session": session, "form": form, "can_plan": _can_plan(request)},
    )


@login_required
def replenishment(request: HttpRequest) -> HttpResponse:
    only_needed = request.GET.get("all") != "1"
    rows = replenishment_suggestions(only_needed=only_needed)
    return render(
        request,
        "inventory/planning/replenishment.html",
        {"rows": rows, "only_needed": only_needed},
    )
