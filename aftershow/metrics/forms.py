"""Forms of the metrics pages: a period, and a new version of the tier thresholds."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from aftershow.metrics.models import TierPolicy


class PeriodForm(forms.Form):
    """Days in UTC, both included; empty "from" means all history, empty "to" means today."""

    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            raise forms.ValidationError(_("The period ends before it starts."))
        return data

    def bounds(self, *, now: datetime) -> tuple[datetime | None, datetime]:
        """``[start, end)`` as aware UTC datetimes (the "to" day is included)."""
        start = self.cleaned_data.get("start")
        end = self.cleaned_data.get("end")
        start_at = datetime.combine(start, time(0), tzinfo=UTC) if start else None
        end_at = datetime.combine(end, time(0), tzinfo=UTC) + timedelta(days=1) if end else now
        return start_at, end_at


class TierPolicyForm(forms.Form):
    s_above = forms.DecimalField(label=_("S: ROI above"), max_digits=8, decimal_places=2)
    a_from = forms.DecimalField(
        label=_("A: ROI from (up to the S threshold)"), max_digits=8, decimal_places=2
    )
    phase_out_below = forms.DecimalField(
        label=_("Phase out: ROI below"), max_digits=8, decimal_places=2
    )
    return_warning_percent = forms.DecimalField(
        label=_("Warn above this return rate (%)"), max_digits=5, decimal_places=2
    )
    platform_fee_percent = forms.DecimalField(
        label=_("Platform fee for unsettled orders (%)"), max_digits=5, decimal_places=2
    )
    window_days = forms.IntegerField(
        label=_("Tiers look at the last N days (empty: all history)"), required=False, min_value=1
    )
    effective_from = forms.DateTimeField(
        label=_("In force from (UTC)"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )
    reason = forms.CharField(label=_("Why"), max_length=255)

    @classmethod
    def from_policy(cls, policy: TierPolicy, *, now: datetime) -> TierPolicyForm:
        return cls(
            initial={
                "s_above": policy.s_above,
                "a_from": policy.a_from,
                "phase_out_below": policy.phase_out_below,
                "return_warning_percent": policy.return_warning_percent,
                "platform_fee_percent": policy.platform_fee_percent,
                "window_days": policy.window_days,
                "effective_from": now.replace(second=0, microsecond=0),
            }
        )

    def effective_utc(self) -> datetime:
        value: datetime = self.cleaned_data["effective_from"]
        # The form's time is UTC wall clock (the page says so), whatever the active time zone.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
