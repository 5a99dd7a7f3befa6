"""The demo's local inbox: alerts delivered over SMTP and HTTP on loopback land in the Inbox
page's table and in the printed summary; the demo thresholds are crossed by expected sales."""

from __future__ import annotations

import pytest

from aftershow.alerts.evaluation import stock_alerts_evaluate
from aftershow.alerts.models import Alert, AlertDestination, LocalInboxMessage, SkuAlertThreshold
from aftershow.alerts.services import alert_deliver
from aftershow.demo.alerts import demo_alerts_start, demo_alerts_summary
from aftershow.inventory.models import AdjustmentReason, Warehouse
from aftershow.inventory.services import stock_adjust, stock_receive
from aftershow.inventory.tests.helpers import make_sku


@pytest.mark.django_db(transaction=True)
def test_demo_inbox_receives_the_alerts() -> None:
    warehouse = Warehouse.objects.create(code="LAX", name="Demo", is_default=True)
    tee, lamp = make_sku("TEE-BLK-M"), make_sku("LAMP-MINI")
    stock_receive(sku=tee, warehouse=warehouse, quantity=1_000)
    stock_receive(sku=lamp, warehouse=warehouse, quantity=1_000)

    inbox = demo_alerts_start(orders=400, mix={"TEE-BLK-M": 60, "LAMP-MINI": 1})
    try:
        # 400 x 60/61 = 393 expected sales of the tee: levels a quarter, half, three quarters in.
        threshold = SkuAlertThreshold.objects.get(sku=tee)
        assert (threshold.yellow_below, threshold.orange_below, threshold.red_below) == (
            1_000 - 98,
            1_000 - 196,
            1_000 - 294,
        )
        assert not SkuAlertThreshold.objects.filter(sku=lamp).exists()  # 6 expected: too few
        assert AlertDestination.objects.filter(is_active=True).count() == 2

        stock_adjust(sku=tee, warehouse=warehouse, quantity=-300, reason=AdjustmentReason.SAMPLE)
        assert stock_alerts_evaluate() == 3
        for alert in Alert.objects.order_by("pk"):
            report = alert_deliver(alert=alert)
            assert report.sent == 2
        inbox.smtp.wait_for(3)
        inbox.webhook.wait_for(3)
    finally:
        inbox.stop()

    assert LocalInboxMessage.objects.filter(protocol="smtp").count() == 3
    assert LocalInboxMessage.objects.filter(protocol="http").count() == 3
    summary = demo_alerts_summary()
    assert "e-mails received (SMTP)    3" in summary
    assert "webhook posts received     3" in summary
    assert "Red stock alert: TEE-BLK-M has 700 left" in summary
