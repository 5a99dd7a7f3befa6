"""Money helpers: Decimal amounts with an explicit currency and rounding rule."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")


def parse_amount(value: str | int | float | Decimal | None) -> Decimal:
    """Platform amounts arrive as strings ("19.99"); an empty value means zero.

    Rounded half-up to the cent, the rule US marketplaces use for displayed amounts.
    """
    if value is None or value == "":
        return Decimal("0.00")
    try:
        amount = Decimal(str(value))
    except InvalidOperation as error:
        raise ValueError(f"not an amount: {value!r}") from error
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)
