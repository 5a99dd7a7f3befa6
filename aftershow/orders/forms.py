"""The order list's filter bar: validates the query string the list page and its poll share."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.utils.translation import gettext_lazy as _

from aftershow.creators.models import Creator
from aftershow.orders.models import PlatformStatus
from aftershow.shops.models import Shop

SEARCH_MAX_LENGTH = 100


@dataclass(frozen=True)
class OrderFilters:
    status: str = ""
    shop_id: int | None = None
    creator_id: int | None = None
    search: str = ""


class OrderFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All statuses")), *PlatformStatus.choices],
    )
    shop = forms.ModelChoiceField(
        label=_("Shop"),
        required=False,
        queryset=Shop.objects.order_by("name", "id"),
        empty_label=_("All shops"),
    )
    creator = forms.ModelChoiceField(
        label=_("Creator"),
        required=False,
        queryset=Creator.objects.order_by("handle"),
        empty_label=_("All creators"),
    )
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=SEARCH_MAX_LENGTH,
        widget=forms.SearchInput(
            attrs={"placeholder": _("Order ID, buyer nickname or seller SKU")}
        ),
    )

    def filters(self) -> OrderFilters:
        """The valid filters; an invalid one (a deleted shop, say) is shown as an error and
        ignored rather than emptying the list."""
        self.is_valid()
        data = self.cleaned_data
        shop: Shop | None = data.get("shop")
        creator: Creator | None = data.get("creator")
        return OrderFilters(
            status=data.get("status") or "",
            shop_id=shop.pk if shop else None,
            creator_id=creator.pk if creator else None,
            search=data.get("q") or "",
        )
