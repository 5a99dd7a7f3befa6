"""Reads for the fulfillment pages, the API and other apps (the order page's carrier reason)."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from aftershow.fulfillment.models import (
    BatchItemState,
    CarrierRule,
    LabelBatch,
    LabelBatchItem,
    Package,
)


def carrier_rules() -> QuerySet[CarrierRule]:
    return CarrierRule.objects.prefetch_related("sku_tags").order_by("position", "id")


def label_batches() -> QuerySet[LabelBatch]:
    return LabelBatch.objects.select_related("shop").annotate(
        package_count=Count("items"),
        labelled_count=Count("items", filter=Q(items__state=BatchItemState.LABELLED)),
        error_count=Count("items", filter=Q(items__state=BatchItemState.ERROR)),
    )


def batch_items(batch: LabelBatch) -> QuerySet[LabelBatchItem]:
    return (
        batch.items.select_related("package__address", "package__rule")
        .prefetch_related("package__lines__order")
        .order_by("position")
    )


def packages_for_order(order_id: int) -> QuerySet[Package]:
    """The parcels holding an order's lines, with the carrier choice and its reason."""
    return (
        Package.objects.filter(lines__order_id=order_id)
        .select_related("rule")
        .distinct()
        .order_by("id")
    )
