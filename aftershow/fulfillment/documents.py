"""The batch's print files: one PDF (pick list, then every 4x6 label in pick order, packing
slips optional) and one ZPL file with the same labels for thermal printers.

Every page is 4 x 6 in, so the whole PDF goes to one label printer. Sandbox labels are drawn
straight into the document; aggregator labels are placed from their 4 x 6 image (PNG at
300 dpi); labels a provider returns only as PDF (TikTok Shipping) are put in by ``pdfmerge``.
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

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
    Package,
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
    package: Package
    purchase: LabelPurchase
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


def label_content(
    package: Package, purchase: LabelPurchase, order_numbers: tuple[str, ...], *, now: datetime
) -> LabelContent:
    address = package.address
    warehouse = package.warehouse
    return LabelContent(
        tracking_number=purchase.tracking_number,
        carrier=purchase.carrier,
        service=purchase.service,
        ship_from=_address_block(
            warehouse.name if warehouse else "",
            warehouse.address_line1 if warehouse else "",
            "",
            warehouse.city if warehouse else "",
            warehouse.state if warehouse else "",
            warehouse.postal_code if warehouse else "",
        ),
        ship_to=_address_block(
            address.name if address else "",
            address.line1 if address else "",
            address.line2 if address else "",
            address.city if address else "",
            address.state if address else "",
            address.postal_code if address else "",
        ),
        weight=format_weight(package.weight_oz),
        zone=str(package.zone or "-"),
        ship_date=timezone.localdate(now).isoformat(),
        reference=", ".join(order_numbers),
        is_sample=purchase.provider == "sandbox",
    )


def batch_labels(batch: LabelBatch, *, now: datetime | None = None) -> list[BatchLabel]:
    """The batch's labelled packages in pick order, each with its bought purchase."""
    now = now or timezone.now()
    items = list(
        batch.items.filter(state=BatchItemState.LABELLED)
        .select_related("package__address", "package__warehouse")
        .order_by("position")
    )
    package_ids = [item.package_id for item in items]
    purchases = {
        purchase.package_id: purchase
        for purchase in LabelPurchase.objects.filter(
            package_id__in=package_ids, state=PurchaseState.BOUGHT
        )
    }
    orders: dict[int, list[str]] = defaultdict(list)
    for package_id, number in (
        OrderLine.objects.filter(package_id__in=package_ids)
        .order_by("order_id")
        .values_list("package_id", "order__remote_order_id")
        .distinct()
    ):
        if number not in orders[package_id]:
            orders[package_id].append(number)
    labels = []
    for item in items:
        purchase = purchases.get(item.package_id)
        if purchase is None:
            continue
        numbers = tuple(orders[item.package_id])
        drawn = (
            label_content(item.package, purchase, numbers, now=now)
            if not (purchase.label_image or purchase.label_pdf)
            else None
        )
        labels.append(BatchLabel(item.position, item.package, purchase, drawn, numbers))
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
        MARGIN, top - 40, _("Tracking: %(tracking)s") % {"tracking": label.purchase.tracking_number}
    )
    y = top - 60
    for line in OrderLine.objects.filter(package=label.package).order_by("id"):
        canvas.drawString(
            MARGIN, y, f"{line.quantity} x {line.seller_sku}  {line.product_name}"[:60]
        )
        y -= 11
        if y < MARGIN:
            break
    canvas.showPage()


def _draw_stored(canvas: Canvas, label: BatchLabel) -> None:
    purchase = label.purchase
    if purchase.label_image:
        image = ImageReader(str(label_dir() / purchase.label_image))
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
        % {"package": label.package.pk, "tracking": purchase.tracking_number},
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
            if not label.purchase.label_image and label.purchase.label_pdf:
                pdf_only[canvas.getPageNumber() - 1] = label.purchase.label_pdf
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


def batch_zpl(*, batch: LabelBatch) -> str:
    """Every label of the batch in pick order, one ``^XA … ^XZ`` format each."""
    parts = []
    for label in batch_labels(batch):
        if label.content is not None:
            parts.append(label_zpl(label.content))
        elif label.purchase.label_zpl:
            parts.append(label_file_read(label.purchase.label_zpl).decode().strip() + "\n")
        else:
            parts.append(
                "^XA\n^FO40,560^A0N,40,40^FD"
                + f"Package {label.package.pk}: print its PDF label"
                + "^FS\n^XZ\n"
            )
    return "".join(parts)
