"""退回, 撤回, 撤销, 委派, 加签/减签: each moves the case as it should, refuses what it must,
and leaves the engine, the task rows and the timers in agreement."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.customers.models import Customer, CustomerAmendment
from processes import runtime
from processes.models import ProcessInstance, Timer
from tasks.models import HumanTask, TaskSigner
from tests.conftest import inbox, officer_confirm

pytestmark = pytest.mark.django_db


def post(api, username, url, **data):
    return api(username).post(url, data, format="json")


def ready(instance_id):
    return list(HumanTask.objects.filter(instance_id=instance_id, status="ready"))


def assert_engine_rows_timers_agree(instance_id):
    """The engine's ready user tasks and waiting timers are exactly the READY rows and PENDING timers."""
    instance = ProcessInstance.objects.select_related("version").get(pk=instance_id)
    if instance.status != "running":
        assert not HumanTask.objects.filter(instance=instance, status="ready").exists()
        assert not Timer.objects.filter(instance=instance, status="pending").exists()
        return
    wf = runtime.engine().restore(runtime._version_spec(instance), bytes(instance.state))
    assert {t.id for t in wf.ready_user_tasks()} == set(HumanTask.objects.filter(instance=instance, status="ready").values_list("engine_task_id", flat=True))
    assert {t.id for t in wf.waiting_timers()} == set(Timer.objects.filter(instance=instance, status="pending").values_list("engine_task_id", flat=True))


@pytest.fixture
def opening(submit):
    body = submit("advanced").json()
    return body, HumanTask.objects.get(step="review", status="ready")


def returned_then_fixed(api, opening, confirm: bool = True):
    """review → 退回修改 (the form's return) → the collector resubmits → the officer confirms the
    changed data (issue 16 item 4; unless `confirm` is False: the officer's step is then ready)
    → review again."""
    body, task = opening
    assert post(api, "reviewer.sz", f"/api/tasks/{task.pk}/complete/", decision="return", comment="补充地址").status_code == 200
    fix = HumanTask.objects.get(step="fix_submission", status="ready")
    assert post(api, "collector.sz", f"/api/tasks/{fix.pk}/complete/", address="深圳市南山区 9 号", comment="已补充").status_code == 200
    if not confirm:
        return HumanTask.objects.get(step="officer_check", status="ready")
    officer_confirm(api, body["id"])
    return HumanTask.objects.get(step="review", status="ready")


# ---- 退回 ---------------------------------------------------------------------------------------


def test_return_to_the_collectors_earlier_step_resumes_there_with_the_comment(api, opening):
    body, _ = opening
    review = returned_then_fixed(api, opening)
    targets = api("reviewer.sz").get(f"/api/tasks/{review.pk}/return-targets/").json()
    # The officer's step is a return target too (issue 16 item 4), after the collector's fix.
    assert [t["step"] for t in targets] == ["fix_submission", "officer_check"]
    resp = post(api, "reviewer.sz", f"/api/tasks/{review.pk}/return/", target=targets[0]["task_id"], reason="扫描件不清晰")
    assert resp.status_code == 200, resp.content
    new = HumanTask.objects.get(pk=resp.json()["id"])
    assert (new.step, new.status, new.assignee.username) == ("fix_submission", "ready", "collector.sz")
    assert HumanTask.objects.get(pk=review.pk).status == "cancelled" and HumanTask.objects.get(pk=review.pk).outcome == "returned"
    assert Customer.objects.get(pk=body["customer_id"]).status == "returned"
    instance = ProcessInstance.objects.get(pk=review.instance_id)
    wf = runtime.engine().restore(runtime._version_spec(instance), bytes(instance.state))
    [ready_task] = wf.ready_user_tasks()
    assert ready_task.data["return_comment"] == "扫描件不清晰"
    assert_engine_rows_timers_agree(review.instance_id)
    # The case goes on normally from there: the officer confirms the resubmission, then review.
    assert post(api, "collector.sz", f"/api/tasks/{new.pk}/complete/", comment="已重新上传").status_code == 200
    officer_confirm(api, body["id"])
    again = HumanTask.objects.get(step="review", status="ready")
    assert post(api, "reviewer.sz", f"/api/tasks/{again.pk}/complete/", decision="approve").status_code == 200
    assert Customer.objects.get(pk=body["customer_id"]).status == "active"


def test_resuming_a_step_gives_its_timers_a_fresh_start(opening, monkeypatch):
    """The engine side of 退回/撤回: the restored step's deadline counts from the return."""
    from django.db import transaction

    _, review = opening
    first_due = Timer.objects.get(instance_id=review.instance_id, spec="review_deadline", status="pending").due_at
    later = timezone.now() + timedelta(hours=10)
    monkeypatch.setattr(runtime.timezone, "now", lambda: later)
    with transaction.atomic():
        instance = runtime.instance_lock(review.instance_id)
        runtime.instance_reset_to(instance=instance, state=bytes(review.state_snapshot), actor=None, step="review", data={"return_comment": "x"})
    [deadline] = Timer.objects.filter(instance_id=review.instance_id, spec="review_deadline", status="pending")
    assert abs((deadline.due_at - (later + timedelta(hours=48))).total_seconds()) < 2
    assert deadline.due_at - first_due > timedelta(hours=9)
    assert_engine_rows_timers_agree(review.instance_id)


def test_return_only_to_completed_steps_of_an_escalated_case(api, opening):
    body, review = opening
    # The city review times out: escalated to the province.
    with_due = Timer.objects.get(instance_id=review.instance_id, spec="review_deadline", status="pending").due_at
    from processes.sweep import timers_sweep

    timers_sweep(now=with_due + timedelta(seconds=1))
    province = HumanTask.objects.get(step="province_review", status="ready")
    # review never completed; the officer's step did (issue 16 item 4).
    assert [t["step"] for t in api("reviewer.gd").get(f"/api/tasks/{province.pk}/return-targets/").json()] == ["officer_check"]
    # Complete the city step on another case path: return from province is only to completed steps.
    resp = post(api, "reviewer.gd", f"/api/tasks/{province.pk}/return/", target=review.pk, reason="请市公司先审")
    assert resp.status_code == 400 and "target" in resp.json()
    assert_engine_rows_timers_agree(review.instance_id)


def test_return_refuses_what_it_must(api, opening):
    review = returned_then_fixed(api, opening)
    fix_done = HumanTask.objects.get(step="fix_submission", status="completed")
    assert post(api, "reviewer.sz", f"/api/tasks/{review.pk}/return/", target=fix_done.pk, reason="").status_code == 400
    assert post(api, "reviewer.sz", f"/api/tasks/{review.pk}/return/", target=review.pk, reason="x").status_code == 400
    assert post(api, "reviewer.sz", f"/api/tasks/{review.pk}/return/", target="abc", reason="x").status_code == 400
    assert post(api, "collector.sz", f"/api/tasks/{review.pk}/return/", target=fix_done.pk, reason="x").status_code == 403
    assert post(api, "reviewer.gz", f"/api/tasks/{review.pk}/return/", target=fix_done.pk, reason="x").status_code == 404
    assert HumanTask.objects.get(pk=review.pk).status == "ready"


# ---- 撤回 / 撤销 ---------------------------------------------------------------------------------


def test_withdraw_the_first_submission_ends_the_case_as_withdrawn(api, submit):
    # While the officer's step (issue 16 item 4) is untouched, the collector may take it back.
    body = submit("advanced", confirm_as=None).json()
    review = HumanTask.objects.get(step="officer_check", status="ready")
    assert post(api, "reviewer.sz", f"/api/cases/{review.instance_id}/withdraw/").status_code == 403
    resp = post(api, "collector.sz", f"/api/cases/{review.instance_id}/withdraw/", reason="资料有误")
    assert resp.status_code == 200 and resp.json()["status"] == "withdrawn"
    assert Customer.objects.get(pk=body["customer_id"]).status == "withdrawn"
    assert ProcessInstance.objects.get(pk=review.instance_id).status == "cancelled"
    assert HumanTask.objects.get(pk=review.pk).status == "cancelled"
    assert_engine_rows_timers_agree(review.instance_id)
    assert inbox(api("officer.sz")) == []


def test_withdraw_after_the_next_step_started_is_refused(api, submit):
    body = submit("advanced", confirm_as=None).json()
    review = HumanTask.objects.get(step="officer_check", status="ready")
    assert post(api, "officer.sz", f"/api/tasks/{review.pk}/claim/").status_code == 200
    resp = post(api, "collector.sz", f"/api/cases/{review.instance_id}/withdraw/")
    assert resp.status_code == 409 and resp.json()["code"] == "next_step_started"
    assert Customer.objects.get(pk=body["customer_id"]).status == "pending_review"


def test_withdraw_a_resubmission_returns_the_fix_step_to_the_collector(api, opening):
    body, _ = opening
    review = returned_then_fixed(api, opening, confirm=False)  # the officer has not started
    resp = post(api, "collector.sz", f"/api/cases/{review.instance_id}/withdraw/", reason="还要再改")
    assert resp.status_code == 200 and resp.json()["step"] == "fix_submission"
    task = HumanTask.objects.get(pk=resp.json()["task_id"])
    assert (task.status, task.assignee.username) == ("ready", "collector.sz")
    assert Customer.objects.get(pk=body["customer_id"]).status == "returned"
    assert_engine_rows_timers_agree(review.instance_id)


def test_cancel_an_amendment_by_its_requester_only(api, opening):
    body, review = opening
    assert post(api, "reviewer.sz", f"/api/tasks/{review.pk}/complete/", decision="approve").status_code == 200
    amendment = post(api, "collector.sz", f"/api/customers/{body['customer_id']}/amendments/", phone="13900009999", reason="更新").json()
    instance_id = amendment["process_instance_id"]
    assert post(api, "reviewer.sz", f"/api/cases/{instance_id}/cancel/", reason="x").status_code == 403
    assert post(api, "collector.sz", f"/api/cases/{instance_id}/cancel/", reason="").status_code == 400
    assert post(api, "collector.sz", f"/api/cases/{instance_id}/cancel/", reason="客户撤销申请").status_code == 200
    assert CustomerAmendment.objects.get(pk=amendment["id"]).status == "cancelled"
    assert post(api, "collector.sz", f"/api/cases/{instance_id}/cancel/", reason="again").status_code == 409
    assert_engine_rows_timers_agree(instance_id)


# ---- 委派 -----------------------------------------------------------------------------------------


def test_delegate_works_and_returns_to_the_delegator_to_confirm(api, opening):
    body, review = opening
    assert post(api, "reviewer.sz", f"/api/tasks/{review.pk}/delegate/", to="reviewer.sz", reason="x").status_code == 400
    assert post(api, "reviewer.sz", f"/api/tasks/{review.pk}/delegate/", to="collector.sz", reason="x").status_code == 400  # four eyes
    assert post(api, "reviewer.sz", f"/api/tasks/{review.pk}/delegate/", to="reviewer.gz", reason="x").status_code == 400  # out of scope
    # A delegate must hold the step's role in its org scope (control 5): an officer may not review.
    assert post(api, "reviewer.sz", f"/api/tasks/{review.pk}/delegate/", to="officer.sz", reason="x").status_code == 400
    resp = post(api, "reviewer.sz", f"/api/tasks/{review.pk}/delegate/", to="reviewer.gd", reason="请核实电话")
    assert resp.status_code == 200 and resp.json()["assignee"] == "reviewer.gd"
    assert post(api, "reviewer.gd", f"/api/tasks/{review.pk}/complete/", decision="approve", comment="电话已核实").status_code == 200
    task = HumanTask.objects.get(pk=review.pk)
    assert (task.status, task.assignee.username, task.delegate_result["comment"]) == ("ready", "reviewer.sz", "电话已核实")
    assert Customer.objects.get(pk=body["customer_id"]).status == "pending_review"
    assert post(api, "reviewer.sz", f"/api/tasks/{review.pk}/complete/", decision="approve", comment="同意").status_code == 200
    assert Customer.objects.get(pk=body["customer_id"]).status == "active"
    assert HumanTask.objects.get(pk=review.pk).completed_by.username == "reviewer.sz"


# ---- 加签 / 减签 -----------------------------------------------------------------------------------


def test_before_signer_must_sign_first(api, opening):
    body, review = opening
    resp = post(api, "reviewer.sz", f"/api/tasks/{review.pk}/signers/", user="reviewer.gd", position="before", reason="金额较大")
    assert resp.status_code == 201, resp.content
    assert [t["id"] for t in inbox(api("reviewer.gd"))] == [review.pk]
    resp = post(api, "reviewer.sz", f"/api/tasks/{review.pk}/complete/", decision="approve")
    assert resp.status_code == 409 and resp.json()["code"] == "signers_pending"
    assert post(api, "reviewer.gd", f"/api/tasks/{review.pk}/sign/", decision="approve", comment="同意").status_code == 200
    assert post(api, "reviewer.sz", f"/api/tasks/{review.pk}/complete/", decision="approve").status_code == 200
    assert Customer.objects.get(pk=body["customer_id"]).status == "active"


def test_after_signer_confirms_or_overturns_the_approval(api, submit):
    bodies = [submit("advanced").json() for _ in range(2)]
    reviews = list(HumanTask.objects.filter(step="review", status="ready").order_by("id"))
    for task in reviews:
        assert post(api, "reviewer.sz", f"/api/tasks/{task.pk}/signers/", user="reviewer.gd", position="after", reason="复核").status_code == 201
        assert post(api, "reviewer.sz", f"/api/tasks/{task.pk}/complete/", decision="approve").status_code == 200
        assert HumanTask.objects.get(pk=task.pk).outcome == "awaiting_signers"
    assert Customer.objects.get(pk=bodies[0]["customer_id"]).status == "pending_review"
    assert post(api, "reviewer.gd", f"/api/tasks/{reviews[0].pk}/sign/", decision="approve").status_code == 200
    assert post(api, "reviewer.gd", f"/api/tasks/{reviews[1].pk}/sign/", decision="reject").status_code == 400  # needs a comment
    assert post(api, "reviewer.gd", f"/api/tasks/{reviews[1].pk}/sign/", decision="reject", comment="证件存疑").status_code == 200
    assert Customer.objects.get(pk=bodies[0]["customer_id"]).status == "active"
    assert Customer.objects.get(pk=bodies[1]["customer_id"]).status == "rejected"
    for task in reviews:
        assert_engine_rows_timers_agree(task.instance_id)


def test_remove_an_added_signer(api, opening):
    body, review = opening
    signer = post(api, "reviewer.sz", f"/api/tasks/{review.pk}/signers/", user="reviewer.gd", position="before", reason="复核").json()
    assert post(api, "reviewer.gd", f"/api/tasks/{review.pk}/signers/{signer['id']}/remove/").status_code == 403
    assert post(api, "reviewer.sz", f"/api/tasks/{review.pk}/signers/{signer['id']}/remove/").status_code == 200
    assert TaskSigner.objects.get(pk=signer["id"]).status == "removed"
    assert post(api, "reviewer.gd", f"/api/tasks/{review.pk}/sign/", decision="approve").status_code == 403
    assert post(api, "reviewer.sz", f"/api/tasks/{review.pk}/complete/", decision="approve").status_code == 200
