from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import DateTimeField, Exists, OuterRef, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.audit import audit_batch, audit_event_record
from backend.common.exceptions import Conflict, Forbidden, ValidationFailed
from forms.validation import form_data_validate
from processes import runtime
from processes.services import instance_form, step_failure_record
from tasks.cases import case_recusal_reason
from tasks.delegation import delegate_finish, pending_signers
from tasks.eligibility import task_refusal
from tasks.models import HumanTask, SignerStatus, TaskSigner, TaskStatus
from tasks.selectors import task_get_visible, user_is_candidate
from tasks.store import tasks_made_are_returns


@dataclass(frozen=True)
class FormContext:
    """What a domain form validator may look at."""

    task: HumanTask
    actor: Any


def _check_may_act(actor, task: HumanTask) -> None:
    if task.status != TaskStatus.READY:
        raise Conflict(_("任务已处理,不能重复操作"), code="task_not_ready")
    if task.four_eyes and task.initiator_id == actor.pk:
        raise Forbidden(_("四眼原则:不能审核自己提交的业务"), code="four_eyes")
    if task.assignee_id is not None and task.assignee_id != actor.pk:
        raise Conflict(_("任务已被 %(user)s 认领") % {"user": task.assignee.get_full_name() or task.assignee.username}, code="task_claimed")
    if not user_is_candidate(actor, task):
        raise Forbidden(_("您不是该任务的处理人"), code="not_candidate")
    recusal_check(actor, task)
    eligibility_check(actor, task)


def eligibility_check(user, task: HumanTask, field: str | None = None) -> None:
    """Control 5 (tasks/eligibility.py): role and org scope of the step, four eyes. The actor
    gets 403; a user being named to the task (`field`) gets 400 on that field."""

    refusal = task_refusal(user, task, named=field is not None)
    if refusal is None:
        return
    if field:
        raise ValidationFailed.field(field, refusal.reason, code=refusal.code)
    raise Forbidden(refusal.reason, code=refusal.code)


def recusal_check(user, task: HumanTask, field: str | None = None) -> None:
    """回避: a user with an interest in the case may not work it (403), nor be given it (400 on
    `field`)."""

    reason = case_recusal_reason(user=user, case_type=task.case_type, case_id=task.case_id)
    if reason is None:
        return
    if field:
        raise ValidationFailed.field(field, _("%(user)s 须回避:%(reason)s") % {"user": user.get_full_name() or user.username, "reason": reason}, code="recused")
    raise Forbidden(_("您须回避此案件:%(reason)s") % {"reason": reason}, code="recused")


@transaction.atomic
def task_claim(*, actor, task_id) -> HumanTask:
    task = task_get_visible(user=actor, task_id=task_id)
    if task.assignee_id == actor.pk and task.status == TaskStatus.READY:
        return task
    _check_may_act(actor, task)
    now = timezone.now()
    updated = HumanTask.objects.filter(pk=task.pk, status=TaskStatus.READY, assignee__isnull=True).update(assignee=actor, claimed_at=now)
    if not updated:
        raise Conflict(_("任务已被他人认领或已处理"), code="task_claimed")
    task.refresh_from_db()
    audit_event_record(actor=actor, action="task.claimed", obj=task, org_unit=task.org_unit, process_instance_id=task.instance_id, task_id=task.pk)
    return task


@transaction.atomic
def task_unclaim(*, actor, task_id) -> HumanTask:
    task = task_get_visible(user=actor, task_id=task_id)
    if task.status != TaskStatus.READY:
        raise Conflict(_("任务已处理,不能重复操作"), code="task_not_ready")
    if task.assignee_id != actor.pk or task.lane == "collector":
        raise Forbidden(_("只能释放自己认领的任务"), code="not_assignee")
    HumanTask.objects.filter(pk=task.pk, assignee=actor, status=TaskStatus.READY).update(assignee=None, claimed_at=None)
    task.refresh_from_db()
    audit_event_record(actor=actor, action="task.unclaimed", obj=task, org_unit=task.org_unit, process_instance_id=task.instance_id, task_id=task.pk)
    return task


def task_complete(*, actor, task_id, data: Any) -> HumanTask:
    """Validate the form, then in ONE transaction: lock the instance, re-check the task, mark
    it done, complete it in the engine, run, save state, task rows, timers and audit.

    A delegated task's submission goes back to the delegator instead (委派); pending
    before-signers must sign first, and an approval with pending after-signers waits for them
    (加签)."""
    task = task_get_visible(user=actor, task_id=task_id)
    _check_may_act(actor, task)
    cleaned = form_data_validate(task.form_key, data, FormContext(task=task, actor=actor), form=instance_form(task.instance_id, task.form_key))
    try:
        with transaction.atomic(), audit_batch():
            instance = runtime.instance_lock(task.instance_id)
            # Whether any signer is pending comes with the row: most steps have none (P1).
            task = (
                HumanTask.objects.select_related("org_unit", "assignee", "delegated_by")
                .annotate(signers_pending=Exists(TaskSigner.objects.filter(task=OuterRef("pk"), status=SignerStatus.PENDING)))
                .get(pk=task.pk)
            )
            _check_may_act(actor, task)
            if task.delegated_by_id and task.assignee_id == actor.pk:
                return delegate_finish(actor=actor, task=task, cleaned=cleaned)
            before = pending_signers(task, "before") if task.signers_pending else []
            if before:
                names = "、".join(s.user.get_full_name() or s.user.username for s in before)
                raise Conflict(_("须先由加签人 %(names)s 审核") % {"names": names}, code="signers_pending")
            if cleaned.get("decision") == "approve" and task.signers_pending and pending_signers(task, "after") and task.outcome != "awaiting_signers":
                now = timezone.now()
                HumanTask.objects.filter(pk=task.pk, status=TaskStatus.READY).update(
                    assignee=actor, claimed_at=Coalesce("claimed_at", Value(now, output_field=DateTimeField())), outcome="awaiting_signers", result=cleaned
                )
                task.assignee, task.outcome, task.result = actor, "awaiting_signers", cleaned
                audit_event_record(
                    actor=actor, action="task.approved_pending_signers", obj=task, org_unit=task.org_unit, process_instance_id=instance.pk, task_id=task.pk,
                    data={"step": task.step, "comment": cleaned.get("comment", "")},
                )
                return task
            engine_complete(actor=actor, task=task, instance=instance, cleaned=cleaned)
    except runtime.ProcessRunError as exc:
        # The diagram failed (a script, a killed or crashed script worker): the step rolled back;
        # the incident on the instance says why.
        step_failure_record(instance_id=task.instance_id, error=exc)
        raise
    return task


def engine_complete(*, actor, task: HumanTask, instance, cleaned: dict) -> HumanTask:
    """Mark the task done (one conditional UPDATE under the instance lock), audit, and complete
    it in the engine. The caller holds the transaction and the instance lock."""
    now = timezone.now()
    outcome = str(cleaned.get("decision", "completed"))[:32]
    # A concurrent completion, claim or escalation that got here first leaves nothing to
    # update (→ 409).
    updated = (
        HumanTask.objects.filter(pk=task.pk, status=TaskStatus.READY)
        .filter(Q(assignee__isnull=True) | Q(assignee=actor))
        .update(
            status=TaskStatus.COMPLETED,
            assignee=actor,
            claimed_at=Coalesce("claimed_at", Value(now, output_field=DateTimeField())),
            completed_at=now,
            completed_by=actor,
            outcome=outcome,
            result=cleaned,
        )
    )
    if not updated:
        _check_may_act(actor, HumanTask.objects.select_related("assignee").get(pk=task.pk))
        raise Conflict(_("任务已处理,不能重复操作"), code="task_not_ready")
    task.status, task.assignee, task.completed_at, task.completed_by = TaskStatus.COMPLETED, actor, now, actor
    task.claimed_at, task.outcome, task.result = task.claimed_at or now, outcome, cleaned
    audit_event_record(
        actor=actor,
        action="task.completed",
        obj=task,
        org_unit=task.org_unit,
        process_instance_id=instance.pk,
        task_id=task.pk,
        data={"step": task.step, "name": task.name, "outcome": outcome, "comment": cleaned.get("comment", "")},
    )
    # 退回修改: the task the step makes is announced as a return, with the comment.
    returned = tasks_made_are_returns(actor=actor, reason=str(cleaned.get("comment", ""))) if outcome == "return" else nullcontext()
    with returned:
        runtime.instance_step(instance=instance, actor=actor, act=lambda wf: wf.complete_user_task(task.engine_task_id, cleaned))
    return task
