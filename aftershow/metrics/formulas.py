"""The seed's formulas, in Decimal, and the tier rule. Pure functions: no database.

A division by zero is not an error and not zero: the figure is n/a (``None``), shown as "n/a".
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from aftershow.metrics.models import Tier

RATIO_PLACES = Decimal("0.0001")
CENT = Decimal("0.01")
HUNDRED = Decimal("100")


def ratio(numerator: Decimal | int, denominator: Decimal | int) -> Decimal | None:
    """numerator ÷ denominator, or None when the denominator is 0.

    Not rounded: Decimal's 28 significant digits keep the tier boundaries exact (ROI of exactly
    5 is 5, never 4.9999); ``rounded`` is for storing and showing.
    """
    if denominator == 0:
        return None
    return Decimal(numerator) / Decimal(denominator)


def rounded(value: Decimal | None) -> Decimal | None:
    """A ratio to 4 decimals, half up, as stored on a standing."""
    return None if value is None else value.quantize(RATIO_PLACES, ROUND_HALF_UP)


def conversion(*, units: int, viewers: int) -> Decimal | None:
    """Conversion rate = units sold ÷ live viewers (销量 ÷ 直播观看人数)."""
    return ratio(units, viewers)


def average_order_value(*, sales: Decimal, orders: int) -> Decimal | None:
    """AOV (客单价) = sales ÷ number of orders, to the cent."""
    if orders == 0:
        return None
    return (sales / orders).quantize(CENT, ROUND_HALF_UP)


def return_rate(*, returned_orders: int, orders: int) -> Decimal | None:
    """Return rate = returned orders ÷ total orders (退货订单 ÷ 总订单数)."""
    return ratio(returned_orders, orders)


def roi(
    *, sales: Decimal, cost_of_goods: Decimal, commission: Decimal, invested: Decimal
) -> Decimal | None:
    """ROI = (sales - cost of goods - commission) ÷ invested cost.

    The seed: (销售额 - 成本 - 佣金) ÷ 投入成本.
    """
    return ratio(sales - cost_of_goods - commission, invested)


class Thresholds(Protocol):
    s_above: Decimal
    a_from: Decimal
    phase_out_below: Decimal
    return_warning_percent: Decimal


def tier_for(roi_value: Decimal | None, policy: Thresholds) -> Tier:
    """S when ROI > s_above; A when a_from ≤ ROI ≤ s_above (both ends are A); B below a_from."""
    if roi_value is None:
        return Tier.NONE
    if roi_value > policy.s_above:
        return Tier.S
    if roi_value >= policy.a_from:
        return Tier.A
    return Tier.B


def is_phase_out(roi_value: Decimal | None, policy: Thresholds) -> bool:
    """On the phase-out list when ROI is below the threshold (the seed's FAQ: below 1.5)."""
    return roi_value is not None and roi_value < policy.phase_out_below


def is_return_warning(rate: Decimal | None, policy: Thresholds) -> bool:
    """A warning when the return rate is above the threshold (the seed: above 8 %)."""
    return rate is not None and rate * HUNDRED > policy.return_warning_percent


def percent(value: Decimal | None) -> str:
    """0.0812 → "8.12 %"; None → "n/a"."""
    if value is None:
        return "n/a"
    return f"{(value * HUNDRED).quantize(CENT, ROUND_HALF_UP)} %"


@dataclass(frozen=True)
class Figures:
    """The inputs and results of the four formulas for one creator, session or period."""

    orders: int
    returned_orders: int
    units: int
    live_units: int
    viewers: int
    sales: Decimal
    kept_sales: Decimal
    cost_of_goods: Decimal
    commission: Decimal
    invested: Decimal

    @property
    def conversion(self) -> Decimal | None:
        return conversion(units=self.live_units, viewers=self.viewers)

    @property
    def average_order_value(self) -> Decimal | None:
        return average_order_value(sales=self.sales, orders=self.orders)

    @property
    def return_rate(self) -> Decimal | None:
        return return_rate(returned_orders=self.returned_orders, orders=self.orders)

    @property
    def roi(self) -> Decimal | None:
        return roi(
            sales=self.kept_sales,
            cost_of_goods=self.cost_of_goods,
            commission=self.commission,
            invested=self.invested,
        )

    @property
    def margin(self) -> Decimal:
        """The ROI numerator: kept sales - cost of goods - commission."""
        return self.kept_sales - self.cost_of_goods - self.commission


ZERO_FIGURES = Figures(
    orders=0,
    returned_orders=0,
    units=0,
    live_units=0,
    viewers=0,
    sales=Decimal("0.00"),
    kept_sales=Decimal("0.00"),
    cost_of_goods=Decimal("0.00"),
    commission=Decimal("0.00"),
    invested=Decimal("0.00"),
)
