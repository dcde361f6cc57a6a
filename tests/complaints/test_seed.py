from __future__ import annotations

import pytest
from django.core.management import call_command

from backend.complaints.models import Complaint

pytestmark = pytest.mark.django_db


def test_demo_complaints_are_seeded_once(demo):
    call_command("seed_demo", "--with-complaints", stdout=open("/dev/null", "w"))
    call_command("seed_demo", "--with-complaints", stdout=open("/dev/null", "w"))
    assert Complaint.objects.count() == 3
    assert set(Complaint.objects.values_list("org_unit__code", flat=True)) == {"GD-SZ", "GD-GZ", "GD"}
    regulator = Complaint.objects.get(channel="regulator")
    assert regulator.regulator_ack_due_at is not None and regulator.process_instance_id
