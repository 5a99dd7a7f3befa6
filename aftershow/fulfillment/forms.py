"""The carrier rule form (the rules page) and the "label a shop" form (the batches page)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from aftershow.fulfillment.models import CarrierRule
from aftershow.shops.models import Shop


class CarrierRuleForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = CarrierRule
        fields = [
            "name",
            "is_active",
            "service",
            "min_billable_weight_oz",
            "max_billable_weight_oz",
            "min_longest_side_in",
            "max_longest_side_in",
            "min_length_plus_girth_in",
            "max_length_plus_girth_in",
            "destination_states",
            "min_zone",
            "max_zone",
            "destination_kind",
            "ship_by_within_hours",
            "min_order_value",
            "max_order_value",
            "sku_tags",
        ]
        labels = {
            "min_billable_weight_oz": _("Billable weight from (oz)"),
            "max_billable_weight_oz": _("Billable weight up to (oz)"),
            "min_longest_side_in": _("Longest side from (in)"),
            "max_longest_side_in": _("Longest side up to (in)"),
            "min_length_plus_girth_in": _("Length + girth from (in)"),
            "max_length_plus_girth_in": _("Length + girth up to (in)"),
            "min_zone": _("Zone from"),
            "max_zone": _("Zone up to"),
            "destination_kind": _("Destination"),
            "ship_by_within_hours": _("Ship-by within (hours)"),
            "min_order_value": _("Order value from ($)"),
            "max_order_value": _("Order value up to ($)"),
            "sku_tags": _("Any SKU tagged"),
        }
        widgets = {"sku_tags": forms.CheckboxSelectMultiple}


class LabelShopForm(forms.Form):
    shop = forms.ModelChoiceField(
        label=_("Shop"), queryset=Shop.objects.filter(is_active=True).order_by("name")
    )
    packing_slips = forms.BooleanField(label=_("Packing slips"), required=False)
