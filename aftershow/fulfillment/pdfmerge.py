"""Placing labels that providers deliver only as PDF (TikTok Shipping's shipping documents)
into the batch PDF.

reportlab writes PDFs but cannot read them, so the batch is drawn with a placeholder page where
such a label goes, and pypdf then puts the label's first page in its place, scaled to fit the
4 x 6 in page and centred (TikTok's A6 is 297.6 x 419.5 pt). pypdf is imported here only: it is
the one module that needs it at run time (see docs/decisions-fulfillment.md); without it the
placeholder pages stay and say where to print the label from.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

from aftershow.fulfillment.labels.render import PAGE_HEIGHT, PAGE_WIDTH


def can_merge() -> bool:
    try:
        import pypdf  # noqa: F401
    except ImportError:
        return False
    return True


def replace_pages(document: bytes, replacements: Mapping[int, bytes]) -> bytes:
    """``document`` with page ``i`` (0-based) replaced by the first page of
    ``replacements[i]``, fitted into 4 x 6 in."""
    from pypdf import PageObject, PdfReader, PdfWriter, Transformation

    reader = PdfReader(io.BytesIO(document))
    writer = PdfWriter()
    for index, page in enumerate(reader.pages):
        label = replacements.get(index)
        if label is None:
            writer.add_page(page)
            continue
        source = PdfReader(io.BytesIO(label)).pages[0]
        width, height = float(source.mediabox.width), float(source.mediabox.height)
        scale = min(PAGE_WIDTH / width, PAGE_HEIGHT / height)
        blank = PageObject.create_blank_page(width=PAGE_WIDTH, height=PAGE_HEIGHT)
        blank.merge_transformed_page(
            source,
            Transformation()
            .translate(-float(source.mediabox.left), -float(source.mediabox.bottom))
            .scale(scale, scale)
            .translate((PAGE_WIDTH - width * scale) / 2, (PAGE_HEIGHT - height * scale) / 2),
        )
        writer.add_page(blank)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
