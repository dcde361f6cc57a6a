"""One answered call of the service hotline, what it was about and what it was handed on to."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CallCategory(models.TextChoices):
    """咨询类别: what the caller asked about (the monthly report counts the hot topics by it)."""

    POLICY = "policy", _("保单查询")
    CLAIM = "claim", _("理赔咨询")
    PAYMENT = "payment", _("缴费与续期")
    PRODUCT = "product", _("产品咨询")
    CHANGE = "change", _("资料与保全变更")
    COMPLAINT = "complaint", _("投诉与建议")
    OTHER = "other", _("其他")


class Handoff(models.TextChoices):
    NONE = "none", _("仅登记（咨询已答复）")
    COMPLAINT = "complaint", _("转投诉")
    AMENDMENT = "amendment", _("转资料变更")
    CLAIM_REPORT = "claim_report", _("转理赔报案")
    # An unknown caller interested in our products (seed 003: prospects from calls).
    PROSPECT = "prospect", _("登记准客户")


class ClaimReportStatus(models.TextChoices):
    NONE = "", _("—")
    SENT = "sent", _("已转理赔系统")
    NO_RECEIVER = "no_receiver", _("待人工转交（未配置理赔系统）")


class HotlineCall(models.Model):
    org_unit = models.ForeignKey("organisation.OrgUnit", on_delete=models.PROTECT, related_name="+")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    caller_phone = models.CharField(_("来电号码"), max_length=32, db_index=True)
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="hotline_calls"
    )
    category = models.CharField(_("咨询类别"), max_length=16, choices=CallCategory.choices)
    summary = models.TextField(_("来电内容"))
    outcome = models.CharField(_("答复结果"), max_length=500, blank=True)
    handoff = models.CharField(_("转办"), max_length=16, choices=Handoff.choices, default=Handoff.NONE)
    complaint = models.ForeignKey(
        "complaints.Complaint", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    amendment = models.ForeignKey(
        "customers.CustomerAmendment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # 理赔报案: {"policy_number", "occurred_on", "description"}, handed to the claims system.
    claim_report = models.JSONField(default=dict, blank=True)
    claim_report_status = models.CharField(
        _("报案转交"), max_length=16, choices=ClaimReportStatus.choices, default="", blank=True
    )
    prospect = models.ForeignKey(
        "customers.Prospect", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("热线来电")
        verbose_name_plural = _("热线来电")
        indexes = [models.Index(fields=["org_unit", "created_at"], name="hotline_unit_created")]

    def __str__(self) -> str:
        return f"call #{self.pk}"
