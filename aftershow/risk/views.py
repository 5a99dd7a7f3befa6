"""Review pages: the queue (approve, hold, cancel, correct the address, confirm all clean
orders), held orders with why and until when, and the rules the seller edits.

Any member of the team may look; owners and operators act; only owners change rules. Actions
post with CSRF (htmx sends the token in a header, set on ``<body>`` by the base layout) and,
from htmx, answer with the replaced table row; without JavaScript they redirect back.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from aftershow.accounts.models import User
from aftershow.orders.models import Order
from aftershow.orders.views import login_required
from aftershow.risk import services
from aftershow.risk.forms import (
    AddressForm,
    CancelForm,
    HoldForm,
    NoteForm,
    ReleasePolicyForm,
    RuleForm,
)
from aftershow.risk.models import RiskRule
from aftershow.risk.selectors import (
    held_orders_queryset,
    queue_counts,
    release_policy_for,
    review_queue_queryset,
    rules_queryset,
)
from aftershow.shops.models import Shop

PAGE_SIZE = 50


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _require_reviewer(request: HttpRequest) -> User:
    user = _user(request)
    if not services.can_review(user):
        raise PermissionDenied(gettext("Your role may not do this."))
    return user


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    page = Paginator(review_queue_queryset(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "risk/review.html",
        {
            "page": page,
            "counts": queue_counts(),
            "can_review": services.can_review(_user(request)),
            "now": timezone.now(),
        },
    )


def _row(request: HttpRequest, order: Order, *, done: str = "", error: str = "") -> HttpResponse:
    """The order's row after an action (htmx), or back to the queue with a message."""
    if not _is_htmx(request):
        if error:
            messages.error(request, error)
        else:
            messages.success(request, done)
        return redirect("risk:queue")
    if done:
        return render(request, "risk/_row_done.html", {"order": order, "done": done})
    fresh = review_queue_queryset().filter(pk=order.pk).first()
    context = {"order": fresh or order, "error": error, "can_review": True, "now": timezone.now()}
    return render(request, "risk/_queue_row.html", context)


def _act(request: HttpRequest, pk: int, form: Any, action: Any, done: str) -> HttpResponse:
    order = get_object_or_404(Order, pk=pk)
    if not form.is_valid():
        error = "; ".join(
            f"{form.fields[name].label}: {message}" if name in form.fields else str(message)
            for name, problems in form.errors.items()
            for message in problems
        )
        return _row(request, order, error=error)
    try:
        order = action(order, form.cleaned_data)
    except services.ReviewError as problem:
        return _row(request, order, error=str(problem))
    return _row(request, order, done=done % {"order": order.remote_order_id})


@require_POST
@login_required
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    user = _require_reviewer(request)
    return _act(
        request,
        pk,
        NoteForm(request.POST),
        lambda order, data: services.order_approve(order=order, by=user, note=data["note"]),
        gettext("Order %(order)s approved."),
    )


@require_POST
@login_required
def hold(request: HttpRequest, pk: int) -> HttpResponse:
    user = _require_reviewer(request)
    return _act(
        request,
        pk,
        HoldForm(request.POST),
        lambda order, data: services.order_hold(
            order=order, by=user, until=data["until"], note=data["note"]
        ),
        gettext("Order %(order)s held."),
    )


@require_POST
@login_required
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    user = _require_reviewer(request)
    return _act(
        request,
        pk,
        CancelForm(request.POST),
        lambda order, data: services.order_cancel_locally(order=order, by=user, note=data["note"]),
        gettext("Order %(order)s cancelled in aftershow (not yet on the platform)."),
    )


@login_required
def correct_address(request: HttpRequest, pk: int) -> HttpResponse:
    order = get_object_or_404(Order.objects.select_related("shipping_address", "shop"), pk=pk)
    if request.method == "POST":
        user = _require_reviewer(request)
        form = AddressForm(request.POST)
        if form.is_valid():
            try:
                order = services.order_address_correct(
                    order=order,
                    by=user,
                    address=form.incoming_address(),
                    note=form.cleaned_data["note"],
                )
            except services.ReviewError as problem:
                form.add_error(None, str(problem))
            else:
                messages.success(
                    request,
                    gettext("Address of order %(order)s corrected; now %(state)s.")
                    % {"order": order.remote_order_id, "state": order.get_state_display()},
                )
                return redirect("risk:queue")
    else:
        current = order.shipping_address
        initial = {"country": "US"}
        if current is not None:
            fields = ("name", "phone", "line1", "line2", "city", "state", "postal_code", "country")
            initial = {name: getattr(current, name) for name in fields}
        form = AddressForm(initial=initial)
    return render(
        request,
        "risk/address.html",
        {"order": order, "form": form, "can_review": services.can_review(_user(request))},
    )


@require_POST
@login_required
def confirm_clean(request: HttpRequest) -> HttpResponse:
    user = _require_reviewer(request)
    confirmed = services.orders_confirm_clean(by=user)
    text = gettext("Confirmed %(count)d clean orders.") % {"count": confirmed}
    if _is_htmx(request):
        return render(request, "risk/_confirm_result.html", {"text": text, "confirmed": confirmed})
    messages.success(request, text)
    return redirect("risk:queue")


@login_required
def held_orders(request: HttpRequest) -> HttpResponse:
    page = Paginator(held_orders_queryset(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "risk/held.html", {"page": page, "now": timezone.now()})


def _rules_page(
    request: HttpRequest,
    *,
    bound: dict[int, RuleForm] | None = None,
    bound_policy: dict[int, ReleasePolicyForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    bound, bound_policy = bound or {}, bound_policy or {}
    rules = [(rule, bound.get(rule.pk) or RuleForm(rule=rule)) for rule in rules_queryset()]
    policies = []
    for shop in Shop.objects.order_by("name", "id"):
        policy = release_policy_for(shop)
        form = bound_policy.get(shop.pk) or ReleasePolicyForm(
            initial={
                "hold_live_orders_until_stream_end": policy.hold_live_orders_until_stream_end,
                "combine_window_minutes": policy.combine_window_minutes,
            },
            prefix=f"shop-{shop.pk}",
        )
        policies.append((shop, form))
    if not services.can_configure(_user(request)):
        shown: list[forms.Form] = [rule_form for _, rule_form in rules]
        shown += [policy_form for _, policy_form in policies]
        for shown_form in shown:
            for field in shown_form.fields.values():
                field.disabled = True
    context = {
        "rules": rules,
        "policies": policies,
        "can_configure": services.can_configure(_user(request)),
        "can_review": services.can_review(_user(request)),
    }
    return render(request, "risk/rules.html", context, status=status)


@login_required
def rules(request: HttpRequest) -> HttpResponse:
    return _rules_page(request)


@require_POST
@login_required
def rule_update(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    if not services.can_configure(user):
        raise PermissionDenied(gettext("Only the owner changes rules."))
    rule = get_object_or_404(RiskRule, pk=pk)
    form = RuleForm(request.POST, rule=rule)
    if form.is_valid():
        try:
            services.risk_rule_update(
                rule=rule,
                by=user,
                parameters=form.parameters(),
                is_active=form.cleaned_data["is_active"],
                position=form.cleaned_data["position"],
            )
        except services.RuleParametersError as problem:
            for name, message in problem.errors.items():
                form.add_error(name if name in form.fields else None, message)
        else:
            messages.success(request, gettext("Rule saved. It applies from the next screening."))
            return redirect("risk:rules")
    return _rules_page(request, bound={rule.pk: form}, status=422)


@require_POST
@login_required
def policy_update(request: HttpRequest, shop_pk: int) -> HttpResponse:
    user = _user(request)
    if not services.can_configure(user):
        raise PermissionDenied(gettext("Only the owner changes release policies."))
    shop = get_object_or_404(Shop, pk=shop_pk)
    form = ReleasePolicyForm(request.POST, prefix=f"shop-{shop.pk}")
    if not form.is_valid():
        return _rules_page(request, bound_policy={shop.pk: form}, status=422)
    services.release_policy_update(
        shop=shop,
        by=user,
        hold_live_orders_until_stream_end=form.cleaned_data["hold_live_orders_until_stream_end"],
        combine_window_minutes=form.cleaned_data["combine_window_minutes"],
    )
    messages.success(request, gettext("Release policy saved."))
    return redirect("risk:rules")


@require_POST
@login_required
def rescreen(request: HttpRequest) -> HttpResponse:
    user = _require_reviewer(request)
    report = services.orders_screen(now=timezone.now(), by=user)
    messages.success(
        request,
        gettext("Screened %(screened)d orders: %(in_review)d in review.")
        % {"screened": report.screened, "in_review": report.in_review},
    )
    return redirect("risk:queue")
