"""Upstream integration (API clients, idempotency, callbacks), historical import and
sample verification."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from backend.common.cases import CaseBase


class Scope(models.TextChoices):
    OPEN = "open", _("自动开户")
    QUERY = "query", _("自动查询")
    CLAIMS = "claims", _("理赔数据")


class ApiClient(models.Model):
    """An upstream system (承保/理赔/呼叫中心) bound to an org unit; acts through its own
    service user, which holds the collector role at that unit."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    org_unit = models.ForeignKey("organisation.OrgUnit", on_delete=models.PROTECT, related_name="+")
    service_user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_client"
    )
    scopes = models.JSONField(_("权限范围"), default=list)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_prefix = models.CharField(max_length=12, editable=False)
    callback_url = models.URLField(_("回调地址"), blank=True)
    callback_secret = models.CharField(max_length=64, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("接口客户端")
        verbose_name_plural = _("接口客户端")

    def __str__(self) -> str:
        return f"{self.name} ({self.token_prefix}…)"


class IdempotencyRecord(models.Model):
    """One per (client, Idempotency-Key): the request's hash and the response given."""

    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client", "key"], name="uniq_idempotency_key")]

    def __str__(self) -> str:
        return f"idempotency {self.key}"


class RequestStatus(models.TextChoices):
    OPENED = "opened", _("已开户")
    EXISTING = "existing", _("已有客户")
    NEEDS_REVIEW = "needs_review", _("待人工处理")
    RESOLVED = "resolved", _("人工处理完成")
    REJECTED = "rejected", _("已拒绝")


class IntegrationRequest(CaseBase):
    """An automatic-opening request: the case an officer works when checks fail."""

    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="requests")
    idempotency_key = models.CharField(max_length=255)
    payload = models.JSONField(default=dict)
    errors = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=RequestStatus.choices)
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    SUBMITTER_FIELD = ""

    class Meta:
        verbose_name = _("自动开户请求")
        verbose_name_plural = _("自动开户请求")

    def __str__(self) -> str:
        return f"integration request #{self.pk}"


class CallbackStatus(models.TextChoices):
    PENDING = "pending", _("待投递")
    DELIVERED = "delivered", _("已投递")
    FAILED = "failed", _("投递失败")


class CallbackEvent(models.Model):
    """The outbox: written in the transaction of the status change, delivered by a job."""

    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="callbacks")
    event_type = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=CallbackStatus.choices, default=CallbackStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"callback {self.event_id}"


class CallbackAttempt(models.Model):
    event = models.ForeignKey(CallbackEvent, on_delete=models.CASCADE, related_name="attempt_log")
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"attempt {self.pk} of {self.event_id}"


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("导入中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class ImportBatch(models.Model):
    """A legacy customer file (历史数据清洗) and its progress; per-row results in ImportRow."""

    org_unit = models.ForeignKey("organisation.OrgUnit", on_delete=models.PROTECT, related_name="+")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    file = models.FileField(upload_to="imports/%Y/%m/")
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    processed_rows = models.PositiveIntegerField(default=0)
    size_bytes = models.PositiveBigIntegerField(default=0)
    bytes_read = models.PositiveBigIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True)
    result_file = models.FileField(upload_to="imports/results/%Y/%m/", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("历史数据导入")
        verbose_name_plural = _("历史数据导入")

    def __str__(self) -> str:
        return f"import #{self.pk} {self.filename}"


class RowOutcome(models.TextChoices):
    CREATED = "created", _("已开户")
    UNCHANGED = "unchanged", _("已存在且一致")
    MERGE_REVIEW = "merge_review", _("与现有客户不一致,待合并审核")
    SUSPICIOUS = "suspicious", _("可疑,待人工审核")
    ERROR = "error", _("数据错误")


class ImportRow(models.Model):
    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="rows")
    row_number = models.PositiveIntegerField()
    outcome = models.CharField(max_length=16, choices=RowOutcome.choices)
    message = models.TextField(blank=True)
    customer_id = models.BigIntegerField(null=True, blank=True)
    # The flags of the customer checks (customers.checks.customer_checks_run_many), as at opening.
    flags = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["batch", "row_number"], name="uniq_import_row")]

    def __str__(self) -> str:
        return f"import #{self.batch_id} row {self.row_number}"


class ReviewKind(models.TextChoices):
    MERGE = "merge", _("合并审核")
    SUSPICIOUS = "suspicious", _("可疑数据审核")


class ImportReview(CaseBase):
    """A row that needs a person: merge conflicts field by field, or a suspicious row.
    `fingerprint` (kind + id document + row values) makes a re-import create nothing new."""

    kind = models.CharField(max_length=16, choices=ReviewKind.choices)
    fingerprint = models.CharField(max_length=64, unique=True)
    batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, related_name="reviews")
    row_number = models.PositiveIntegerField()
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    row = models.JSONField(default=dict)
    conflicts = models.JSONField(default=list, blank=True)  # [{"field", "current", "imported"}]
    reasons = models.JSONField(default=list, blank=True)
    flags = models.JSONField(default=list, blank=True)
    decision = models.CharField(max_length=16, blank=True)

    SUBMITTER_FIELD = ""
    STATUS_FIELD = "decision"

    def __str__(self) -> str:
        return f"import review #{self.pk}"


class VerificationResult(models.TextChoices):
    CONFIRMED = "confirmed", _("信息属实")
    WRONG = "wrong", _("信息有误")
    UNREACHABLE = "unreachable", _("无法联系")


class SampleReason(models.TextChoices):
    CHANGED = "changed", _("当月新增或变更")
    STALE = "stale", _("长期未核实")


class FollowUpMethod(models.TextChoices):
    RETRY = "retry", _("再次致电")
    LETTER = "letter", _("信函")
    VISIT = "visit", _("上门拜访")


class VerificationSample(CaseBase):
    """抽样核实: one customer drawn for a month's sample; unique per (customer, period). An
    unreachable call leaves it open for follow-ups; the last allowed failure closes it with
    `unreachable_at` set."""

    period = models.CharField(max_length=7)  # "2026-10": the month whose new/changed customers were sampled
    reason = models.CharField(max_length=16, choices=SampleReason.choices, default=SampleReason.CHANGED)
    attempts = models.PositiveSmallIntegerField(default=0)  # unreachable calls so far
    follow_up_method = models.CharField(max_length=16, choices=FollowUpMethod.choices, blank=True)
    unreachable_at = models.DateTimeField(null=True, blank=True)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    result = models.CharField(max_length=16, choices=VerificationResult.choices, blank=True)
    notes = models.TextField(blank=True)
    amendment = models.ForeignKey(
        "customers.CustomerAmendment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    # Not columns of this case (the table stays as it was).
    decision_comment = None
    SUBMITTER_FIELD = ""
    STATUS_FIELD = "result"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["period", "customer"], name="uniq_verification_sample")
        ]

    def __str__(self) -> str:
        return f"verification {self.period} #{self.customer_id}"
