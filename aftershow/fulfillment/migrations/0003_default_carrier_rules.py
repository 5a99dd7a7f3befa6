"""The default carrier rules, following the seed (R-O3): light parcels by USPS Ground Advantage
(which replaced First-Class in July 2023), standard ones by USPS Priority Mail, large ones by
FedEx Ground, else UPS Ground. Sellers edit them on the rules page; a shop that already has
rules keeps them."""

from decimal import Decimal

from django.db import migrations

DEFAULT_RULES = [
    {
        "position": 10,
        "name": "Light parcels (under 1 lb)",
        "service": "usps_ground_advantage",
        "max_billable_weight_oz": Decimal("15.99"),
    },
    {
        "position": 20,
        "name": "Standard parcels (up to 20 lb, 22 in)",
        "service": "usps_priority_mail",
        "max_billable_weight_oz": Decimal("320"),
        "max_longest_side_in": Decimal("22"),
    },
    {
        "position": 30,
        "name": "Large parcels",
        "service": "fedex_ground",
        "destination_kind": "street",
    },
    {
        "position": 40,
        "name": "Large parcels (when FedEx cannot)",
        "service": "ups_ground",
        "destination_kind": "street",
    },
]


def add_default_rules(apps, schema_editor):
    CarrierRule = apps.get_model("fulfillment", "CarrierRule")
    if CarrierRule.objects.exists():
        return
    for rule in DEFAULT_RULES:
        CarrierRule.objects.create(**rule)


def remove_default_rules(apps, schema_editor):
    CarrierRule = apps.get_model("fulfillment", "CarrierRule")
    CarrierRule.objects.filter(name__in=[rule["name"] for rule in DEFAULT_RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("fulfillment", "0002_selection_labels_batches")]

    operations = [migrations.RunPython(add_default_rules, remove_default_rules)]
