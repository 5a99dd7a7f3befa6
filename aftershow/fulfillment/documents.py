"""The batch's print files: one PDF (pick list, then every 4x6 label in pick order, packing
slips optional) and one ZPL file with the same labels for thermal printers.

Every page is 4 x 6 in, so the whole PDF goes to one label printer. Sandbox labels are drawn
straight into the document; aggregator labels are placed from their 4 x 6 image (PNG at
300 dpi); labels a provider returns only as PDF (TikTok Shipping) are put in by ``pdfmerge``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from aftershow.fulfillment.carriers.rates import format_weight
from aftershow.fulfillment.labels.render import LabelAddress, LabelContent, label_zpl
from aftershow.fulfillment.models import (
    BatchItemState,
    LabelBatch,
    LabelPurchase,
    PurchaseState,
)
from aftershow.fulfillment.sheets import (
    BatchSheet,
    PickRow,
    SheetLabel,
    SlipPage,
    pick_pages,
    sheet_pdf,
    sheet_write,
)
from aftershow.fulfillment.storage import label_file_path, label_file_read
from aftershow.orders.models import OrderLine


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


def _slips(batch: LabelBatch, labels: list[BatchLabel]) -> dict[int, SlipPage]:
    """Each parcel's packing slip (one read of the batch's lines)."""
    lines: dict[int, list[str]] = defaultdict(list)
    for package_id, quantity, seller_sku, product_name in (
        OrderLine.objects.filter(package__batch_item__batch=batch)
        .order_by("id")
        .values_list("package_id", "quantity", "seller_sku", "product_name")
    ):
        lines[package_id].append(f"{quantity} x {seller_sku}  {product_name}")
    return {
        label.package_id: SlipPage(
            heading=_("PACKING SLIP"),
            orders=_("Orders: %(orders)s") % {"orders": ", ".join(label.order_numbers)},
            tracking=_("Tracking: %(tracking)s") % {"tracking": label.tracking_number},
            lines=tuple(lines.get(label.package_id, ())),
        )
        for label in labels
    }


def _sheet_label(label: BatchLabel, slip: SlipPage | None) -> SheetLabel:
    if label.content is not None:
        return SheetLabel(content=label.content, slip=slip)
    return SheetLabel(
        image=str(label_file_path(label.label_image)) if label.label_image else "",
        pdf=str(label_file_path(label.label_pdf)) if label.label_pdf else "",
        notice=(
            _("Label available as PDF only"),
            _("Package %(package)s, tracking %(tracking)s:")
            % {"package": label.package_id, "tracking": label.tracking_number},
            _("print it from the package's page."),
        ),
        slip=slip,
    )


def batch_sheet(batch: LabelBatch, *, packing_slips: bool = False) -> BatchSheet:
    """The batch's print file as plain values, texts in the active language (``sheets``
    draws it, in this process or in the burst's second one)."""
    labels = batch_labels(batch)
    rows = pick_list(batch)
    slips = _slips(batch, labels) if packing_slips else {}
    return BatchSheet(
        title=f"aftershow batch {batch.pk}",
        pick_pages=pick_pages(
            rows,
            heading=_("PICK LIST"),
            page_note=_("Batch %(batch)s · page %(page)s/%(pages)s"),
            note_values={"batch": batch.pk},
            summary=_("%(labels)s labels · %(skus)s SKUs · %(units)s units")
            % {"labels": len(labels), "skus": len(rows), "units": sum(r.quantity for r in rows)},
            columns=(_("BIN"), _("SKU"), _("QTY")),
        ),
        labels=tuple(_sheet_label(label, slips.get(label.package_id)) for label in labels),
    )


def batch_pdf(*, batch: LabelBatch, packing_slips: bool = False) -> bytes:
    return sheet_pdf(batch_sheet(batch, packing_slips=packing_slips))


def batch_pdf_path(batch: LabelBatch, directory: Path) -> Path:
    return directory / f"batch-{batch.pk}.pdf"


def batch_pdf_write(batch: LabelBatch, directory: Path) -> str:
    """Write the batch's PDF as ``batch-<id>.pdf`` (never half a file under that name)."""
    return sheet_write(batch_sheet(batch), batch_pdf_path(batch, directory))


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
