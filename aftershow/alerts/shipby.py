"""Ship-by deadline alerts (``integrations.tiktok.dispatch``) delivered through the alerts app.

The dispatch job writes one ``ShipByAlert`` row per order; this forwards each row, once, as an
alert to every destination. It runs from the periodic evaluation; the dispatch job may also call
:func:`ship_by_alerts_forward` right after ``ship_by_alerts_raise`` for immediate delivery.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from aftershow.alerts.models import Alert, AlertKind, AlertLevel
from aftershow.alerts.services import alert_raise
from aftershow.core.timeutils import utcnow
from aftershow.integrations.models import ShipByAlert

# Older rows were forwarded long ago (or predate the alerts app): not worth re-reading.
LOOK_BACK = timedelta(days=2)


def ship_by_alerts_forward(*, now: datetime | None = None) -> int:
    now = now or utcnow()
    rows = list(
        ShipByAlert.objects.filter(raised_at__gte=now - LOOK_BACK)
        .select_related("order")
        .order_by("ship_by", "order_id")
    )
    keys = {f"order:{row.order_id}" for row in rows}
    done = set(
        Alert.objects.filter(kind=AlertKind.SHIP_BY, subject_key__in=keys).values_list(
            "subject_key", flat=True
        )
    )
    raised = 0
    for row in rows:
        key = f"order:{row.order_id}"
        if key in done:
            continue
        order = row.order
        alert = alert_raise(
            kind=AlertKind.SHIP_BY,
            level=AlertLevel.ORANGE,
            subject_key=key,
            title=_("Order %(order)s must ship by %(deadline)s UTC")
            % {"order": order.remote_order_id, "deadline": f"{row.ship_by:%Y-%m-%d %H:%M}"},
            body=_(
                "Order %(order)s has no carrier scan yet and must be dispatched by %(deadline)s "
                "UTC, or it counts as late dispatch."
            )
            % {"order": order.remote_order_id, "deadline": f"{row.ship_by:%Y-%m-%d %H:%M}"},
            data={"order_id": order.pk, "ship_by": row.ship_by.isoformat()},
            now=now,
        )
        raised += alert is not None
    return raised
