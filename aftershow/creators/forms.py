"""Forms for the creator pages. They validate input; the writes live in services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from aftershow.catalog.models import Sku
from aftershow.creators.models import (
    Collaboration,
    CollaborationRate,
    Creator,
    LiveSession,
    SampleShipment,
)
from aftershow.shops.models import Channel, Shop

DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CreatorForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Creator
        fields = [
            "handle",
            "display_name",
            "remote_creator_id",
            "followers",
            "niche",
            "country",
            "email",
            "phone",
            "whatsapp",
            "wechat",
            "notes",
            "is_active",
        ]
        labels = {
            "handle": _("TikTok handle"),
            "display_name": _("Name"),
            "remote_creator_id": _("TikTok creator id"),
            "followers": _("Followers"),
            "niche": _("Niche"),
            "country": _("Country"),
            "email": _("E-mail"),
            "phone": _("Phone"),
            "whatsapp": _("WhatsApp"),
            "wechat": _("WeChat"),
            "notes": _("Notes"),
            "is_active": _("Active"),
        }

    def clean_handle(self) -> str:
        handle = str(self.cleaned_data["handle"]).strip().lstrip("@")
        if not handle.replace(".", "").replace("_", "").isalnum():
            raise forms.ValidationError(_("A TikTok handle has only letters, digits, . and _."))
        return handle

    def clean_country(self) -> str:
        return str(self.cleaned_data.get("country") or "").upper()


class SampleShipmentForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = SampleShipment
        fields = ["sku", "quantity", "unit_cost", "shipping_cost", "currency", "shipped_at", "note"]
        labels = {
            "sku": _("SKU"),
            "quantity": _("Quantity"),
            "unit_cost": _("Unit cost"),
            "shipping_cost": _("Shipping cost"),
            "currency": _("Currency"),
            "shipped_at": _("Shipped at"),
            "note": _("Note"),
        }
        widgets = {"shipped_at": DATETIME_INPUT}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sku"].queryset = Sku.objects.order_by("code")  # type: ignore[attr-defined]


class CollaborationForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Collaboration
        fields = ["kind", "name", "shop", "starts_on", "ends_on", "flat_fee", "currency", "note"]
        labels = {
            "kind": _("Kind"),
            "name": _("Name"),
            "shop": _("Shop (empty: every shop)"),
            "starts_on": _("Starts on"),
            "ends_on": _("Ends on"),
            "flat_fee": _("Flat fee (seller-paid)"),
            "currency": _("Currency"),
            "note": _("Note"),
        }
        widgets = {"starts_on": DATE_INPUT, "ends_on": DATE_INPUT, "note": forms.TextInput()}

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        starts_on, ends_on = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", _("The end is before the start."))
        return cleaned


class CollaborationRateForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = CollaborationRate
        fields = ["sku", "platform_rate", "seller_rate", "valid_from", "valid_to"]
        labels = {
            "sku": _("SKU (empty: every SKU)"),
            "platform_rate": _("Platform rate % (paid by TikTok)"),
            "seller_rate": _("Seller rate % (paid by you)"),
            "valid_from": _("Valid from"),
            "valid_to": _("Valid until"),
        }
        widgets = {"valid_from": DATETIME_INPUT, "valid_to": DATETIME_INPUT}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sku"].queryset = Sku.objects.order_by("code")  # type: ignore[attr-defined]
        self.fields["sku"].required = False

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        valid_from, valid_to = cleaned.get("valid_from"), cleaned.get("valid_to")
        if valid_from and valid_to and valid_to <= valid_from:
            self.add_error("valid_to", _("A rate must end after it starts."))
        return cleaned


class LiveSessionForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = LiveSession
        fields = ["shop", "title", "starts_at", "ends_at", "remote_content_id"]
        labels = {
            "shop": _("Shop"),
            "title": _("Title"),
            "starts_at": _("Planned start"),
            "ends_at": _("Planned end"),
            "remote_content_id": _("TikTok LIVE content id"),
        }
        widgets = {"starts_at": DATETIME_INPUT, "ends_at": DATETIME_INPUT}

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        starts_at, ends_at = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts_at and ends_at and ends_at < starts_at:
            self.add_error("ends_at", _("The end is before the start."))
        return cleaned


class FeaturedSkuForm(forms.Form):
    sku = forms.ModelChoiceField(queryset=Sku.objects.order_by("code"), label=_("SKU"))
    platform_rate = forms.DecimalField(
        label=_("Platform rate %"), min_value=0, max_value=100, decimal_places=2
    )
    seller_rate = forms.DecimalField(
        label=_("Seller rate %"), min_value=0, max_value=100, decimal_places=2, initial=0
    )
    planned_units = forms.IntegerField(label=_("Planned units"), min_value=0, initial=0)


class ViewersForm(forms.Form):
    viewers = forms.IntegerField(label=_("Viewers so far"), min_value=0)


class ImportFileForm(forms.Form):
    KIND_CHOICES = (("creators", _("Creators")), ("collaborations", _("Collaborations")))
    kind = forms.ChoiceField(label=_("What the file holds"), choices=KIND_CHOICES)
    file = forms.FileField(label=_("CSV or XLSX file"))


class TikTokImportForm(forms.Form):
    shop = forms.ModelChoiceField(
        queryset=Shop.objects.filter(channel=Channel.TIKTOK, is_active=True), label=_("Shop")
    )
    keyword = forms.CharField(label=_("Search keyword"), required=False, max_length=80)
