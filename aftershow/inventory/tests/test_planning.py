"""Stock plans (R-I1) and replenishment (R-I5): the seed's numbers, the rules of thumb, the
pages and the CLI."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from aftershow.accounts.models import Role, User
from aftershow.catalog.models import Sku
from aftershow.core.timeutils import utcnow
from aftershow.creators.models import Creator, LiveSession, LiveSessionStatus
from aftershow.inventory.models import LiveStockPlan, ReorderPolicy, Warehouse
from aftershow.inventory.planning import (
    MID_TIER,
    TOP_TIER,
    plan_units,
    reorder_point,
    replenishment_suggestions,
    rule_of_thumb,
    split_by_share,
    stock_plan_for,
    stock_plan_save,
)
from aftershow.inventory.services import stock_expect, stock_receive
from aftershow.inventory.tests.helpers import incoming_order, make_sku
from aftershow.orders.models import ChangeSource
from aftershow.orders.services import orders_upsert
from aftershow.shops.models import Shop

pytestmark = pytest.mark.django_db


def test_the_seeds_example_500k_followers_gives_4800_units() -> None:
    units = plan_units(
        followers=500_000,
        view_rate=Decimal("0.10"),
        conversion_rate=Decimal("0.08"),
        safety_factor=Decimal("1.2"),
    )
    assert units == 4_800


def test_plan_rounds_up_to_a_whole_unit() -> None:
    units = plan_units(
        followers=12_345,
        view_rate=Decimal("0.10"),
        conversion_rate=Decimal("0.08"),
        safety_factor=Decimal("1.2"),
    )
    assert units == 119  # 118.512 units: never plan a fraction short


def test_rules_of_thumb_by_creator_size() -> None:
    assert rule_of_thumb(1_000_000) == TOP_TIER
    assert (TOP_TIER.low, TOP_TIER.high) == (1_000, 2_000)
    assert rule_of_thumb(100_000) == MID_TIER
    assert rule_of_thumb(500_000) == MID_TIER
    assert (MID_TIER.low, MID_TIER.high) == (300, 500)
    assert rule_of_thumb(99_999) is None
    assert rule_of_thumb(750_000) is None  # the seed gives no rule between the tiers


def test_split_by_share_adds_up_exactly() -> None:
    assert split_by_share(4_800, [3, 2, 1]) == [2_400, 1_600, 800]
    assert split_by_share(10, [1, 1, 1]) == [4, 3, 3]
    assert sum(split_by_share(2_401, [7, 5, 3, 1])) == 2_401
    assert split_by_share(5, []) == []


@pytest.fixture
def session(db: None) -> LiveSession:
    shop = Shop.objects.create(name="Glow Lab US", channel="tiktok", remote_shop_id="7001")
    creator = Creator.objects.create(handle="glowwithmia", followers=500_000)
    return LiveSession.objects.create(
        creator=creator,
        shop=shop,
        status=LiveSessionStatus.PLANNED,
        starts_at=utcnow() + timedelta(days=2),
    )


def test_plan_of_a_session_staged_first_batch_and_shortfall_per_sku(
    session: LiveSession,
) -> None:
    warehouse = Warehouse.objects.create(code="MAIN", name="Main", is_default=True)
    tee, serum = make_sku("TEE-BLK-M"), make_sku("SERUM-30")
    stock_receive(sku=tee, warehouse=warehouse, quantity=3_000)
    stock_expect(sku=serum, warehouse=warehouse, quantity=500)

    unsaved = stock_plan_for(session)
    assert (unsaved.saved, unsaved.total_units, unsaved.first_batch) == (False, 4_800, 2_400)
    assert unsaved.rule_of_thumb == MID_TIER

    stock_plan_save(
        session=session,
        followers=500_000,
        view_rate=Decimal("0.10"),
        conversion_rate=Decimal("0.08"),
        safety_factor=Decimal("1.2"),
        first_batch_share=Decimal("0.5"),
        lines=[(tee, 3), (serum, 1)],
    )
    plan = stock_plan_for(session)

    assert plan.saved
    assert plan.expected_viewers == 50_000
    rows = {line.sku.code: line for line in plan.lines}
    assert (rows["TEE-BLK-M"].units, rows["TEE-BLK-M"].first_batch) == (3_600, 1_800)
    assert (rows["SERUM-30"].units, rows["SERUM-30"].first_batch) == (1_200, 600)
    assert (rows["TEE-BLK-M"].available, rows["TEE-BLK-M"].shortfall) == (3_000, 600)
    assert rows["TEE-BLK-M"].first_batch_shortfall == 0
    assert (rows["SERUM-30"].available, rows["SERUM-30"].incoming) == (0, 500)
    assert rows["SERUM-30"].shortfall == 1_200
    assert plan.shortfall == 1_800


def test_reorder_point_and_suggested_quantity(db: None) -> None:
    assert reorder_point(daily_demand=Decimal("20"), lead_time_days=5, safety_stock=20) == 120
    assert reorder_point(daily_demand=Decimal("0.5"), lead_time_days=3, safety_stock=0) == 2

    warehouse = Warehouse.objects.create(code="MAIN", name="Main", is_default=True)
    shop = Shop.objects.create(name="Glow Lab US", channel="tiktok", remote_shop_id="7001")
    tee, slow = make_sku("TEE-BLK-M"), make_sku("LAMP-MINI")
    ReorderPolicy.objects.create(sku=tee, lead_time_days=5, safety_stock=20, cover_days=10)
    stock_receive(sku=tee, warehouse=warehouse, quantity=350)
    stock_receive(sku=slow, warehouse=warehouse, quantity=100)
    stock_expect(sku=tee, warehouse=warehouse, quantity=30)
    orders_upsert(
        shop=shop,
        incoming=[incoming_order(f"r{n}", [("TEE-BLK-M", 40)]) for n in range(7)],
        source=ChangeSource.WEBHOOK,
    )

    rows = {row.sku.code: row for row in replenishment_suggestions()}

    tee_row = rows["TEE-BLK-M"]
    assert tee_row.daily_demand == Decimal("20.00")  # 280 over 14 days
    assert (tee_row.available, tee_row.incoming, tee_row.reorder_point) == (70, 30, 120)
    assert tee_row.needs_reorder
    assert tee_row.suggested_quantity == 120 + 200 - 100
    slow_row = rows["LAMP-MINI"]
    assert (slow_row.reorder_point, slow_row.needs_reorder, slow_row.suggested_quantity) == (
        0,
        False,
        0,
    )
    assert [row.sku.code for row in replenishment_suggestions(only_needed=True)] == ["TEE-BLK-M"]


@pytest.fixture
def operator(db: None) -> User:
    return User.objects.create_user("olga", password="x", role=Role.OPERATOR)


def test_plan_page_shows_and_saves_the_plan(
    client: Client, operator: User, session: LiveSession
) -> None:
    Warehouse.objects.create(code="MAIN", name="Main", is_default=True)
    make_sku("TEE-BLK-M")
    client.force_login(operator)
    url = reverse("planning:session", kwargs={"session_pk": session.pk})

    page = client.get(url)
    assert page.status_code == 200
    assert '<strong class="plan-total">4,800</strong>' in page.content.decode()

    saved = client.post(
        url,
        {
            "followers": "1200000",
            "view_rate": "0.05",
            "conversion_rate": "0.02",
            "safety_factor": "1.2",
            "first_batch_share": "0.5",
            "skus": "TEE-BLK-M 1",
        },
    )
    assert saved.status_code == 302
    plan = stock_plan_for(session)
    assert (plan.total_units, plan.first_batch, plan.rule_of_thumb) == (1_440, 720, TOP_TIER)
    page = client.get(url).content.decode()
    assert "Rule of thumb for a Top creator (1M+ followers): 1,000 to 2,000 units." in page
    assert 'data-sku="TEE-BLK-M"' in page


def test_plan_page_refuses_bad_input_and_changes_nothing(
    client: Client, operator: User, session: LiveSession
) -> None:
    client.force_login(operator)
    url = reverse("planning:session", kwargs={"session_pk": session.pk})
    response = client.post(
        url,
        {
            "followers": "1000",
            "view_rate": "1.5",
            "conversion_rate": "0.08",
            "safety_factor": "0.9",
            "first_batch_share": "0.5",
            "skus": "NOPE-1 2\nTEE 0",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Unknown SKU (or a bundle): NOPE-1" in body
    assert "Line 2: write the SKU and a whole share of at least 1." in body
    assert not LiveStockPlan.objects.exists()


def test_packer_may_look_but_not_change_a_plan(client: Client, session: LiveSession) -> None:
    packer = User.objects.create_user("pat", password="x", role=Role.PACKER)
    client.force_login(packer)
    url = reverse("planning:session", kwargs={"session_pk": session.pk})
    assert client.get(url).status_code == 200
    response = client.post(url, {"followers": "1"})
    assert response.status_code == 403
    assert not LiveStockPlan.objects.exists()


def test_planning_and_replenishment_lists_render(
    client: Client, operator: User, session: LiveSession
) -> None:
    client.force_login(operator)
    sessions = client.get(reverse("planning:sessions")).content.decode()
    assert f'data-session="{session.pk}"' in sessions
    assert "4,800" in sessions
    response = client.get(reverse("planning:replenishment") + "?all=1")
    assert response.status_code == 200


def test_cli_sets_and_prints_the_plan(session: LiveSession) -> None:
    make_sku("TEE-BLK-M")
    out = StringIO()
    call_command(
        "stock_plan",
        str(session.pk),
        "--view-rate",
        "0.10",
        "--conversion",
        "0.08",
        "--sku",
        "TEE-BLK-M:2",
        stdout=out,
    )
    text = out.getvalue()
    assert "500,000 x 0.1000 x 0.0800 x 1.20 = 4,800 units" in text
    assert "first batch (0.50): 2,400 units" in text
    assert "TEE-BLK-M" in text
    with pytest.raises(CommandError, match="fraction"):
        call_command("stock_plan", str(session.pk), "--view-rate", "2")
    assert LiveStockPlan.objects.get().view_rate == Decimal("0.1000")


def test_cli_replenishment(db: None) -> None:
    out = StringIO()
    call_command("replenishment", stdout=out)
    assert out.getvalue().strip() == "No SKU at or below its reorder point."


def test_skus_of_a_plan_must_exist(session: LiveSession) -> None:
    with pytest.raises(CommandError, match="unknown SKU"):
        call_command("stock_plan", str(session.pk), "--sku", "GHOST")
    assert not LiveStockPlan.objects.exists()
    assert Sku.objects.count() == 0
