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
    """A waiting timer event of an instance. A beat job sweeps due rows (DESIGN.md §7)."""

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
