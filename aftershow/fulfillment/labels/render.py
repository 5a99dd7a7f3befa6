"""Drawing a 4x6 shipping label: PDF (reportlab) for laser and PDF-driven thermal printers, ZPL
for Zebra-style thermal printers.

The layout follows the USPS parcel label segments (carrier-rates.md §6.3): a 1-inch service
icon, the service banner between rules, sender and recipient, then the tracking barcode
(Code 128) between thick bars with the number in groups of four. Sandbox labels say SAMPLE in
large type and "not valid for mailing"; their barcodes encode a test tracking number.

Speed matters (1,000 labels in one batch): fonts are registered once, and the barcode, whose
bars reportlab's widget would draw one ``rect`` call at a time, is written as one PDF path
with reportlab's own Code 128 encoder. Fonts are Bitstream Vera (shipped with reportlab),
embedded as subsets, so the PDF prints the same on any printer.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterable
from dataclasses import dataclass

from reportlab.graphics.barcode.code128 import Code128  # type: ignore[import-untyped]
from reportlab.lib.units import inch  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.ttfonts import TTFont  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

PAGE_WIDTH = 4 * inch  # 288 pt
PAGE_HEIGHT = 6 * inch  # 432 pt
PAGE_SIZE = (PAGE_WIDTH, PAGE_HEIGHT)
FONT = "AftershowVera"
FONT_BOLD = "AftershowVeraBold"
MARGIN = 12.0
BAR_WIDTH = 1.1  # points per Code 128 module (0.39 mm)
BAR_HEIGHT = 64.0
ZPL_DOTS_PER_INCH = 203

SERVICE_ICONS = {
    ("USPS", "Ground Advantage"): "G",
    ("USPS", "Priority Mail"): "P",
    ("UPS", "Ground"): "U",
    ("FedEx", "Ground"): "F",
}


@functools.cache
def register_fonts() -> None:
    pdfmetrics.registerFont(TTFont(FONT, "Vera.ttf"))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, "VeraBd.ttf"))


@dataclass(frozen=True)
class LabelAddress:
    name: str
    lines: tuple[str, ...]  # street lines, then "CITY ST 12345"


@dataclass(frozen=True)
class LabelContent:
    tracking_number: str
    carrier: str
    service: str
    ship_from: LabelAddress
    ship_to: LabelAddress
    weight: str
    zone: str
    ship_date: str
    reference: str  # order numbers
    is_sample: bool = True

    @property
    def icon(self) -> str:
        return SERVICE_ICONS.get((self.carrier, self.service), self.carrier[:1] or "?")

    @property
    def banner(self) -> str:
        return f"{self.carrier} {self.service}".upper()


def fitting_size(text: str, font: str, size: float, width: float, minimum: float = 7) -> float:
    """``size``, or smaller so that ``text`` fits in ``width`` points (never below minimum)."""
    needed = pdfmetrics.stringWidth(text, font, size)
    return size if needed <= width else max(minimum, size * width / needed)


def group_digits(tracking_number: str) -> str:
    """The human-readable form: groups of four, as USPS prints it."""
    return " ".join(tracking_number[i : i + 4] for i in range(0, len(tracking_number), 4))


def code128_modules(value: str) -> str:
    """reportlab's Code 128 encoding of ``value`` as module widths: upper case letters are bars,
    lower case spaces, the letter's position in the alphabet the width in modules."""
    barcode = Code128(value)
    barcode.validate()
    barcode.encode()
    decomposed: str = barcode.decompose()
    return decomposed


def barcode_path(value: str, *, centre: float, y: float, bar_width: float, height: float) -> str:
    """The barcode as one filled PDF path, centred on ``centre``."""
    modules = code128_modules(value)
    width = sum(ord(symbol.lower()) - 96 for symbol in modules) * bar_width
    left = max(MARGIN, centre - width / 2)
    rects: list[str] = []
    for symbol in modules:
        step = (ord(symbol.lower()) - 96) * bar_width
        if symbol.isupper():
            rects.append(f"{left:.2f} {y:.2f} {step:.2f} {height:.2f} re")
        left += step
    return "0 g " + " ".join(rects) + " f"


class LabelPainter:
    """Draws labels on one canvas. What every label of a service shares (rules, boxes, the
    service icon and banner, the SAMPLE block, the sender, the ship date) is drawn once into a
    PDF form and placed on each page, so a 600-label batch formats those numbers once, not 600
    times."""

    def __init__(self, canvas: Canvas) -> None:
        self.canvas = canvas
        self.forms: dict[tuple[object, ...], str] = {}

    def _frame(self, content: LabelContent) -> str:
        key = (
            content.carrier,
            content.service,
            content.is_sample,
            content.ship_from,
            content.ship_date,
        )
        name = self.forms.get(key)
        if name is not None:
            return name
        name = f"LabelFrame{len(self.forms) + 1}"
        canvas = self.canvas
        canvas.beginForm(name)
        top = PAGE_HEIGHT - MARGIN
        right = PAGE_WIDTH - MARGIN
        # Service icon: a 1-inch square with the service letter.
        canvas.setLineWidth(3)
        canvas.rect(MARGIN, top - 72, 72, 72)
        canvas.setFont(FONT_BOLD, 54)
        canvas.drawCentredString(MARGIN + 36, top - 56, content.icon)
        if content.is_sample:
            canvas.setFont(FONT_BOLD, 40)
            canvas.drawRightString(right, top - 40, "SAMPLE")
            canvas.setFont(FONT_BOLD, 8)
            canvas.drawRightString(right, top - 54, "NOT VALID FOR MAILING")
            canvas.drawRightString(right, top - 64, "aftershow sandbox carrier")
        canvas.setFont(FONT, 8)
        canvas.drawRightString(right, top - 76, content.ship_date)
        # Service banner between two rules.
        canvas.setLineWidth(2)
        canvas.line(0, top - 84, PAGE_WIDTH, top - 84)
        canvas.setFont(FONT_BOLD, 17)
        canvas.drawString(MARGIN, top - 104, content.banner)
        canvas.line(0, top - 112, PAGE_WIDTH, top - 112)
        # Sender, small.
        text = canvas.beginText(MARGIN, top - 126)
        text.setFont(FONT, 8, 10)
        text.textLines([content.ship_from.name, *content.ship_from.lines])
        canvas.drawText(text)
        canvas.setFont(FONT_BOLD, 9)
        canvas.drawString(MARGIN, top - 190, "SHIP TO:")
        # Tracking segment between thick bars.
        canvas.setLineWidth(5)
        canvas.line(0, 150, PAGE_WIDTH, 150)
        canvas.drawCentredString(PAGE_WIDTH / 2, 137, f"{content.carrier.upper()} TRACKING #")
        canvas.line(0, 38, PAGE_WIDTH, 38)
        canvas.endForm()
        self.forms[key] = name
        return name

    def draw(self, content: LabelContent) -> None:
        """Draw one label on the current page (the caller ends the page)."""
        canvas = self.canvas
        canvas.doForm(self._frame(content))
        top = PAGE_HEIGHT - MARGIN
        # Recipient, large, shrunk to fit the width.
        y = top - 190
        for line in (content.ship_to.name, *content.ship_to.lines):
            value = line.upper()
            size = fitting_size(value, FONT_BOLD, 13, PAGE_WIDTH - MARGIN - (MARGIN + 40))
            canvas.setFont(FONT_BOLD, size)
            canvas.drawString(MARGIN + 40, y, value)
            y -= 17
        canvas.addLiteral(
            barcode_path(
                content.tracking_number,
                centre=PAGE_WIDTH / 2,
                y=62,
                bar_width=BAR_WIDTH,
                height=BAR_HEIGHT,
            )
        )
        canvas.setFont(FONT_BOLD, 11)
        canvas.drawCentredString(PAGE_WIDTH / 2, 46, group_digits(content.tracking_number))
        canvas.setFont(FONT, 7)
        canvas.drawString(MARGIN, 24, f"Ref: {content.reference}"[:70])
        canvas.drawString(MARGIN, 14, f"Weight {content.weight} · Zone {content.zone}")


def draw_label(canvas: Canvas, content: LabelContent) -> None:
    """Draw one label on the canvas's current page (for many, use one ``LabelPainter``)."""
    LabelPainter(canvas).draw(content)


def new_canvas(buffer: io.BytesIO, *, title: str) -> Canvas:
    register_fonts()
    # No Helvetica anywhere, not even as the unused initial font: every font is embedded.
    canvas = Canvas(
        buffer, pagesize=PAGE_SIZE, pageCompression=0, initialFontName=FONT, initialFontSize=8
    )
    canvas.setTitle(title)
    canvas.setAuthor("aftershow")
    return canvas


def labels_pdf(contents: Iterable[LabelContent], *, title: str = "Labels") -> bytes:
    buffer = io.BytesIO()
    canvas = new_canvas(buffer, title=title)
    painter = LabelPainter(canvas)
    for content in contents:
        painter.draw(content)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _zpl_text(value: str) -> str:
    """ZPL uses ^ and ~ as command prefixes: never let data contain them."""
    return value.replace("^", " ").replace("~", " ")


def label_zpl(content: LabelContent) -> str:
    """The label in ZPL II for a 203 dpi printer: 812 x 1218 dots (4 x 6 in)."""
    lines = [
        "^XA",
        "^CI28",
        "^PW812",
        "^LL1218",
        "^LH0,0",
        "^FO20,20^GB180,180,8^FS",
        f"^FO55,40^A0N,150,150^FD{_zpl_text(content.icon)}^FS",
    ]
    if content.is_sample:
        lines += [
            "^FO240,30^A0N,90,90^FDSAMPLE^FS",
            "^FO240,125^A0N,26,26^FDNOT VALID FOR MAILING^FS",
        ]
    lines += [
        f"^FO240,160^A0N,24,24^FD{_zpl_text(content.ship_date)}^FS",
        "^FO0,215^GB812,6,6^FS",
        f"^FO20,235^A0N,48,48^FD{_zpl_text(content.banner)}^FS",
        "^FO0,295^GB812,6,6^FS",
    ]
    y = 320
    for value in (content.ship_from.name, *content.ship_from.lines):
        lines.append(f"^FO20,{y}^A0N,24,24^FD{_zpl_text(value)}^FS")
        y += 28
    lines.append("^FO20,500^A0N,26,26^FDSHIP TO:^FS")
    y = 500
    for value in (content.ship_to.name, *content.ship_to.lines):
        lines.append(f"^FO150,{y}^A0N,38,38^FD{_zpl_text(value.upper())}^FS")
        y += 46
    lines += [
        "^FO0,820^GB812,14,14^FS",
        f"^FO20,850^A0N,28,28^FD{_zpl_text(content.carrier.upper())} TRACKING #^FS",
        f"^FO60,890^BY3^BCN,152,N,N,N^FD{_zpl_text(content.tracking_number)}^FS",
        f"^FO60,1055^A0N,36,36^FD{_zpl_text(group_digits(content.tracking_number))}^FS",
        "^FO0,1100^GB812,14,14^FS",
        f"^FO20,1130^A0N,22,22^FDRef: {_zpl_text(content.reference)[:60]}^FS",
        f"^FO20,1160^A0N,22,22^FDWeight {_zpl_text(content.weight)} - "
        f"Zone {_zpl_text(content.zone)}^FS",
        "^XZ",
    ]
    return "\n".join(lines) + "\n"
