from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from aftershow.orders.models import Order
from aftershow.orders.selectors import order_list_queryset


@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    orders = order_list_queryset()[:50]
    return render(request, "orders/list.html", {"orders": orders})


@login_required
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    order = get_object_or_404(Order, pk=pk)
    return render(request, "orders/detail.html", {"order": order})
