from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from aftershow.catalog.models import Sku
from aftershow.shops.models import Shop


class BufferForm(forms.Form):
    shop = forms.ModelChoiceField(label=_("Shop"), queryset=Shop.objects.order_by("name"))
    sku_code = forms.CharField(
        label=_("SKU"),
        required=False,
        max_length=64,
        help_text=_("Leave empty for the shop's default buffer."),
    )
    percent_of_available = forms.IntegerField(
        label=_("Percent of available"), min_value=0, max_value=100, initial=100
    )
    units_held_back = forms.IntegerField(label=_("Units held back"), min_value=0, initial=0)
    max_listed = forms.IntegerField(
        label=_("Maximum listed"),
        min_value=0,
        required=False,
        help_text=_("Leave empty for no maximum."),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        code = (cleaned.get("sku_code") or "").strip()
        cleaned["sku"] = None
        if code:
            sku = Sku.objects.filter(code=code).first()
            if sku is None:
                self.add_error("sku_code", _("No SKU has this code."))
            cleaned["sku"] = sku
        return cleaned
