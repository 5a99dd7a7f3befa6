"""Forms of the review queue (note, hold, cancel, corrected address) and of the rules page."""

from __future__ import annotations

import typing
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from aftershow.orders.types import IncomingAddress
from aftershow.risk.evaluators import EVALUATORS
from aftershow.risk.models import RiskRule

NOTE_MAX_LENGTH = 500


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=NOTE_MAX_LENGTH)


class CancelForm(forms.Form):
    note = forms.CharField(label=_("Why cancel?"), max_length=NOTE_MAX_LENGTH)


class HoldForm(forms.Form):
    until = forms.DateTimeField(
        label=_("Hold until (UTC)"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=NOTE_MAX_LENGTH)


class AddressForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    line1 = forms.CharField(label=_("Address line 1"), max_length=255)
    line2 = forms.CharField(label=_("Address line 2"), max_length=255, required=False)
    city = forms.CharField(label=_("City"), max_length=100)
    state = forms.CharField(label=_("State"), max_length=3)
    postal_code = forms.CharField(label=_("ZIP code"), max_length=12)
    country = forms.CharField(label=_("Country"), max_length=2, initial="US")
    note = forms.CharField(label=_("Note"), required=False, max_length=NOTE_MAX_LENGTH)

    def incoming_address(self) -> IncomingAddress:
        data = self.cleaned_data
        return IncomingAddress(
            name=data["name"],
            phone=data["phone"],
            line1=data["line1"],
            line2=data["line2"],
            city=data["city"],
            state=data["state"].upper(),
            postal_code=data["postal_code"],
            country=data["country"].upper(),
        )


PARAMETER_LABELS: dict[str, Any] = {
    "require_street_number": _("Require a street number"),
    "check_zip_state": _("Check the ZIP code against the state"),
    "max_return_rate_percent": _("Highest return rate (%)"),
    "min_orders": _("Delivered orders needed before judging"),
    "order_count": _("Orders"),
    "window_minutes": _("Within (minutes)"),
    "states": _("States and territories (two-letter codes, comma-separated)"),
    "carriers_refusing_po_box": _("Carriers that cannot deliver to a PO Box (comma-separated)"),
    "max_total": _("Highest order total"),
    "max_units": _("Most units"),
}


def _is_list(annotation: Any) -> bool:
    return typing.get_origin(annotation) is list


def _parameter_field(name: str, annotation: Any) -> forms.Field:
    label = PARAMETER_LABELS.get(name, name)
    if annotation is bool:
        return forms.BooleanField(label=label, required=False)
    if annotation is int:
        return forms.IntegerField(label=label)
    if annotation is Decimal:
        return forms.DecimalField(label=label, decimal_places=2, max_digits=14)
    if _is_list(annotation):
        return forms.CharField(label=label, required=False)
    return forms.CharField(label=label)


class RuleForm(forms.Form):
    """A rule's parameters (one field each, from the kind's parameter model), on/off, order."""

    is_active = forms.BooleanField(label=_("Active"), required=False)
    position = forms.IntegerField(label=_("Position"), min_value=0, max_value=32767)

    def __init__(self, *args: Any, rule: RiskRule, **kwargs: Any) -> None:
        self.rule = rule
        parameters_model = EVALUATORS[rule.kind].parameters
        self.parameter_names = list(parameters_model.model_fields)
        initial: dict[str, Any] = {"is_active": rule.is_active, "position": rule.position}
        for name, value in rule.parameters.items():
            initial[name] = ", ".join(value) if isinstance(value, list) else value
        kwargs.setdefault("initial", initial)
        kwargs.setdefault("prefix", f"rule-{rule.pk}")
        super().__init__(*args, **kwargs)
        for name, info in parameters_model.model_fields.items():
            self.fields[name] = _parameter_field(name, info.annotation)

    def parameters(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        parameters_model = EVALUATORS[self.rule.kind].parameters
        for name in self.parameter_names:
            value = self.cleaned_data.get(name)
            if _is_list(parameters_model.model_fields[name].annotation):
                value = [item.strip() for item in str(value or "").split(",") if item.strip()]
            elif isinstance(value, Decimal):
                value = str(value)
            values[name] = value
        return values

    def parameter_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.parameter_names]


class ReleasePolicyForm(forms.Form):
    hold_live_orders_until_stream_end = forms.BooleanField(
        label=_("Hold live-stream orders until the stream ends"), required=False
    )
    combine_window_minutes = forms.IntegerField(
        label=_("Combine window (minutes)"), min_value=0, max_value=24 * 60
    )
