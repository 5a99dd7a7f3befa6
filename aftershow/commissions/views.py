"""Commission pages: statements, payouts, reconciliation, import; the creator's signed page.

Thin: each view checks the role, calls a service or selector, and renders.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aftershow.accounts.models import Role, User
from aftershow.commissions.exports import (
    statement_csv,
    statement_from_token,
    statement_link_token,
    statement_xlsx,
)
from aftershow.commissions.importer import commission_lines_import
from aftershow.commissions.ledger import (
    commission_lines_accrue,
    commission_lines_settle,
    unaccrued_order_lines,
)
from aftershow.commissions.models import (
    CommissionLine,
    LineStatus,
    Payer,
    PayoutBatch,
    PayoutChannel,
    Statement,
)
from aftershow.commissions.payouts import (
    payable_statements,
    payout_batch_create,
    payout_batch_mark_paid,
    payout_batch_poll,
    payout_batch_submit,
    paypal_bulk_csv,
    wise_batch_csv,
)
from aftershow.commissions.paypal import PayPalClient, PayPalSettings
from aftershow.commissions.reconcile import (
    platform_commission_reconcile,
    reconciliation_differences,
)
from aftershow.commissions.statements import (
    parse_period,
    previous_month,
    statement_approve,
    statement_hold,
    statements_generate,
)
from aftershow.core.http import ChannelError
from aftershow.core.timeutils import utcnow
from aftershow.orders.views import login_required

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COMMISSION_ROLES = (Role.FINANCE, Role.CREATOR_MANAGER)
PAYOUT_ROLES = (Role.FINANCE,)

View = Callable[..., HttpResponse]


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def role_required(*roles: Role) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            if not _user(request).has_role(*roles):
                return HttpResponseForbidden(_("Your role may not see commissions."))
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def _download(content: bytes | str, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _filename(statement: Statement, extension: str) -> str:
    return f"statement-{statement.creator.handle}-{statement.period:%Y-%m}.{extension}"


# Statements -------------------------------------------------------------------------------------


@role_required(*COMMISSION_ROLES)
def statement_list(request: HttpRequest) -> HttpResponse:
    month = request.GET.get("month") or previous_month(utcnow()).strftime("%Y-%m")
    try:
        period = parse_period(month)
    except ValidationError as error:
        messages.error(request, _error_text(error))
        period = previous_month(utcnow())
    statements = (
        Statement.objects.filter(period=period)
        .select_related("creator")
        .order_by("creator__handle")
    )
    totals = statements.aggregate(payable=Sum("payable"), carried=Sum("carried_forward"))
    ledger = CommissionLine.objects.aggregate(
        pending=Count("pk", filter=Q(status=LineStatus.PENDING)),
        unstated=Count(
            "pk", filter=Q(status=LineStatus.EARNED, payer=Payer.SELLER, statement__isnull=True)
        ),
    )
    return render(
        request,
        "commissions/statements.html",
        {
            "month": period.strftime("%Y-%m"),
            "statements": statements,
            "totals": totals,
            "ledger": ledger,
        },
    )


@require_POST
@role_required(*COMMISSION_ROLES)
def ledger_sync(request: HttpRequest) -> HttpResponse:
    created = commission_lines_accrue(order_lines=unaccrued_order_lines())
    result = commission_lines_settle(now=utcnow())
    messages.success(
        request,
        _("Ledger updated: %(new)s new rows, %(earned)s earned, %(void)s void, %(claw)s clawbacks.")
        % {
            "new": created,
            "earned": result.earned,
            "void": result.voided,
            "claw": result.clawbacks,
        },
    )
    return redirect(request.POST.get("next") or reverse("commissions:statements"))


@require_POST
@role_required(*COMMISSION_ROLES)
def statements_make(request: HttpRequest) -> HttpResponse:
    month = request.POST.get("month", "")
    try:
        result = statements_generate(period=parse_period(month), now=utcnow())
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(
            request,
            _("%(made)s statements made or remade; %(locked)s approved ones left as they are.")
            % {"made": len(result.statements), "locked": len(result.locked)},
        )
    return redirect(f"{reverse('commissions:statements')}?month={month}")


@role_required(*COMMISSION_ROLES)
def statement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    statement = get_object_or_404(Statement.objects.select_related("creator"), pk=pk)
    lines = (
        statement.lines.select_related("order", "order_line")
        .order_by("order__placed_at", "pk")
        .all()[:1000]
    )
    link = request.build_absolute_uri(
        reverse("commissions:creator_page", args=[statement_link_token(statement)])
    )
    return render(
        request,
        "commissions/statement.html",
        {
            "statement": statement,
            "lines": lines,
            "creator_link": link,
            "payout_items": statement.payout_items.select_related("batch").order_by("pk"),
        },
    )


@require_POST
@role_required(*PAYOUT_ROLES)
def statement_approve_view(request: HttpRequest, pk: int) -> HttpResponse:
    statement = get_object_or_404(Statement, pk=pk)
    try:
        statement_approve(statement=statement, by=_user(request))
    except ValidationError as error:
        messages.error(request, _error_text(error))
    return redirect("commissions:statement", pk=pk)


@require_POST
@role_required(*COMMISSION_ROLES)
def statement_hold_view(request: HttpRequest, pk: int) -> HttpResponse:
    statement = get_object_or_404(Statement, pk=pk)
    try:
        statement_hold(statement=statement, reason=request.POST.get("reason", ""))
    except ValidationError as error:
        messages.error(request, _error_text(error))
    return redirect("commissions:statement", pk=pk)


@role_required(*COMMISSION_ROLES)
def statement_xlsx_view(request: HttpRequest, pk: int) -> HttpResponse:
    statement = get_object_or_404(Statement.objects.select_related("creator"), pk=pk)
    return _download(statement_xlsx(statement), _filename(statement, "xlsx"), XLSX_TYPE)


@role_required(*COMMISSION_ROLES)
def statement_csv_view(request: HttpRequest, pk: int) -> HttpResponse:
    statement = get_object_or_404(Statement.objects.select_related("creator"), pk=pk)
    return _download(statement_csv(statement), _filename(statement, "csv"), "text/csv")


# The creator's page: no account, a signed link that expires -----------------------------------


def _statement_for_token(token: str) -> Statement:
    try:
        return statement_from_token(token)
    except signing.SignatureExpired as error:
        raise Http404(_("This link has expired; ask for a new one.")) from error
    except (signing.BadSignature, Statement.DoesNotExist) as error:
        raise Http404(_("This link is not valid.")) from error


def creator_page(request: HttpRequest, token: str) -> HttpResponse:
    statement = _statement_for_token(token)
    return render(
        request,
        "commissions/creator_page.html",
        {"statement": statement, "token": token, "lines": statement.lines.all()[:200]},
    )


def creator_xlsx(request: HttpRequest, token: str) -> HttpResponse:
    statement = _statement_for_token(token)
    return _download(statement_xlsx(statement), _filename(statement, "xlsx"), XLSX_TYPE)


def creator_csv(request: HttpRequest, token: str) -> HttpResponse:
    statement = _statement_for_token(token)
    return _download(statement_csv(statement), _filename(statement, "csv"), "text/csv")


# Payouts ----------------------------------------------------------------------------------------


@role_required(*PAYOUT_ROLES)
def payout_list(request: HttpRequest) -> HttpResponse:
    batches = PayoutBatch.objects.annotate(items_count=Count("items")).order_by("-pk")[:50]
    return render(
        request,
        "commissions/payouts.html",
        {
            "batches": batches,
            "payable": payable_statements(),
            "channels": PayoutChannel.choices,
            "paypal_configured": PayPalSettings.from_environment() is not None,
        },
    )


@require_POST
@role_required(*PAYOUT_ROLES)
def payout_create(request: HttpRequest) -> HttpResponse:
    channel = request.POST.get("channel", "")
    if channel not in PayoutChannel.values:
        messages.error(request, _("Choose a payout channel."))
        return redirect("commissions:payouts")
    try:
        plan = payout_batch_create(
            channel=channel, currency=request.POST.get("currency", "USD"), by=_user(request)
        )
    except ValidationError as error:
        messages.error(request, _error_text(error))
        return redirect("commissions:payouts")
    for statement, reason in plan.held:
        messages.warning(
            request,
            _("Held: @%(handle)s %(month)s, %(amount)s: %(reason)s")
            % {
                "handle": statement.creator.handle,
                "month": statement.period.strftime("%Y-%m"),
                "amount": statement.payable,
                "reason": reason,
            },
        )
    if plan.batch is None:
        messages.info(request, _("No approved statement is ready to pay."))
        return redirect("commissions:payouts")
    return redirect("commissions:payout", pk=plan.batch.pk)


@role_required(*PAYOUT_ROLES)
def payout_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(PayoutBatch, pk=pk)
    items = batch.items.select_related("creator", "statement").order_by("pk")
    return render(request, "commissions/payout.html", {"batch": batch, "items": items})


def _paypal_client() -> PayPalClient | None:
    settings = PayPalSettings.from_environment()
    return PayPalClient(settings) if settings is not None else None


@require_POST
@role_required(*PAYOUT_ROLES)
def payout_send(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(PayoutBatch, pk=pk)
    client = _paypal_client()
    if client is None:
        messages.error(
            request,
            _("PayPal is not set up: set AFTERSHOW_PAYPAL_CLIENT_ID, _SECRET and _BASE_URL."),
        )
        return redirect("commissions:payout", pk=pk)
    try:
        if batch.remote_batch_id:
            payout_batch_poll(batch=batch, client=client)
        else:
            payout_batch_submit(batch=batch, client=client)
    except (ValidationError, ChannelError) as error:
        # Safe to press again: the same sender_batch_id goes out, PayPal pays it once.
        messages.error(request, _("PayPal: %(error)s (safe to retry)") % {"error": error})
    finally:
        client.close()
    return redirect("commissions:payout", pk=pk)


@role_required(*PAYOUT_ROLES)
def payout_file(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(PayoutBatch, pk=pk)
    if batch.channel == PayoutChannel.PAYPAL_CSV:
        return _download(paypal_bulk_csv(batch), f"paypal-{batch.sender_batch_id}.csv", "text/csv")
    if batch.channel == PayoutChannel.WISE_CSV:
        return _download(wise_batch_csv(batch), f"wise-{batch.sender_batch_id}.csv", "text/csv")
    raise Http404(_("A PayPal API batch has no file."))


@require_POST
@role_required(*PAYOUT_ROLES)
def payout_mark_paid(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(PayoutBatch, pk=pk)
    try:
        paid = payout_batch_mark_paid(batch=batch)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("%(count)s statements marked paid.") % {"count": paid})
    return redirect("commissions:payout", pk=pk)


# Reconciliation and import ----------------------------------------------------------------------


@role_required(*COMMISSION_ROLES)
def reconciliation(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        result = platform_commission_reconcile()
        messages.success(
            request,
            _("Reconciled: %(matched)s match, %(different)s differ, %(missing)s not reported yet.")
            % {
                "matched": result.matched,
                "different": result.different,
                "missing": result.unreported,
            },
        )
        return redirect("commissions:reconciliation")
    return render(
        request, "commissions/reconciliation.html", {"differences": reconciliation_differences()}
    )


@role_required(*COMMISSION_ROLES)
def import_page(request: HttpRequest) -> HttpResponse:
    report = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("Choose a CSV file."))
        else:
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                messages.error(request, _("The file is not UTF-8 text."))
            else:
                report = commission_lines_import(text=text, by=_user(request))
    return render(request, "commissions/import.html", {"report": report})
