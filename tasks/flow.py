"""Inbox actions that move the case: 退回 return, 撤回 withdraw, 撤销 cancel, 委派 delegate,
加签/减签 add or remove a signer.

Return and withdraw resume the engine from the state saved when the target step became ready
(its data as it then was, plus the comment), so the engine, the task rows and the timers agree
afterwards; the domain app of the process may register a hook that moves its own state (an
opening goes back to 退回修改). Delegation and signers change task rows only: the engine does
not know who works a task.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.audit import audit_batch, audit_event_record
from backend.common.exceptions import Conflict, Forbidden, NotFound, ValidationFailed
from backend.organisation.selectors import scope_filter, user_can_see_org_unit
from processes import runtime
from processes.models import InstanceStatus, ProcessInstance
from processes.types import process_type_get
from tasks.actions import _display, _reason
from tasks.delegation import pending_signers
from tasks.models import (
    HumanTask,
    Notification,
    NotificationKind,
    SignerPosition,
    SignerStatus,
    TaskSigner,
    TaskStatus,
)
from tasks.notifications import notifications_create
from tasks.selectors import task_get_visible, user_is_candidate
from tasks.services import _check_may_act, eligibility_check, engine_complete, recusal_check
from tasks.store import tasks_made_are_returns


def _return_hook(process_key: str) -> Callable[..., None] | None:
    """The domain's side of a return: the process type's `on_return` (processes/types.py)."""
    return getattr(process_type_get(process_key), "on_return", None)


def _cancel_hook(process_key: str) -> Callable[..., None] | None:
    """The domain's side of a cancel; declaring `on_cancel` is how a process type allows 撤销."""
    return getattr(process_type_get(process_key), "on_cancel", None)


def process_allows_cancel(process_key: str) -> bool:
    return _cancel_hook(process_key) is not None


def _notify(user, kind: str, task: HumanTask, message: str) -> None:
    notifications_create([Notification(user=user, kind=kind, task=task, created_at=timezone.now(), message=message[:300])])


# ---- 退回 ---------------------------------------------------------------------------------------


def task_return_targets(*, task: HumanTask) -> list[HumanTask]:
    """Earlier completed user steps of the case the task may be returned to (latest per step)."""
    done = (
        HumanTask.objects.filter(instance_id=task.instance_id, status=TaskStatus.COMPLETED, created_at__lte=task.created_at)
        .exclude(step=task.step)
        .exclude(state_snapshot__isnull=True)
        .select_related("completed_by")
        .order_by("-completed_at", "-id")
    )
    latest: dict[str, HumanTask] = {}
    for row in done:
        latest.setdefault(row.step, row)
    return sorted(latest.values(), key=lambda r: (r.created_at, r.pk))


def _resume_from(*, actor, instance: ProcessInstance, target: HumanTask, reason: str, outcome: str) -> HumanTask:
    """Under the instance lock: close the open tasks as `outcome`, let the domain follow, and
    resume the engine from the state saved when `target` became ready."""
    HumanTask.objects.filter(instance=instance, status=TaskStatus.READY).update(outcome=outcome)
    hook = _return_hook(instance.version.definition.key)
    if hook is not None:
        hook(actor=actor, instance=instance, step=target.step, reason=reason)
    runtime.instance_reset_to(
        instance=instance,
        state=bytes(target.state_snapshot),
        actor=actor,
        step=target.step,
        data={"return_comment": reason, "returned_by": actor.username},
    )
    new = HumanTask.objects.filter(instance=instance, status=TaskStatus.READY, step=target.step).order_by("-id").first()
    if new is None:
        raise Conflict(_("退回失败:目标步骤没有恢复"), code="return_failed")
    # The step goes back to whoever did it, if they may still work it.
    previous = target.completed_by
    if previous is not None and new.assignee_id is None and user_is_candidate(previous, new) and not (new.four_eyes and new.initiator_id == previous.pk):
        HumanTask.objects.filter(pk=new.pk).update(assignee=previous, claimed_at=timezone.now())
        new.assignee = previous
    return new


def task_return(*, actor, task_id, target_task_id: Any, reason: object) -> HumanTask:
    """退回: send the case back to an earlier completed step, chosen from the return targets."""
    task = task_get_visible(user=actor, task_id=task_id)
    _check_may_act(actor, task)
    text = _reason(reason)
    try:
        target_pk = int(target_task_id)
    except (TypeError, ValueError):
        raise ValidationFailed.field("target", _("请选择要退回到的步骤")) from None
    target = next((t for t in task_return_targets(task=task) if t.pk == target_pk), None)
    if target is None:
        raise ValidationFailed.field("target", _("只能退回到本业务之前已办理过的步骤"), code="invalid_return_target")
    with transaction.atomic(), audit_batch():
        instance = runtime.instance_lock(task.instance_id)
        if not HumanTask.objects.filter(pk=task.pk, status=TaskStatus.READY).exists():
            raise Conflict(_("任务状态已变化,请刷新后重试"), code="task_changed")
        with tasks_made_are_returns(actor=actor, reason=text):  # one 退回 notice, not also a 新任务
            new = _resume_from(actor=actor, instance=instance, target=target, reason=text, outcome="returned")
        audit_event_record(
            actor=actor, action="task.returned", obj=task, org_unit=task.org_unit, process_instance_id=instance.pk, task_id=task.pk,
            data={"from": task.step, "to": target.step, "to_task": new.pk, "reason": text},
        )
    return new


# ---- 撤回 and 撤销 --------------------------------------------------------------------------------


def case_get_visible(*, user, instance_id: Any) -> ProcessInstance:
    try:
        pk = int(instance_id)
    except (TypeError, ValueError):
        raise NotFound(_("业务不存在"), code="case_not_found") from None
    instance = scope_filter(ProcessInstance.objects.select_related("version__definition", "org_unit"), user).filter(pk=pk).first()
    if instance is None:
        raise NotFound(_("业务不存在"), code="case_not_found")
    return instance


def instance_end(*, actor, instance: ProcessInstance, reason: str, outcome: str) -> None:
    """End a LOCKED running instance here: its timers stop and its open tasks are cancelled
    with `outcome` (a domain service decided the case is over, e.g. a complaint withdrawn)."""
    runtime.instance_cancel(instance=instance, actor=actor)
    now = timezone.now()
    for row in HumanTask.objects.filter(instance=instance, status=TaskStatus.READY):
        HumanTask.objects.filter(pk=row.pk).update(status=TaskStatus.CANCELLED, completed_at=now, outcome=outcome)
        audit_event_record(actor=actor, action="task.cancelled", obj=row, org_unit=row.org_unit, process_instance_id=instance.pk, task_id=row.pk, data={"step": row.step, "reason": reason})


def _cancel(*, actor, instance: ProcessInstance, reason: str, withdrawn: bool) -> None:
    key = instance.version.definition.key
    hook = _cancel_hook(key)
    if hook is None:
        raise Conflict(_("该流程不允许撤销"), code="cancel_not_allowed")
    instance_end(actor=actor, instance=instance, reason=reason, outcome="withdrawn" if withdrawn else "case_cancelled")
    hook(actor=actor, instance=instance, reason=reason, withdrawn=withdrawn)


def case_cancel(*, actor, instance_id: Any, reason: object) -> ProcessInstance:
    """撤销: the initiator ends the whole case with a reason, where the process allows it."""
    instance = case_get_visible(user=actor, instance_id=instance_id)
    if instance.started_by_id != actor.pk:
        raise Forbidden(_("只有业务的发起人可以撤销"), code="not_initiator")
    text = _reason(reason)
    with transaction.atomic(), audit_batch():
        instance = runtime.instance_lock(instance.pk)
        if instance.status != InstanceStatus.RUNNING:
            raise Conflict(_("业务已办结,不能撤销"), code="case_closed")
        _cancel(actor=actor, instance=instance, reason=text, withdrawn=False)
        audit_event_record(actor=actor, action="case.cancelled", obj=instance, org_unit=instance.org_unit, process_instance_id=instance.pk, data={"reason": text})
    return instance


def case_withdraw(*, actor, instance_id: Any, reason: object = "") -> dict[str, Any]:
    """撤回: the initiator takes the last submission back while the next step is untouched —
    back to their own step if they submitted from one, else the case ends as withdrawn."""
    instance = case_get_visible(user=actor, instance_id=instance_id)
    if instance.started_by_id != actor.pk:
        raise Forbidden(_("只有业务的发起人可以撤回"), code="not_initiator")
    text = _reason(reason, required=False) or _("发起人撤回")
    with transaction.atomic(), audit_batch():
        instance = runtime.instance_lock(instance.pk)
        if instance.status != InstanceStatus.RUNNING:
            raise Conflict(_("业务已办结,不能撤回"), code="case_closed")
        open_rows = list(HumanTask.objects.filter(instance=instance, status=TaskStatus.READY))
        if any(r.assignee_id == actor.pk for r in open_rows):
            raise Conflict(_("当前步骤在您手中,无需撤回"), code="nothing_to_withdraw")
        if any(r.assignee_id is not None or r.signers.exists() or r.comments.exists() for r in open_rows):
            raise Conflict(_("下一步已有人办理,不能撤回"), code="next_step_started")
        last = HumanTask.objects.filter(instance=instance, status=TaskStatus.COMPLETED).order_by("-completed_at", "-id").first()
        if last is not None and last.completed_by_id != actor.pk:
            raise Conflict(_("下一步已有人办理,不能撤回"), code="next_step_started")
        if last is not None and last.state_snapshot is not None:
            new = _resume_from(actor=actor, instance=instance, target=last, reason=text, outcome="withdrawn")
            audit_event_record(actor=actor, action="case.withdrawn", obj=instance, org_unit=instance.org_unit, process_instance_id=instance.pk, data={"to": last.step, "reason": text})
            return {"status": "returned_to_initiator", "task_id": new.pk, "step": new.step}
        _cancel(actor=actor, instance=instance, reason=text, withdrawn=True)
        audit_event_record(actor=actor, action="case.withdrawn", obj=instance, org_unit=instance.org_unit, process_instance_id=instance.pk, data={"reason": text})
    return {"status": "withdrawn", "task_id": None, "step": None}


# ---- 委派 -----------------------------------------------------------------------------------------


def _target_user(username: object, field: str = "to"):
    target = get_user_model().objects.filter(username=str(username or "").strip(), is_active=True).first()
    if target is None:
        raise ValidationFailed.field(field, _("用户不存在或已停用"))
    return target


@transaction.atomic
def task_delegate(*, actor, task_id, to_username: object, reason: object) -> HumanTask:
    """委派: the delegate does the work; it then comes back to the delegator to confirm."""
    task = task_get_visible(user=actor, task_id=task_id)
    _check_may_act(actor, task)
    if task.delegated_by_id:
        raise Conflict(_("任务已在委派中"), code="already_delegated")
    text = _reason(reason)
    target = _target_user(to_username)
    if target.pk == actor.pk:
        raise ValidationFailed.field("to", _("不能委派给自己"), code="delegate_to_self")
    if task.four_eyes and target.pk == task.initiator_id:
        raise ValidationFailed.field("to", _("四眼原则:不能委派给业务的提交人"), code="four_eyes")
    if not user_can_see_org_unit(target, task.org_unit):
        raise ValidationFailed.field("to", _("%(user)s 无权查看%(unit)s的业务") % {"user": _display(target), "unit": task.org_unit.name})
    recusal_check(target, task, field="to")
    eligibility_check(target, task, field="to")
    now = timezone.now()
    updated = HumanTask.objects.filter(pk=task.pk, status=TaskStatus.READY, assignee_id=task.assignee_id).update(
        assignee=target, delegated_by=actor, claimed_at=now
    )
    if not updated:
        raise Conflict(_("任务状态已变化,请刷新后重试"), code="task_changed")
    task.assignee, task.delegated_by = target, actor
    audit_event_record(actor=actor, action="task.delegated", obj=task, org_unit=task.org_unit, process_instance_id=task.instance_id, task_id=task.pk, data={"to": target.username, "reason": text})
    _notify(target, NotificationKind.DELEGATE, task, _("%(user)s 将任务“%(name)s”委派给您:%(reason)s") % {"user": _display(actor), "name": task.name, "reason": text})
    return task


# ---- 加签 / 减签 -----------------------------------------------------------------------------------


@transaction.atomic
def task_signer_add(*, actor, task_id, username: object, position: object, reason: object) -> TaskSigner:
    """加签: an extra approver on this case only, before (signs first) or after the approver."""
    task = task_get_visible(user=actor, task_id=task_id)
    _check_may_act(actor, task)
    if not task.four_eyes:
        raise ValidationFailed.field("position", _("只有审批步骤可以加签"), code="not_an_approval")
    if position not in SignerPosition.values:
        raise ValidationFailed.field("position", _("加签位置无效,可选: before, after"))
    text = _reason(reason)
    target = _target_user(username, "user")
    if target.pk == actor.pk:
        raise ValidationFailed.field("user", _("不能给自己加签"))
    if target.pk == task.initiator_id:
        raise ValidationFailed.field("user", _("四眼原则:不能加签业务的提交人"), code="four_eyes")
    if not user_can_see_org_unit(target, task.org_unit):
        raise ValidationFailed.field("user", _("%(user)s 无权查看%(unit)s的业务") % {"user": _display(target), "unit": task.org_unit.name})
    recusal_check(target, task, field="user")
    eligibility_check(target, task, field="user")
    if task.signers.filter(user=target, status=SignerStatus.PENDING).exists():
        raise ValidationFailed.field("user", _("%(user)s 已是待审核的加签人") % {"user": _display(target)})
    signer = TaskSigner.objects.create(task=task, user=target, position=position, added_by=actor, reason=text, created_at=timezone.now())
    # Claiming keeps the approver's place while the signer works.
    HumanTask.objects.filter(pk=task.pk, assignee__isnull=True).update(assignee=actor, claimed_at=timezone.now())
    audit_event_record(actor=actor, action="task.signer_added", obj=task, org_unit=task.org_unit, process_instance_id=task.instance_id, task_id=task.pk, data={"user": target.username, "position": position, "reason": text})
    _notify(target, NotificationKind.SIGN, task, _("%(user)s 邀请您加签审核“%(name)s”:%(reason)s") % {"user": _display(actor), "name": task.name, "reason": text})
    return signer


@transaction.atomic
def task_signer_remove(*, actor, task_id, signer_id: Any) -> TaskSigner:
    """减签: the approver who added a signer removes them before they have signed."""
    task = task_get_visible(user=actor, task_id=task_id)
    signer = TaskSigner.objects.select_for_update().filter(task=task, pk=signer_id if str(signer_id).isdigit() else 0).first()
    if signer is None:
        raise NotFound(_("加签人不存在"), code="signer_not_found")
    if signer.added_by_id != actor.pk:
        raise Forbidden(_("只有加签的审批人可以减签"), code="not_signer_owner")
    if signer.status != SignerStatus.PENDING:
        raise Conflict(_("加签人已审核,不能减签"), code="signer_done")
    signer.status, signer.decided_at = SignerStatus.REMOVED, timezone.now()
    signer.save(update_fields=["status", "decided_at"])
    audit_event_record(actor=actor, action="task.signer_removed", obj=task, org_unit=task.org_unit, process_instance_id=task.instance_id, task_id=task.pk, data={"user": signer.user.username})
    return signer


def task_signer_decide(*, actor, task_id, decision: object, comment: object = "") -> TaskSigner:
    """A signer's opinion. Before-signers advise the approver; after-signers confirm the
    approver's approval — a 不同意 from one of them turns the decision into a rejection."""
    task = task_get_visible(user=actor, task_id=task_id)
    if decision not in ("approve", "reject"):
        raise ValidationFailed.field("decision", _("审核结论无效,可选: approve, reject"))
    text = _reason(comment, "comment", required=decision == "reject")
    with transaction.atomic(), audit_batch():
        instance = runtime.instance_lock(task.instance_id)
        task = HumanTask.objects.select_related("org_unit", "assignee").get(pk=task.pk)
        signer = TaskSigner.objects.select_for_update().filter(task=task, user=actor, status=SignerStatus.PENDING).first()
        if signer is None or task.status != TaskStatus.READY:
            raise Forbidden(_("您不是该任务待审核的加签人"), code="not_signer")
        eligibility_check(actor, task)  # roles may have changed since the signer was added
        if signer.position == SignerPosition.AFTER and task.outcome != "awaiting_signers":
            raise Conflict(_("审批人尚未作出结论,后加签人请稍后审核"), code="approver_first")
        signer.status = SignerStatus.APPROVED if decision == "approve" else SignerStatus.REJECTED
        signer.comment, signer.decided_at = text, timezone.now()
        signer.save(update_fields=["status", "comment", "decided_at"])
        audit_event_record(actor=actor, action="task.signed", obj=task, org_unit=task.org_unit, process_instance_id=instance.pk, task_id=task.pk, data={"decision": decision, "comment": text, "position": signer.position})
        if task.assignee_id:
            _notify(task.assignee, NotificationKind.SIGN, task, _("加签人 %(user)s 已审核“%(name)s”:%(decision)s") % {"user": _display(actor), "name": task.name, "decision": _("同意") if decision == "approve" else _("不同意")})
        if signer.position == SignerPosition.AFTER:
            if decision == "reject":
                data = {**task.result, "decision": "reject", "comment": text}
                engine_complete(actor=task.assignee, task=task, instance=instance, cleaned=data)
            elif not pending_signers(task, SignerPosition.AFTER):
                engine_complete(actor=task.assignee, task=task, instance=instance, cleaned=dict(task.result))
    return signer
