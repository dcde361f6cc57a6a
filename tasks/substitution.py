"""代理 substitution: an absence period with a substitute who must be in the user's scope.

New tasks assigned to an absent user go to the substitute; during the period the substitute
also works the absent user's candidate groups; open tasks may move when the absence is set.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.audit import audit_event_record
from backend.common.exceptions import Forbidden, NotFound, ValidationFailed
from backend.organisation.selectors import user_can_see_org_unit, user_role_assignments
from tasks.eligibility import substitute_refusal, task_refusal
from tasks.models import HumanTask, Notification, NotificationKind, Substitution, TaskStatus
from tasks.notifications import notifications_create

MAX_ABSENCE = timedelta(days=90)


def _active_q(now: datetime) -> Q:
    return Q(start_at__lte=now, end_at__gt=now, cancelled_at__isnull=True)


def absent_users_substituted_by(user, now: datetime | None = None) -> list:
    """The users whose work `user` does right now."""
    now = now or timezone.now()
    return [s.user for s in Substitution.objects.filter(_active_q(now), substitute=user).select_related("user")]


def substitute_for(user_id: int | None, now: datetime | None = None) -> int | None:
    """Who receives a task assigned to this user right now (None: the user is not away)."""
    if user_id is None:
        return None
    now = now or timezone.now()
    return Substitution.objects.filter(_active_q(now), user_id=user_id).order_by("-created_at").values_list("substitute_id", flat=True).first()


def _parse(value: object, field: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed.field(field, _("须为 ISO 8601 时间,如 2026-12-01T09:00:00+08:00"))
    if moment.tzinfo is None:
        raise ValidationFailed.field(field, _("须带时区,如 +08:00"))
    return moment


@transaction.atomic
def substitution_create(*, actor, substitute_username: object, start_at: object, end_at: object, reason: object = "", move_open: bool = False, user=None) -> Substitution:
    """Set an absence for `user` (default: the actor; others need the superuser)."""
    user = user or actor
    if user.pk != actor.pk and not actor.is_superuser:
        raise Forbidden(_("只能为自己设置代理"), code="not_own_absence")
    start, end = _parse(start_at, "start_at"), _parse(end_at, "end_at")
    now = timezone.now()
    if end <= start:
        raise ValidationFailed.field("end_at", _("结束时间须晚于开始时间"))
    if end <= now:
        raise ValidationFailed.field("end_at", _("结束时间须在将来"))
    if end - start > MAX_ABSENCE:
        raise ValidationFailed.field("end_at", _("代理期限最长 90 天"))
    substitute = get_user_model().objects.filter(username=str(substitute_username or "").strip(), is_active=True).first()
    if substitute is None:
        raise ValidationFailed.field("substitute", _("用户不存在或已停用"))
    if substitute.pk == user.pk:
        raise ValidationFailed.field("substitute", _("不能指定自己为代理人"))
    units = [ra.org_unit for ra in user_role_assignments(user)]
    if not units or not all(user_can_see_org_unit(substitute, unit) for unit in units):
        raise ValidationFailed.field("substitute", _("代理人必须能查看您所在机构的业务"))
    refusal = substitute_refusal(user, substitute)
    if refusal:
        raise ValidationFailed.field("substitute", refusal, code="not_eligible")
    if Substitution.objects.filter(user=user, cancelled_at__isnull=True, start_at__lt=end, end_at__gt=start).exists():
        raise ValidationFailed.field("start_at", _("与已有的代理期间重叠"))
    text = str(reason or "").strip()[:200]
    record = Substitution.objects.create(user=user, substitute=substitute, start_at=start, end_at=end, reason=text, created_by=actor, created_at=now)
    audit_event_record(actor=actor, action="substitution.created", obj=record, data={"user": user.username, "substitute": substitute.username, "start_at": start.isoformat(), "end_at": end.isoformat(), "move_open": bool(move_open)})
    if move_open and start <= now:
        # Only the tasks the substitute may work himself (four eyes decided per task).
        candidates = HumanTask.objects.filter(assignee=user, status=TaskStatus.READY).select_related("org_unit")
        moved = [t for t in candidates if task_refusal(substitute, t, named=True) is None]
        HumanTask.objects.filter(pk__in=[t.pk for t in moved]).update(assignee=substitute, claimed_at=now)
        for task in moved:
            audit_event_record(
                actor=actor, action="task.transferred", obj=task, org_unit=task.org_unit, process_instance_id=task.instance_id, task_id=task.pk,
                data={"from": user.username, "to": substitute.username, "reason": _("代理")},
            )
        notifications_create(
            [Notification(user=substitute, kind=NotificationKind.TRANSFER, task=t, created_at=now, message=(_("代理 %(user)s:任务“%(name)s”") % {"user": user.username, "name": t.name})[:300]) for t in moved]
        )
    return record


@transaction.atomic
def substitution_cancel(*, actor, substitution_id) -> Substitution:
    record = Substitution.objects.select_for_update().filter(pk=substitution_id).first()
    if record is None or (record.user_id != actor.pk and not actor.is_superuser):
        raise NotFound(_("代理设置不存在"), code="substitution_not_found")
    if record.cancelled_at is None:
        record.cancelled_at = timezone.now()
        record.save(update_fields=["cancelled_at"])
        audit_event_record(actor=actor, action="substitution.cancelled", obj=record)
    return record


def substitutions_of(*, user) -> list[Substitution]:
    """My absences and the ones I cover, newest first."""
    return list(Substitution.objects.filter(Q(user=user) | Q(substitute=user)).select_related("user", "substitute").order_by("-start_at", "-id"))
