from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from aftershow.alerts.models import AlertSettings
from aftershow.alerts.services import AlertConfigError, validate_apprise_url


class DestinationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    url = forms.CharField(
        label=_("Apprise URL"),
        max_length=2000,
        required=False,
        widget=forms.TextInput(attrs={"size": 70, "autocomplete": "off"}),
        help_text=_(
            "For example mailtos://user:password@smtp.example.com?to=ops@example.com, "
            "dingtalk://token/, feishu://token/, wecombot://key, slack://T/B/C/#channel, "
            "ntfy://topic, json://host/path. Leave empty to keep the stored URL."
        ),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, require_url: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.require_url = require_url

    def clean_url(self) -> str:
        url = str(self.cleaned_data.get("url") or "").strip()
        if not url:
            if self.require_url:
                raise forms.ValidationError(_("Enter the destination's Apprise URL."))
            return ""
        try:
            validate_apprise_url(url)
        except AlertConfigError as error:
            raise forms.ValidationError(str(error)) from error
        return url


class ThresholdsMixin:
    def check_order(self, cleaned: dict[str, Any], prefix: str = "") -> None:
        red = cleaned.get(f"{prefix}red_below")
        orange = cleaned.get(f"{prefix}orange_below")
        yellow = cleaned.get(f"{prefix}yellow_below")
        if None not in (red, orange, yellow) and not red < orange < yellow:  # type: ignore[operator]
            raise forms.ValidationError(_("Thresholds must be red < orange < yellow."))


class AlertSettingsForm(ThresholdsMixin, forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = AlertSettings
        fields = [
            "yellow_below",
            "orange_below",
            "red_below",
            "velocity_units",
            "velocity_window_minutes",
            "stockout_horizon_hours",
            "shortfall_days_ahead",
        ]
        labels = {
            "yellow_below": _("Yellow below"),
            "orange_below": _("Orange below"),
            "red_below": _("Red below"),
            "velocity_units": _("Velocity alert: units sold"),
            "velocity_window_minutes": _("within minutes"),
            "stockout_horizon_hours": _("Stock-out alert: runs out within hours"),
            "shortfall_days_ahead": _("Check planned lives this many days ahead"),
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self.check_order(cleaned)
        window = cleaned.get("velocity_window_minutes")
        if window is not None and window < 1:
            self.add_error("velocity_window_minutes", _("At least one minute."))
        return cleaned


class SkuThresholdForm(ThresholdsMixin, forms.Form):
    sku = forms.CharField(label=_("SKU"), max_length=64)
    yellow_below = forms.IntegerField(label=_("Yellow below"), min_value=0)
    orange_below = forms.IntegerField(label=_("Orange below"), min_value=0)
    red_below = forms.IntegerField(label=_("Red below"), min_value=0)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self.check_order(cleaned)
        return cleaned
