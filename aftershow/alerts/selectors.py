"""Reads for the alert pages."""

from __future__ import annotations

from django.db.models import QuerySet

from aftershow.alerts.models import (
    Alert,
    AlertDestination,
    LocalInboxMessage,
    SkuAlertThreshold,
)


def alert_list(*, kind: str = "") -> QuerySet[Alert]:
    alerts = Alert.objects.select_related("sku").prefetch_related("deliveries__destination")
    if kind:
        alerts = alerts.filter(kind=kind)
    return alerts.order_by("-raised_at", "-pk")


def destination_list() -> QuerySet[AlertDestination]:
    return AlertDestination.objects.order_by("-is_active", "name", "pk")


def sku_threshold_list() -> QuerySet[SkuAlertThreshold]:
    return SkuAlertThreshold.objects.select_related("sku").order_by("sku__code")


def local_inbox(*, limit: int = 500) -> list[LocalInboxMessage]:
    return list(LocalInboxMessage.objects.order_by("-received_at", "-pk")[:limit])
