"""Test data for creators, collaborations and live sessions, reusable by other apps' tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import factory

from aftershow.catalog.models import Product, Sku
from aftershow.creators.models import (
    Collaboration,
    CollaborationKind,
    CollaborationRate,
    LiveSession,
    LiveSessionSku,
    SampleShipment,
)
from aftershow.orders.tests.factories import CreatorFactory, ShopFactory

__all__ = [
    "CollaborationFactory",
    "CollaborationRateFactory",
    "CreatorFactory",
    "LiveSessionFactory",
    "LiveSessionSkuFactory",
    "SampleShipmentFactory",
    "SkuFactory",
]


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Product {n}")


class SkuFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sku

    product = factory.SubFactory(ProductFactory)
    code = factory.Sequence(lambda n: f"SKU-{n:04d}")
    name = factory.LazyAttribute(lambda sku: sku.code)
    cost = Decimal("4.00")


class CollaborationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Collaboration

    creator = factory.SubFactory(CreatorFactory)
    kind = CollaborationKind.OPEN
    starts_on = date(2026, 1, 1)


class CollaborationRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CollaborationRate

    collaboration = factory.SubFactory(CollaborationFactory)
    platform_rate = Decimal("15.00")
    seller_rate = Decimal("0.00")
    valid_from = datetime(2026, 1, 1, tzinfo=UTC)


class LiveSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LiveSession

    creator = factory.SubFactory(CreatorFactory)
    shop = factory.SubFactory(ShopFactory)
    title = factory.Sequence(lambda n: f"Live {n}")
    starts_at = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
    ends_at = factory.LazyAttribute(lambda session: session.starts_at + timedelta(hours=2))


class LiveSessionSkuFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LiveSessionSku

    session = factory.SubFactory(LiveSessionFactory)
    sku = factory.SubFactory(SkuFactory)
    platform_rate = Decimal("20.00")


class SampleShipmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SampleShipment

    creator = factory.SubFactory(CreatorFactory)
    sku = factory.SubFactory(SkuFactory)
    quantity = 3
    unit_cost = Decimal("4.00")
    shipping_cost = Decimal("6.50")
    shipped_at = datetime(2026, 11, 1, tzinfo=UTC)
