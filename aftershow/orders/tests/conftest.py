"""Personas and a clock for the order pages' tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client

from aftershow.accounts.models import User
from aftershow.orders.tests.factories import UserFactory

# A Friday evening during a live stream; every test that shows a countdown is pinned here.
NOW = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)


@pytest.fixture
def frozen_now() -> Iterator[datetime]:
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def owner(db: None) -> User:
    return UserFactory(owner=True)


@pytest.fixture
def packer(db: None) -> User:
    return UserFactory(packer=True)


@pytest.fixture
def outsider(db: None) -> User:
    return UserFactory(outsider=True)


@pytest.fixture
def packer_client(client: Client, packer: User) -> Client:
    client.force_login(packer)
    return client
