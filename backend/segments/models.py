"""客户分群与预警: the versioned thresholds of each branch, the reviewed change that makes a new
version, and each customer's segments and alerts with their reasons."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from backend.common.cases import CaseBase


class SegmentThresholds(models.Model):
    """One version of a branch's thresholds (`values`: the names of rules.THRESHOLDS). A customer
    is judged by the newest version of his unit or its nearest ancestor; none at all means the
    defaults (version 0)."""

    org_unit = models.ForeignKey("organisation.OrgUnit", on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(_("版本"))
    values = models.JSONField(_("阈值"))
    change = models.OneToOneField(
        "segments.ThresholdChange", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    effective_from = models.DateTimeField(_("生效时间"))

    class Meta:
        ordering = ["org_unit", "-version"]
        verbose_name = _("分群阈值")
        verbose_name_plural = _("分群阈值")
        constraints = [models.UniqueConstraint(fields=["org_unit", "version"], name="uniq_threshold_version")]

    def __str__(self) -> str:
        return f"{self.org_unit_id} v{self.version}"


class ChangeStatus(models.TextChoices):
    PENDING = "pending", _("审批中")
    APPROVED = "approved", _("已生效")
    REJECTED = "rejected", _("已拒绝")
    CANCELLED = "cancelled", _("已撤销")


class ThresholdChange(CaseBase):
    """分群阈值调整: a branch's new thresholds with the reason, approved by the head of the branch
    (four eyes); the approval makes the next version."""

    values = models.JSONField(_("调整后阈值"))
    # The version the change was made against: another version approved meanwhile makes it stale.
    base_version = models.PositiveIntegerField(_("调整前版本"), default=0)
    reason = models.TextField(_("理由"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("状态"), max_length=16, choices=ChangeStatus.choices, default=ChangeStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("分群阈值调整")
        verbose_name_plural = _("分群阈值调整")
        constraints = [
            models.UniqueConstraint(
                fields=["org_unit"], condition=models.Q(status="pending"), name="uniq_open_threshold_change"
            ),
        ]


class CustomerSegment(models.Model):
    """A customer's segments (优质客户, 大客户) and alerts (多次理赔, 高赔付率), each with its reasons
    (lists of {"code", "reasons"}), as the last run of the rules found them."""

    customer = models.OneToOneField("customers.Customer", on_delete=models.CASCADE, related_name="segment")
    org_unit = models.ForeignKey("organisation.OrgUnit", on_delete=models.PROTECT, related_name="+")
    segments = models.JSONField(default=list)
    alerts = models.JSONField(default=list)
    # Flat copies for lists and reports (filtering JSON differs between databases).
    good = models.BooleanField(_("优质客户"), default=False)
    key = models.BooleanField(_("大客户"), default=False)
    alerted = models.BooleanField(_("有预警"), default=False)
    thresholds_version = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("客户分群")
        verbose_name_plural = _("客户分群")
        indexes = [models.Index(fields=["org_unit", "alerted"], name="segment_unit_alerted")]

    def __str__(self) -> str:
        return f"segment of {self.customer_id}"
