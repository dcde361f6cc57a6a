from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """Append-only audit trail. Each event carries an HMAC of its content chained to the
    previous event of the same stream (object), so edits and deletions are detectable."""

    created_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    org_unit = models.ForeignKey(
        "organisation.OrgUnit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    process_instance_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    task_id = models.BigIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)

    class Meta:
        indexes = [models.Index(fields=["object_type", "object_id", "id"])]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id}"


class WorkdayOverride(models.Model):
    """An administrator's correction of the working-day calendar (a holiday or 调休 workday the
    chinese-calendar package does not know yet, e.g. a year it has no data for)."""

    date = models.DateField(unique=True)
    is_workday = models.BooleanField()
    note = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = "工作日调整"
        verbose_name_plural = "工作日调整"

    def __str__(self) -> str:
        return f"{self.date} {'工作日' if self.is_workday else '休息日'}"


class OutboxMessage(models.Model):
    """A job to publish to the broker once the transaction that wrote this row commits (the
    transactional outbox). The row is written in the caller's transaction, so the job exists
    exactly when the write it follows exists; a relay publishes it at least once, with
    exponential backoff while the broker is unreachable. Jobs are idempotent on their domain rows."""

    job = models.CharField(max_length=200)
    args = models.JSONField(default=list, blank=True)
    idempotency_key = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"], condition=models.Q(published_at__isnull=True), name="outbox_due_idx"
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_key"], condition=~models.Q(idempotency_key=""), name="uniq_outbox_key"
            )
        ]

    def __str__(self) -> str:
        return f"outbox {self.pk}: {self.job}"
