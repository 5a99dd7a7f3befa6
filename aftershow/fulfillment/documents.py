"""The batch's print files: one PDF (pick list, then every 4x6 label in pick order, packing
slips optional) and one ZPL file with the same labels for thermal printers.

Every page is 4 x 6 in, so the whole PDF goes to one label printer. Sandbox labels are drawn
straight into the document; aggregator labels are placed from their 4 x 6 image (PNG at
300 dpi); labels a provider returns only as PDF (TikTok Shipping) are put in by ``pdfmerge``.
"""

from __future__ import annotations

import io
import os
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.utils import ImageReader  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

from aftershow.fulfillment.carriers.rates import format_weight
from aftershow.fulfillment.conf import label_dir
from aftershow.fulfillment.labels.render import (
    FONT,
    FONT_BOLD,
    MARGIN,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    LabelAddress,
    LabelContent,
    LabelPainter,
    label_zpl,
    new_canvas,
)
from aftershow.fulfillment.models import (
    BatchItemState,
    LabelBatch,
    LabelPurchase,
    PurchaseState,
)
from aftershow.fulfillment.pdfmerge import can_merge, replace_pages
from aftershow.fulfillment.storage import label_file_read
from aftershow.orders.models import OrderLine

PICK_ROWS_PER_PAGE = 24
ROW_HEIGHT = 13.0


@dataclass(frozen=True)
class BatchLabel:
    position: int
    package_id: int
    tracking_number: str
    provider: str
    label_image: str  # stored files of an aggregator's or TikTok's label ("" if none)
    label_pdf: str
    label_zpl: str
    content: LabelContent | None  # drawn by aftershow (sandbox carrier)
    order_numbers: tuple[str, ...]


@dataclass(frozen=True)
class PickRow:
    bin_location: str
    sku: str
    name: str
    quantity: int


def _address_block(
    name: str, line1: str, line2: str, city: str, state: str, zip_code: str
) -> LabelAddress:
    lines = tuple(line for line in (line1, line2) if line)
    return LabelAddress(name=name, lines=(*lines, f"{city} {state} {zip_code}".strip()))


# One row per labelled parcel of the batch, with its bought label, its address and its
# warehouse: plain values, in pick order. Loading the same as model instances (item, parcel,
# address, warehouse, purchase: five objects of up to 35 fields a label) took longer than
# drawing the labels.
_LABEL_FIELDS = (
    "package__batch_item__position",
    "package_id",
    "tracking_number",
    "carrier",
    "service",
    "provider",
    "label_image",
    "label_pdf",
    "label_zpl",
    "package__weight_oz",
    "package__zone",
    "package__address__name",
    "package__address__line1",
    "package__address__line2",
    "package__address__city",
    "package__address__state",
    "package__address__postal_code",
    "package__warehouse__name",
    "package__warehouse__address_line1",
    "package__warehouse__city",
    "package__warehouse__state",
    "package__warehouse__postal_code",
)


def batch_order_numbers(batch: LabelBatch) -> dict[int, tuple[str, ...]]:
    """The channel's order numbers of each parcel of the batch, in order id order."""
    numbers: dict[int, list[str]] = defaultdict(list)
    for package_id, number in (
        OrderLine.objects.filter(package__batch_item__batch=batch)
        .order_by("order_id")
        .values_list("package_id", "order__remote_order_id")
        .distinct()
    ):
        if number not in numbers[package_id]:
            numbers[package_id].append(number)
    return {package_id: tuple(values) for package_id, values in numbers.items()}


def batch_labels(batch: LabelBatch, *, now: datetime | None = None) -> list[BatchLabel]:
    """The batch's labelled packages in pick order, each with its bought label (two queries)."""
    ship_date = timezone.localdate(now or timezone.now()).isoformat()
    rows = (
        LabelPurchase.objects.filter(
            state=PurchaseState.BOUGHT,
            package__batch_item__batch=batch,
            package__batch_item__state=BatchItemState.LABELLED,
        )
        .order_by("package__batch_item__position")
        .values_list(*_LABEL_FIELDS)
    )
    orders = batch_order_numbers(batch)
    senders: dict[tuple[str | None, ...], LabelAddress] = {}
    weights: dict[Decimal, str] = {}
    labels = []
    for (
        position,
        package_id,
        tracking_number,
        carrier,
        service,
        provider,
        label_image,
        label_pdf,
        zpl_file,
        weight_oz,
        zone,
        *address,
    ) in rows:
        numbers = orders.get(package_id, ())
        content = None
        if not (label_image or label_pdf):
            sender_row = tuple(address[6:])
            sender = senders.get(sender_row)
            if sender is None:
                name, line1, city, state, zip_code = (value or "" for value in sender_row)
                sender = senders[sender_row] = _address_block(
                    name, line1, "", city, state, zip_code
                )
            weight = weights.get(weight_oz)
            if weight is None:
                weight = weights[weight_oz] = format_weight(weight_oz)
            name, line1, line2, city, state, zip_code = (value or "" for value in address[:6])
            content = LabelContent(
                tracking_number=tracking_number,
                carrier=carrier,
                service=service,
                ship_from=sender,
                ship_to=_address_block(name, line1, line2, city, state, zip_code),
                weight=weight,
                zone=str(zone or "-"),
                ship_date=ship_date,
                reference=", ".join(numbers),
                is_sample=provider == "sandbox",
            )
        labels.append(
            BatchLabel(
                position,
                package_id,
                tracking_number,
                provider,
                label_image,
                label_pdf,
                zpl_file,
                content,
                numbers,
            )
        )
    return labels


def pick_list(batch: LabelBatch) -> list[PickRow]:
    """SKU totals of the batch's labelled packages, in walking order (bin, then SKU)."""
    rows = (
        OrderLine.objects.filter(
            package__batch_item__batch=batch,
            package__batch_item__state=BatchItemState.LABELLED,
        )
        .values(
            "sku__code", "seller_sku", "sku__name", "product_name", "sku__location__bin_location"
        )
        .annotate(quantity=Sum("quantity"))
    )
    totals: dict[tuple[str, str], PickRow] = {}
    for row in rows:
        sku = row["sku__code"] or row["seller_sku"] or "?"
        bin_location = row["sku__location__bin_location"] or ""
        key = (bin_location, sku)
        kept = totals.get(key)
        quantity = int(row["quantity"]) + (kept.quantity if kept else 0)
        totals[key] = PickRow(bin_location, sku, row["sku__name"] or row["product_name"], quantity)
    return sorted(totals.values(), key=lambda row: (row.bin_location or "\uffff", row.sku))


def _draw_pick_list(canvas: Canvas, batch: LabelBatch, rows: list[PickRow], labels: int) -> None:
    pages = max(1, -(-len(rows) // PICK_ROWS_PER_PAGE))
    units = sum(row.quantity for row in rows)
    for page in range(pages):
        top = PAGE_HEIGHT - MARGIN
        canvas.setFont(FONT_BOLD, 16)
        canvas.drawString(MARGIN, top - 14, _("PICK LIST"))
        canvas.setFont(FONT, 8)
        canvas.drawRightString(
            PAGE_WIDTH - MARGIN,
            top - 14,
            _("Batch %(batch)s · page %(page)s/%(pages)s")
            % {"batch": batch.pk, "page": page + 1, "pages": pages},
        )
        canvas.drawString(
            MARGIN,
            top - 28,
            _("%(labels)s labels · %(skus)s SKUs · %(units)s units")
            % {"labels": labels, "skus": len(rows), "units": units},
        )
        canvas.setFont(FONT_BOLD, 8)
        y = top - 46
        canvas.drawString(MARGIN, y, _("BIN"))
        canvas.drawString(MARGIN + 52, y, _("SKU"))
        canvas.drawRightString(PAGE_WIDTH - MARGIN, y, _("QTY"))
        canvas.line(MARGIN, y - 3, PAGE_WIDTH - MARGIN, y - 3)
        for row in rows[page * PICK_ROWS_PER_PAGE : (page + 1) * PICK_ROWS_PER_PAGE]:
            y -= ROW_HEIGHT
            canvas.setFont(FONT, 8)
            canvas.drawString(MARGIN, y, row.bin_location or "-")
            canvas.drawString(MARGIN + 52, y, f"{row.sku}  {row.name}"[:42])
            canvas.setFont(FONT_BOLD, 9)
            canvas.drawRightString(PAGE_WIDTH - MARGIN, y, str(row.quantity))
        canvas.showPage()


def _draw_packing_slip(canvas: Canvas, label: BatchLabel) -> None:
    top = PAGE_HEIGHT - MARGIN
    canvas.setFont(FONT_BOLD, 14)
    canvas.drawString(MARGIN, top - 14, _("PACKING SLIP"))
    canvas.setFont(FONT, 8)
    canvas.drawString(
        MARGIN, top - 28, _("Orders: %(orders)s") % {"orders": ", ".join(label.order_numbers)}
    )
    canvas.drawString(
        MARGIN, top - 40, _("Tracking: %(tracking)s") % {"tracking": label.tracking_number}
    )
    y = top - 60
    for line in OrderLine.objects.filter(package_id=label.package_id).order_by("id"):
        canvas.drawString(
            MARGIN, y, f"{line.quantity} x {line.seller_sku}  {line.product_name}"[:60]
        )
        y -= 11
        if y < MARGIN:
            break
    canvas.showPage()


def _draw_stored(canvas: Canvas, label: BatchLabel) -> None:
    if label.label_image:
        image = ImageReader(str(label_dir() / label.label_image))
        canvas.drawImage(image, 0, 0, width=PAGE_WIDTH, height=PAGE_HEIGHT)
        canvas.showPage()
        return
    canvas.setFont(FONT_BOLD, 12)
    canvas.drawString(MARGIN, PAGE_HEIGHT / 2 + 20, _("Label available as PDF only"))
    canvas.setFont(FONT, 9)
    canvas.drawString(
        MARGIN,
        PAGE_HEIGHT / 2,
        _("Package %(package)s, tracking %(tracking)s:")
        % {"package": label.package_id, "tracking": label.tracking_number},
    )
    canvas.drawString(MARGIN, PAGE_HEIGHT / 2 - 12, _("print it from the package's page."))
    canvas.showPage()


def batch_pdf(*, batch: LabelBatch, packing_slips: bool = False) -> bytes:
    labels = batch_labels(batch)
    buffer = io.BytesIO()
    canvas = new_canvas(buffer, title=f"aftershow batch {batch.pk}")
    _draw_pick_list(canvas, batch, pick_list(batch), len(labels))
    painter = LabelPainter(canvas)
    pdf_only: dict[int, str] = {}  # page index → the label's stored PDF
    for label in labels:
        if label.content is not None:
            painter.draw(label.content)
            canvas.showPage()
        else:
            if not label.label_image and label.label_pdf:
                pdf_only[canvas.getPageNumber() - 1] = label.label_pdf
            _draw_stored(canvas, label)
        if packing_slips:
            _draw_packing_slip(canvas, label)
    canvas.save()
    document = buffer.getvalue()
    if pdf_only and can_merge():
        document = replace_pages(
            document, {index: label_file_read(path) for index, path in pdf_only.items()}
        )
    return document


def batch_pdf_write(batch: LabelBatch, directory: Path) -> str:
    """Write the batch's PDF as ``batch-<id>.pdf`` (a temporary file renamed: never half a
    file under the final name)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"batch-{batch.pk}.pdf"
    temporary = path.with_suffix(f".pdf.{os.getpid()}.tmp")
    temporary.write_bytes(batch_pdf(batch=batch))
    temporary.replace(path)
    return str(path)


def batch_zpl(*, batch: LabelBatch) -> str:
    """Every label of the batch in pick order, one ``^XA … ^XZ`` format each."""
    parts = []
    for label in batch_labels(batch):
        if label.content is not None:
            parts.append(label_zpl(label.content))
        elif label.label_zpl:
            parts.append(label_file_read(label.label_zpl).decode().strip() + "\n")
        else:
            parts.append(
                "^XA\n^FO40,560^A0N,40,40^FD"
                + f"Package {label.package_id}: print its PDF label"
                + "^FS\n^XZ\n"
            )
    return "".join(parts)
