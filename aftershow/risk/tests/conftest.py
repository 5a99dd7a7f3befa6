"""Personas, a clock, the default rules and order builders for the release and risk tests."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import time_machine

from aftershow.accounts.models import User
from aftershow.orders.models import Address, Order, OrderState
from aftershow.orders.services import address_match_key
from aftershow.orders.tests.conftest import NOW
from aftershow.orders.tests.factories import AddressFactory, OrderFactory, UserFactory
from aftershow.risk.models import OrderRelease, RiskRule

DEFAULT_RULES = importlib.import_module(
    "aftershow.risk.migrations.0002_default_rules"
).DEFAULT_RULES


def ensure_default_rules() -> None:
    """The seeded rules, as the data migration writes them. Transactional tests elsewhere in
    the suite (live server, webhooks) flush every table when they end, seeded rows included."""
    if not RiskRule.objects.exists():
        RiskRule.objects.bulk_create(
            RiskRule(kind=kind, parameters=parameters, position=(index + 1) * 10)
            for index, (kind, parameters) in enumerate(DEFAULT_RULES)
        )


@pytest.fixture(autouse=True)
def default_rules(db: None) -> None:
    ensure_default_rules()


@pytest.fixture
def frozen_now() -> Iterator[datetime]:
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def owner(db: None) -> User:
    return UserFactory(owner=True)


@pytest.fixture
def operator(db: None) -> User:
    return UserFactory(username="ola")


@pytest.fixture
def packer(db: None) -> User:
    return UserFactory(packer=True)


@pytest.fixture
def outsider(db: None) -> User:
    return UserFactory(outsider=True)


def address(**fields: Any) -> Address:
    """A saved address with its match key, like the ones orders_upsert stores."""
    row: Address = AddressFactory.build(**fields)
    row.match_key = address_match_key(row)
    row.save()
    return row


def ready_order(**fields: Any) -> Order:
    """A released order waiting for screening (READY, as release leaves it)."""
    fields.setdefault("state", OrderState.READY)
    if "shipping_address" not in fields:
        fields["shipping_address"] = address()
    order: Order = OrderFactory(**fields)
    OrderRelease.objects.create(order=order)
    return order
