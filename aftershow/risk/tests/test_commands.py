"""``aftershow release_due``, ``aftershow screen`` and ``aftershow confirm_clean``."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from aftershow.orders.models import ChangeSource, Order, OrderState, OrderStatusChange
from aftershow.orders.tests.factories import OrderFactory, ShopFactory
from aftershow.risk.tests.conftest import address, ready_order

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip()


def test_release_due_screen_and_confirm(frozen_now, operator) -> None:  # type: ignore[no-untyped-def]
    shop = ShopFactory()
    for minutes, line1 in ((90, "1 Main St"), (80, "Main St"), (10, "3 Main St")):
        OrderFactory(
            shop=shop,
            placed_at=frozen_now - timedelta(minutes=minutes),
            shipping_address=address(line1=line1),
        )
    assert run("release_due") == (
        "released 2 (in review 1), held 1 (cancel_window 1), back to review 0"
    )
    assert run("screen", "--shop", str(shop.pk)) == (
        "screened 2 with 6 active rules: in review 1 (new 0, cleared 0); flags: address 1"
    )
    assert run("confirm_clean", "--shop", str(shop.pk), "--user", "ola") == "confirmed 1 orders"
    confirmed = OrderStatusChange.objects.get(to_state=OrderState.CONFIRMED)
    assert (confirmed.source, confirmed.actor) == (ChangeSource.USER, operator)
    assert sorted(Order.objects.values_list("state", flat=True)) == [
        "confirmed",
        "held",
        "in_review",
    ]


def test_confirm_clean_as_the_system(frozen_now) -> None:  # type: ignore[no-untyped-def]
    from aftershow.risk.models import OrderRelease

    order = ready_order()
    OrderRelease.objects.filter(order=order).update(screened_at=frozen_now)
    assert run("confirm_clean") == "confirmed 1 orders"
    assert OrderStatusChange.objects.get().source == ChangeSource.SYSTEM


def test_confirm_clean_refuses_a_packer_and_unknown_names(packer) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match="pat may not confirm orders"):
        run("confirm_clean", "--user", "pat")
    with pytest.raises(CommandError, match="No user 'nobody'"):
        run("confirm_clean", "--user", "nobody")
    with pytest.raises(CommandError, match="No shop with id 999"):
        run("confirm_clean", "--shop", "999")
