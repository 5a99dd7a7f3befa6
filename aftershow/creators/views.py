"""Creator CRM pages (list, detail, edit, imports) and the live session page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from aftershow.accounts.models import Role, User
from aftershow.core.http import ChannelError
from aftershow.creators import selectors, services
from aftershow.creators.forms import (
    CollaborationForm,
    CollaborationRateForm,
    CreatorForm,
    FeaturedSkuForm,
    ImportFileForm,
    LiveSessionForm,
    SampleShipmentForm,
    TikTokImportForm,
    ViewersForm,
)
from aftershow.creators.importing import (
    ImportRejected,
    collaborations_import,
    creators_import,
)
from aftershow.creators.models import (
    Collaboration,
    Creator,
    LiveSession,
    LiveSessionStatus,
)
from aftershow.integrations.tiktok.affiliate import TikTokAffiliate
from aftershow.orders.views import login_required

PAGE_SIZE = 50
# The live page polls this often while the session is live.
LIVE_POLL_SECONDS = 5
VIEW_ROLES = (Role.CREATOR_MANAGER, Role.OPERATOR, Role.FINANCE)
SESSION_ROLES = (Role.CREATOR_MANAGER, Role.OPERATOR)


def _user(request: HttpRequest, *roles: Role, message: str = "") -> User:
    user = request.user
    assert isinstance(user, User)
    if not user.has_role(*(roles or VIEW_ROLES)):
        raise PermissionDenied(message or gettext("Your role may not see creators."))
    return user


def _editor(request: HttpRequest) -> User:
    return _user(
        request, Role.CREATOR_MANAGER, message=gettext("Only creator managers change creators.")
    )


def _apply_errors(form: Any, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field_name, field_errors in error.message_dict.items():
            target = field_name if field_name in form.fields else None
            for message in field_errors:
                form.add_error(target, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


# -- creators ------------------------------------------------------------------------------


@login_required
def creator_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    search = request.GET.get("q", "").strip()
    active_only = request.GET.get("active") == "1"
    creators = selectors.creator_list_queryset(search=search, active_only=active_only)
    page = Paginator(creators, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "creators/list.html",
        {
            "page": page,
            "search": search,
            "active_only": active_only,
            "can_edit": user.has_role(Role.CREATOR_MANAGER),
            "import_form": ImportFileForm(),
            "tiktok_form": TikTokImportForm(),
        },
    )


@login_required
def creator_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    creator = get_object_or_404(Creator, pk=pk)
    return _detail(request, user, creator)


def _detail(
    request: HttpRequest,
    user: User,
    creator: Creator,
    *,
    sample_form: SampleShipmentForm | None = None,
    collaboration_form: CollaborationForm | None = None,
    rate_form: CollaborationRateForm | None = None,
    rate_collaboration_id: int | None = None,
    session_form: LiveSessionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    samples = list(
        creator.samples.select_related("sku", "live_session").order_by("-shipped_at", "-id")
    )
    sessions = list(creator.sessions.select_related("shop").order_by("-starts_at")[:50])
    return render(
        request,
        "creators/detail.html",
        {
            "creator": creator,
            "samples": samples,
            "samples_total": sum((sample.total_cost for sample in samples), start=0),
            "collaborations": selectors.creator_collaborations(creator),
            "sessions": sessions,
            "can_edit": user.has_role(Role.CREATOR_MANAGER),
            "can_plan": user.has_role(*SESSION_ROLES),
            "sample_form": sample_form
            or SampleShipmentForm(initial={"shipped_at": timezone.now()}),
            "collaboration_form": collaboration_form or CollaborationForm(),
            "rate_form": rate_form or CollaborationRateForm(initial={"valid_from": timezone.now()}),
            "blank_rate_form": CollaborationRateForm(initial={"valid_from": timezone.now()}),
            "rate_collaboration_id": rate_collaboration_id,
            "session_form": session_form or LiveSessionForm(),
        },
        status=status,
    )


@login_required
def creator_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    _editor(request)
    creator = get_object_or_404(Creator, pk=pk) if pk is not None else Creator()
    form = CreatorForm(request.POST or None, instance=creator)
    if request.method == "POST" and form.is_valid():
        try:
            services.creator_save(creator=creator, fields=form.cleaned_data)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, gettext("Saved @%(handle)s.") % {"handle": creator.handle})
            return redirect("creators:detail", pk=creator.pk)
    return render(
        request,
        "creators/edit.html",
        {"form": form, "creator": creator if pk is not None else None},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def sample_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = _editor(request)
    creator = get_object_or_404(Creator, pk=pk)
    form = SampleShipmentForm(request.POST)
    if form.is_valid():
        try:
            services.sample_shipment_record(creator=creator, fields=form.cleaned_data)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, gettext("Sample shipment recorded."))
            return redirect(reverse("creators:detail", args=[pk]) + "#samples")
    return _detail(request, user, creator, sample_form=form, status=400)


@login_required
@require_POST
def collaboration_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = _editor(request)
    creator = get_object_or_404(Creator, pk=pk)
    form = CollaborationForm(request.POST)
    if form.is_valid():
        try:
            services.collaboration_create(creator=creator, fields=form.cleaned_data)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, gettext("Collaboration added."))
            return redirect(reverse("creators:detail", args=[pk]) + "#collaborations")
    return _detail(request, user, creator, collaboration_form=form, status=400)


@login_required
@require_POST
def rate_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = _editor(request)
    collaboration = get_object_or_404(Collaboration.objects.select_related("creator"), pk=pk)
    form = CollaborationRateForm(request.POST)
    if form.is_valid():
        try:
            services.collaboration_rate_add(collaboration=collaboration, fields=form.cleaned_data)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, gettext("Rate added."))
            return redirect(
                reverse("creators:detail", args=[collaboration.creator_id]) + "#collaborations"
            )
    return _detail(
        request,
        user,
        collaboration.creator,
        rate_form=form,
        rate_collaboration_id=collaboration.pk,
        status=400,
    )


@login_required
@require_POST
def creators_file_import(request: HttpRequest) -> HttpResponse:
    _editor(request)
    form = ImportFileForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, gettext("Choose what the file holds and a file."))
        return redirect("creators:list")
    upload = form.cleaned_data["file"]
    content = upload.read()
    try:
        if form.cleaned_data["kind"] == "creators":
            result = creators_import(filename=upload.name, content=content)
            messages.success(
                request,
                gettext("Creators: %(created)d new, %(updated)d updated, %(unchanged)d unchanged.")
                % {
                    "created": result.created,
                    "updated": result.updated,
                    "unchanged": result.unchanged,
                },
            )
        else:
            outcome = collaborations_import(filename=upload.name, content=content)
            messages.success(
                request,
                gettext(
                    "Collaborations: %(created)d new; rates: %(rates)d new, %(updated)d updated, "
                    "%(unchanged)d unchanged."
                )
                % {
                    "created": outcome.collaborations_created,
                    "rates": outcome.rates_created,
                    "updated": outcome.rates_updated,
                    "unchanged": outcome.unchanged,
                },
            )
    except ImportRejected as rejected:
        messages.error(request, gettext("Nothing was imported. Fix these rows and try again:"))
        for error in rejected.errors[:50]:
            messages.error(request, str(error))
    return redirect("creators:list")


@login_required
@require_POST
def creators_tiktok_import(request: HttpRequest) -> HttpResponse:
    """Creators from TikTok's creator marketplace and the shop's targeted collaborations."""
    _editor(request)
    form = TikTokImportForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Choose a TikTok shop."))
        return redirect("creators:list")
    affiliate = TikTokAffiliate(form.cleaned_data["shop"])
    try:
        found = affiliate.import_creators(keyword=form.cleaned_data["keyword"])
        collaborations = affiliate.import_collaborations()
    except ChannelError as error:
        messages.error(request, gettext("TikTok refused the request: %(error)s") % {"error": error})
        return redirect("creators:list")
    messages.success(
        request,
        gettext(
            "From TikTok: %(created)d new creators, %(updated)d updated; %(collabs)d new "
            "collaborations with %(rates)d rates."
        )
        % {
            "created": found.creators_created + collaborations.creators_created,
            "updated": found.creators_updated,
            "collabs": collaborations.collaborations_created,
            "rates": collaborations.rates_created,
        },
    )
    if collaborations.unmapped_products:
        messages.warning(
            request,
            gettext("Products not mapped to a SKU, their rates were skipped: %(ids)s")
            % {"ids": ", ".join(sorted(collaborations.unmapped_products))},
        )
    return redirect("creators:list")


# -- live sessions ---------------------------------------------------------------------------


@login_required
@require_POST
def session_plan(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request, *SESSION_ROLES)
    creator = get_object_or_404(Creator, pk=pk)
    form = LiveSessionForm(request.POST)
    if form.is_valid():
        try:
            session = services.live_session_plan(creator=creator, fields=form.cleaned_data)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            return redirect("creators:session", pk=session.pk)
    return _detail(request, user, creator, session_form=form, status=400)


def _session(pk: int) -> LiveSession:
    return get_object_or_404(
        LiveSession.objects.select_related("creator", "shop"),
        pk=pk,
    )


@login_required
def session_page(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    session = _session(pk)
    return _session_page(request, user, session)


def _session_page(
    request: HttpRequest,
    user: User,
    session: LiveSession,
    *,
    featured_form: FeaturedSkuForm | None = None,
    status: int = 200,
) -> HttpResponse:
    stats = selectors.live_session_stats(session=session, now=timezone.now())
    return render(
        request,
        "creators/session.html",
        {
            "session": session,
            "stats": stats,
            "poll_seconds": LIVE_POLL_SECONDS,
            "can_run": user.has_role(*SESSION_ROLES),
            "featured_form": featured_form or FeaturedSkuForm(),
            "viewers_form": ViewersForm(initial={"viewers": session.viewers}),
            "featured": list(session.skus.select_related("sku").order_by("sku__code")),
        },
        status=status,
    )


@login_required
def session_stats(request: HttpRequest, pk: int) -> HttpResponse:
    """The live figures alone, for the page to poll while the session is live."""
    _user(request)
    session = _session(pk)
    stats = selectors.live_session_stats(session=session, now=timezone.now())
    response = render(
        request,
        "creators/_live_stats.html",
        {"session": session, "stats": stats, "poll_seconds": LIVE_POLL_SECONDS},
    )
    if session.status != LiveSessionStatus.LIVE:
        # The stream is over (or not started): tell htmx to stop polling.
        response.status_code = 286
    return response


@login_required
@require_POST
def session_transition(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    _user(request, *SESSION_ROLES, message=gettext("Your role may not run live sessions."))
    session = _session(pk)
    try:
        if action == "start":
            services.live_session_start(session=session)
        elif action == "end":
            services.live_session_end(session=session)
            attributed = services.live_session_attribute_orders(session=session)
            messages.info(
                request,
                gettext("%(count)d orders attributed by the session window.")
                % {"count": attributed},
            )
        else:
            raise PermissionDenied
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    return redirect("creators:session", pk=pk)


@login_required
@require_POST
def session_feature(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request, *SESSION_ROLES, message=gettext("Your role may not run live sessions."))
    session = _session(pk)
    form = FeaturedSkuForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.live_session_feature_sku(
                session=session,
                sku_id=data["sku"].pk,
                platform_rate=data["platform_rate"],
                seller_rate=data["seller_rate"],
                planned_units=data["planned_units"],
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            return redirect("creators:session", pk=pk)
    return _session_page(request, user, session, featured_form=form, status=400)


@login_required
@require_POST
def session_viewers(request: HttpRequest, pk: int) -> HttpResponse:
    _user(request, *SESSION_ROLES, message=gettext("Your role may not run live sessions."))
    session = _session(pk)
    form = ViewersForm(request.POST)
    if form.is_valid():
        services.live_session_record_viewers(session=session, viewers=form.cleaned_data["viewers"])
    else:
        messages.error(request, gettext("Viewers must be a whole number, 0 or more."))
    return redirect("creators:session", pk=pk)
