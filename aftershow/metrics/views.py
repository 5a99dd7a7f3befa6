"""Metrics pages: the leaderboard with charts, tiers, the phase-out list and return warnings; a
creator's, a session's and a period's figures, each with the rows it is computed from; profit per
order and per session; the versioned thresholds.

Creator managers, finance and the owner may look; creator managers and the owner recompute;
only the owner changes thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from aftershow.accounts.models import Role, User
from aftershow.core.timeutils import utcnow
from aftershow.creators.models import Creator, LiveSession
from aftershow.metrics import selectors
from aftershow.metrics.charts import Bar, Segment, bar_chart, share_chart
from aftershow.metrics.forms import PeriodForm, TierPolicyForm
from aftershow.metrics.formulas import Figures, tier_for
from aftershow.metrics.models import MetricsRun, RecomputeTrigger
from aftershow.metrics.profit import orders_profit, total_profit
from aftershow.metrics.selectors import Period, Scope
from aftershow.metrics.services import (
    PolicyError,
    can_change_policy,
    can_view_metrics,
    metrics_recompute,
    tier_policy_create,
    tier_policy_current,
)
from aftershow.metrics.templatetags.metrics_tags import money, pct, ratio2
from aftershow.orders.models import Order
from aftershow.orders.views import login_required

PAGE_SIZE = 100
CHART_CREATORS = 15


def _viewer(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    if not can_view_metrics(user):
        raise PermissionDenied(gettext("Your role may not see creator metrics."))
    return user


def _can_recompute(user: User) -> bool:
    return user.has_role(Role.CREATOR_MANAGER)


@dataclass(frozen=True)
class FigureRow:
    """One figure with its formula written out in its own numbers, and where its inputs are."""

    name: str
    value: str
    formula: str
    worked: str
    anchor: str


def figure_rows(figures: Figures) -> list[FigureRow]:
    return [
        FigureRow(
            name=gettext("Conversion"),
            value=pct(figures.conversion),
            formula=gettext("units sold in live sessions ÷ live viewers"),
            worked=f"{figures.live_units} ÷ {figures.viewers} = {pct(figures.conversion)}",
            anchor="sessions",
        ),
        FigureRow(
            name=gettext("Average order value"),
            value=money(figures.average_order_value),
            formula=gettext("sales ÷ orders"),
            worked=f"{money(figures.sales)} ÷ {figures.orders} = "
            f"{money(figures.average_order_value)}",
            anchor="orders",
        ),
        FigureRow(
            name=gettext("Return rate"),
            value=pct(figures.return_rate),
            formula=gettext("returned orders ÷ orders"),
            worked=f"{figures.returned_orders} ÷ {figures.orders} = {pct(figures.return_rate)}",
            anchor="orders",
        ),
        FigureRow(
            name=gettext("ROI"),
            value=ratio2(figures.roi),
            formula=gettext(
                "(sales of kept orders - cost of goods - commission) ÷ invested "
                "(samples, flat fees, sample shipping)"
            ),
            worked=f"({money(figures.kept_sales)} - {money(figures.cost_of_goods)} - "
            f"{money(figures.commission)}) ÷ {money(figures.invested)} = {ratio2(figures.roi)}",
            anchor="invested",
        ),
    ]


def _period(request: HttpRequest, *, now: datetime) -> tuple[PeriodForm, Period]:
    form = PeriodForm(request.GET or None)
    if form.is_bound and form.is_valid():
        start, end = form.bounds(now=now)
        return form, Period(start=start, end=end)
    policy = tier_policy_current(at=now)
    start = now - timedelta(days=policy.window_days) if policy.window_days else None
    return form, Period(start=start, end=now)


@login_required
def leaderboard(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    rows = list(selectors.standings())
    shares = selectors.tier_shares()
    by_sales = sorted(rows, key=lambda standing: standing.kept_sales, reverse=True)
    sales_chart = bar_chart(
        [
            Bar(
                label=f"@{standing.creator.handle}",
                value=standing.kept_sales,
                tier=standing.tier,
                shown=f"{money(standing.kept_sales)} ({standing.tier})",
            )
            for standing in by_sales[:CHART_CREATORS]
        ],
        title=gettext("Sales of kept orders by creator, coloured by tier"),
    )
    concentration = share_chart(
        [
            (
                gettext("Creators"),
                [Segment(share.tier, share.label, share.creators_share) for share in shares],
            ),
            (
                gettext("Sales"),
                [Segment(share.tier, share.label, share.sales_share) for share in shares],
            ),
        ],
        title=gettext("Share of creators and of sales per tier"),
    )
    return render(
        request,
        "metrics/leaderboard.html",
        {
            "standings": rows,
            "shares": shares,
            "s_share": shares[0],
            "sales_chart": sales_chart,
            "concentration": concentration,
            "phase_out": selectors.phase_out_list(),
            "warnings": selectors.return_warnings(),
            "changes": selectors.recent_tier_changes(),
            "last_run": MetricsRun.objects.select_related("policy").order_by("-pk").first(),
            "policy": tier_policy_current(at=utcnow()),
            "can_recompute": _can_recompute(user),
        },
    )


@login_required
@require_POST
def recompute(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    if not _can_recompute(user):
        raise PermissionDenied(gettext("Your role may not recompute tiers."))
    run = metrics_recompute(trigger=RecomputeTrigger.UI, by=user)
    messages.success(
        request,
        gettext("Recomputed %(creators)d creators: %(changes)d tier changes.")
        % {"creators": run.creators, "changes": run.tier_changes},
    )
    return redirect("metrics:leaderboard")


@login_required
def creator_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _viewer(request)
    creator = get_object_or_404(Creator, pk=pk)
    now = utcnow()
    form, period = _period(request, now=now)
    scope = Scope(period=period, creator_id=creator.pk)
    figures = selectors.figures_for(scope)
    sessions = LiveSession.objects.filter(creator=creator).order_by("-starts_at")[:50]
    return render(
        request,
        "metrics/creator.html",
        {
            "creator": creator,
            "standing": getattr(creator, "standing", None),
            "form": form,
            "period": period,
            "figures": figures,
            "rows": figure_rows(figures),
            "split": selectors.commission_split(scope),
            "history": selectors.tier_history(creator=creator),
            "sessions": sessions,
            "inputs_url": reverse("metrics:creator_inputs", args=[creator.pk])
            + ("?" + request.GET.urlencode() if request.GET else ""),
        },
    )


def _without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _inputs_context(request: HttpRequest, scope: Scope) -> dict[str, object]:
    orders = Paginator(selectors.inputs_orders(scope), PAGE_SIZE).get_page(request.GET.get("page"))
    return {
        "figures": selectors.figures_for(scope),
        "orders": orders,
        "sessions": selectors.inputs_sessions(scope),
        "commission": selectors.inputs_commission(scope)[:1000],
        "samples": selectors.inputs_samples(scope),
        "flat_fees": selectors.inputs_flat_fees(scope),
        "fee_lines": selectors.inputs_fee_lines(scope),
        "split": selectors.commission_split(scope),
        "query": _without_page(request),
    }


@login_required
def creator_inputs(request: HttpRequest, pk: int) -> HttpResponse:
    _viewer(request)
    creator = get_object_or_404(Creator, pk=pk)
    form, period = _period(request, now=utcnow())
    scope = Scope(period=period, creator_id=creator.pk)
    context = _inputs_context(request, scope)
    context.update(
        {
            "creator": creator,
            "form": form,
            "period": period,
            "rows": figure_rows(context["figures"]),  # type: ignore[arg-type]
            "subject": f"@{creator.handle}",
        }
    )
    return render(request, "metrics/inputs.html", context)


@dataclass(frozen=True)
class PeriodRow:
    creator: Creator
    figures: Figures
    tier: str


@login_required
def period_detail(request: HttpRequest) -> HttpResponse:
    """Every creator's figures over a chosen period, computed now (not the stored standings)."""
    _viewer(request)
    now = utcnow()
    form, period = _period(request, now=now)
    policy = tier_policy_current(at=now)
    figures = selectors.figures_by_creator(period=period)
    creators = Creator.objects.in_bulk(list(figures))
    rows = sorted(
        (
            PeriodRow(creator=creators[key], figures=value, tier=tier_for(value.roi, policy))
            for key, value in figures.items()
            if key in creators
        ),
        key=lambda row: row.figures.kept_sales,
        reverse=True,
    )
    total = selectors.figures_for(Scope(period=period))
    return render(
        request,
        "metrics/period.html",
        {
            "form": form,
            "period": period,
            "rows": rows,
            "total": total,
            "total_rows": figure_rows(total),
            "policy": policy,
            "query": request.GET.urlencode(),
        },
    )


@login_required
def session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _viewer(request)
    session = get_object_or_404(LiveSession.objects.select_related("creator", "shop"), pk=pk)
    scope = Scope(session_id=session.pk)
    policy = tier_policy_current(at=utcnow())
    orders = list(selectors.inputs_orders(scope))
    profit_rows = orders_profit(orders=orders, fee_percent=policy.platform_fee_percent)
    total = total_profit(profit_rows)
    page = Paginator(profit_rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = _inputs_context(request, scope)
    context.update(
        {
            "session": session,
            "subject": str(session),
            "rows": figure_rows(context["figures"]),  # type: ignore[arg-type]
            "profit": total,
            "profit_page": page,
            "policy": policy,
        }
    )
    return render(request, "metrics/session.html", context)


@login_required
def order_profit(request: HttpRequest, pk: int) -> HttpResponse:
    _viewer(request)
    order = get_object_or_404(
        Order.objects.select_related("creator", "live_session", "shop"), pk=pk
    )
    policy = tier_policy_current(at=utcnow())
    (row,) = orders_profit(orders=[order], fee_percent=policy.platform_fee_percent)
    return render(
        request, "metrics/order_profit.html", {"order": order, "row": row, "policy": policy}
    )


@login_required
def thresholds(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    now = utcnow()
    current = tier_policy_current(at=now)
    may_change = can_change_policy(user)
    form = TierPolicyForm.from_policy(current, now=now)
    status = 200
    if request.method == "POST":
        if not may_change:
            raise PermissionDenied(gettext("Only the owner changes tier thresholds."))
        form = TierPolicyForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                policy = tier_policy_create(
                    s_above=data["s_above"],
                    a_from=data["a_from"],
                    phase_out_below=data["phase_out_below"],
                    return_warning_percent=data["return_warning_percent"],
                    platform_fee_percent=data["platform_fee_percent"],
                    window_days=data["window_days"],
                    effective_from=form.effective_utc(),
                    reason=data["reason"],
                    by=user,
                )
            except PolicyError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request,
                    gettext("Thresholds version %(version)d saved; recompute to apply them.")
                    % {"version": policy.version},
                )
                return redirect("metrics:thresholds")
        status = 422
    return render(
        request,
        "metrics/thresholds.html",
        {
            "form": form,
            "current": current,
            "policies": selectors.policies(),
            "may_change": may_change,
            "zero": Decimal("0"),
        },
        status=status,
    )
