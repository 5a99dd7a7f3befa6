"""Test data for orders and the people who work on them, reusable by any app's tests.

Personas: ``UserFactory(owner=True)``, ``UserFactory(packer=True)`` and
``UserFactory(outsider=True)`` (a deactivated account: once on the team, now locked out).
Every user's password is ``PASSWORD``.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from aftershow.accounts.models import Role, User
from aftershow.creators.models import Creator
from aftershow.orders.models import (
    Address,
    Buyer,
    ChangeSource,
    Order,
    OrderLine,
    OrderState,
    OrderStatusChange,
    PlatformStatus,
)
from aftershow.shops.models import Channel, Shop

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    class Params:
        owner = factory.Trait(role=Role.OWNER, username="olivia")
        packer = factory.Trait(role=Role.PACKER, username="pat")
        outsider = factory.Trait(role=Role.OPERATOR, username="oscar", is_active=False)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    role = Role.OPERATOR
    is_active = True
    password = factory.django.Password(PASSWORD)


class ShopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shop

    name = factory.Sequence(lambda n: f"Shop {n}")
    channel = Channel.TIKTOK
    remote_shop_id = factory.Sequence(lambda n: f"7495{n:08d}")
    region = "US"


class CreatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Creator

    handle = factory.Sequence(lambda n: f"creator{n}")
    display_name = factory.LazyAttribute(lambda creator: creator.handle.title())


class BuyerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Buyer

    channel = Channel.TIKTOK
    buyer_key = factory.Sequence(lambda n: f"{n:064x}")
    nickname = factory.Sequence(lambda n: f"buyer{n}")


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    name = "Jamie Rivera"
    phone = "(+1)212*****67"
    line1 = "350 Fifth Avenue"
    line2 = "Apt 21B"
    city = "New York"
    state = "NY"
    postal_code = "10118"
    country = "US"


class OrderFactory(factory.django.DjangoModelFactory):
    """An order waiting to be shipped, placed an hour ago, due in two days."""

    class Meta:
        model = Order

    shop = factory.SubFactory(ShopFactory)
    remote_order_id = factory.Sequence(lambda n: f"5764{n:014d}")
    buyer = factory.SubFactory(BuyerFactory)
    shipping_address = factory.SubFactory(AddressFactory)
    platform_status = PlatformStatus.AWAITING_SHIPMENT
    state = OrderState.NEW
    placed_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    paid_at = factory.SelfAttribute("placed_at")
    remote_updated_at = factory.SelfAttribute("placed_at")
    ship_by = factory.LazyFunction(lambda: timezone.now() + timedelta(days=2))
    currency = "USD"
    subtotal = Decimal("19.99")
    total_amount = Decimal("19.99")


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    remote_line_id = factory.Sequence(lambda n: f"5765{n:014d}")
    seller_sku = "TEE-BLK-M"
    product_name = "Cloud Tee"
    sku_name = "Black, M"
    quantity = 1
    currency = "USD"
    original_price = Decimal("24.99")
    sale_price = Decimal("19.99")
    display_status = factory.SelfAttribute("order.platform_status")


class OrderStatusChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderStatusChange

    order = factory.SubFactory(OrderFactory)
    source = ChangeSource.WEBHOOK
    to_status = factory.SelfAttribute("order.platform_status")
    to_state = factory.SelfAttribute("order.state")
