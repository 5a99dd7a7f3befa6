"""Alert pages: the owner configures destinations (Apprise URLs, validated and masked) and
thresholds; others may only look."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from aftershow.accounts.models import Role, User
from aftershow.alerts.models import (
    AlertDestination,
    AlertKind,
    AlertLevel,
    AlertSettings,
    InboxProtocol,
    LocalInboxMessage,
    SkuAlertThreshold,
)
from aftershow.alerts.receivers import WebhookInbox
from aftershow.alerts.services import alert_raise, destination_create
from aftershow.catalog.models import Sku
from aftershow.core.timeutils import utcnow

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(db: None) -> User:
    return User.objects.create_user("olivia", password="x", role=Role.OWNER)


@pytest.fixture
def packer(db: None) -> User:
    return User.objects.create_user("pat", password="x", role=Role.PACKER)


def test_owner_adds_a_destination_and_the_secret_is_never_shown(
    client: Client, owner: User
) -> None:
    client.force_login(owner)
    response = client.post(
        reverse("alerts:destinations"),
        {
            "name": "DingTalk ops",
            "url": "dingtalk://abcdef0123456789abcdef0123456789/",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    destination = AlertDestination.objects.get()
    assert destination.url == "dingtalk://abcdef0123456789abcdef0123456789/"
    page = client.get(reverse("alerts:destinations")).content.decode()
    assert "DingTalk ops" in page
    assert "abcdef0123456789abcdef0123456789" not in page


def test_unknown_url_is_refused_with_a_message(client: Client, owner: User) -> None:
    client.force_login(owner)
    response = client.post(
        reverse("alerts:destinations"), {"name": "Bad", "url": "gopher://x", "is_active": "on"}
    )
    assert response.status_code == 200
    assert "Apprise does not understand this URL." in response.content.decode()
    assert not AlertDestination.objects.exists()


def test_packer_may_look_but_not_configure(client: Client, packer: User) -> None:
    client.force_login(packer)
    assert client.get(reverse("alerts:destinations")).status_code == 200
    response = client.post(
        reverse("alerts:destinations"),
        {"name": "x", "url": "json://127.0.0.1:1/", "is_active": "on"},
    )
    assert response.status_code == 403
    assert not AlertDestination.objects.exists()
    response = client.post(reverse("alerts:thresholds"), {"yellow_below": "1"})
    assert response.status_code == 403


def test_send_a_test_message(client: Client, owner: User, webhook_inbox: WebhookInbox) -> None:
    destination = destination_create(name="Hook", url=webhook_inbox.json_url("/test"))
    client.force_login(owner)
    response = client.post(
        reverse("alerts:destination_test", kwargs={"pk": destination.pk}), follow=True
    )
    assert "Test message sent to Hook." in response.content.decode()
    (received,) = webhook_inbox.wait_for(1)
    assert received.subject == "aftershow test alert"


def test_defaults_and_per_sku_thresholds(client: Client, owner: User) -> None:
    from aftershow.inventory.tests.helpers import make_sku

    tee = make_sku("TEE-BLK-M")
    client.force_login(owner)
    bad = client.post(
        reverse("alerts:thresholds"),
        {
            "yellow_below": "100",
            "orange_below": "100",
            "red_below": "50",
            "velocity_units": "500",
            "velocity_window_minutes": "60",
            "stockout_horizon_hours": "6",
            "shortfall_days_ahead": "3",
        },
    )
    assert "Thresholds must be red &lt; orange &lt; yellow." in bad.content.decode()
    assert not AlertSettings.objects.filter(yellow_below=100).exists()

    good = client.post(
        reverse("alerts:thresholds"),
        {
            "yellow_below": "300",
            "orange_below": "150",
            "red_below": "60",
            "velocity_units": "400",
            "velocity_window_minutes": "30",
            "stockout_horizon_hours": "4",
            "shortfall_days_ahead": "3",
        },
    )
    assert good.status_code == 302
    stored = AlertSettings.objects.get(pk=1)
    assert (stored.yellow_below, stored.velocity_units, stored.velocity_window_minutes) == (
        300,
        400,
        30,
    )

    response = client.post(
        reverse("alerts:sku_threshold"),
        {"sku": "TEE-BLK-M", "yellow_below": "80", "orange_below": "40", "red_below": "10"},
    )
    assert response.status_code == 302
    assert SkuAlertThreshold.objects.get(sku=tee).red_below == 10
    unknown = client.post(
        reverse("alerts:sku_threshold"),
        {"sku": "NOPE", "yellow_below": "80", "orange_below": "40", "red_below": "10"},
    )
    assert unknown.status_code == 400
    assert "No SKU with this code." in unknown.content.decode()
    client.post(reverse("alerts:sku_threshold"), {"sku": "TEE-BLK-M", "clear": "1"})
    assert not SkuAlertThreshold.objects.exists()
    assert Sku.objects.count() == 1


def test_inbox_lists_alerts_with_delivery_status_and_the_local_inbox(
    client: Client, packer: User
) -> None:
    destination_create(
        name="Ops mail",
        url="mailto://127.0.0.1:9?from=alerts@example.com&to=a@example.com&mode=insecure",
    )
    alert_raise(
        kind=AlertKind.VELOCITY,
        level=AlertLevel.RED,
        subject_key="sku:1",
        title="Urgent restock: TEE-BLK-M sold 500 in 60 min",
        body="Start the replenishment now.",
    )
    LocalInboxMessage.objects.create(
        protocol=InboxProtocol.SMTP,
        received_at=utcnow(),
        recipients="ops@example.com",
        subject="Red stock alert: TEE-BLK-M has 45 left",
        body="45 units available",
    )
    client.force_login(packer)
    inbox = client.get(reverse("alerts:inbox")).content.decode()
    assert "Urgent restock: TEE-BLK-M sold 500 in 60 min" in inbox
    assert "Ops mail: Waiting" in inbox
    filtered = client.get(reverse("alerts:inbox") + "?kind=low_stock").content.decode()
    assert "Urgent restock" not in filtered
    local = client.get(reverse("alerts:local_inbox")).content.decode()
    assert "Red stock alert: TEE-BLK-M has 45 left" in local


def test_editing_without_a_url_keeps_the_stored_one(client: Client, owner: User) -> None:
    destination = destination_create(name="Ops", url="ntfy://ops-topic")
    client.force_login(owner)
    url = reverse("alerts:destination_edit", kwargs={"pk": destination.pk})
    assert client.post(url, {"name": "Ops night", "url": ""}).status_code == 302
    destination.refresh_from_db()
    assert (destination.name, destination.url, destination.is_active) == (
        "Ops night",
        "ntfy://ops-topic",
        False,
    )
    client.post(url, {"name": "Ops night", "url": "ntfy://night-topic", "is_active": "on"})
    destination.refresh_from_db()
    assert (destination.url, destination.is_active) == ("ntfy://night-topic", True)
    bad = client.post(url, {"name": "Ops night", "url": "nope://", "is_active": "on"})
    assert bad.status_code == 200
    destination.refresh_from_db()
    assert destination.url == "ntfy://night-topic"
