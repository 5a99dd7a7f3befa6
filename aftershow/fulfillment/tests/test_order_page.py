"""The order page shows its parcel's carrier, service and selection reason, and the order's
risk flags with their reasons."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from aftershow.fulfillment.models import Package
from aftershow.fulfillment.shipping import packages_ship
from aftershow.fulfillment.tests.test_shipping import person, ready, tee  # noqa: F401
from aftershow.orders.models import Order
from aftershow.orders.tests.factories import PASSWORD
from aftershow.risk.models import RiskFlag, RiskRule, RuleKind
from aftershow.risk.tests.conftest import ensure_default_rules

pytestmark = pytest.mark.django_db


def test_order_page_shows_carrier_reason_shipping_and_risk_flags(
    ready: Callable[..., Package],  # noqa: F811
) -> None:
    package = ready()
    Package.objects.filter(pk=package.pk).update(
        selection_reason="Rule 1 “Light parcels” matched: billable weight 7 oz ≤ 16 oz.",
        selection_source="rule",
    )
    order = Order.objects.get(lines__package=package)
    ensure_default_rules()  # seeded by a migration, gone after a transactional test's flush
    rule = RiskRule.objects.get(kind=RuleKind.REMOTE_DESTINATION)
    RiskFlag.objects.create(
        order=order, rule=rule, kind=RuleKind.REMOTE_DESTINATION, reason="Ships to AK"
    )
    client = Client()
    assert client.login(username=person(packer=True).username, password=PASSWORD)

    html = client.get(f"/orders/{order.pk}/").content.decode()

    assert f'Carrier: USPS Ground Advantage · <span class="mono">{package.tracking_number}' in html
    assert "Rule 1 “Light parcels” matched: billable weight 7 oz ≤ 16 oz." in html
    assert '<li data-kind="remote_destination" data-status="open">' in html
    assert "<strong>Remote destination</strong>: Ships to AK" in html
    assert "Shipped " not in html

    packages_ship(packages=[package], actor=None, via="test")
    html = client.get(f"/orders/{order.pk}/").content.decode()
    assert "Shipped 20" in html
