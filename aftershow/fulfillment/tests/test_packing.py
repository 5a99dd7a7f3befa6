"""Building parcels from confirmed orders and choosing their carrier, on the real database."""

from __future__ import annotations

import importlib
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.apps import apps

from aftershow.fulfillment import packing
from aftershow.fulfillment.choosing import packages_select
from aftershow.fulfillment.models import CarrierRule, Package
from aftershow.fulfillment.packing import packages_build
from aftershow.fulfillment.purchasing import label_buy
from aftershow.fulfillment.tests.conftest import NOW, OrderMaker, make_sku
from aftershow.inventory.models import Warehouse
from aftershow.orders.models import OrderLine, OrderState
from aftershow.orders.tests.factories import AddressFactory, OrderLineFactory
from aftershow.shops.models import Shop

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


def default_rules() -> None:
    CarrierRule.objects.all().delete()
    migration = importlib.import_module(
        "aftershow.fulfillment.migrations.0003_default_carrier_rules"
    )
    migration.add_default_rules(apps, None)


def test_one_parcel_per_confirmed_order_weighed_and_boxed(
    warehouse: Warehouse, shopify_shop: Shop, make_order: OrderMaker
) -> None:
    tee = make_sku("TEE", weight_oz="6.2")
    mug = make_sku("MUG", weight_oz="30", dims=("6", "6", "6"))
    one_tee = make_order(shopify_shop, tee)
    two_tees = make_order(shopify_shop, tee, quantity=2)
    mug_order = make_order(shopify_shop, mug, total="14.00", delivery_option_name="Express")
    make_order(shopify_shop, tee, state=OrderState.IN_REVIEW)  # not confirmed: left alone

    report = packages_build(shop=shopify_shop)

    assert report.extended == []
    built = {
        package.build_key: (
            package.box_code,
            package.weight_oz,
            (package.length_in, package.width_in, package.height_in),
            package.order_value,
            package.deliver_by,
            package.warehouse_id,
        )
        for package in Package.objects.all()
    }
    assert built == {
        # 6.2 oz in a 13x10x1 poly mailer (0.5 oz): 80 in³ of items fit its 130 in³.
        f"order:{one_tee.pk}": (
            "POLY-S",
            Decimal("6.70"),
            (Decimal("13.00"), Decimal("10.00"), Decimal("1.00")),
            Decimal("19.99"),
            date(2026, 12, 3),  # paid Wednesday 11-25 + 6 business days (Standard)
            warehouse.pk,
        ),
        # Two tees (160 in³) need the larger mailer (1 oz).
        f"order:{two_tees.pk}": (
            "POLY-L",
            Decimal("13.40"),
            (Decimal("19.00"), Decimal("14.50"), Decimal("2.00")),
            Decimal("19.99"),
            date(2026, 12, 3),
            warehouse.pk,
        ),
        # A 6 in cube does not fit the 8x6x4 box: 12x10x6 (7 oz).
        f"order:{mug_order.pk}": (
            "BOX-M",
            Decimal("37.00"),
            (Decimal("12.00"), Decimal("10.00"), Decimal("6.00")),
            Decimal("14.00"),
            date(2026, 11, 30),  # Express: 3 business days
            warehouse.pk,
        ),
    }
    assert sorted(
        OrderLine.objects.filter(package__isnull=False).values_list("order_id", flat=True)
    ) == sorted([one_tee.pk, two_tees.pk, mug_order.pk])


def test_building_twice_makes_nothing_new(
    warehouse: Warehouse, shopify_shop: Shop, make_order: OrderMaker
) -> None:
    tee = make_sku("TEE", weight_oz="6.2")
    make_order(shopify_shop, tee)
    first = packages_build(shop=shopify_shop)
    second = packages_build(shop=shopify_shop)
    assert (len(first.created), len(second.packages)) == (1, 0)
    assert Package.objects.count() == 1


def test_orders_with_one_combine_key_share_a_parcel(
    warehouse: Warehouse,
    shopify_shop: Shop,
    make_order: OrderMaker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tee = make_sku("TEE", weight_oz="6.2")
    address = AddressFactory()
    first = make_order(shopify_shop, tee, address=address, ship_by=NOW + timedelta(hours=40))
    second = make_order(shopify_shop, tee, address=address, ship_by=NOW + timedelta(hours=20))
    alone = make_order(shopify_shop, tee)
    # The risk screening's OrderRelease.combine_key, as that app would report it.
    monkeypatch.setattr(
        packing, "_combine_keys", lambda ids: {first.pk: "buyer-7", second.pk: "buyer-7"}
    )

    packages_build(shop=shopify_shop)

    combined = Package.objects.get(build_key=f"combine:{shopify_shop.pk}:buyer-7")
    assert sorted(combined.lines.values_list("order_id", flat=True)) == [first.pk, second.pk]
    assert combined.order_value == Decimal("39.98")
    assert combined.ship_by == NOW + timedelta(hours=20)
    assert combined.weight_oz == Decimal("13.40")
    assert Package.objects.get(build_key=f"order:{alone.pk}").lines.count() == 1


def test_an_order_joining_an_unlabelled_combined_parcel_is_added_to_it(
    warehouse: Warehouse,
    shopify_shop: Shop,
    make_order: OrderMaker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tee = make_sku("TEE", weight_oz="6.2")
    address = AddressFactory()
    first = make_order(shopify_shop, tee, address=address)
    monkeypatch.setattr(packing, "_combine_keys", lambda ids: dict.fromkeys(ids, "buyer-7"))
    packages_build(shop=shopify_shop)
    late = make_order(shopify_shop, tee, address=address)

    report = packages_build(shop=shopify_shop)

    assert (report.created, [package.pk for package in report.extended]) == (
        [],
        [Package.objects.get().pk],
    )
    package = Package.objects.get()
    assert sorted(package.lines.values_list("order_id", flat=True)) == [first.pk, late.pk]
    assert (package.weight_oz, package.box_code) == (Decimal("13.40"), "POLY-L")


def test_problems_are_kept_on_the_parcel_and_block_the_choice(
    warehouse: Warehouse, shopify_shop: Shop, make_order: OrderMaker
) -> None:
    default_rules()
    order = make_order(shopify_shop)
    OrderLineFactory(order=order, sku=None, seller_sku="GHOST-1")
    packages_build(shop=shopify_shop)
    package = Package.objects.get()
    assert package.build_problem == "GHOST-1: not mapped to a SKU"

    packages_select(packages=[package])

    package.refresh_from_db()
    assert (package.selection_source, package.service_code, package.provider) == ("none", "", "")
    assert package.selection_reason == "Cannot choose: GHOST-1: not mapped to a SKU."


def test_po_box_and_military_addresses_are_recognised(
    warehouse: Warehouse, shopify_shop: Shop, make_order: OrderMaker
) -> None:
    tee = make_sku("TEE", weight_oz="6.2")
    po_box = make_order(shopify_shop, tee, address=AddressFactory(line1="PO Box 123", line2=""))
    military = make_order(
        shopify_shop,
        tee,
        address=AddressFactory(
            line1="Unit 2050 Box 4190", line2="", city="APO", state="AP", postal_code="96278"
        ),
    )
    street = make_order(shopify_shop, tee)
    packages_build(shop=shopify_shop)
    flags = {
        package.build_key: (package.is_po_box, package.is_military)
        for package in Package.objects.all()
    }
    assert flags == {
        f"order:{po_box.pk}": (True, False),
        f"order:{military.pk}": (False, True),
        f"order:{street.pk}": (False, False),
    }


def test_selection_stores_the_choice_the_rule_and_the_reason(
    warehouse: Warehouse,
    shopify_shop: Shop,
    tiktok_shop_row: Shop,
    make_order: OrderMaker,
) -> None:
    default_rules()
    tee = make_sku("TEE", weight_oz="6.2")
    hoodie = make_sku("HOOD", weight_oz="40", dims=("12", "10", "4"))
    web = make_order(shopify_shop, tee)
    tiktok = make_order(tiktok_shop_row, hoodie, shipping_type="SELLER")
    big_po_box = make_order(
        shopify_shop,
        make_sku("RUG", weight_oz="400", dims=("24", "18", "14")),
        address=AddressFactory(line1="PO Box 9", line2=""),
    )
    packages_build()

    packages_select(packages=list(Package.objects.all()))

    chosen = {
        package.build_key: (
            package.carrier,
            package.service,
            package.service_code,
            package.provider,
            package.rule.name if package.rule else None,
            package.selection_source,
            package.zone,
            package.quoted_amount,
        )
        for package in Package.objects.select_related("rule")
    }
    assert chosen == {
        f"order:{web.pk}": (
            "USPS",
            "Ground Advantage",
            "usps_ground_advantage",
            "sandbox",
            "Light parcels (under 1 lb)",
            "rule",
            4,
            Decimal("7.46"),
        ),
        f"order:{tiktok.pk}": (
            "USPS",
            "Priority Mail",
            "usps_priority_mail",
            "tiktok",
            "Standard parcels (up to 20 lb, 22 in)",
            "rule",
            4,
            Decimal("12.68"),
        ),
        f"order:{big_po_box.pk}": (
            "USPS",
            "Ground Advantage",
            "usps_ground_advantage",
            "sandbox",
            None,
            "fallback",
            4,
            Decimal("83.96"),  # 44 lb DIM at the 50 lb row, zone 4 $65.96 + volume fee $18
        ),
    }
    web_package = Package.objects.get(build_key=f"order:{web.pk}")
    assert web_package.selection_reason.splitlines()[0] == (
        "Rule 1 “Light parcels (under 1 lb)” matched: billable weight 6.7 oz ≤ 15.99 oz."
    )
    assert web_package.estimated_delivery == date(2026, 11, 30)


def test_inactive_rules_are_not_used(
    warehouse: Warehouse, shopify_shop: Shop, make_order: OrderMaker
) -> None:
    default_rules()
    CarrierRule.objects.filter(service="usps_ground_advantage").update(is_active=False)
    make_order(shopify_shop, make_sku("TEE", weight_oz="6.2"))
    packages_build()
    (package,) = packages_select(packages=list(Package.objects.all()))
    assert (package.service_code, package.rule.name if package.rule else None) == (
        "usps_priority_mail",
        "Standard parcels (up to 20 lb, 22 in)",
    )
    assert package.selection_reason.splitlines()[0].startswith(
        "Rule 1 “Standard parcels (up to 20 lb, 22 in)” matched"
    )


def test_a_combine_group_holds_at_most_20_orders_a_parcel(
    warehouse: Warehouse,
    shopify_shop: Shop,
    make_order: OrderMaker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tee = make_sku("TEE", weight_oz="6.2")
    address = AddressFactory()
    orders = [make_order(shopify_shop, tee, address=address) for _ in range(23)]
    monkeypatch.setattr(packing, "_combine_keys", lambda ids: dict.fromkeys(ids, "buyer-7"))

    packages_build(shop=shopify_shop)

    key = f"combine:{shopify_shop.pk}:buyer-7"
    sizes = {
        package.build_key: sorted(set(package.lines.values_list("order_id", flat=True)))
        for package in Package.objects.all()
    }
    assert sizes == {
        key: [order.pk for order in orders[:20]],
        f"{key}:2": [order.pk for order in orders[20:]],
    }


def test_an_order_joining_a_labelled_combined_parcel_gets_a_new_one(
    warehouse: Warehouse,
    shopify_shop: Shop,
    make_order: OrderMaker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    default_rules()
    tee = make_sku("TEE", weight_oz="6.2")
    address = AddressFactory()
    first = make_order(shopify_shop, tee, address=address)
    monkeypatch.setattr(packing, "_combine_keys", lambda ids: dict.fromkeys(ids, "buyer-7"))
    packages_build(shop=shopify_shop)
    labelled = Package.objects.get()
    packages_select(packages=[labelled])
    assert label_buy(package=labelled).is_bought
    late = make_order(shopify_shop, tee, address=address)

    report = packages_build(shop=shopify_shop)

    key = f"combine:{shopify_shop.pk}:buyer-7"
    assert [package.build_key for package in report.created] == [f"{key}:2"]
    assert report.extended == []
    assert list(labelled.lines.values_list("order_id", flat=True)) == [first.pk]
    assert list(report.created[0].lines.values_list("order_id", flat=True)) == [late.pk]
