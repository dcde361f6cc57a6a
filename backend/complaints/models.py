"""投诉: a complaint is accepted, verified, registered, handed over, coordinated, handled and
answered (docs/DOMAIN.md, complaints) under the regulatory clock (银行业保险业消费投诉处理管理办法, 2020)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from backend.common.cases import CaseBase


class Channel(models.TextChoices):
    HOTLINE = "hotline", _("95519 热线")
    COUNTER = "counter", _("柜面")
    LETTER = "letter", _("信函")
    EMAIL = "email", _("电子邮件")
    ONLINE = "online", _("网络")
    REGULATOR = "regulator", _("监管转办")


class Category(models.TextChoices):
    SALES = "sales", _("销售误导")
    CLAIMS = "claims", _("理赔纠纷")
    UNDERWRITING = "underwriting", _("承保与保全")
    PREMIUM = "premium", _("收费与退保")
    SERVICE = "service", _("服务质量")
    OTHER = "other", _("其他")


class RootCause(models.TextChoices):
    PRODUCT = "product", _("产品设计")
    SALES_CONDUCT = "sales_conduct", _("销售行为")
    PROCESS = "process", _("业务流程")
    SYSTEM = "system", _("信息系统")
    STAFF = "staff", _("人员服务")
    CUSTOMER = "customer", _("客户误解")
    OTHER = "other", _("其他")


class ComplaintStatus(models.TextChoices):
    ACCEPTED = "accepted", _("已受理")
    VERIFIED = "verified", _("已核实")
    REGISTERED = "registered", _("已登记")
    HANDLING = "handling", _("处理中")
    DECIDED = "decided", _("已作出决定")
    CLOSED = "closed", _("已办结")
    WITHDRAWN = "withdrawn", _("已撤诉")


OPEN_STATUSES = [
    ComplaintStatus.ACCEPTED,
    ComplaintStatus.VERIFIED,
    ComplaintStatus.REGISTERED,
    ComplaintStatus.HANDLING,
    ComplaintStatus.DECIDED,
]


class ClockMode(models.TextChoices):
    NATURAL = "natural", _("自然日")
    WORKING = "working", _("工作日")


class Remedy(models.TextChoices):
    REVIEW = "review", _("申请核查")
    MEDIATION = "mediation", _("调解")
    ARBITRATION = "arbitration", _("仲裁")
    LITIGATION = "litigation", _("诉讼")


class NoticeChannel(models.TextChoices):
    LETTER = "letter", _("书面通知(送达或邮寄)")
    SMS = "sms", _("短信")
    EMAIL = "email", _("电子邮件")
    PHONE = "phone", _("电话")


class NoticeKind(models.TextChoices):
    DECISION = "decision", _("处理决定告知")
    EXTENSION = "extension", _("延期告知")
    ACCEPTANCE = "acceptance", _("受理告知")
    REVIEW = "review", _("核查结果告知")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASIC = "basic", _("基本满意")
    DISSATISFIED = "dissatisfied", _("不满意")
    UNKNOWN = "unknown", _("未表态")


class Complaint(CaseBase):
    number = models.CharField(_("投诉编号"), max_length=32, unique=True)
    # The org unit responsible now (moves with each hand-over) and the one that accepted it.
    org_unit = models.ForeignKey("organisation.OrgUnit", on_delete=models.PROTECT, related_name="+", verbose_name=_("责任机构"))
    received_org_unit = models.ForeignKey("organisation.OrgUnit", on_delete=models.PROTECT, related_name="+", verbose_name=_("受理机构"))
    channel = models.CharField(_("投诉渠道"), max_length=16, choices=Channel.choices)
    category = models.CharField(_("投诉类别"), max_length=16, choices=Category.choices)
    subject = models.CharField(_("投诉事项"), max_length=200)
    subject_key = models.CharField(max_length=200, db_index=True, editable=False)
    description = models.TextField(_("投诉内容"), max_length=5000)
    complainant_name = models.CharField(_("投诉人"), max_length=100)
    complainant_phone = models.CharField(_("联系电话"), max_length=32, db_index=True)
    complainant_id_type = models.CharField(_("证件类型"), max_length=32, blank=True)
    complainant_id_number = models.CharField(_("证件号码"), max_length=64, blank=True, db_index=True)
    identity_verified = models.BooleanField(_("身份已核验"), default=False)
    complainant_count = models.PositiveIntegerField(_("投诉人数"), default=1)
    customer = models.ForeignKey("customers.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="complaints")
    policy = models.ForeignKey("policies.Policy", null=True, blank=True, on_delete=models.PROTECT, related_name="complaints")
    product = models.CharField(_("险种"), max_length=100, blank=True)
    # Who has an interest in the case (recusal): the employee or agent complained about, and
    # the complainant's own agent.
    subject_employee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    subject_agent = models.ForeignKey("organisation.SalesAgent", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    complainant_agent = models.ForeignKey("organisation.SalesAgent", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    major = models.BooleanField(_("群体投诉"), default=False)
    major_alerted_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=ComplaintStatus.choices, default=ComplaintStatus.ACCEPTED)
    received_at = models.DateTimeField(_("收到投诉时间"))
    # ---- the regulatory clock (clock.py computes from these) ----
    clock_mode = models.CharField(max_length=16, choices=ClockMode.choices, default=ClockMode.NATURAL)
    clock_start = models.DateTimeField()  # receipt, or the receipt of new facts
    limit_days = models.PositiveIntegerField(default=15)
    extension_reason = models.CharField(max_length=1000, blank=True)
    paused_since = models.DateTimeField(null=True, blank=True)
    pause_reason = models.CharField(max_length=500, blank=True)
    paused_seconds = models.PositiveBigIntegerField(default=0)
    regulator_ack_due_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(_("处理时限"), null=True, blank=True, db_index=True)
    clock_marks = models.JSONField(default=dict, blank=True)  # reminders/breaches already sent
    breached_at = models.DateTimeField(null=True, blank=True)
    # ---- verification, registration, decision, feedback ----
    verified_facts = models.TextField(_("核实情况"), blank=True)
    registered_at = models.DateTimeField(null=True, blank=True)
    facts = models.TextField(_("查明事实"), blank=True)
    basis = models.TextField(_("处理依据"), blank=True)
    reasons = models.TextField(_("处理理由"), blank=True)
    decision = models.TextField(_("处理决定"), blank=True)
    remedies = models.JSONField(_("救济途径"), default=list, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    satisfaction = models.CharField(_("满意度"), max_length=16, choices=Satisfaction.choices, blank=True)
    on_time = models.BooleanField(null=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawal_reason = models.CharField(max_length=1000, blank=True)
    # ---- 溯源整改 ----
    root_cause = models.CharField(_("根本原因"), max_length=16, choices=RootCause.choices, blank=True)
    root_cause_note = models.CharField(_("原因说明"), max_length=1000, blank=True)
    process_instance = models.ForeignKey("processes.ProcessInstance", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    # Not columns of this case (the table stays as it was).
    decision_comment = None
    SUBMITTER_FIELD = "created_by"

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("客户投诉")
        verbose_name_plural = _("客户投诉")
        indexes = [
            models.Index(fields=["received_at"]),
            models.Index(fields=["subject_key", "received_at"]),
        ]

    def __str__(self) -> str:
        return self.number


class ComplaintMerge(models.Model):
    """A duplicate intake folded into an existing complaint (same complainant, same subject)."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="merges")
    complainant_name = models.CharField(max_length=100)
    complainant_phone = models.CharField(max_length=32)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    description = models.TextField(max_length=5000, blank=True)
    received_at = models.DateTimeField()
    merged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.complaint_id} ← {self.complainant_name}"



class ComplaintAttachment(models.Model):
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(max_length=16)  # recording / letter / other
    file = models.FileField(upload_to="complaints/%Y/%m/")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.filename



class ClockEventKind(models.TextChoices):
    STARTED = "started", _("开始计时")
    EXTENDED = "extended", _("延长至30日")
    EXTENSION_REQUESTED = "extension_requested", _("申请再延长30日")
    EXTENSION_GRANTED = "extension_granted", _("上级批准再延长")
    EXTENSION_REFUSED = "extension_refused", _("上级不批准再延长")
    PAUSED = "paused", _("暂停计时")
    RESUMED = "resumed", _("恢复计时")
    RESTARTED = "restarted", _("新事实重新计时")
    WITHDRAWN = "withdrawn", _("撤诉")
    REMINDED = "reminded", _("时限提醒")
    BREACHED = "breached", _("超时上报")
    STOPPED = "stopped", _("办结停止计时")


class ComplaintClockEvent(models.Model):
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="clock_events")
    kind = models.CharField(max_length=32, choices=ClockEventKind.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=1000, blank=True)
    due_before = models.DateTimeField(null=True, blank=True)
    due_after = models.DateTimeField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.kind}"



class ComplaintHandover(models.Model):
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="handovers")
    from_org_unit = models.ForeignKey("organisation.OrgUnit", on_delete=models.PROTECT, related_name="+")
    to_org_unit = models.ForeignKey("organisation.OrgUnit", on_delete=models.PROTECT, related_name="+")
    handler = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=1000)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.from_org_unit_id}→{self.to_org_unit_id}"



class ComplaintOpinion(models.Model):
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="opinions")
    org_unit = models.ForeignKey("organisation.OrgUnit", on_delete=models.PROTECT, related_name="+")
    question = models.CharField(max_length=1000, blank=True)
    opinion = models.TextField(max_length=5000)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.complaint_id} opinion {self.org_unit_id}"



class ComplaintNotice(models.Model):
    """Every notice to the complainant keeps its proof: channel, time, and the evidence."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=16, choices=NoticeKind.choices)
    channel = models.CharField(max_length=16, choices=NoticeChannel.choices)
    sent_at = models.DateTimeField()
    proof = models.CharField(_("送达凭证"), max_length=500)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sent_at", "id"]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.kind} {self.channel}"



class RequestStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    GRANTED = "granted", _("已批准")
    REFUSED = "refused", _("未批准")


class ComplaintExtension(CaseBase):
    """A further 30 days (60 at most) needs the upper-level org's approval."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="extensions")
    reason = models.CharField(max_length=1000)
    status = models.CharField(max_length=16, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.CharField(max_length=1000, blank=True)
    process_instance = models.ForeignKey("processes.ProcessInstance", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    # Not columns of this case (the table stays as it was).
    decision_comment = None
    created_at = None
    closed_at = None

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["complaint"], condition=Q(status="pending"), name="uniq_pending_extension"),
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id} extension {self.status}"



class ReviewDecision(models.TextChoices):
    UPHELD = "upheld", _("维持原处理决定")
    CHANGED = "changed", _("变更处理决定")


class ComplaintReview(CaseBase):
    """核查: the complainant asks the upper-level org to review the decision."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="reviews")
    reason = models.CharField(max_length=1000)
    received_at = models.DateTimeField()
    due_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    decision = models.CharField(max_length=16, choices=ReviewDecision.choices, blank=True)
    comment = models.TextField(max_length=5000, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    process_instance = models.ForeignKey("processes.ProcessInstance", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    # Not columns of this case (the table stays as it was).
    decision_comment = None
    created_at = None
    closed_at = None

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["complaint"], condition=Q(status="pending"), name="uniq_pending_review"),
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id} review {self.status}"



class ActionStatus(models.TextChoices):
    OPEN = "open", _("整改中")
    CLOSED = "closed", _("已整改")


class CorrectiveAction(models.Model):
    """溯源整改: a corrective action for a root cause, tracked to closure."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="corrective_actions")
    root_cause = models.CharField(max_length=16, choices=RootCause.choices)
    description = models.CharField(max_length=1000)
    owner_org_unit = models.ForeignKey("organisation.OrgUnit", on_delete=models.PROTECT, related_name="+")
    due_date = models.DateField()
    status = models.CharField(max_length=16, choices=ActionStatus.choices, default=ActionStatus.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)
    closing_note = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["due_date", "id"]

    def __str__(self) -> str:
        return self.description[:50]
