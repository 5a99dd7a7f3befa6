"""The ledger's database constraints: the last line of defence against bad rates and duplicates."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from aftershow.commissions.models import CommissionLine, LineKind, Payer
from aftershow.orders.tests.factories import CreatorFactory, OrderLineFactory


@pytest.mark.django_db
def test_rate_above_100_and_duplicate_key_are_refused_by_the_database() -> None:
    order_line = OrderLineFactory()
    creator = CreatorFactory()
    fields = {
        "order": order_line.order,
        "order_line": order_line,
        "creator": creator,
        "payer": Payer.SELLER,
        "kind": LineKind.COMMISSION,
        "base": Decimal("19.99"),
        "amount": Decimal("2.00"),
        "occurred_at": timezone.now(),
    }
    CommissionLine.objects.create(rate=Decimal("10.00"), idempotency_key="k1", **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        CommissionLine.objects.create(rate=Decimal("100.01"), idempotency_key="k2", **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        CommissionLine.objects.create(rate=Decimal("10.00"), idempotency_key="k1", **fields)
    assert CommissionLine.objects.count() == 1
