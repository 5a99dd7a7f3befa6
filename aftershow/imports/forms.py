from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from aftershow.imports.selectors import tiktok_shops


class ImportForm(forms.Form):
    shop = forms.ModelChoiceField(queryset=tiktok_shops(), label=_("Shop"))
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "A Seller Center order export, an Affiliate Center affiliate-orders export, a "
            "finance statement or a returns export, as CSV or XLSX, exactly as downloaded."
        ),
    )


class TrackingExportForm(forms.Form):
    shop = forms.ModelChoiceField(queryset=tiktok_shops(), label=_("Shop"))
