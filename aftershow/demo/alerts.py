"""The demo's alerts: a local inbox (a loopback SMTP server and a webhook receiver), set up as
two Apprise destinations, and thresholds that the simulated stream will cross.

The demo's stock is sized so the stream never runs out, so the global defaults (< 200, < 100,
< 50) would never fire in a short demo. Each demo SKU instead gets its own thresholds a quarter,
a half and three quarters of its expected sales below its stock at the start, and the velocity
alert fires at half the expected sales of the best seller: every level is crossed once during
the stream, which is what the demo is meant to show.
"""

from __future__ import annotations

import atexit
from dataclasses import dataclass

from django.db.models import Count

from aftershow.alerts.models import AlertDestination, LocalInboxMessage
from aftershow.alerts.receivers import SmtpInbox, WebhookInbox
from aftershow.alerts.services import (
    alert_settings_update,
    destination_create,
    destination_update,
    sku_threshold_set,
)
from aftershow.catalog.models import Sku
from aftershow.inventory.planning import stock_by_sku

EMAIL_NAME = "Demo inbox (e-mail)"
WEBHOOK_NAME = "Demo inbox (webhook)"
# Below this many expected sales a SKU has no demo thresholds (its levels would be 0 apart).
MIN_EXPECTED_SALES = 8


@dataclass
class DemoInbox:
    smtp: SmtpInbox
    webhook: WebhookInbox

    def stop(self) -> None:
        self.smtp.stop()
        self.webhook.stop()


def _destination(name: str, url: str) -> None:
    existing = AlertDestination.objects.filter(name=name).first()
    if existing is None:
        destination_create(name=name, url=url)
    else:
        destination_update(destination=existing, name=name, url=url, is_active=True)


def demo_alerts_start(*, orders: int, mix: dict[str, int]) -> DemoInbox:
    """Start the local inbox, point two destinations at it, and set the demo thresholds.

    ``mix`` is each demo SKU's share of the stream (weights), as the demo catalogue returns it.
    """
    LocalInboxMessage.objects.all().delete()  # this run's inbox only
    inbox = DemoInbox(smtp=SmtpInbox(store=True).start(), webhook=WebhookInbox(store=True).start())
    atexit.register(inbox.stop)
    _destination(EMAIL_NAME, inbox.smtp.apprise_url(to="ops@demo.aftershow.test"))
    _destination(WEBHOOK_NAME, inbox.webhook.json_url("/demo-alerts"))
    weight = sum(mix.values()) or 1
    skus = {sku.code: sku for sku in Sku.objects.filter(code__in=list(mix))}
    stock = stock_by_sku(sku.pk for sku in skus.values())
    best_seller = 0
    for code, share in mix.items():
        sku = skus.get(code)
        expected = orders * share // weight
        best_seller = max(best_seller, expected)
        available = stock.get(sku.pk, (0, 0))[0] if sku else 0
        if sku is None or expected < MIN_EXPECTED_SALES or available <= expected:
            continue
        sku_threshold_set(
            sku=sku,
            yellow=available - expected // 4,
            orange=available - expected // 2,
            red=available - expected * 3 // 4,
        )
    alert_settings_update(velocity_units=max(MIN_EXPECTED_SALES, best_seller // 2))
    return inbox


def demo_alerts_summary() -> str:
    """What the local inbox received, for the demo's printed summary."""
    received = LocalInboxMessage.objects.all()
    counts = dict(received.values_list("protocol").annotate(n=Count("id")).order_by())
    lines = [
        "\nAlerts in the local inbox (see /alerts/local-inbox/)\n",
        f"  e-mails received (SMTP)    {counts.get('smtp', 0)}\n",
        f"  webhook posts received     {counts.get('http', 0)}\n",
    ]
    for message in received.filter(protocol="smtp").order_by("received_at", "pk")[:12]:
        lines.append(f"    {message.subject}\n")
    return "".join(lines)
