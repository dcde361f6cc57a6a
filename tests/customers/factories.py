"""Customers as rows (no process): for searches, reveals and the linkage page."""

from __future__ import annotations

import itertools
from datetime import date

from django.utils import timezone

from backend.customers.models import Customer, CustomerStatus, CustomerType, IdType, InfoLevel
from backend.organisation.models import OrgUnit
from tests.factories import resident_id

_seq = itertools.count(1)


def customer_make(org: str = "GD-SZ", **values) -> Customer:
    """An active individual customer at org unit `org`; override any field."""
    n = next(_seq)
    data = {
        "customer_type": CustomerType.INDIVIDUAL,
        "name": f"客户{n}",
        "id_type": IdType.RESIDENT_ID,
        "id_number": resident_id(birth=date(1980, 1, 1 + n % 28), serial=n),
        "phone": f"+86139{n:08d}",
        "address": "深圳市福田区福华路 1 号",
        "email": f"c{n}@example.com",
        "info_level": InfoLevel.ADVANCED,
        "status": CustomerStatus.ACTIVE,
        "activated_at": timezone.now(),
        "org_unit": OrgUnit.objects.get(code=org),
    }
    data.update(values)
    return Customer.objects.create(**data)


def corporate_make(org: str = "GD-SZ", **values) -> Customer:
    data = {
        "customer_type": CustomerType.CORPORATE,
        "name": "深圳示例科技有限公司",
        "id_type": IdType.USCC,
        "id_number": "91440300MA5FXXXX0U",
        "legal_rep_name": "李法人",
        "legal_rep_id_type": IdType.RESIDENT_ID,
        "legal_rep_id_number": resident_id(serial=next(_seq)),
        "contact_person": "王联系",
    }
    data.update(values)
    return customer_make(org, **data)
