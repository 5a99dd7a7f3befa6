"""The starting rule set (issue 3, item 2). The seller edits these rows; this migration only
adds them when the table is empty, and a rollback removes the rules no flag refers to.

Parameters are written out here (not imported from the evaluators) so the migration keeps
meaning what it meant when it was written.
"""

from django.db import migrations

DEFAULT_RULES = [
    ("address", {"require_street_number": True, "check_zip_state": True}),
    ("remote_destination", {"states": ["AA", "AE", "AK", "AP", "AS", "GU", "HI", "MP", "PR", "VI"]}),
    ("po_box", {"carriers_refusing_po_box": ["UPS", "FedEx"]}),
    ("order_velocity", {"order_count": 3, "window_minutes": 30}),
    ("return_rate", {"max_return_rate_percent": "15", "min_orders": 2}),
    ("high_value", {"max_total": "500.00", "max_units": 10}),
]


def seed(apps, schema_editor):
    RiskRule = apps.get_model("risk", "RiskRule")
    if RiskRule.objects.exists():
        return
    RiskRule.objects.bulk_create(
        RiskRule(kind=kind, parameters=parameters, position=(index + 1) * 10)
        for index, (kind, parameters) in enumerate(DEFAULT_RULES)
    )


def unseed(apps, schema_editor):
    RiskRule = apps.get_model("risk", "RiskRule")
    kinds = [kind for kind, _ in DEFAULT_RULES]
    RiskRule.objects.filter(kind__in=kinds, flags__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("risk", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
