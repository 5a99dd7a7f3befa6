from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aftershow.catalog.models import Sku


class StockPlanForm(forms.Form):
    followers = forms.IntegerField(label=_("Followers"), min_value=0)
    view_rate = forms.DecimalField(
        label=_("Expected view rate"),
        help_text=_("0.10 = 10 % of followers watch"),
        min_value=Decimal("0.0001"),
        max_value=Decimal("1"),
        decimal_places=4,
    )
    conversion_rate = forms.DecimalField(
        label=_("Expected conversion"),
        help_text=_("0.08 = 8 % of viewers buy"),
        min_value=Decimal("0.0001"),
        max_value=Decimal("1"),
        decimal_places=4,
    )
    safety_factor = forms.DecimalField(
        label=_("Safety factor"),
        min_value=Decimal("1"),
        max_value=Decimal("9.99"),
        decimal_places=2,
    )
    first_batch_share = forms.DecimalField(
        label=_("First batch share"),
        help_text=_("Share of the plan stocked before the stream (0.50 = half)"),
        min_value=Decimal("0.01"),
        max_value=Decimal("1"),
        decimal_places=2,
    )
    skus = forms.CharField(
        label=_("SKUs and shares"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 40}),
        help_text=_("One per line: seller SKU, then its share (weight), e.g. TEE-BLK-M 3"),
    )

    def clean_skus(self) -> list[tuple[Sku, int]]:
        text = str(self.cleaned_data.get("skus") or "")
        wanted: list[tuple[str, int]] = []
        errors: list[str] = []
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.replace(",", " ").split()
            if not line:
                continue
            code = line[0]
            share_text = line[1] if len(line) > 1 else "1"
            if len(line) > 2 or not share_text.isdigit() or int(share_text) < 1:
                errors.append(
                    gettext("Line %(n)d: write the SKU and a whole share of at least 1.")
                    % {"n": number}
                )
                continue
            wanted.append((code, int(share_text)))
        codes = [code for code, _ in wanted]
        if len(set(codes)) != len(codes):
            errors.append(gettext("A SKU is listed twice."))
        found = {sku.code: sku for sku in Sku.objects.filter(code__in=codes, is_bundle=False)}
        for code in codes:
            if code not in found:
                errors.append(gettext("Unknown SKU (or a bundle): %s") % code)
        if errors:
            raise forms.ValidationError(errors)
        return [(found[code], share) for code, share in wanted]

    def plan_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "followers": data["followers"],
            "view_rate": data["view_rate"],
            "conversion_rate": data["conversion_rate"],
            "safety_factor": data["safety_factor"],
            "first_batch_share": data["first_batch_share"],
            "lines": data["skus"],
        }
