"""Openings made before the officer step: the collector is the customer's recorded collector, and
whoever submitted an opening that went active opened it."""

from django.db import migrations
from django.db.models import F, OuterRef, Subquery


def backfill(apps, schema_editor):
    AccountOpening = apps.get_model("customers", "AccountOpening")
    Customer = apps.get_model("customers", "Customer")
    collected = Customer.objects.filter(pk=OuterRef("customer_id")).values("collected_by_id")[:1]
    AccountOpening.objects.filter(collector__isnull=True).update(collector_id=Subquery(collected))
    AccountOpening.objects.filter(collector__isnull=True).update(collector_id=F("submitted_by_id"))
    AccountOpening.objects.filter(opened_by__isnull=True, customer__status__in=["active", "frozen"]).update(
        opened_by_id=F("submitted_by_id"), opened_at=F("closed_at")
    )


class Migration(migrations.Migration):
    dependencies = [("customers", "0012_opening_collector_opened_by")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
