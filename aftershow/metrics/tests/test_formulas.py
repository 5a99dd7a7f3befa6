"""The seed's formulas and the tier rule, against hand-computed examples (no database)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from aftershow.metrics.formulas import (
    Figures,
    average_order_value,
    conversion,
    is_phase_out,
    is_return_warning,
    percent,
    return_rate,
    roi,
    rounded,
    tier_for,
)
from aftershow.metrics.models import (
    SEED_A_FROM,
    SEED_PHASE_OUT_BELOW,
    SEED_RETURN_WARNING_PERCENT,
    SEED_S_ABOVE,
    Tier,
)


@dataclass
class Seed:
    s_above: Decimal = SEED_S_ABOVE
    a_from: Decimal = SEED_A_FROM
    phase_out_below: Decimal = SEED_PHASE_OUT_BELOW
    return_warning_percent: Decimal = SEED_RETURN_WARNING_PERCENT


SEED = Seed()


def test_the_seed_thresholds() -> None:
    # 达人分级: S ROI>5, A ROI 2-5, B ROI<2; FAQ: 淘汰ROI<1.5; 退货率高于8%就要警惕.
    assert (SEED.s_above, SEED.a_from) == (Decimal("5"), Decimal("2"))
    assert SEED.phase_out_below == Decimal("1.5")
    assert SEED.return_warning_percent == Decimal("8.00")


@pytest.mark.parametrize(
    ("margin", "invested", "tier"),
    [
        ("500.00", "100.00", Tier.A),  # ROI exactly 5: A, not S
        ("500.01", "100.00", Tier.S),  # 5.0001
        ("200.00", "100.00", Tier.A),  # ROI exactly 2: A, not B
        ("199.99", "100.00", Tier.B),  # 1.9999
        ("1000.00", "3.00", Tier.S),  # 333.33…
        ("0.00", "100.00", Tier.B),
        ("-50.00", "100.00", Tier.B),  # a loss
        ("10.00", "3.00", Tier.A),  # 3.333…, never rounded into another tier
    ],
)
def test_exact_tier_boundaries(margin: str, invested: str, tier: Tier) -> None:
    value = roi(
        sales=Decimal(margin),
        cost_of_goods=Decimal("0"),
        commission=Decimal("0"),
        invested=Decimal(invested),
    )
    assert tier_for(value, SEED) == tier


def test_boundary_holds_after_division_that_does_not_terminate() -> None:
    # 15.00 / 3.00 = 5 exactly even though the inputs come from thirds of cents elsewhere.
    assert (
        tier_for(
            roi(
                sales=Decimal("45.00"),
                cost_of_goods=Decimal("20.00"),
                commission=Decimal("10.00"),
                invested=Decimal("3.00"),
            ),
            SEED,
        )
        == Tier.A
    )
    assert tier_for(Decimal("5.0000000000000000000001"), SEED) == Tier.S


def test_no_investment_means_no_tier_and_no_crash() -> None:
    value = roi(
        sales=Decimal("100"),
        cost_of_goods=Decimal("0"),
        commission=Decimal("0"),
        invested=Decimal("0"),
    )
    assert value is None
    assert tier_for(value, SEED) == Tier.NONE
    assert not is_phase_out(value, SEED)
    assert percent(value) == "n/a"


def test_formulas_against_hand_computed_examples() -> None:
    # 转化率 = 销量 ÷ 直播观看人数: 96 units to 1,200 viewers = 8 %.
    assert conversion(units=96, viewers=1200) == Decimal("0.08")
    # 客单价 = 总销售额 ÷ 订单数量: $1,234.50 over 45 orders = $27.433… → $27.43.
    assert average_order_value(sales=Decimal("1234.50"), orders=45) == Decimal("27.43")
    # 退货率 = 退货订单 ÷ 总订单数: 30 of 200 = 15 %.
    assert return_rate(returned_orders=30, orders=200) == Decimal("0.15")
    # ROI = (销售额 - 成本 - 佣金) ÷ 投入成本: (1,000 - 300 - 150) ÷ 110 = 5 → A.
    value = roi(
        sales=Decimal("1000.00"),
        cost_of_goods=Decimal("300.00"),
        commission=Decimal("150.00"),
        invested=Decimal("110.00"),
    )
    assert value == Decimal("5")
    assert tier_for(value, SEED) == Tier.A
    # (900 - 300 - 150) ÷ 110 = 4.0909…
    assert rounded(
        roi(
            sales=Decimal("900.00"),
            cost_of_goods=Decimal("300.00"),
            commission=Decimal("150.00"),
            invested=Decimal("110.00"),
        )
    ) == Decimal("4.0909")


def test_division_by_zero_is_na() -> None:
    assert conversion(units=10, viewers=0) is None
    assert average_order_value(sales=Decimal("0"), orders=0) is None
    assert return_rate(returned_orders=0, orders=0) is None
    assert percent(None) == "n/a"
    assert percent(Decimal("0.0812")) == "8.12 %"


@pytest.mark.parametrize(
    ("returned", "orders", "warned"),
    [(8, 100, False), (9, 100, True), (81, 1000, True), (80, 1000, False), (0, 0, False)],
)
def test_return_rate_warning_is_above_eight_percent(
    returned: int, orders: int, warned: bool
) -> None:
    assert is_return_warning(return_rate(returned_orders=returned, orders=orders), SEED) is warned


@pytest.mark.parametrize(
    ("value", "listed"),
    [("1.5", False), ("1.4999", True), ("0", True), ("-2", True), ("1.6", False)],
)
def test_phase_out_is_below_one_and_a_half(value: str, listed: bool) -> None:
    assert is_phase_out(Decimal(value), SEED) is listed


def test_figures_use_kept_sales_for_roi_and_all_orders_for_aov() -> None:
    figures = Figures(
        orders=200,
        returned_orders=30,
        units=210,
        live_units=180,
        viewers=2000,
        sales=Decimal("6000.00"),
        kept_sales=Decimal("5100.00"),
        cost_of_goods=Decimal("1700.00"),
        commission=Decimal("765.00"),
        invested=Decimal("500.00"),
    )
    assert figures.average_order_value == Decimal("30.00")
    assert figures.return_rate == Decimal("0.15")
    assert figures.conversion == Decimal("0.09")
    # (5,100 - 1,700 - 765) ÷ 500 = 5.27 → S
    assert figures.roi == Decimal("5.27")
    assert tier_for(figures.roi, SEED) == Tier.S
