"""Inbox actions beyond claim/complete: 转办 transfer and 催办 remind.

Each is permission-checked, audited and changes task rows only (the engine's state does not
know who works a task), so the engine, the task rows and the timers stay in step.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.audit import audit_event_record
from backend.common.exceptions import Conflict, Forbidden, TooManyRequests, ValidationFailed
from backend.organisation.selectors import user_can_see_org_unit, user_has_role
from forms.validation import control_character_fields
from tasks.models import CaseCopy, HumanTask, Notification, NotificationKind, TaskStatus
from tasks.notifications import notifications_create
from tasks.selectors import task_candidates, task_get_visible, user_is_candidate
from tasks.services import eligibility_check, recusal_check

MAX_REASON = 500


def _reason(value: object, field: str = "reason", required: bool = True) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ValidationFailed.field(field, _("请填写原因"))
    if len(text) > MAX_REASON or control_character_fields(text):
        raise ValidationFailed.field(field, _("原因不能超过 %(n)d 个字符,且不能包含控制字符") % {"n": MAX_REASON})
    return text


def _display(user) -> str:
    return user.get_full_name() or user.username


@transaction.atomic
def task_transfer(*, actor, task_id, to_username: object, reason: object) -> HumanTask:
    """转办: hand a ready task to another user who may work it, with a reason."""
    task = task_get_visible(user=actor, task_id=task_id)
    if task.status != TaskStatus.READY:
        raise Conflict(_("任务已处理,不能转办"), code="task_not_ready")
    if task.assignee_id not in (None, actor.pk):
        raise Conflict(_("任务已被 %(user)s 认领,只有认领人可以转办") % {"user": _display(task.assignee)}, code="task_claimed")
    if task.four_eyes and task.initiator_id == actor.pk:
        raise Forbidden(_("四眼原则:不能处理自己提交的业务"), code="four_eyes")
    if not user_is_candidate(actor, task):
        raise Forbidden(_("您不是该任务的处理人,不能转办"), code="not_candidate")
    text = _reason(reason)
    target = get_user_model().objects.filter(username=str(to_username or "").strip(), is_active=True).first()
    if target is None:
        raise ValidationFailed.field("to", _("用户不存在或已停用"))
    if target.pk == actor.pk:
        raise ValidationFailed.field("to", _("不能转办给自己"))
    if task.four_eyes and target.pk == task.initiator_id:
        raise ValidationFailed.field("to", _("四眼原则:不能转办给业务的提交人"), code="four_eyes")
    if not user_has_role(target, task.role, task.org_unit):
        raise ValidationFailed.field("to", _("%(user)s 在%(unit)s没有处理此任务的岗位") % {"user": _display(target), "unit": task.org_unit.name})
    recusal_check(target, task, field="to")
    eligibility_check(target, task, field="to")
    now = timezone.now()
    updated = HumanTask.objects.filter(pk=task.pk, status=TaskStatus.READY, assignee_id=task.assignee_id).update(assignee=target, claimed_at=now)
    if not updated:
        raise Conflict(_("任务状态已变化,请刷新后重试"), code="task_changed")
    previous = task.assignee.username if task.assignee_id else None
    task.assignee, task.claimed_at = target, now
    audit_event_record(
        actor=actor, action="task.transferred", obj=task, org_unit=task.org_unit, process_instance_id=task.instance_id, task_id=task.pk,
        data={"from": previous, "to": target.username, "reason": text},
    )
    notifications_create([Notification(
        user=target, kind=NotificationKind.TRANSFER, task=task, created_at=now,
        message=(_("%(user)s 将任务“%(name)s”转办给您:%(reason)s") % {"user": _display(actor), "name": task.name, "reason": text})[:300],
    )])
    return task


@transaction.atomic
def task_remind(*, actor, task_id, message: object = "") -> list[str]:
    """催办: remind whoever holds the task, at most once per interval. Returns the recipients."""
    task = task_get_visible(user=actor, task_id=task_id)
    if task.status != TaskStatus.READY:
        raise Conflict(_("任务已处理,无需催办"), code="task_not_ready")
    if task.assignee_id == actor.pk:
        raise ValidationFailed.field("task", _("不能催办自己的任务"))
    text = _reason(message, field="message", required=False)
    interval = timedelta(minutes=settings.CUSTFLOW["REMIND_MIN_INTERVAL_MINUTES"])
    now = timezone.now()
    HumanTask.objects.select_for_update().filter(pk=task.pk).first()  # one reminder decision at a time
    if Notification.objects.filter(task=task, kind=NotificationKind.REMINDER, created_at__gt=now - interval).exists():
        raise TooManyRequests(_("催办过于频繁:同一任务 %(n)d 分钟内只能催办一次") % {"n": int(interval.total_seconds() // 60)}, code="remind_rate_limited")
    recipients = [u for u in task_candidates(task) if u.pk != actor.pk]
    if not recipients:
        raise ValidationFailed.field("task", _("没有其他可以通知的处理人,催办未发出"), code="nobody_to_remind")
    body = _("%(user)s 催办任务“%(name)s”") % {"user": _display(actor), "name": task.name}
    if text:
        body = f"{body}:{text}"
    notifications_create([Notification(user=u, kind=NotificationKind.REMINDER, task=task, message=body[:300], created_at=now) for u in recipients])
    audit_event_record(
        actor=actor, action="task.reminded", obj=task, org_unit=task.org_unit, process_instance_id=task.instance_id, task_id=task.pk,
        data={"to": [u.username for u in recipients], "message": text},
    )
    return [u.username for u in recipients]


MAX_COPY_RECIPIENTS = 20


@transaction.atomic
def task_copy(*, actor, task_id, to_usernames: object, note: object = "") -> list[str]:
    """抄送: copy the case of a task to users for reading. Each recipient must be able to see
    the case (its org unit is in their scope); copying twice to one user is a no-op."""

    task = task_get_visible(user=actor, task_id=task_id)
    if not isinstance(to_usernames, list) or not to_usernames or not all(isinstance(u, str) for u in to_usernames):
        raise ValidationFailed.field("to", _("请选择抄送对象"))
    if len(to_usernames) > MAX_COPY_RECIPIENTS:
        raise ValidationFailed.field("to", _("一次最多抄送 %(n)d 人") % {"n": MAX_COPY_RECIPIENTS})
    text = _reason(note, field="note", required=False)
    names = list(dict.fromkeys(u.strip() for u in to_usernames))
    users = {u.username: u for u in get_user_model().objects.filter(username__in=names, is_active=True)}
    problems = [n for n in names if n not in users]
    if problems:
        raise ValidationFailed.field("to", _("用户不存在或已停用: %(names)s") % {"names": ", ".join(problems)})
    if actor.username in users:
        raise ValidationFailed.field("to", _("不能抄送给自己"))
    blind = [n for n, u in users.items() if not user_can_see_org_unit(u, task.org_unit)]
    if blind:
        raise ValidationFailed.field("to", _("这些用户无权查看%(unit)s的业务: %(names)s") % {"unit": task.org_unit.name, "names": ", ".join(blind)})
    now = timezone.now()
    already = set(CaseCopy.objects.filter(task=task, to_user__in=users.values()).values_list("to_user__username", flat=True))
    fresh = [u for n, u in users.items() if n not in already]
    CaseCopy.objects.bulk_create([CaseCopy(task=task, instance_id=task.instance_id, from_user=actor, to_user=u, note=text, created_at=now) for u in fresh])
    body = (_("%(user)s 抄送给您:%(name)s") % {"user": _display(actor), "name": task.name} + (f"({text})" if text else ""))[:300]
    notifications_create([Notification(user=u, kind=NotificationKind.COPY, task=task, message=body, created_at=now) for u in fresh])
    if fresh:
        audit_event_record(
            actor=actor, action="task.copied", obj=task, org_unit=task.org_unit, process_instance_id=task.instance_id, task_id=task.pk,
            data={"to": [u.username for u in fresh], "note": text},
        )
    return [u.username for u in fresh]
