"""Control 5: who may work or decide a task — one rule, called from every route.

`task_refusal(user, task)` answers why `user` may not work or decide `task` (None: they may):

- role and org scope: on an approval step, and for anyone *named* to a task (substitute,
  delegate, transferee, added signer), the user must hold the step's role at the step's org
  unit or at one of its ancestors (a province reviewer covers its cities); roles borrowed through
  a substitution do not count;
- four eyes, on approval steps: not the case's submitter, not anyone who did data work on the
  case (completed a non-approval step of it: collected, corrected, amended; or named by the
  case's domain as having gathered its data, `tasks.cases.case_data_work_register`: the
  collector of an opening an officer submitted for him), not anyone who
  approved an earlier step of the same case (as approver or as added signer).

Claim, complete, bulk, transfer, delegate, add signer, sign and naming a substitute all call it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, Q
from django.utils.translation import gettext as _

from backend.organisation.models import OrgUnit, Role
from backend.organisation.selectors import user_role_assignments
from tasks.cases import case_data_work_q
from tasks.models import HumanTask, SignerStatus, TaskSigner, TaskStatus

APPROVE = "approve"


@dataclass(frozen=True)
class Refusal:
    code: str
    reason: str


def _display(user) -> str:
    return user.get_full_name() or user.username


def _role_label(role: str) -> str:
    return str(Role(role).label) if role in Role.values else role


def holds_role_in_scope(user, role: str, org_unit: OrgUnit) -> bool:
    """The user's own assignment of `role` at `org_unit` or at an ancestor of it."""
    return any(
        ra.role == role and org_unit.path.startswith(ra.org_unit.path) for ra in user_role_assignments(user)
    )


def _same_case_q(task: HumanTask) -> Q:
    q = Q(instance_id=task.instance_id)
    if task.case_id is not None and task.case_type:
        q |= Q(case_type=task.case_type, case_id=task.case_id)
    return q


def _four_eyes_refusal(user, task: HumanTask) -> Refusal | None:
    if task.initiator_id is not None and task.initiator_id == user.pk:
        return Refusal(
            "four_eyes", _("四眼原则:%(user)s 是该业务的提交人,不能审批") % {"user": _display(user)}
        )
    # One statement for the three questions (P1: the step's hot path asks this twice).

    done = HumanTask.objects.filter(_same_case_q(task), status=TaskStatus.COMPLETED, completed_by=user).exclude(pk=task.pk)
    signed = TaskSigner.objects.filter(user=user, status=SignerStatus.APPROVED).filter(
        task__in=HumanTask.objects.filter(_same_case_q(task)).exclude(step=task.step)
    )
    flags = (
        HumanTask.objects.filter(pk=task.pk)
        .annotate(
            data_work=Exists(done.filter(four_eyes=False))
            # the case's domain names him as having gathered its data (the collector of an opening)
            | Exists(HumanTask.objects.filter(pk=task.pk).filter(case_data_work_q(user))),
            approved_before=Exists(done.filter(four_eyes=True, outcome=APPROVE).exclude(step=task.step)),
            signed_before=Exists(signed),
        )
        .values_list("data_work", "approved_before", "signed_before")
        .first()
    )
    data_work, approved_before, signed_before = flags or (False, False, False)
    if data_work:
        return Refusal(
            "four_eyes", _("四眼原则:%(user)s 录入或修改过该业务的资料,不能审批") % {"user": _display(user)}
        )
    if approved_before or signed_before:
        return Refusal(
            "four_eyes",
            _("四眼原则:%(user)s 已审批过该业务的前一环节,不能再次审批") % {"user": _display(user)},
        )
    return None


def task_refusal(user, task: HumanTask, *, named: bool = False) -> Refusal | None:
    """Why `user` may not work or decide `task` (None: they may). `named`: the user is being
    named to the task by someone else (substitute, delegate, transferee, signer)."""
    if (task.four_eyes or named) and not holds_role_in_scope(user, task.role, task.org_unit):
        return Refusal(
            "not_eligible",
            _("%(user)s 在%(unit)s及其上级机构没有“%(role)s”岗位,不能办理此步骤")
            % {"user": _display(user), "unit": task.org_unit.name, "role": _role_label(task.role)},
        )
    if task.four_eyes:
        return _four_eyes_refusal(user, task)
    return None


def substitute_refusal(user, substitute) -> str | None:
    """Why `substitute` may not stand in for `user`: every role the absent user holds, at its
    org unit, must be held by the substitute there or above (else he could be given steps he
    may not work). Four eyes is decided per task when one would route to him."""
    for ra in user_role_assignments(user):
        if not holds_role_in_scope(substitute, ra.role, ra.org_unit):
            return _("代理人 %(user)s 在%(unit)s及其上级机构没有“%(role)s”岗位,不能代理此岗位的工作") % {
                "user": _display(substitute),
                "unit": ra.org_unit.name,
                "role": _role_label(ra.role),
            }
    return None
