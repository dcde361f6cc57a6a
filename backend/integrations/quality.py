"""Data-quality figures per branch (the historical-data and verification rules, docs/DOMAIN.md): completeness, unverified customers,
shared-phone clusters, agents' phones used by customers, import results. Reads only."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Count, F, Q

from backend.customers.models import Customer, CustomerStatus, InfoLevel
from backend.integrations.models import ImportBatch, VerificationSample
from backend.organisation import privacy
from backend.organisation.models import OrgUnit, SalesAgent
from backend.organisation.selectors import scope_filter


def data_quality(*, user) -> list[dict[str, Any]]:
    customers = scope_filter(Customer.objects.filter(status=CustomerStatus.ACTIVE), user)
    rows: dict[int, dict[str, Any]] = {}

    def row(unit_id: int) -> dict[str, Any]:
        return rows.setdefault(
            unit_id,
            {
                "primary": 0,
                "advanced": 0,
                "unverified": 0,
                "clusters": [],
                "agent_phone_customers": 0,
                "unreachable": 0,
                "unreachable_customers": [],
                "imports": [],
            },
        )

    per_level = customers.values("org_unit_id").annotate(
        primary=Count("id", filter=Q(info_level=InfoLevel.PRIMARY)),
        advanced=Count("id", filter=Q(info_level=InfoLevel.ADVANCED)),
        unverified=Count("id", filter=Q(last_verified_at__isnull=True)),
    )
    for r in per_level:
        row(r["org_unit_id"]).update(primary=r["primary"], advanced=r["advanced"], unverified=r["unverified"])
    minimum = settings.CUSTFLOW["SHARED_PHONE_CLUSTER_MIN"]
    clusters = (
        customers.exclude(phone="")
        .values("org_unit_id", "phone")
        .annotate(n=Count("id"))
        .filter(n__gte=minimum)
        .order_by("org_unit_id", "-n", "phone")
    )
    for c in clusters:
        bucket = row(c["org_unit_id"])["clusters"]
        if len(bucket) < 10:
            bucket.append({"phone": privacy.masked("phone", c["phone"]), "customers": c["n"]})
    agent_phones = SalesAgent.objects.filter(active=True).values("phone")
    for r in customers.filter(phone__in=agent_phones).values("org_unit_id").annotate(n=Count("id")):
        row(r["org_unit_id"])["agent_phone_customers"] = r["n"]
    # 无法联系: the last allowed follow-up failed and the customer was not verified since.
    marked = (
        VerificationSample.objects.filter(unreachable_at__isnull=False, customer__in=customers)
        .filter(
            Q(customer__last_verified_at__isnull=True) | Q(customer__last_verified_at__lt=F("unreachable_at"))
        )
        .select_related("customer")
        .order_by("org_unit_id", "-unreachable_at", "id")
    )
    seen: set[int] = set()
    for sample in marked:
        if sample.customer_id in seen:
            continue
        seen.add(sample.customer_id)
        bucket = row(sample.customer.org_unit_id)
        bucket["unreachable"] += 1
        if len(bucket["unreachable_customers"]) < 20:
            bucket["unreachable_customers"].append(
                {
                    "customer_id": sample.customer_id,
                    "phone": privacy.masked("phone", sample.customer.phone),
                    "attempts": sample.attempts,
                    "since": sample.unreachable_at,
                }
            )
    for batch in scope_filter(ImportBatch.objects.all(), user).order_by("-id")[:50]:
        imports = row(batch.org_unit_id)["imports"]
        if len(imports) < 5:
            imports.append(
                {
                    "id": batch.pk,
                    "filename": batch.filename,
                    "status": batch.get_status_display(),
                    "counts": batch.counts,
                }
            )
    units = {u.pk: u for u in OrgUnit.objects.filter(pk__in=list(rows))}
    out = []
    for unit_id, data in sorted(rows.items(), key=lambda kv: units[kv[0]].path):
        total = data["primary"] + data["advanced"]
        out.append(
            {
                "org_unit": units[unit_id].code,
                "org_unit_name": units[unit_id].name,
                "total": total,
                "advanced_share": round(data["advanced"] * 100 / total, 1) if total else 0.0,
                **data,
            }
        )
    return out
