"""客户经理制: customer managers and their grade qualification (资格审批)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from backend.common.cases import CaseBase


class ManagerGrade(models.TextChoices):
    """The five grades, highest first. The top two are approved by the province branch."""

    PRINCIPAL = "principal", _("资深客户经理")
    SENIOR = "senior", _("高级客户经理")
    REGULAR = "regular", _("普通客户经理")
    JUNIOR = "junior", _("初级客户经理")
    TRAINEE = "trainee", _("见习客户经理")


class ServedCustomerType(models.TextChoices):
    """所负责客户的类型: the evidence's customer types."""

    INDIVIDUAL = "individual", _("个人客户")
    CORPORATE = "corporate", _("企业客户")
    MAJOR = "major", _("大客户")
    SYSTEM = "system", _("系统客户")
    PROJECT = "project", _("大型项目客户")


class QualificationStatus(models.TextChoices):
    PENDING = "pending", _("审批中")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("已拒绝")
    CANCELLED = "cancelled", _("已撤销")


class CustomerManager(models.Model):
    """A customer manager: one person, one base-level (city) unit, one grade once approved."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="customer_manager", verbose_name=_("用户")
    )
    org_unit = models.ForeignKey(
        "organisation.OrgUnit", on_delete=models.PROTECT, related_name="customer_managers", verbose_name=_("所在机构")
    )
    grade = models.CharField(_("级别"), max_length=16, choices=ManagerGrade.choices, blank=True)
    since = models.DateTimeField(_("定级时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("客户经理")
        verbose_name_plural = _("客户经理")

    def __str__(self) -> str:
        return f"{self.user} {self.grade or '-'}@{self.org_unit_id}"


class ManagerQualification(CaseBase):
    """A grade application (客户经理资格申请) with its evidence, approved by level."""

    manager = models.ForeignKey(CustomerManager, on_delete=models.PROTECT, related_name="qualifications")
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_grade = models.CharField(_("申请级别"), max_length=16, choices=ManagerGrade.choices)
    previous_grade = models.CharField(_("原级别"), max_length=16, choices=ManagerGrade.choices, blank=True)
    ability = models.TextField(_("工作能力"))
    experience_years = models.PositiveSmallIntegerField(_("专业工作经验（年）"))
    results = models.TextField(_("工作业绩"))
    customer_types = models.JSONField(_("所负责客户类型"), default=list)
    status = models.CharField(
        _("状态"), max_length=16, choices=QualificationStatus.choices, default=QualificationStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    SUBMITTER_FIELD = "applicant"

    class Meta:
        verbose_name = _("客户经理资格申请")
        verbose_name_plural = _("客户经理资格申请")
        constraints = [
            # One open application per manager (the service answers 409 before this is reached).
            models.UniqueConstraint(
                fields=["manager"], condition=models.Q(status="pending"), name="uniq_open_manager_qualification"
            ),
        ]


class MajorEventKind(models.TextChoices):
    """重大事件: what happened to the customer that the branch must know of at once."""

    DEATH = "death", _("客户身故")
    ILLNESS = "illness", _("重大疾病或伤残")
    ACCIDENT = "accident", _("重大意外事故")
    LARGE_CLAIM = "large_claim", _("大额理赔")
    BUSINESS = "business", _("经营重大变化（破产、重组、停业）")
    LITIGATION = "litigation", _("重大诉讼或纠纷")
    MEDIA = "media", _("媒体曝光或舆情")
    OTHER = "other", _("其他重大事件")


class MajorEventStatus(models.TextChoices):
    OPEN = "open", _("处理中")
    CLOSED = "closed", _("已办结")
    CANCELLED = "cancelled", _("已撤销")


class MajorEvent(CaseBase):
    """A major customer event (客户重大事件) reported by a customer manager: the unit head and the
    customer-service centre each acknowledge it with their instruction within a working day."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="major_events")
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("事件类型"), max_length=16, choices=MajorEventKind.choices)
    occurred_on = models.DateField(_("发生日期"))
    description = models.TextField(_("事件经过"))
    status = models.CharField(_("状态"), max_length=16, choices=MajorEventStatus.choices, default=MajorEventStatus.OPEN)
    head_instruction = models.TextField(_("机构负责人批示"), blank=True)
    head_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    head_at = models.DateTimeField(null=True, blank=True)
    centre_plan = models.TextField(_("客服中心跟进安排"), blank=True)
    centre_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    centre_at = models.DateTimeField(null=True, blank=True)

    SUBMITTER_FIELD = "reported_by"

    class Meta:
        verbose_name = _("客户重大事件")
        verbose_name_plural = _("客户重大事件")
        indexes = [models.Index(fields=["customer", "created_at"])]


class Assessment(models.TextChoices):
    """上年度考核结果: the year's assessment a recertification rests on."""

    EXCELLENT = "excellent", _("优秀")
    COMPETENT = "competent", _("称职")
    BASIC = "basic", _("基本称职")
    INCOMPETENT = "incompetent", _("不称职")


class RecertificationStatus(models.TextChoices):
    PENDING = "pending", _("认证中")
    CONFIRMED = "confirmed", _("维持级别")
    DOWNGRADED = "downgraded", _("降级")
    CANCELLED = "cancelled", _("已撤销")


class ManagerRecertification(CaseBase):
    """资格年度认证 (seed 001 §二: 资格认证每年进行一次): on the anniversary of his grade a manager
    submits last year's assessment; the grade's level confirms the grade or lowers it."""

    manager = models.ForeignKey(CustomerManager, on_delete=models.PROTECT, related_name="recertifications")
    # The certification year: the year of the anniversary that opened it.
    year = models.PositiveSmallIntegerField(_("认证年度"))
    grade = models.CharField(_("认证级别"), max_length=16, choices=ManagerGrade.choices)
    assessment = models.CharField(_("上年度考核结果"), max_length=16, choices=Assessment.choices, blank=True)
    results = models.TextField(_("上年度工作业绩"), blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=RecertificationStatus.choices, default=RecertificationStatus.PENDING
    )
    new_grade = models.CharField(_("认证后级别"), max_length=16, choices=ManagerGrade.choices, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    # The case is opened by the anniversary job in the manager's name: he is its submitter (his
    # step, his case), through his manager record (the inbox row names him: process_types.py).
    SUBMITTER_FIELD = ""

    class Meta:
        verbose_name = _("客户经理资格年度认证")
        verbose_name_plural = _("客户经理资格年度认证")
        constraints = [models.UniqueConstraint(fields=["manager", "year"], name="uniq_manager_recertification_year")]

    @property
    def submitter(self):
        return self.manager.user


class ManagedCustomer(models.Model):
    """一户一经理: the customer manager who serves a customer (at most one)."""

    customer = models.OneToOneField("customers.Customer", on_delete=models.PROTECT, related_name="managed_by")
    manager = models.ForeignKey(CustomerManager, on_delete=models.PROTECT, related_name="customers")
    since = models.DateTimeField(_("分配时间"))
    # The approved request that made it so (its reason and approver stay there).
    assignment = models.ForeignKey("service.CustomerAssignment", on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("客户经理负责客户")
        verbose_name_plural = _("客户经理负责客户")

    def __str__(self) -> str:
        return f"{self.customer_id} → {self.manager_id}"


class AssignmentStatus(models.TextChoices):
    PENDING = "pending", _("审批中")
    APPROVED = "approved", _("已生效")
    REJECTED = "rejected", _("已拒绝")
    CANCELLED = "cancelled", _("已撤销")


class CustomerAssignment(CaseBase):
    """客户分配/移交: a customer to a manager (or from one manager to another), with the reason,
    approved by the head of the receiving manager's unit."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    manager = models.ForeignKey(CustomerManager, on_delete=models.PROTECT, related_name="assignments_in")
    previous_manager = models.ForeignKey(
        CustomerManager, null=True, blank=True, on_delete=models.PROTECT, related_name="assignments_out"
    )
    reason = models.TextField(_("理由"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("状态"), max_length=16, choices=AssignmentStatus.choices, default=AssignmentStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("客户分配")
        verbose_name_plural = _("客户分配")
        constraints = [
            # One open request per customer (the service answers 409 before this is reached).
            models.UniqueConstraint(
                fields=["customer"], condition=models.Q(status="pending"), name="uniq_open_customer_assignment"
            ),
        ]


class BulkTransfer(CaseBase):
    """客户经理离岗移交: every customer of a departing manager moves to another manager at once,
    approved by the head of the departing manager's unit."""

    from_manager = models.ForeignKey(CustomerManager, on_delete=models.PROTECT, related_name="transfers_out")
    to_manager = models.ForeignKey(CustomerManager, on_delete=models.PROTECT, related_name="transfers_in")
    reason = models.TextField(_("理由"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("状态"), max_length=16, choices=AssignmentStatus.choices, default=AssignmentStatus.PENDING)
    customer_count = models.PositiveIntegerField(_("申请时客户数"), default=0)
    moved_count = models.PositiveIntegerField(_("移交客户数"), default=0)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("客户经理离岗移交")
        verbose_name_plural = _("客户经理离岗移交")
        constraints = [
            models.UniqueConstraint(
                fields=["from_manager"], condition=models.Q(status="pending"), name="uniq_open_bulk_transfer"
            ),
        ]


class VisitReportStatus(models.TextChoices):
    OPEN = "open", _("待提交")
    SUBMITTED = "submitted", _("已提交")
    # Nobody cancels a report by hand (the type has no cancel hook); kept for an administrator's
    # correction, e.g. a month opened in error.
    CANCELLED = "cancelled", _("已撤销")


class VisitReport(CaseBase):
    """月度走访分析报告 (seed 001 §二): for every month a customer manager reports his customer
    visits and his analysis of what he found (needs, opinions, problems, suggestions). The daily
    job opens one per manager and month in his name; the month's report is due a few working days
    into the next month (`due_at`); a report submitted after it is `late`."""

    manager = models.ForeignKey(CustomerManager, on_delete=models.PROTECT, related_name="visit_reports")
    # The month reported on: its first day.
    month = models.DateField(_("报告月份"))
    due_at = models.DateTimeField(_("应交时间"))
    visits = models.PositiveSmallIntegerField(_("走访次数"), null=True, blank=True)
    customers_visited = models.PositiveSmallIntegerField(_("走访客户数"), null=True, blank=True)
    analysis = models.TextField(_("走访分析"), blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=VisitReportStatus.choices, default=VisitReportStatus.OPEN)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    late = models.BooleanField(_("逾期提交"), default=False)

    # Opened by the job in the manager's name: he is its submitter, through his manager record.
    SUBMITTER_FIELD = ""

    class Meta:
        verbose_name = _("客户经理月度走访分析报告")
        verbose_name_plural = _("客户经理月度走访分析报告")
        constraints = [models.UniqueConstraint(fields=["manager", "month"], name="uniq_manager_visit_report_month")]
        indexes = [models.Index(fields=["status", "due_at"])]

    @property
    def submitter(self):
        return self.manager.user


class RevisitKind(models.TextChoices):
    """回访与提醒 (seed 001 §三、§四): what a revisit is for."""

    KEY_QUARTERLY_VISIT = "key_quarterly_visit", _("大客户季度拜访")
    GOOD_YEARLY_CALL = "good_yearly_call", _("优质客户年度电话回访")
    COMPLAINT_SATISFACTION = "complaint_satisfaction", _("投诉办结满意度回访")
    RENEWAL_REMINDER = "renewal_reminder", _("续保提醒")
    STALE_RECORD = "stale_record", _("久未核实客户资料更新")


class RevisitLane(models.TextChoices):
    MANAGER = "manager", _("客户经理")
    HOTLINE = "hotline", _("客服热线")


class RevisitStatus(models.TextChoices):
    OPEN = "open", _("待回访")
    DONE = "done", _("已回访")
    # Nobody cancels a revisit by hand (the type has no cancel hook); kept for an administrator's
    # correction, e.g. a plan opened in error.
    CANCELLED = "cancelled", _("已撤销")


class RevisitChannel(models.TextChoices):
    PHONE = "phone", _("电话")
    HOTLINE = "hotline", _("客服热线")
    VISIT = "visit", _("上门")
    BRANCH = "branch", _("柜面")
    WECHAT = "wechat", _("微信")
    OTHER = "other", _("其他")


class Revisit(CaseBase):
    """回访与提醒: one planned contact with a customer — a key customer's quarterly visit, a good
    customer's yearly call, the satisfaction call after a closed complaint, a renewal reminder
    before a policy ends, or the update of a record not verified for a year. The daily plan job
    opens it once per customer, kind and period (`period`); the customer's manager or the hotline
    (customer service) makes the contact before `due_at`; the outcome lands in the customer's
    contact log."""

    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="revisits", verbose_name=_("客户")
    )
    kind = models.CharField(_("回访类型"), max_length=32, choices=RevisitKind.choices)
    # The period the plan owes one revisit for: "2026Q4", "2026", "complaint:<id>", "<policy id>:<end date>".
    period = models.CharField(_("周期"), max_length=40)
    complaint = models.ForeignKey("complaints.Complaint", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    policy = models.ForeignKey("policies.Policy", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    lane = models.CharField(_("回访人"), max_length=16, choices=RevisitLane.choices)
    manager = models.ForeignKey(CustomerManager, null=True, blank=True, on_delete=models.PROTECT, related_name="revisits")
    due_at = models.DateTimeField(_("应完成时间"))
    contacted = models.BooleanField(_("已联系上"), null=True, blank=True)
    channel = models.CharField(_("联系方式"), max_length=16, choices=RevisitChannel.choices, blank=True)
    summary = models.TextField(_("回访情况"), blank=True)
    satisfaction = models.CharField(_("满意度"), max_length=16, blank=True)
    data_confirmed = models.BooleanField(_("资料仍然准确"), null=True, blank=True)
    next_step_at = models.DateTimeField(_("下次跟进时间"), null=True, blank=True)
    contact = models.ForeignKey("customers.CustomerContact", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("状态"), max_length=16, choices=RevisitStatus.choices, default=RevisitStatus.OPEN)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    late = models.BooleanField(_("逾期完成"), default=False)

    # Opened by the plan job: nobody submitted it.
    SUBMITTER_FIELD = ""

    class Meta:
        verbose_name = _("客户回访")
        verbose_name_plural = _("客户回访")
        constraints = [
            models.UniqueConstraint(fields=["customer", "kind", "period"], name="uniq_revisit_customer_kind_period"),
            # A complainant who is not a customer has no customer row: the complaint is the key.
            models.UniqueConstraint(fields=["complaint"], condition=models.Q(complaint__isnull=False), name="uniq_revisit_complaint"),
        ]
        indexes = [models.Index(fields=["status", "due_at"]), models.Index(fields=["kind", "status"])]
