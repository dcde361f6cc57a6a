from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ProcessDefinition(models.Model):
    key = models.CharField(_("流程标识"), max_length=100, unique=True)
    name = models.CharField(_("流程名称"), max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key"]
        verbose_name = _("流程定义")
        verbose_name_plural = _("流程定义")

    def __str__(self) -> str:
        return f"{self.name} ({self.key})"


class VersionSource(models.TextChoices):
    SHIPPED = "shipped", _("随系统发布")
    UPLOAD = "upload", _("上传")
    MODELER = "modeler", _("建模器发布(双人审批)")


class ProcessVersion(models.Model):
    """An immutable deployed version of a diagram, keyed by the content hash of its XML.

    The engine spec is stored here once; instances store only their own state.
    """

    definition = models.ForeignKey(ProcessDefinition, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    content_hash = models.CharField(max_length=64)
    filename = models.CharField(max_length=255, blank=True)
    bpmn_xml = models.TextField()
    spec = models.JSONField()
    metadata = models.JSONField(default=dict)
    source = models.CharField(max_length=16, choices=VersionSource.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["definition_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["definition", "version"], name="uniq_process_version"),
            models.UniqueConstraint(fields=["definition", "content_hash"], name="uniq_process_version_hash"),
        ]

    def __str__(self) -> str:
        return f"{self.definition.key} v{self.version}"


class InstanceStatus(models.TextChoices):
    RUNNING = "running", _("运行中")
    COMPLETED = "completed", _("已完成")
    CANCELLED = "cancelled", _("已撤销")
    # A (test) start whose diagram failed before the instance could wait: no state, an incident.
    FAILED = "failed", _("运行失败")


class ProcessInstance(models.Model):
    version = models.ForeignKey(ProcessVersion, on_delete=models.PROTECT, related_name="instances")
    status = models.CharField(max_length=16, choices=InstanceStatus.choices, default=InstanceStatus.RUNNING)
    # Compacted, compressed engine state without the spec (see processes/engine/serializer.py).
    state = models.BinaryField(default=b"")
    state_format = models.PositiveSmallIntegerField(default=1)
    # Optimistic locking: bumped by every step; a step saves only over the version it loaded.
    row_version = models.PositiveIntegerField(default=0)
    org_unit = models.ForeignKey("organisation.OrgUnit", on_delete=models.PROTECT, related_name="+")
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    subject_type = models.CharField(max_length=64, blank=True)
    subject_id = models.BigIntegerField(null=True, blank=True)
    end_event = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["subject_type", "subject_id"])]

    def __str__(self) -> str:
        return f"instance {self.pk} of {self.version_id}"


class TimerStatus(models.TextChoices):
    PENDING = "pending", _("等待")
    FIRED = "fired", _("已触发")
    CANCELLED = "cancelled", _("已取消")


class Timer(models.Model):
    """A waiting timer event of an instance. A beat job sweeps due rows (docs/ARCHITECTURE.md, "Timers")."""

    instance = models.ForeignKey(ProcessInstance, on_delete=models.CASCADE, related_name="timers")
    engine_task_id = models.CharField(max_length=36)
    spec = models.CharField(max_length=100)
    name = models.CharField(max_length=200, blank=True)
    attached_to = models.CharField(max_length=100, blank=True)
    interrupting = models.BooleanField(default=True)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=TimerStatus.choices, default=TimerStatus.PENDING)
    fired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # A case returned to an earlier step waits on the same engine timers again: only one
        # pending row per engine timer.
        constraints = [
            models.UniqueConstraint(
                fields=["instance", "engine_task_id"], condition=models.Q(status="pending"), name="uniq_pending_timer_task"
            )
        ]
        indexes = [models.Index(fields=["status", "due_at"])]

    def __str__(self) -> str:
        return f"timer {self.spec} due {self.due_at:%Y-%m-%d %H:%M}"


class DraftStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PENDING = "pending", _("待审批发布")
    PUBLISHED = "published", _("已发布")
    REJECTED = "rejected", _("已驳回")


class ProcessDraft(models.Model):
    """A diagram a process owner edits freely. Publishing needs another owner's approval and
    then deploys an immutable ProcessVersion (four eyes); the draft itself is never run."""

    key = models.CharField(_("流程标识"), max_length=100)
    bpmn_xml = models.TextField()
    # The problems found when it was last saved (parse, sandbox compile, domain lint).
    problems = models.JSONField(default=list)
    # Forms edited with this diagram, {form key: definition}; published into the version's metadata.
    forms = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=DraftStatus.choices, default=DraftStatus.DRAFT)
    base_version = models.ForeignKey(ProcessVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_comment = models.CharField(max_length=500, blank=True)
    published_version = models.ForeignKey(ProcessVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    row_version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["key", "status"])]

    def __str__(self) -> str:
        return f"draft {self.pk} of {self.key}"


class MigrationOutcome(models.TextChoices):
    MIGRATED = "migrated", _("已迁移")
    INCOMPATIBLE = "incompatible", _("不可迁移")
    FAILED = "failed", _("失败")
    ROLLED_BACK = "rolled_back", _("已回滚")


class InstanceMigration(models.Model):
    """One instance moved to another version by a batch migration; keeps what a rollback needs."""

    batch = models.UUIDField(db_index=True)
    instance = models.ForeignKey(ProcessInstance, on_delete=models.CASCADE, related_name="migrations")
    from_version = models.ForeignKey(ProcessVersion, on_delete=models.PROTECT, related_name="+")
    to_version = models.ForeignKey(ProcessVersion, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(max_length=16, choices=MigrationOutcome.choices)
    detail = models.JSONField(default=dict)
    # The instance state before the move (a rollback restores it with from_version).
    previous_state = models.BinaryField(default=b"")
    previous_row_version = models.PositiveIntegerField(default=0)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    rolled_back_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"migration of instance {self.instance_id}: {self.outcome}"


class ProcessIncident(models.Model):
    """A step of an instance failed for a reason of the step itself (a script error, a sandbox bound,
    a killed or crashed script worker, a diagram or handler error): not for a broker, mail or
    database outage, which is logged and retried. A timer's step: the instance keeps its last good
    state and the timer stays pending, so the next sweep retries; the incident resolves itself once
    the instance has moved past the failing point (its timer fired or was cancelled, or the
    instance ended), recording by whom (`resolved_by`, None for the system) and how
    (`resolution`). A user's step (source "step"): the request answered 4xx and nothing changed. A
    test start (source "start"): the instance is FAILED. A stall (source "stall"): no step can move
    the instance."""

    instance = models.ForeignKey(ProcessInstance, on_delete=models.CASCADE, related_name="incidents")
    timer = models.ForeignKey("processes.Timer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    element = models.CharField(max_length=100, blank=True)
    source = models.CharField(max_length=32)
    message = models.TextField()
    occurrences = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["instance", "source", "element"], condition=models.Q(resolved_at__isnull=True), name="uniq_open_incident"
            )
        ]

    def __str__(self) -> str:
        return f"incident on instance {self.instance_id}: {self.element or '-'}"
