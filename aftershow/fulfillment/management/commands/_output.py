"""What the label commands print and write, shared by both."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import OutputWrapper

from aftershow.fulfillment.batches import BatchReport
from aftershow.fulfillment.documents import batch_pdf, batch_zpl


def report_batch(
    out: OutputWrapper, report: BatchReport, *, output_dir: Path | None, slips: bool
) -> None:
    batch = report.batch
    out.write(
        f"batch {batch.pk}: {batch.order_count} orders, {report.labelled} labelled, "
        f"{len(report.errors)} errors"
    )
    for item in report.errors:
        orders = sorted({line.order.remote_order_id for line in item.package.lines.all()})
        retry = " (retryable)" if item.is_retryable else ""
        reason = " ".join(item.error_reason.split())
        out.write(f"  error package {item.package_id} orders {', '.join(orders)}: {reason}{retry}")
    if output_dir is not None:
        output_dir.mkdir(parents=True, exist_ok=True)
        pdf = output_dir / f"batch-{batch.pk}.pdf"
        pdf.write_bytes(batch_pdf(batch=batch, packing_slips=slips))
        zpl = output_dir / f"batch-{batch.pk}.zpl"
        zpl.write_text(batch_zpl(batch=batch))
        out.write(f"  wrote {pdf} and {zpl}")
