"""Drawing a batch's print file from plain values: no database, no Django.

``documents.batch_sheet`` reads a batch into a ``BatchSheet`` (every text already in the
reader's language, every stored label as an absolute path); ``sheet_pdf`` draws it: the pick
list, then each label (drawn, placed from its 4 x 6 image, or a placeholder page that pypdf
replaces with the provider's PDF label), each followed by its packing slip when asked.

Kept free of Django so that the burst's second process (``pdfprocess``) draws it after
importing only reportlab: a tenth of the start-up of a process that loads Django.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

from reportlab.lib.utils import ImageReader  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

from aftershow.fulfillment.labels.render import (
    FONT,
    FONT_BOLD,
    MARGIN,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    LabelContent,
    LabelPainter,
    new_canvas,
)
from aftershow.fulfillment.pdfmerge import can_merge, replace_pages

PICK_ROWS_PER_PAGE = 24
ROW_HEIGHT = 13.0


@dataclass(frozen=True)
class PickRow:
    bin_location: str
    sku: str
    name: str
    quantity: int


@dataclass(frozen=True)
class PickPage:
    heading: str
    page_note: str  # "Batch 7 · page 1/2"
    summary: str  # "832 labels · 12 SKUs · 900 units"
    columns: tuple[str, str, str]  # bin, SKU, quantity
    rows: tuple[PickRow, ...]


@dataclass(frozen=True)
class SlipPage:
    heading: str
    orders: str
    tracking: str
    lines: tuple[str, ...]  # "2 x SKU  name"


@dataclass(frozen=True)
class SheetLabel:
    content: LabelContent | None = None  # drawn here (sandbox carrier)
    image: str = ""  # absolute path of the provider's 4 x 6 image
    pdf: str = ""  # absolute path of the provider's PDF label, put in by pypdf
    notice: tuple[str, str, str] = ("", "", "")  # the page when there is no image
    slip: SlipPage | None = None


@dataclass(frozen=True)
class BatchSheet:
    title: str
    pick_pages: tuple[PickPage, ...]
    labels: tuple[SheetLabel, ...]


def pick_pages(
    rows: list[PickRow],
    *,
    heading: str,
    page_note: str,
    note_values: dict[str, object],
    summary: str,
    columns: tuple[str, str, str],
) -> tuple[PickPage, ...]:
    """Split the pick list into pages; ``page_note`` is formatted with ``note_values`` and
    the page's ``page`` and ``pages``."""
    pages = max(1, -(-len(rows) // PICK_ROWS_PER_PAGE))
    return tuple(
        PickPage(
            heading=heading,
            page_note=page_note % {**note_values, "page": page + 1, "pages": pages},
            summary=summary,
            columns=columns,
            rows=tuple(rows[page * PICK_ROWS_PER_PAGE : (page + 1) * PICK_ROWS_PER_PAGE]),
        )
        for page in range(pages)
    )


def _draw_pick_page(canvas: Canvas, page: PickPage) -> None:
    top = PAGE_HEIGHT - MARGIN
    canvas.setFont(FONT_BOLD, 16)
    canvas.drawString(MARGIN, top - 14, page.heading)
    canvas.setFont(FONT, 8)
    canvas.drawRightString(PAGE_WIDTH - MARGIN, top - 14, page.page_note)
    canvas.drawString(MARGIN, top - 28, page.summary)
    canvas.setFont(FONT_BOLD, 8)
    y = top - 46
    bin_column, sku_column, quantity_column = page.columns
    canvas.drawString(MARGIN, y, bin_column)
    canvas.drawString(MARGIN + 52, y, sku_column)
    canvas.drawRightString(PAGE_WIDTH - MARGIN, y, quantity_column)
    canvas.line(MARGIN, y - 3, PAGE_WIDTH - MARGIN, y - 3)
    for row in page.rows:
        y -= ROW_HEIGHT
        canvas.setFont(FONT, 8)
        canvas.drawString(MARGIN, y, row.bin_location or "-")
        canvas.drawString(MARGIN + 52, y, f"{row.sku}  {row.name}"[:42])
        canvas.setFont(FONT_BOLD, 9)
        canvas.drawRightString(PAGE_WIDTH - MARGIN, y, str(row.quantity))
    canvas.showPage()


def _draw_slip(canvas: Canvas, slip: SlipPage) -> None:
    top = PAGE_HEIGHT - MARGIN
    canvas.setFont(FONT_BOLD, 14)
    canvas.drawString(MARGIN, top - 14, slip.heading)
    canvas.setFont(FONT, 8)
    canvas.drawString(MARGIN, top - 28, slip.orders)
    canvas.drawString(MARGIN, top - 40, slip.tracking)
    y = top - 60
    for line in slip.lines:
        canvas.drawString(MARGIN, y, line[:60])
        y -= 11
        if y < MARGIN:
            break
    canvas.showPage()


def _draw_stored(canvas: Canvas, label: SheetLabel) -> None:
    if label.image:
        canvas.drawImage(ImageReader(label.image), 0, 0, width=PAGE_WIDTH, height=PAGE_HEIGHT)
        canvas.showPage()
        return
    headline, detail, where = label.notice
    canvas.setFont(FONT_BOLD, 12)
    canvas.drawString(MARGIN, PAGE_HEIGHT / 2 + 20, headline)
    canvas.setFont(FONT, 9)
    canvas.drawString(MARGIN, PAGE_HEIGHT / 2, detail)
    canvas.drawString(MARGIN, PAGE_HEIGHT / 2 - 12, where)
    canvas.showPage()


def sheet_pdf(sheet: BatchSheet) -> bytes:
    buffer = io.BytesIO()
    canvas = new_canvas(buffer, title=sheet.title)
    for page in sheet.pick_pages:
        _draw_pick_page(canvas, page)
    painter = LabelPainter(canvas)
    pdf_only: dict[int, str] = {}  # page index → the label's stored PDF
    for label in sheet.labels:
        if label.content is not None:
            painter.draw(label.content)
            canvas.showPage()
        else:
            if not label.image and label.pdf:
                pdf_only[canvas.getPageNumber() - 1] = label.pdf
            _draw_stored(canvas, label)
        if label.slip is not None:
            _draw_slip(canvas, label.slip)
    canvas.save()
    document = buffer.getvalue()
    if pdf_only and can_merge():
        document = replace_pages(
            document, {index: Path(path).read_bytes() for index, path in pdf_only.items()}
        )
    return document


def sheet_write(sheet: BatchSheet, path: Path) -> str:
    """Write the sheet's PDF at ``path`` (a temporary file renamed: never half a file under
    the final name, whichever process writes it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".pdf.{os.getpid()}.tmp")
    temporary.write_bytes(sheet_pdf(sheet))
    temporary.replace(path)
    return str(path)
