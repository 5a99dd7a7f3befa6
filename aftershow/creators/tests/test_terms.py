"""The commission in force at order time, and the models' rate invariants."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from aftershow.creators.models import CollaborationKind, CollaborationRate, CreatorSize
from aftershow.creators.services import CommissionTerms, commission_terms_at
from aftershow.creators.tests.factories import (
    CollaborationFactory,
    CollaborationRateFactory,
    CreatorFactory,
    SampleShipmentFactory,
    SkuFactory,
)
from aftershow.orders.tests.factories import ShopFactory

pytestmark = pytest.mark.django_db

AT = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def test_no_collaboration_means_no_terms() -> None:
    creator = CreatorFactory()
    assert commission_terms_at(creator_id=creator.pk, sku_id=None, at=AT) is None


def test_sku_rate_beats_all_sku_rate_and_rate_changes_apply_from_their_start() -> None:
    creator = CreatorFactory()
    sku, other_sku = SkuFactory(), SkuFactory()
    collaboration = CollaborationFactory(creator=creator)
    general = CollaborationRateFactory(collaboration=collaboration, platform_rate=Decimal("12"))
    CollaborationRateFactory(
        collaboration=collaboration,
        sku=sku,
        platform_rate=Decimal("18"),
        seller_rate=Decimal("2.5"),
        valid_to=datetime(2026, 7, 1, tzinfo=UTC),
    )
    raised = CollaborationRateFactory(
        collaboration=collaboration,
        sku=sku,
        platform_rate=Decimal("22"),
        valid_from=datetime(2026, 7, 1, tzinfo=UTC),
    )

    assert commission_terms_at(creator_id=creator.pk, sku_id=sku.pk, at=AT) == CommissionTerms(
        platform_rate=Decimal("18.00"),
        seller_rate=Decimal("2.50"),
        collaboration_id=collaboration.pk,
        rate_id=raised.pk - 1,
    )
    july = datetime(2026, 7, 1, tzinfo=UTC)
    terms = commission_terms_at(creator_id=creator.pk, sku_id=sku.pk, at=july)
    assert terms is not None and terms.platform_rate == Decimal("22.00")
    assert terms.rate_id == raised.pk
    other = commission_terms_at(creator_id=creator.pk, sku_id=other_sku.pk, at=AT)
    assert other is not None and other.rate_id == general.pk


def test_targeted_beats_open_and_ended_collaborations_do_not_apply() -> None:
    creator = CreatorFactory()
    open_collab = CollaborationFactory(creator=creator, kind=CollaborationKind.OPEN)
    CollaborationRateFactory(collaboration=open_collab, platform_rate=Decimal("10"))
    targeted = CollaborationFactory(
        creator=creator,
        kind=CollaborationKind.TARGETED,
        starts_on=date(2026, 6, 1),
        ends_on=date(2026, 6, 15),
    )
    CollaborationRateFactory(collaboration=targeted, platform_rate=Decimal("25"))

    terms = commission_terms_at(creator_id=creator.pk, sku_id=None, at=AT)
    assert terms is not None and (terms.platform_rate, terms.collaboration_id) == (
        Decimal("25.00"),
        targeted.pk,
    )
    after = datetime(2026, 6, 16, 0, 0, tzinfo=UTC)
    terms = commission_terms_at(creator_id=creator.pk, sku_id=None, at=after)
    assert terms is not None and terms.collaboration_id == open_collab.pk


def test_shop_specific_collaboration_only_applies_to_its_shop() -> None:
    creator = CreatorFactory()
    shop, other_shop = ShopFactory(), ShopFactory()
    collaboration = CollaborationFactory(creator=creator, shop=shop)
    CollaborationRateFactory(collaboration=collaboration)

    assert commission_terms_at(creator_id=creator.pk, sku_id=None, at=AT, shop_id=shop.pk)
    assert (
        commission_terms_at(creator_id=creator.pk, sku_id=None, at=AT, shop_id=other_shop.pk)
        is None
    )


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        commission_terms_at(creator_id=1, sku_id=None, at=datetime(2026, 1, 1))


@pytest.mark.parametrize("rate", ["-0.01", "100.01"])
def test_rate_outside_0_100_is_refused_with_a_clear_message(rate: str) -> None:
    collaboration = CollaborationFactory()
    bad = CollaborationRate(collaboration=collaboration, platform_rate=Decimal(rate), valid_from=AT)
    with pytest.raises(ValidationError) as error:
        bad.full_clean()
    assert error.value.message_dict["platform_rate"] == [
        "A commission rate must be between 0 and 100 percent."
    ]
    with pytest.raises(IntegrityError), transaction.atomic():
        bad.save()
    assert CollaborationRate.objects.count() == 0


def test_creator_size_follows_followers_and_samples_cost() -> None:
    assert CreatorFactory(followers=9_999).size == CreatorSize.NANO
    assert CreatorFactory(followers=10_000).size == CreatorSize.MICRO
    assert CreatorFactory(followers=1_000_000).size == CreatorSize.MEGA
    sample = SampleShipmentFactory(quantity=3, unit_cost=Decimal("4.00"))
    assert sample.total_cost == Decimal("18.50")
