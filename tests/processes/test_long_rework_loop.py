"""A case returned and resubmitted 1,000 times still works: no stall, no RecursionError, no
false "completed", and the stored state does not grow with the history."""

from __future__ import annotations

import os

import pytest

from backend.customers.models import Customer
from processes.models import ProcessInstance
from tasks.models import HumanTask
from tasks.services import task_complete

ROUNDS = int(os.environ.get("CUSTFLOW_LOOP_ROUNDS", "1000"))


@pytest.mark.django_db
def test_thousand_return_resubmit_rounds(submit, users):
    # An officer's own opening: each fix goes straight back to review (a collector's fix would
    # pass the officer's step first, issue 16 item 4).
    body = submit("advanced", as_user="officer.sz").json()
    reviewer, collector = users["reviewer.sz"], users["officer.sz"]
    customer = Customer.objects.get(pk=body["customer_id"])
    fields = {"name": customer.name, "id_type": customer.id_type, "id_number": customer.id_number, "phone": "13812345678"}
    sizes = []
    for round_no in range(ROUNDS):
        review = HumanTask.objects.get(status="ready", step="review")
        task_complete(actor=reviewer, task_id=review.pk, data={"decision": "return", "comment": f"第 {round_no} 轮"})
        fix = HumanTask.objects.get(status="ready", step="fix_submission")
        task_complete(actor=collector, task_id=fix.pk, data={**fields, "address": f"地址 {round_no}"})
        if round_no in (9, ROUNDS - 1):
            sizes.append(len(bytes(ProcessInstance.objects.get(pk=body["process_instance_id"]).state)))
    instance = ProcessInstance.objects.get(pk=body["process_instance_id"])
    assert instance.status == "running"
    review = HumanTask.objects.get(status="ready", step="review")
    task_complete(actor=reviewer, task_id=review.pk, data={"decision": "approve"})
    instance.refresh_from_db()
    customer = Customer.objects.get(pk=customer.pk)
    assert instance.status == "completed" and instance.end_event == "end_active"
    assert customer.status == "active" and customer.address == f"地址 {ROUNDS - 1}"
    assert HumanTask.objects.filter(step="review").count() == ROUNDS + 1
    # Compaction: the state after the last round is no bigger than after round 10 (+10%).
    assert sizes[-1] <= sizes[0] * 1.1 + 64, sizes
