"""Order pages: the list (with its self-refreshing rows) and one order."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render, resolve_url
from django.utils import timezone

from aftershow.orders.forms import OrderFilterForm
from aftershow.orders.models import Order
from aftershow.orders.selectors import order_detail_queryset, order_list_queryset

PAGE_SIZE = 50

View = Callable[..., HttpResponse]


def login_required(view: View) -> View:
    """Django's ``login_required``, except that an htmx request whose session has expired gets
    an ``HX-Redirect`` to the login page instead of the login page swapped into the table."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        login_page = resolve_url(settings.LOGIN_URL)
        if not request.headers.get("HX-Request"):
            return redirect_to_login(request.get_full_path(), login_page)
        # Back to the page the poll came from; LoginView checks ``next`` is on this host.
        to_login = redirect_to_login(request.headers.get("HX-Current-URL") or "/", login_page)
        response = HttpResponse(status=401)
        response["HX-Redirect"] = to_login["Location"]
        return response

    return wrapper


def _order_page(form: OrderFilterForm, page_number: str | None) -> Page[Order]:
    filters = form.filters()
    orders = order_list_queryset(
        status=filters.status,
        shop_id=filters.shop_id,
        creator_id=filters.creator_id,
        search=filters.search,
    )
    return Paginator(orders, PAGE_SIZE).get_page(page_number)


@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    form = OrderFilterForm(request.GET)
    page = _order_page(form, request.GET.get("page"))
    return render(request, "orders/list.html", {"form": form, "page": page, "now": timezone.now()})


@login_required
def order_list_rows(request: HttpRequest) -> HttpResponse:
    """The list's table body and pager alone, for the page to poll with the same filters."""
    form = OrderFilterForm(request.GET)
    page = _order_page(form, request.GET.get("page"))
    return render(request, "orders/rows.html", {"page": page, "now": timezone.now()})


@login_required
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    order = get_object_or_404(order_detail_queryset(), pk=pk)
    return render(request, "orders/detail.html", {"order": order, "now": timezone.now()})
