from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SlaBreach(models.Model):
    """A task that missed its deadline, written once by the SLA sweep (idempotent: one row per
    task) and completed when the task leaves the inbox; `chain` is who had it, when it moved
    and to whom, from the task rows and audit events of its process instance."""

    task = models.OneToOneField("tasks.HumanTask", on_delete=models.CASCADE, related_name="sla_breach")
    org_unit = models.ForeignKey("organisation.OrgUnit", on_delete=models.PROTECT, related_name="+")
    process_key = models.CharField(max_length=100)
    step = models.CharField(max_length=100)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    due_at = models.DateTimeField()
    detected_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=32, blank=True)  # completed / escalated / cancelled
    chain = models.JSONField(default=list, blank=True)

    class Meta:
        indexes = [models.Index(fields=["org_unit", "due_at"]), models.Index(fields=["resolved_at"])]
        verbose_name = _("超时记录")
        verbose_name_plural = _("超时记录")

    def __str__(self) -> str:
        return f"breach of task {self.task_id}"


class ReportArchive(models.Model):
    """The monthly SLA report of one org unit's subtree, archived as PDF and XLSX (once)."""

    kind = models.CharField(max_length=32, default="sla_monthly")
    org_unit = models.ForeignKey("organisation.OrgUnit", on_delete=models.PROTECT, related_name="+")
    month = models.DateField()
    created_at = models.DateTimeField()
    pdf = models.BinaryField()
    xlsx = models.BinaryField()
    figures = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "org_unit", "month"], name="uniq_report_archive")
        ]
        verbose_name = _("报表归档")
        verbose_name_plural = _("报表归档")

    def __str__(self) -> str:
        return f"{self.kind} {self.org_unit_id} {self.month:%Y-%m}"


class ReportRecipient(models.Model):
    """A decision maker who receives an org unit's monthly report of one kind (the complaint
    analysis table: 客户投诉分析表) when it is archived; edited in the admin."""

    kind = models.CharField(max_length=32, default="complaint_analysis_monthly")
    org_unit = models.ForeignKey("organisation.OrgUnit", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "org_unit", "user"], name="uniq_report_recipient")
        ]
        verbose_name = _("报表接收人")
        verbose_name_plural = _("报表接收人")

    def __str__(self) -> str:
        return f"{self.kind} {self.org_unit_id} → {self.user_id}"
