"""The stock rules: thresholds, sales velocity, projected stock-out, planned-live shortfall and
the reorder point. Each rule raises an alert when its condition holds and re-arms it when the
condition clears, so an alert fires once per crossing (see ``alerts.models``).

Stock is what is available (on hand - allocated) summed over every warehouse. Sales are units
order lines asked for (``inventory.planning.demand_by_sku``), backorders included.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from aftershow.alerts.models import Alert, AlertKind, AlertLevel, AlertSettings, SkuAlertThreshold
from aftershow.alerts.services import alert_raise, alert_rearm, alert_settings
from aftershow.catalog.models import Sku
from aftershow.core.timeutils import utcnow
from aftershow.inventory.models import StockLevel
from aftershow.inventory.planning import (
    demand_by_sku,
    planned_sessions_between,
    replenishment_suggestions,
    stock_by_sku,
    stock_plan_for,
)

LEVELS = (AlertLevel.YELLOW, AlertLevel.ORANGE, AlertLevel.RED)
STOCK_KINDS = (
    AlertKind.LOW_STOCK,
    AlertKind.VELOCITY,
    AlertKind.STOCKOUT,
    AlertKind.SHORTFALL,
    AlertKind.REORDER,
)


@dataclass(frozen=True)
class Thresholds:
    yellow: int
    orange: int
    red: int

    def below(self, level: AlertLevel) -> int:
        return {
            AlertLevel.YELLOW: self.yellow,
            AlertLevel.ORANGE: self.orange,
            AlertLevel.RED: self.red,
        }[level]


class OpenAlerts:
    """The open alerts of one evaluation pass, read once, so that a pass where nothing changed
    costs no query per SKU and rule: a condition that still holds on an open alert, or is still
    clear without one, is skipped. Raising and re-arming still go through the services, whose
    unique constraint and conditional UPDATE stay the guarantee if the snapshot is stale."""

    def __init__(self, *, now: datetime) -> None:
        # Ship-by and other alerts raised elsewhere are never re-armed here: leave them out.
        rows = Alert.objects.filter(rearmed_at__isnull=True, kind__in=STOCK_KINDS)
        self.now = now
        self.keys = {
            (subject, kind, level)
            for subject, kind, level in rows.values_list("subject_key", "kind", "level")
        }

    def fire(self, *, kind: AlertKind, level: AlertLevel, subject_key: str, **values: Any) -> Any:
        if (subject_key, kind, level) in self.keys:
            return None
        alert = alert_raise(kind=kind, level=level, subject_key=subject_key, **values)
        self.keys.add((subject_key, kind, level))
        return alert

    def clear(
        self, *, subject_key: str, kind: AlertKind, level: AlertLevel, now: datetime | None = None
    ) -> None:
        if (subject_key, kind, level) not in self.keys:
            return
        alert_rearm(subject_key=subject_key, kind=kind, level=level, now=now or self.now)
        self.keys.discard((subject_key, kind, level))


def sku_key(sku_id: int) -> str:
    return f"sku:{sku_id}"


def skus_changed_since(since: datetime | None) -> list[int]:
    levels = StockLevel.objects.all()
    if since is not None:
        levels = levels.filter(updated_at__gte=since)
    return sorted(set(levels.values_list("sku_id", flat=True)))


def stock_alerts_evaluate(
    *, sku_ids: Iterable[int] | None = None, now: datetime | None = None
) -> int:
    """Apply every stock rule to ``sku_ids`` (every stocked SKU when ``None``) and to the
    planned lives ahead; returns the number of alerts raised."""
    now = now or utcnow()
    config = alert_settings()
    skus = Sku.objects.filter(is_bundle=False, stock_levels__isnull=False).distinct()
    if sku_ids is not None:
        skus = skus.filter(pk__in=list(sku_ids))
    sku_list = list(skus.order_by("pk"))
    ids = [sku.pk for sku in sku_list]
    stock = stock_by_sku(ids)
    window = timedelta(minutes=config.velocity_window_minutes)
    recent = demand_by_sku(since=now - window, sku_ids=ids)
    overrides = {row.sku_id: row for row in SkuAlertThreshold.objects.filter(sku_id__in=ids)}
    opened = OpenAlerts(now=now)
    raised = 0
    for sku in sku_list:
        available = stock.get(sku.pk, (0, 0))[0]
        thresholds = _thresholds(config, overrides.get(sku.pk))
        raised += _threshold_rule(opened, sku, available, thresholds, now)
        sold = recent.get(sku.pk, 0)
        raised += _velocity_rule(opened, sku, sold, config, now)
        raised += _stockout_rule(opened, sku, available, sold, config, now)
    raised += _reorder_rule(opened, ids, now)
    raised += shortfall_alerts_evaluate(now=now, config=config, opened=opened)
    return raised


def _thresholds(config: AlertSettings, own: SkuAlertThreshold | None) -> Thresholds:
    source = own or config
    return Thresholds(yellow=source.yellow_below, orange=source.orange_below, red=source.red_below)


def _threshold_rule(
    opened: OpenAlerts, sku: Sku, available: int, thresholds: Thresholds, now: datetime
) -> int:
    raised = 0
    for level in LEVELS:
        limit = thresholds.below(level)
        if available < limit:
            alert = opened.fire(
                kind=AlertKind.LOW_STOCK,
                level=level,
                subject_key=sku_key(sku.pk),
                sku=sku,
                title=_("%(level)s stock alert: %(sku)s has %(available)d left")
                % {"level": level.label, "sku": sku.code, "available": available},
                body=_(
                    "%(sku)s %(name)s: %(available)d units available, below the %(level)s "
                    "threshold of %(limit)d."
                )
                % {
                    "sku": sku.code,
                    "name": sku.name,
                    "available": available,
                    "level": level.label.lower(),
                    "limit": limit,
                },
                data={"available": available, "threshold": limit},
                now=now,
            )
            raised += alert is not None
        else:
            opened.clear(
                subject_key=sku_key(sku.pk), kind=AlertKind.LOW_STOCK, level=level, now=now
            )
    return raised


def _velocity_rule(
    opened: OpenAlerts, sku: Sku, sold: int, config: AlertSettings, now: datetime
) -> int:
    if sold < config.velocity_units:
        opened.clear(
            subject_key=sku_key(sku.pk), kind=AlertKind.VELOCITY, level=AlertLevel.RED, now=now
        )
        return 0
    alert = opened.fire(
        kind=AlertKind.VELOCITY,
        level=AlertLevel.RED,
        subject_key=sku_key(sku.pk),
        sku=sku,
        title=_("Urgent restock: %(sku)s sold %(sold)d in %(minutes)d min")
        % {"sku": sku.code, "sold": sold, "minutes": config.velocity_window_minutes},
        body=_(
            "%(sku)s %(name)s sold %(sold)d units in the last %(minutes)d minutes "
            "(alert at %(limit)d). Start the replenishment now."
        )
        % {
            "sku": sku.code,
            "name": sku.name,
            "sold": sold,
            "minutes": config.velocity_window_minutes,
            "limit": config.velocity_units,
        },
        data={"sold": sold, "window_minutes": config.velocity_window_minutes},
        now=now,
    )
    return int(alert is not None)


def projected_stockout(
    *, available: int, sold: int, window: timedelta, now: datetime
) -> datetime | None:
    """When stock runs out at the pace of the window (``None`` when nothing sells)."""
    if sold <= 0:
        return None
    per_second = Decimal(sold) / Decimal(window.total_seconds())
    return now + timedelta(seconds=float(Decimal(available) / per_second))


def _stockout_rule(
    opened: OpenAlerts, sku: Sku, available: int, sold: int, config: AlertSettings, now: datetime
) -> int:
    window = timedelta(minutes=config.velocity_window_minutes)
    runs_out = projected_stockout(available=available, sold=sold, window=window, now=now)
    horizon = now + timedelta(hours=config.stockout_horizon_hours)
    key = sku_key(sku.pk)
    if available <= 0:
        # Out already: the red threshold alert says so; a projection adds nothing.
        return 0
    if runs_out is None or runs_out > horizon:
        opened.clear(subject_key=key, kind=AlertKind.STOCKOUT, level=AlertLevel.ORANGE, now=now)
        return 0
    minutes = int((runs_out - now).total_seconds() // 60)
    alert = opened.fire(
        kind=AlertKind.STOCKOUT,
        level=AlertLevel.ORANGE,
        subject_key=key,
        sku=sku,
        title=_("%(sku)s runs out in about %(hours)d h %(minutes)02d min")
        % {"sku": sku.code, "hours": minutes // 60, "minutes": minutes % 60},
        body=_(
            "%(sku)s %(name)s: %(available)d available, %(sold)d sold in the last %(window)d "
            "minutes; at this pace stock runs out at %(at)s UTC."
        )
        % {
            "sku": sku.code,
            "name": sku.name,
            "available": available,
            "sold": sold,
            "window": config.velocity_window_minutes,
            "at": f"{runs_out:%Y-%m-%d %H:%M}",
        },
        data={"available": available, "sold": sold, "runs_out_at": runs_out.isoformat()},
        now=now,
    )
    return int(alert is not None)


def _reorder_rule(opened: OpenAlerts, sku_ids: list[int], now: datetime) -> int:
    raised = 0
    for row in replenishment_suggestions(now=now, sku_ids=sku_ids):
        key = sku_key(row.sku.pk)
        if not row.needs_reorder:
            opened.clear(subject_key=key, kind=AlertKind.REORDER, level=AlertLevel.YELLOW, now=now)
            continue
        alert = opened.fire(
            kind=AlertKind.REORDER,
            level=AlertLevel.YELLOW,
            subject_key=key,
            sku=row.sku,
            title=_("Reorder %(sku)s: %(quantity)d units suggested")
            % {"sku": row.sku.code, "quantity": row.suggested_quantity},
            body=_(
                "%(sku)s: %(available)d available + %(incoming)d incoming is at or below the "
                "reorder point of %(point)d (%(daily)s a day x %(lead)d days lead time + "
                "%(safety)d safety stock). Suggested order: %(quantity)d units."
            )
            % {
                "sku": row.sku.code,
                "available": row.available,
                "incoming": row.incoming,
                "point": row.reorder_point,
                "daily": row.daily_demand,
                "lead": row.lead_time_days,
                "safety": row.safety_stock,
                "quantity": row.suggested_quantity,
            },
            data={"reorder_point": row.reorder_point, "suggested": row.suggested_quantity},
            now=now,
        )
        raised += alert is not None
    return raised


def shortfall_alerts_evaluate(
    *, now: datetime, config: AlertSettings | None = None, opened: OpenAlerts | None = None
) -> int:
    """Planned lives within the next ``shortfall_days_ahead`` days whose plan needs more of a
    SKU than is available: one red alert per session x SKU, re-armed once stock covers it."""
    config = config or alert_settings()
    opened = opened or OpenAlerts(now=now)
    raised = 0
    horizon = now + timedelta(days=config.shortfall_days_ahead)
    for session in planned_sessions_between(now, horizon):
        plan = stock_plan_for(session)
        for line in plan.lines:
            key = f"session:{session.pk}:sku:{line.sku.pk}"
            if line.shortfall <= 0:
                opened.clear(subject_key=key, kind=AlertKind.SHORTFALL, level=AlertLevel.RED)
                continue
            alert = opened.fire(
                kind=AlertKind.SHORTFALL,
                level=AlertLevel.RED,
                subject_key=key,
                sku=line.sku,
                title=_("Short %(missing)d x %(sku)s for the live of %(creator)s on %(day)s")
                % {
                    "missing": line.shortfall,
                    "sku": line.sku.code,
                    "creator": session.creator,
                    "day": f"{session.starts_at:%Y-%m-%d %H:%M} UTC",
                },
                body=_(
                    "The stock plan of %(creator)s's live (%(start)s UTC) needs %(units)d x "
                    "%(sku)s; %(available)d are available and %(incoming)d incoming. "
                    "%(missing)d units are missing."
                )
                % {
                    "creator": session.creator,
                    "start": f"{session.starts_at:%Y-%m-%d %H:%M}",
                    "units": line.units,
                    "sku": line.sku.code,
                    "available": line.available,
                    "incoming": line.incoming,
                    "missing": line.shortfall,
                },
                data={"session_id": session.pk, "planned": line.units, "missing": line.shortfall},
                now=now,
            )
            raised += alert is not None
    return raised
