"""Fulfillment pages: the carrier rules (list, add, edit, delete, reorder with htmx) and the
label batches (run, errors with one-click retry, PDF and ZPL downloads).

Operators (and the owner) edit rules and buy labels; packers may open batches and print them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aftershow.accounts.models import Role, User
from aftershow.fulfillment import services
from aftershow.fulfillment.forms import CarrierRuleForm, LabelShopForm
from aftershow.fulfillment.labels.base import LabelError
from aftershow.fulfillment.models import CarrierRule, LabelBatch
from aftershow.fulfillment.pipeline import burst_label_provider, burst_process
from aftershow.fulfillment.selectors import batch_items, carrier_rules, label_batches
from aftershow.orders.views import login_required

View = Callable[..., HttpResponse]


def role_required(*roles: Role) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            user = request.user
            if not isinstance(user, User) or not user.has_role(*roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


editors = role_required(Role.OPERATOR)
# The button waits this long for TikTok to accept the tracking numbers (db_worker pushes them);
# what is still on its way is shown as waiting and keeps going in the background.
BURST_VIEW_TRACKING_TIMEOUT = 20.0
viewers = role_required(Role.OPERATOR, Role.PACKER)


def _rules_table(request: HttpRequest) -> HttpResponse:
    return render(request, "fulfillment/_rules_table.html", {"rules": carrier_rules()})


@editors
def rule_list(request: HttpRequest) -> HttpResponse:
    return render(request, "fulfillment/rules.html", {"rules": carrier_rules()})


@editors
def rule_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    rule = get_object_or_404(CarrierRule, pk=pk) if pk is not None else None
    form = CarrierRuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        if rule is None:
            saved.position = services.carrier_rule_next_position()
        saved.save()
        form.save_m2m()
        messages.success(request, _("Rule “%(name)s” saved.") % {"name": saved.name})
        return redirect("fulfillment:rules")
    return render(request, "fulfillment/rule_form.html", {"form": form, "rule": rule})


@require_POST
@editors
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(CarrierRule, pk=pk)
    rule.delete()
    if request.headers.get("HX-Request"):
        return _rules_table(request)
    return redirect("fulfillment:rules")


@require_POST
@editors
def rule_move(request: HttpRequest, pk: int, direction: str) -> HttpResponse:
    rule = get_object_or_404(CarrierRule, pk=pk)
    services.carrier_rule_move(rule=rule, up=direction == "up")
    if request.headers.get("HX-Request"):
        return _rules_table(request)
    return redirect("fulfillment:rules")


@viewers
def batch_list(request: HttpRequest) -> HttpResponse:
    form = LabelShopForm()
    return render(
        request,
        "fulfillment/batches.html",
        {"batches": label_batches()[:100], "form": form},
    )


@require_POST
@editors
def batch_run(request: HttpRequest) -> HttpResponse:
    form = LabelShopForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "fulfillment/batches.html",
            {"batches": label_batches()[:100], "form": form},
            status=400,
        )
    user = request.user if isinstance(request.user, User) else None
    reports = services.labels_batch_run(shop=form.cleaned_data["shop"], created_by=user)
    if not reports:
        messages.info(request, _("Nothing to label: no confirmed order is waiting."))
        return redirect("fulfillment:batches")
    labelled = sum(report.labelled for report in reports)
    errors = sum(len(report.errors) for report in reports)
    messages.success(
        request,
        _("%(batches)s batches: %(labelled)s labels bought, %(errors)s errors.")
        % {"batches": len(reports), "labelled": labelled, "errors": errors},
    )
    return redirect("fulfillment:batch", pk=reports[0].batch.pk)


def _batch_context(batch: LabelBatch) -> dict[str, object]:
    items = list(batch_items(batch))
    return {
        "batch": batch,
        "items": items,
        "errors": [item for item in items if item.state == "error"],
        "labelled": sum(1 for item in items if item.state == "labelled"),
    }


@viewers
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(LabelBatch.objects.select_related("shop"), pk=pk)
    return render(request, "fulfillment/batch.html", _batch_context(batch))


@require_POST
@editors
def batch_retry(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(LabelBatch.objects.select_related("shop"), pk=pk)
    report = services.label_batch_retry(batch=batch)
    context = _batch_context(batch)
    context["retried"] = report
    if request.headers.get("HX-Request"):
        return render(request, "fulfillment/_batch_items.html", context)
    return redirect("fulfillment:batch", pk=batch.pk)


@viewers
def batch_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(LabelBatch, pk=pk)
    slips = request.GET.get("slips") == "1"
    response = HttpResponse(
        services.batch_pdf(batch=batch, packing_slips=slips), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'inline; filename="batch-{batch.pk}.pdf"'
    return response


@viewers
def batch_zpl(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(LabelBatch, pk=pk)
    response = HttpResponse(services.batch_zpl(batch=batch), content_type="text/plain")
    response["Content-Disposition"] = f'attachment; filename="batch-{batch.pk}.zpl"'
    return response


@editors
def burst(request: HttpRequest) -> HttpResponse:
    """The burst in one click: the page, and (POST, htmx) the action with its summary."""
    if request.method != "POST":
        return render(request, "fulfillment/burst.html", {"form": LabelShopForm()})
    form = LabelShopForm(request.POST)
    if not form.is_valid():
        return render(
            request, "fulfillment/_burst_summary.html", {"form": form, "summary": None}, status=400
        )
    shop = form.cleaned_data["shop"]
    user = request.user if isinstance(request.user, User) else None
    try:
        provider = burst_label_provider(shop)
    except LabelError as error:
        return render(
            request,
            "fulfillment/_burst_summary.html",
            {"form": form, "summary": None, "problem": error.reason},
            status=400,
        )
    summary = burst_process(
        shop=shop,
        actor=user,
        provider=provider,
        tracking_timeout=BURST_VIEW_TRACKING_TIMEOUT,
        parallel_pdf=False,  # a web request starts no process
    )
    context = {
        "form": form,
        "summary": summary,
        "batches": LabelBatch.objects.filter(pk__in=summary.batches).order_by("pk"),
    }
    if request.headers.get("HX-Request"):
        return render(request, "fulfillment/_burst_summary.html", context)
    return render(request, "fulfillment/burst.html", context)
