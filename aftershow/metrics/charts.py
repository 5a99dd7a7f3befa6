"""Charts as inline SVG drawn on the server: no JavaScript, they print, and every bar carries a
``<title>`` with its exact figure for screen readers and tooltips."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

# Tier colours, also used by the badges in metrics.css.
TIER_COLOURS = {"S": "#12715b", "A": "#2f6fde", "B": "#b54708", "-": "#98a2b3"}
ROW_HEIGHT = 22
LABEL_WIDTH = 150
BAR_WIDTH = 420
VALUE_WIDTH = 110


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal
    tier: str
    shown: str


def bar_chart(bars: Sequence[Bar], *, title: str) -> SafeString:
    """Horizontal bars, longest first as given, scaled to the largest positive value."""
    if not bars:
        return mark_safe("")
    largest = max((bar.value for bar in bars), default=Decimal("0"))
    height = ROW_HEIGHT * len(bars) + 8
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    rows = []
    for index, bar in enumerate(bars):
        y = index * ROW_HEIGHT + 4
        length = int(BAR_WIDTH * bar.value / largest) if largest > 0 and bar.value > 0 else 0
        rows.append(
            (
                y + 15,
                bar.label,
                LABEL_WIDTH,
                y + 3,
                max(length, 1),
                TIER_COLOURS.get(bar.tier, TIER_COLOURS["-"]),
                bar.label,
                bar.shown,
                LABEL_WIDTH + length + 6,
                y + 15,
                bar.shown,
            )
        )
    body = format_html_join(
        "",
        '<text x="0" y="{}" class="chart-label">{}</text>'
        '<rect x="{}" y="{}" width="{}" height="16" fill="{}"><title>{}: {}</title></rect>'
        '<text x="{}" y="{}" class="chart-value">{}</text>',
        rows,
    )
    return format_html(
        '<svg class="chart" role="img" aria-label="{}" viewBox="0 0 {} {}" width="{}" '
        'height="{}" xmlns="http://www.w3.org/2000/svg">{}</svg>',
        title,
        width,
        height,
        width,
        height,
        body,
    )


@dataclass(frozen=True)
class Segment:
    tier: str
    label: str
    share: Decimal | None


def share_chart(rows: Sequence[tuple[str, Sequence[Segment]]], *, title: str) -> SafeString:
    """One 100 % stacked bar per row (e.g. "creators", "sales"), a segment per tier."""
    width = LABEL_WIDTH + BAR_WIDTH
    height = 30 * len(rows) + 8
    parts = []
    for index, (row_label, segments) in enumerate(rows):
        y = index * 30 + 4
        parts.append(
            format_html('<text x="0" y="{}" class="chart-label">{}</text>', y + 16, row_label)
        )
        x = Decimal(LABEL_WIDTH)
        for segment in segments:
            if not segment.share:
                continue
            length = Decimal(BAR_WIDTH) * segment.share
            shown = f"{(segment.share * 100).quantize(Decimal('0.1'))} %"
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="22" fill="{}">'
                    "<title>{} {}: {}</title></rect>",
                    f"{x:.2f}",
                    y,
                    f"{length:.2f}",
                    TIER_COLOURS.get(segment.tier, TIER_COLOURS["-"]),
                    row_label,
                    segment.label,
                    shown,
                )
            )
            if length >= 40:
                parts.append(
                    format_html(
                        '<text x="{}" y="{}" class="chart-inbar">{} {}</text>',
                        f"{x + 4:.2f}",
                        y + 16,
                        segment.tier,
                        shown,
                    )
                )
            x += length
    return format_html(
        '<svg class="chart" role="img" aria-label="{}" viewBox="0 0 {} {}" width="{}" '
        'height="{}" xmlns="http://www.w3.org/2000/svg">{}</svg>',
        title,
        width,
        height,
        width,
        height,
        mark_safe("".join(parts)),  # noqa: S308 - every part is built by format_html
    )
