from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TaskStatus(models.TextChoices):
    READY = "ready", _("待办")
    COMPLETED = "completed", _("已办")
    CANCELLED = "cancelled", _("已取消")


class HumanTask(models.Model):
    """One row per ready user task of an instance; the inbox is a query on these rows."""

    instance = models.ForeignKey("processes.ProcessInstance", on_delete=models.CASCADE, related_name="human_tasks")
    engine_task_id = models.CharField(max_length=36)
    step = models.CharField(_("步骤"), max_length=100)
    name = models.CharField(_("任务名称"), max_length=200)
    process_key = models.CharField(max_length=100)
    process_name = models.CharField(max_length=200)
    lane = models.CharField(max_length=64)
    role = models.CharField(max_length=32)
    org_unit = models.ForeignKey("organisation.OrgUnit", on_delete=models.PROTECT, related_name="+")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="assigned_tasks"
    )
    # Four eyes: on approval steps the case's initiator may not act.
    four_eyes = models.BooleanField(default=False)
    initiator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    form_key = models.CharField(max_length=100)
    status = models.CharField(max_length=16, choices=TaskStatus.choices, default=TaskStatus.READY)
    due_at = models.DateTimeField(null=True, blank=True)
    flags = models.JSONField(default=list, blank=True)
    case_type = models.CharField(max_length=64, blank=True)
    case_id = models.BigIntegerField(null=True, blank=True)
    customer_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(max_length=32, blank=True)
    result = models.JSONField(default=dict, blank=True)
    # The instance's saved state when this task became ready: 退回/撤回 resume from it.
    state_snapshot = models.BinaryField(null=True, blank=True, editable=False)
    # 委派: the delegate works the task, then it returns to the delegator to confirm.
    delegated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    delegate_result = models.JSONField(default=dict, blank=True)
    # 超时上报: the task whose deadline passed and which this one replaces; the escalated task
    # keeps that deadline (tasks/timing.py) while `due_at` stays its own (the SLA report's).
    escalated_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The step's deadline counts working days (a `P<n>WD` deadline): time left is shown in them.
    working_days = models.BooleanField(default=False, db_default=False)  # raw inserts (bench, imports) get it too

    class Meta:
        # A case returned to an earlier step gets that engine task again: one READY row per task.
        constraints = [
            models.UniqueConstraint(
                fields=["instance", "engine_task_id"], condition=models.Q(status="ready"), name="uniq_ready_human_task"
            )
        ]
        indexes = [
            models.Index(fields=["status", "org_unit", "role"]),
            models.Index(fields=["assignee", "status"]),
            models.Index(fields=["status", "due_at"]),
            # The inbox reads ready rows by group or by assignee, due first (P4).
            models.Index(fields=["org_unit", "role", "due_at"], condition=models.Q(status="ready"), name="task_ready_group_due"),
            models.Index(fields=["assignee", "due_at"], condition=models.Q(status="ready"), name="task_ready_assignee_due"),
            # Four eyes asks "did this user work on this case before?" by instance OR by case
            # (tasks/eligibility.py): without both, the OR is a scan of the whole table per check.
            models.Index(fields=["instance", "completed_by"], name="task_instance_worker"),
            models.Index(fields=["case_type", "case_id", "completed_by"], name="task_case_worker"),
        ]
        ordering = ["due_at", "id"]

    def __str__(self) -> str:
        return f"{self.name} #{self.pk}"


class NotificationKind(models.TextChoices):
    NEW_TASK = "new_task", _("新任务")
    REMINDER = "reminder", _("催办提醒")
    ESCALATION = "escalation", _("超时上报")
    TRANSFER = "transfer", _("转办")
    COPY = "copy", _("抄送")
    DELEGATE = "delegate", _("委派")
    RETURN = "return", _("退回")
    SIGN = "sign", _("加签")
    REPORT = "report", _("报表归档")


class Notification(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=16, choices=NotificationKind.choices)
    task = models.ForeignKey(HumanTask, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    message = models.CharField(max_length=300)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return self.message


class EmailDelivery(models.TextChoices):
    IMMEDIATE = "immediate", _("每条通知即时发送邮件")
    DIGEST = "digest", _("每日汇总一封邮件")
    NONE = "none", _("不发送邮件")


class NotificationPreference(models.Model):
    """How a user's notifications reach them by e-mail (the bell always has them); no row:
    immediately."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference")
    email = models.CharField(_("邮件通知"), max_length=16, choices=EmailDelivery.choices, default=EmailDelivery.IMMEDIATE)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.user_id}: {self.email}"


class NotificationDigest(models.Model):
    """One daily digest e-mail per user and day (Asia/Shanghai): the row makes the job idempotent."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    sent_at = models.DateTimeField()
    count = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="uniq_notification_digest_day")]

    def __str__(self) -> str:
        return f"digest {self.user_id} {self.day}"


class CaseCopy(models.Model):
    """抄送: a case copied to a user for reading, from one of its tasks."""

    task = models.ForeignKey(HumanTask, on_delete=models.CASCADE, related_name="copies")
    instance = models.ForeignKey("processes.ProcessInstance", on_delete=models.CASCADE, related_name="+")
    from_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    to_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="case_copies")
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "to_user"], name="uniq_case_copy")]
        indexes = [models.Index(fields=["to_user", "created_at"])]

    def __str__(self) -> str:
        return f"copy of task {self.task_id} to {self.to_user_id}"


class TaskComment(models.Model):
    task = models.ForeignKey(HumanTask, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(max_length=2000)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"comment on task {self.task_id}"


class Substitution(models.Model):
    """代理: while `user` is away, `substitute` receives their new tasks and works their groups."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="substitutions")
    substitute = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="substituting_for")
    start_at = models.DateTimeField()
    end_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["substitute", "start_at", "end_at"]), models.Index(fields=["user", "start_at", "end_at"])]

    def __str__(self) -> str:
        return f"{self.substitute_id} for {self.user_id}"


class SignerPosition(models.TextChoices):
    BEFORE = "before", _("前加签")
    AFTER = "after", _("后加签")


class SignerStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("同意")
    REJECTED = "rejected", _("不同意")
    REMOVED = "removed", _("已减签")


class TaskSigner(models.Model):
    """加签: an extra approver on this case only, before or after the task's own approver."""

    task = models.ForeignKey(HumanTask, on_delete=models.CASCADE, related_name="signers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signatures")
    position = models.CharField(max_length=8, choices=SignerPosition.choices)
    status = models.CharField(max_length=8, choices=SignerStatus.choices, default=SignerStatus.PENDING)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=500)
    comment = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["user", "status"])]

    def __str__(self) -> str:
        return f"signer {self.user_id} on task {self.task_id}"
