"""Figures and tiers from a real database: hand-computed examples, the boundaries, the tier
history, versioned thresholds, the phase-out list and the return-rate warning."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from aftershow.commissions.models import LineStatus, Payer
from aftershow.creators.models import Creator
from aftershow.imports.models import ReturnRecord, ReturnSource
from aftershow.metrics import selectors
from aftershow.metrics.formulas import rounded
from aftershow.metrics.models import (
    CreatorStanding,
    MetricsRun,
    RecomputeTrigger,
    Tier,
    TierChange,
    TierChangeReason,
    TierPolicy,
)
from aftershow.metrics.selectors import Period, Scope, figures_by_creator, figures_for
from aftershow.metrics.services import (
    PolicyError,
    metrics_recompute,
    tier_policy_create,
    tier_policy_seed,
)
from aftershow.metrics.tests import builders
from aftershow.orders.models import PlatformStatus
from aftershow.orders.tests.factories import CreatorFactory, ShopFactory
from aftershow.shops.models import Shop

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def shop() -> Shop:
    return ShopFactory()


def build_ava(shop: Shop) -> Creator:
    """Hand-computed: 10 orders of $30.00 (one unit of a $8.00 SKU) in one live session with 100
    viewers; one returned; commission $4.50 per order, the returned order's voided; two samples
    of the SKU at $8.00 plus $5.00 shipping; a $50.00 flat fee.

    orders 10, returned 1, sales $300.00, kept $270.00, cost of goods 9 x 8 = $72.00,
    commission 9 x 4.50 = $40.50, invested 2 x 8 + 5 + 50 = $71.00,
    ROI = (270 - 72 - 40.50) / 71 = 157.50 / 71 = 2.2183 -> A; return rate 10 % -> warning;
    conversion 10 / 100 = 10 %; AOV $30.00.
    """
    ava = CreatorFactory(handle="ava")
    tee = builders.sku("8.00")
    stream = builders.session(ava, shop, starts_at=NOW - 10 * DAY, viewers=100)
    for number in range(10):
        made = builders.order(
            creator=ava,
            shop=shop,
            placed_at=NOW - 10 * DAY + timedelta(minutes=number),
            subtotal="30.00",
            of=tee,
            live_session=stream,
        )
        if number == 0:
            builders.returned(made, at=NOW - 5 * DAY)
            builders.commission(made, "4.50", status=LineStatus.VOID)
        else:
            builders.commission(made, "4.50")
    builders.sample(ava, of=tee, quantity=2, unit_cost="8.00", shipping="5.00", at=NOW - 20 * DAY)
    builders.flat_fee(ava, "50.00", starts_on=date(2026, 11, 1))
    return ava


def test_figures_match_the_hand_computed_example(shop: Shop) -> None:
    ava = build_ava(shop)
    figures = figures_by_creator(period=Period(end=NOW))[ava.pk]
    assert (figures.orders, figures.returned_orders, figures.units, figures.live_units) == (
        10,
        1,
        10,
        10,
    )
    assert figures.viewers == 100
    assert figures.sales == Decimal("300.00")
    assert figures.kept_sales == Decimal("270.00")
    assert figures.cost_of_goods == Decimal("72.00")
    assert figures.commission == Decimal("40.50")
    assert figures.invested == Decimal("71.00")
    assert figures.conversion == Decimal("0.1")
    assert figures.average_order_value == Decimal("30.00")
    assert figures.return_rate == Decimal("0.1")
    assert rounded(figures.roi) == Decimal("2.2183")


def test_recompute_gives_tiers_warnings_and_records_the_first_rating(shop: Shop) -> None:
    ava = build_ava(shop)
    run = metrics_recompute(trigger=RecomputeTrigger.CLI, at=NOW)
    standing = CreatorStanding.objects.get(creator=ava)
    assert standing.tier == Tier.A
    assert standing.roi == Decimal("2.2183")
    assert standing.return_rate == Decimal("0.1000")
    assert standing.return_warning is True
    assert standing.phase_out is False
    assert standing.policy.version == 1
    change = TierChange.objects.get(creator=ava)
    assert (change.from_tier, change.to_tier, change.reason) == ("", Tier.A, "first_rating")
    assert change.detail == "ROI 2.2183 from 2.00 to 5.00 (thresholds v1)"
    assert change.at == NOW
    assert (run.creators, run.tier_changes) == (1, 1)


def test_a_second_recompute_changes_nothing(shop: Shop) -> None:
    build_ava(shop)
    metrics_recompute(trigger=RecomputeTrigger.CLI, at=NOW)
    before = list(CreatorStanding.objects.values_list("tier", "roi", "tier_since"))
    run = metrics_recompute(trigger=RecomputeTrigger.SCHEDULE, at=NOW + DAY)
    assert run.tier_changes == 0
    assert TierChange.objects.count() == 1
    assert list(CreatorStanding.objects.values_list("tier", "roi", "tier_since")) == before


def test_roi_exactly_two_and_exactly_five_are_both_a(shop: Shop) -> None:
    free = builders.sku("0.00")
    expected = {}
    for handle, subtotal, tier in (
        ("five", "500.00", Tier.A),
        ("over_five", "500.01", Tier.S),
        ("two", "200.00", Tier.A),
        ("under_two", "199.99", Tier.B),
    ):
        creator = CreatorFactory(handle=handle)
        builders.order(creator=creator, shop=shop, placed_at=NOW - DAY, subtotal=subtotal, of=free)
        # Invested $100.00: one $90.00 sample with $10.00 shipping.
        builders.sample(
            creator, of=free, quantity=1, unit_cost="90.00", shipping="10.00", at=NOW - 2 * DAY
        )
        expected[handle] = tier
    metrics_recompute(trigger=RecomputeTrigger.CLI, at=NOW)
    tiers = dict(CreatorStanding.objects.values_list("creator__handle", "tier"))
    assert tiers == expected
    rois = dict(CreatorStanding.objects.values_list("creator__handle", "roi"))
    assert rois == {
        "five": Decimal("5.0000"),
        "over_five": Decimal("5.0001"),
        "two": Decimal("2.0000"),
        "under_two": Decimal("1.9999"),
    }


def test_a_creator_with_nothing_invested_is_not_rated(shop: Shop) -> None:
    creator = CreatorFactory(handle="open_plan")
    builders.order(creator=creator, shop=shop, placed_at=NOW - DAY, subtotal="40.00")
    quiet = CreatorFactory(handle="quiet")
    metrics_recompute(trigger=RecomputeTrigger.CLI, at=NOW)
    standings = {s.creator_id: s for s in CreatorStanding.objects.all()}
    assert standings[creator.pk].tier == Tier.NONE
    assert standings[creator.pk].roi is None
    assert standings[quiet.pk].orders == 0
    assert standings[quiet.pk].average_order_value is None
    assert standings[quiet.pk].conversion is None
    assert TierChange.objects.count() == 0


def test_phase_out_list_is_below_one_and_a_half(shop: Shop) -> None:
    free = builders.sku("0.00")
    for handle, subtotal in (("at_limit", "150.00"), ("below", "149.99"), ("good", "400.00")):
        creator = CreatorFactory(handle=handle)
        builders.order(creator=creator, shop=shop, placed_at=NOW - DAY, subtotal=subtotal, of=free)
        builders.sample(
            creator, of=free, quantity=1, unit_cost="100.00", shipping="0.00", at=NOW - DAY
        )
    metrics_recompute(trigger=RecomputeTrigger.CLI, at=NOW)
    assert [s.creator.handle for s in selectors.phase_out_list()] == ["below"]
    assert {s.creator.handle: s.tier for s in selectors.standings()} == {
        "good": Tier.A,
        "at_limit": Tier.B,
        "below": Tier.B,
    }


def test_return_rate_warning_above_eight_percent(shop: Shop) -> None:
    cheap = builders.sku("1.00")
    for handle, returns in (("eight", 2), ("nine", 3)):
        # 25 orders: 2 returned = 8 % (no warning), 3 returned = 12 % (warning).
        creator = CreatorFactory(handle=handle)
        for number in range(25):
            made = builders.order(
                creator=creator,
                shop=shop,
                placed_at=NOW - DAY + timedelta(minutes=number),
                subtotal="20.00",
                of=cheap,
            )
            if number < returns:
                builders.returned(made, at=NOW)
    metrics_recompute(trigger=RecomputeTrigger.CLI, at=NOW)
    assert [s.creator.handle for s in selectors.return_warnings()] == ["nine"]
    rates = dict(CreatorStanding.objects.values_list("creator__handle", "return_rate"))
    assert rates == {"eight": Decimal("0.0800"), "nine": Decimal("0.1200")}


def test_two_hundred_orders_thirty_returned(shop: Shop) -> None:
    creator = CreatorFactory(handle="busy")
    tee = builders.sku("5.00")
    for number in range(200):
        made = builders.order(
            creator=creator,
            shop=shop,
            placed_at=NOW - DAY + timedelta(seconds=number),
            subtotal="25.00",
            of=tee,
        )
        if number < 30:
            builders.returned(made, at=NOW)
    figures = figures_for(Scope(period=Period(end=NOW), creator_id=creator.pk))
    assert (figures.orders, figures.returned_orders) == (200, 30)
    assert figures.kept_sales == Decimal("4250.00")  # 170 x 25
    assert figures.cost_of_goods == Decimal("850.00")  # 170 x 5
    assert figures.return_rate == Decimal("0.15")


def test_only_sold_orders_in_the_report_currency_count(shop: Shop) -> None:
    creator = CreatorFactory(handle="mixed")
    builders.order(creator=creator, shop=shop, placed_at=NOW - DAY, subtotal="10.00")
    builders.order(
        creator=creator,
        shop=shop,
        placed_at=NOW - DAY,
        subtotal="99.00",
        status=PlatformStatus.CANCELLED,
    )
    builders.order(
        creator=creator,
        shop=shop,
        placed_at=NOW - DAY,
        subtotal="98.00",
        status=PlatformStatus.UNPAID,
    )
    builders.order(
        creator=creator, shop=shop, placed_at=NOW - DAY, subtotal="97.00", currency="GBP"
    )
    builders.order(creator=creator, shop=shop, placed_at=NOW + DAY, subtotal="96.00")
    builders.order(creator=None, shop=shop, placed_at=NOW - DAY, subtotal="95.00")
    figures = figures_for(Scope(period=Period(end=NOW), creator_id=creator.pk))
    assert (figures.orders, figures.sales) == (1, Decimal("10.00"))


def test_an_imported_return_counts_unless_withdrawn(shop: Shop) -> None:
    creator = CreatorFactory(handle="imported")
    first = builders.order(creator=creator, shop=shop, placed_at=NOW - DAY, subtotal="10.00")
    second = builders.order(creator=creator, shop=shop, placed_at=NOW - DAY, subtotal="10.00")
    for made, sub_status in ((first, "Refunded"), (second, "Request cancelled")):
        ReturnRecord.objects.create(
            shop=shop,
            return_key=f"ret-{made.pk}",
            source=ReturnSource.RETURNS_EXPORT,
            remote_order_id=made.remote_order_id,
            return_sub_status=sub_status,
            quantity=1,
            refund_amount=Decimal("10.00"),
        )
    # A return of an order aftershow does not know must not turn "not returned" into unknown.
    ReturnRecord.objects.create(
        shop=shop,
        return_key="ret-orphan",
        source=ReturnSource.RETURNS_EXPORT,
        remote_order_id="999999",
        quantity=1,
    )
    figures = figures_for(Scope(period=Period(end=NOW), creator_id=creator.pk))
    assert (figures.orders, figures.returned_orders) == (2, 1)
    assert (figures.sales, figures.kept_sales) == (Decimal("20.00"), Decimal("10.00"))


def test_commission_counts_both_payers_and_leaves_flat_fees_to_invested(shop: Shop) -> None:
    creator = CreatorFactory(handle="payers")
    made = builders.order(creator=creator, shop=shop, placed_at=NOW - DAY, subtotal="100.00")
    builders.commission(made, "15.00", payer=Payer.PLATFORM)
    builders.commission(made, "5.00", payer=Payer.SELLER)
    builders.fee_line(creator, "30.00", at=NOW - DAY)
    scope = Scope(period=Period(end=NOW), creator_id=creator.pk)
    figures = figures_for(scope)
    assert figures.commission == Decimal("20.00")
    assert figures.invested == Decimal("30.00")
    assert selectors.commission_split(scope) == {
        "platform": Decimal("15.00"),
        "seller": Decimal("5.00"),
    }


def test_period_and_session_scopes(shop: Shop) -> None:
    creator = CreatorFactory(handle="periods")
    tee = builders.sku("2.00")
    october = builders.session(
        creator, shop, starts_at=datetime(2026, 10, 5, tzinfo=UTC), viewers=50
    )
    november = builders.session(
        creator, shop, starts_at=datetime(2026, 11, 5, tzinfo=UTC), viewers=200
    )
    for stream, count in ((october, 2), (november, 8)):
        for number in range(count):
            builders.order(
                creator=creator,
                shop=shop,
                placed_at=stream.starts_at + timedelta(minutes=number),
                subtotal="10.00",
                of=tee,
                live_session=stream,
            )
    builders.sample(
        creator,
        of=tee,
        quantity=1,
        unit_cost="2.00",
        shipping="3.00",
        at=datetime(2026, 11, 4, tzinfo=UTC),
        live_session=november,
    )
    builders.flat_fee(creator, "20.00", starts_on=date(2026, 10, 1))
    november_period = Period(
        start=datetime(2026, 11, 1, tzinfo=UTC), end=datetime(2026, 12, 1, tzinfo=UTC)
    )
    in_november = figures_for(Scope(period=november_period, creator_id=creator.pk))
    assert (in_november.orders, in_november.viewers, in_november.invested) == (
        8,
        200,
        Decimal("5.00"),
    )
    assert in_november.conversion == Decimal("0.04")
    whole = figures_for(Scope(period=Period(end=NOW), creator_id=creator.pk))
    assert (whole.orders, whole.viewers, whole.invested) == (10, 250, Decimal("25.00"))
    session = figures_for(Scope(session_id=october.pk))
    assert (session.orders, session.viewers, session.invested) == (2, 50, Decimal("0.00"))
    assert session.conversion == Decimal("0.04")


def test_new_thresholds_are_a_new_version_and_move_tiers_with_the_reason(shop: Shop) -> None:
    ava = build_ava(shop)  # ROI 2.2183
    metrics_recompute(trigger=RecomputeTrigger.CLI, at=NOW)
    policy = tier_policy_create(
        s_above="6",
        a_from="2.5",
        phase_out_below="1.5",
        return_warning_percent="8",
        platform_fee_percent="6",
        window_days=None,
        effective_from=NOW + DAY,
        reason="Stricter A after Q4 review",
        by=None,
    )
    assert policy.version == 2
    assert TierPolicy.objects.count() == 2
    # Not in force yet: a recompute today keeps version 1 and tier A.
    metrics_recompute(trigger=RecomputeTrigger.CLI, at=NOW + timedelta(hours=1))
    assert CreatorStanding.objects.get(creator=ava).tier == Tier.A
    metrics_recompute(trigger=RecomputeTrigger.CLI, at=NOW + 2 * DAY)
    standing = CreatorStanding.objects.get(creator=ava)
    assert (standing.tier, standing.policy.version, standing.tier_since) == (
        Tier.B,
        2,
        NOW + 2 * DAY,
    )
    change = TierChange.objects.filter(creator=ava).latest("at")
    assert (change.from_tier, change.to_tier, change.reason) == (
        Tier.A,
        Tier.B,
        TierChangeReason.POLICY_CHANGED,
    )
    assert change.detail == "ROI 2.2183 below 2.50 (thresholds v2)"
    # The old version is still there, unchanged.
    seed = TierPolicy.objects.get(version=1)
    assert (seed.s_above, seed.a_from) == (Decimal("5.00"), Decimal("2.00"))


def test_a_roi_move_is_recorded_as_such(shop: Shop) -> None:
    ava = build_ava(shop)
    metrics_recompute(trigger=RecomputeTrigger.CLI, at=NOW)
    # Nine more kept orders: ROI (270 + 270 - 72 - 72 - 40.50) / 71 = 355.50 / 71 = 5.007 -> S.
    tee = builders.sku("8.00")
    for number in range(9):
        builders.order(
            creator=ava,
            shop=shop,
            placed_at=NOW + timedelta(minutes=number),
            subtotal="30.00",
            of=tee,
        )
    metrics_recompute(trigger=RecomputeTrigger.CLI, at=NOW + DAY)
    change = TierChange.objects.filter(creator=ava).latest("at")
    assert (change.from_tier, change.to_tier, change.reason) == (
        Tier.A,
        Tier.S,
        TierChangeReason.ROI_CHANGED,
    )
    assert change.roi == Decimal("5.0070")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"s_above": "2", "a_from": "2"}, "The S threshold must be above the A threshold."),
        ({"a_from": "-1"}, "ROI thresholds cannot be negative."),
        ({"return_warning_percent": "101"}, "The return-rate warning must be between 0 and 100 %."),
        ({"s_above": "five"}, "The S threshold is not a number."),
        ({"s_above": "NaN"}, "The S threshold is not a number."),
        ({"reason": "  "}, "Say why the thresholds change."),
        ({"window_days": 0}, "The window must be at least one day, or empty for all history."),
    ],
)
def test_bad_thresholds_are_refused_and_nothing_is_saved(
    overrides: dict[str, object], message: str
) -> None:
    values: dict[str, object] = {
        "s_above": "5",
        "a_from": "2",
        "phase_out_below": "1.5",
        "return_warning_percent": "8",
        "platform_fee_percent": "6",
        "window_days": None,
        "effective_from": NOW,
        "reason": "test",
        "by": None,
        **overrides,
    }
    tier_policy_seed()
    with pytest.raises(PolicyError) as error:
        tier_policy_create(**values)  # type: ignore[arg-type]
    assert str(error.value) == message
    assert list(TierPolicy.objects.values_list("version", flat=True)) == [1]


def test_window_days_limits_what_the_tiers_see(shop: Shop) -> None:
    ava = build_ava(shop)  # everything 10 to 20 days before NOW
    tier_policy_create(
        s_above="5",
        a_from="2",
        phase_out_below="1.5",
        return_warning_percent="8",
        platform_fee_percent="6",
        window_days=7,
        effective_from=NOW - DAY,
        reason="last week only",
        by=None,
    )
    metrics_recompute(trigger=RecomputeTrigger.CLI, at=NOW)
    standing = CreatorStanding.objects.get(creator=ava)
    assert (standing.orders, standing.tier, standing.window_start) == (0, Tier.NONE, NOW - 7 * DAY)


def test_share_of_sales_from_s_creators(shop: Shop) -> None:
    free = builders.sku("0.00")
    for handle, subtotal in (
        ("star", "700.00"),
        ("solid", "200.00"),
        ("weak", "100.00"),
        ("lazy", "0.01"),
    ):
        creator = CreatorFactory(handle=handle)
        builders.order(creator=creator, shop=shop, placed_at=NOW - DAY, subtotal=subtotal, of=free)
        builders.sample(
            creator, of=free, quantity=1, unit_cost="50.00", shipping="0.00", at=NOW - DAY
        )
    metrics_recompute(trigger=RecomputeTrigger.CLI, at=NOW)
    shares = {share.tier: share for share in selectors.tier_shares()}
    # star ROI 14 (S), solid 4 (A), weak 2 (A), lazy 0.0002 (B); sales 1,000.01.
    assert shares["S"].creators == 1
    assert shares["S"].sales == Decimal("700.00")
    assert shares["S"].creators_share == Decimal("0.25")
    assert round(shares["S"].sales_share, 4) == Decimal("0.7000")
    assert shares["A"].creators == 2
    assert MetricsRun.objects.count() == 1
