from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from backend.common.cases import CaseBase


class CustomerType(models.TextChoices):
    INDIVIDUAL = "individual", _("个人客户")
    CORPORATE = "corporate", _("法人客户")


class InfoLevel(models.TextChoices):
    PRIMARY = "primary", _("初级程度")
    ADVANCED = "advanced", _("高级程度")


class IdType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("居民身份证")
    PASSPORT = "passport", _("护照")
    HK_MACAU_PERMIT = "hk_macau_permit", _("港澳居民来往内地通行证")
    TAIWAN_PERMIT = "taiwan_permit", _("台湾居民来往大陆通行证")
    FOREIGN_PERMANENT_RESIDENT = "foreign_permanent_resident", _("外国人永久居留身份证")
    USCC = "uscc", _("统一社会信用代码")
    ORG_CODE = "org_code", _("组织机构代码")


# Which id document types each customer type may hold.
INDIVIDUAL_ID_TYPES = [
    IdType.RESIDENT_ID,
    IdType.PASSPORT,
    IdType.HK_MACAU_PERMIT,
    IdType.TAIWAN_PERMIT,
    IdType.FOREIGN_PERMANENT_RESIDENT,
]
CORPORATE_ID_TYPES = [IdType.USCC, IdType.ORG_CODE]


class CustomerStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PENDING_REVIEW = "pending_review", _("待审核")
    ACTIVE = "active", _("已开户")
    REJECTED = "rejected", _("已拒绝")
    RETURNED = "returned", _("退回修改")
    FROZEN = "frozen", _("已冻结")
    WITHDRAWN = "withdrawn", _("已撤回")


# A customer in any of these states holds its id: a second opening is a duplicate (check A).
HOLDING_STATUSES = [
    CustomerStatus.DRAFT,
    CustomerStatus.PENDING_REVIEW,
    CustomerStatus.ACTIVE,
    CustomerStatus.RETURNED,
    CustomerStatus.FROZEN,
]


class IncomeBand(models.TextChoices):
    """个人年收入 (seed 002: 个人收入状况), in bands: a band is enough to advise, and less to leak."""

    LT_5 = "lt5", _("5万元以下")
    B5_10 = "5_10", _("5–10万元")
    B10_30 = "10_30", _("10–30万元")
    B30_100 = "30_100", _("30–100万元")
    GT_100 = "gt100", _("100万元以上")


class Customer(models.Model):
    customer_type = models.CharField(
        _("客户类型"), max_length=16, choices=CustomerType.choices, default=CustomerType.INDIVIDUAL
    )
    name = models.CharField(_("姓名"), max_length=100)
    id_type = models.CharField(_("证件类型"), max_length=32, choices=IdType.choices)
    id_number = models.CharField(_("证件号码"), max_length=32)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    gender = models.CharField(_("性别"), max_length=1, blank=True)
    phone = models.CharField(_("联系电话"), max_length=32, blank=True, db_index=True)
    address = models.CharField(_("通讯地址"), max_length=300, blank=True)
    email = models.CharField(_("电子邮箱"), max_length=254, blank=True)
    # Corporate customers (法人客户): id_type is uscc or org_code and id_number holds the code.
    legal_rep_name = models.CharField(_("法定代表人"), max_length=100, blank=True)
    legal_rep_id_type = models.CharField(
        _("法定代表人证件类型"), max_length=32, choices=IdType.choices, blank=True
    )
    legal_rep_id_number = models.CharField(_("法定代表人证件号码"), max_length=32, blank=True)
    contact_person = models.CharField(_("联系人"), max_length=100, blank=True)
    info_level = models.CharField(_("信息程度"), max_length=16, choices=InfoLevel.choices)
    status = FSMField(
        _("状态"), max_length=16, choices=CustomerStatus.choices, default=CustomerStatus.DRAFT, protected=True
    )
    org_unit = models.ForeignKey("organisation.OrgUnit", on_delete=models.PROTECT, related_name="customers")
    collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    # Freshness: when the data was last confirmed (opening, approved amendment).
    last_verified_at = models.DateTimeField(_("最近核实时间"), null=True, blank=True)
    # The identity document's validity (证件有效期): a last day, or 长期 (long term: no end).
    # Both empty: not recorded (optional except for resident ids at the advanced level).
    id_valid_until = models.DateField(_("证件有效期至"), null=True, blank=True, db_index=True)
    id_valid_long_term = models.BooleanField(_("证件长期有效"), default=False, db_default=False)
    # The file's static part beyond identity and contact (seed 002 客户档案静态要素): all optional.
    # employer, family_members and income_band are personal data (backend/organisation/privacy.py).
    occupation = models.CharField(_("职业"), max_length=100, blank=True, default="", db_default="")
    employer = models.CharField(_("工作单位"), max_length=200, blank=True, default="", db_default="")
    income_band = models.CharField(
        _("年收入"), max_length=8, choices=IncomeBand.choices, blank=True, default="", db_default=""
    )
    family_members = models.CharField(_("家庭成员"), max_length=500, blank=True, default="", db_default="")
    preferences = models.CharField(_("联系偏好"), max_length=300, blank=True, default="", db_default="")
    # Bumped by every applied change: a change request made against an older version is stale.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["id_type", "id_number"],
                condition=Q(status__in=HOLDING_STATUSES),
                name="uniq_customer_id_document",
            )
        ]
        indexes = [
            models.Index(fields=["id_type", "id_number"]),
            models.Index(fields=["id_number"], name="customer_id_number_idx"),
            models.Index(fields=["name"], name="customer_name_idx"),
        ]
        verbose_name = _("客户")
        verbose_name_plural = _("客户")

    def __str__(self) -> str:
        return f"{self.name} #{self.pk}"

    # Transitions only change state; services do the side effects (audit, timestamps).
    @transition(field=status, source=CustomerStatus.DRAFT, target=CustomerStatus.PENDING_REVIEW)
    def submit_for_review(self) -> None:
        pass

    @transition(
        field=status,
        source=[CustomerStatus.DRAFT, CustomerStatus.PENDING_REVIEW],
        target=CustomerStatus.ACTIVE,
    )
    def activate(self) -> None:
        pass

    @transition(field=status, source=CustomerStatus.PENDING_REVIEW, target=CustomerStatus.REJECTED)
    def reject(self) -> None:
        pass

    @transition(field=status, source=CustomerStatus.PENDING_REVIEW, target=CustomerStatus.RETURNED)
    def return_for_fix(self) -> None:
        pass

    @transition(field=status, source=CustomerStatus.RETURNED, target=CustomerStatus.PENDING_REVIEW)
    def resubmit(self) -> None:
        pass

    @transition(
        field=status,
        source=[CustomerStatus.DRAFT, CustomerStatus.PENDING_REVIEW, CustomerStatus.RETURNED],
        target=CustomerStatus.WITHDRAWN,
    )
    def withdraw(self) -> None:
        pass

    @transition(field=status, source=CustomerStatus.ACTIVE, target=CustomerStatus.FROZEN)
    def freeze(self) -> None:
        pass

    @transition(field=status, source=CustomerStatus.FROZEN, target=CustomerStatus.ACTIVE)
    def unfreeze(self) -> None:
        pass

    @property
    def is_corporate(self) -> bool:
        return self.customer_type == CustomerType.CORPORATE


class AccountOpening(CaseBase):
    """An account-opening case (开户申请): one per submission, carries the checks' results."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="openings")
    info_level = models.CharField(max_length=16, choices=InfoLevel.choices)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Seed 003 §1.1.1: the collector (采集人) gathers the data and is recorded for the incentive;
    # the customer-information officer (客户信息管理岗) opens. `opened_by` stays empty while a
    # collector's submission waits for the officer.
    collector = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(null=True, blank=True)
    # How often the case went back to the collector (officer's or reviewer's 退回).
    return_count = models.PositiveIntegerField(default=0)
    checks = models.JSONField(default=dict, blank=True)
    flags = models.JSONField(default=list, blank=True)

    SUBMITTER_FIELD = "submitted_by"
    STATUS_FIELD = ""

    class Meta:
        indexes = [models.Index(fields=["created_at"], name="opening_created_idx")]
        verbose_name = _("开户申请")
        verbose_name_plural = _("开户申请")

    def __str__(self) -> str:
        return f"opening #{self.pk}"


class ScanDocument(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="scans")
    opening = models.ForeignKey(
        AccountOpening, null=True, blank=True, on_delete=models.PROTECT, related_name="scans"
    )
    file = models.FileField(upload_to="scans/%Y/%m/")
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"scan {self.sha256[:12]}"


class PrintedDocument(models.Model):
    """Every printed form: the QR code links to /verify/<id> with the SHA-256 of its data."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=64)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    data_sha256 = models.CharField(max_length=64)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    org_unit = models.ForeignKey("organisation.OrgUnit", on_delete=models.PROTECT, related_name="+")
    # Empty for a print the system made on its own (the monthly complaint-analysis archive).
    printed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    printed_at = models.DateTimeField()
    # What was printed ("customer:12", "amendment:5", …): prints of one kind and subject are
    # numbered; the first (0) is the original, later ones are 副本 n with the reason asked.
    subject = models.CharField(max_length=64, blank=True)
    copy_number = models.PositiveIntegerField(default=0)
    reprint_reason = models.CharField(max_length=500, blank=True)
    # SHA-256 of the form's content without the print's own metadata (id, time, printer, copy
    # number): a later print with another content hash supersedes this one.
    content_sha256 = models.CharField(max_length=64, blank=True)
    signed_by = models.CharField(max_length=32, blank=True)  # org unit code whose key signed it

    class Meta:
        indexes = [models.Index(fields=["kind", "subject", "printed_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.id}"


class CustomerFieldChange(models.Model):
    """One field's history entry: who changed it, when, old → new, why, through which case."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="field_changes")
    field = models.CharField(max_length=32)
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)
    reason = models.TextField(blank=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField()
    case_type = models.CharField(max_length=64, blank=True)
    case_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["customer", "changed_at"])]
        verbose_name = _("客户信息变更记录")
        verbose_name_plural = _("客户信息变更记录")

    def __str__(self) -> str:
        return f"{self.customer_id}.{self.field}"


class ChangeScope(models.TextChoices):
    CONTACT = "contact", _("联系信息变更")
    IDENTITY = "identity", _("身份信息变更")


class AmendmentStatus(models.TextChoices):
    PENDING = "pending", _("审核中")
    APPLIED = "applied", _("已生效")
    REJECTED = "rejected", _("已拒绝")
    CANCELLED = "cancelled", _("已撤销")


class CustomerAmendment(CaseBase):
    """A change request (客户信息修改申请): a field-level diff against the customer's version."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="amendments")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    changes = models.JSONField(default=dict)  # {field: {"old": ..., "new": ...}}
    scope = models.CharField(max_length=16, choices=ChangeScope.choices)
    reason = models.TextField()
    base_version = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=AmendmentStatus.choices, default=AmendmentStatus.PENDING)
    flags = models.JSONField(default=list, blank=True)
    checks = models.JSONField(default=dict, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("客户信息修改申请")
        verbose_name_plural = _("客户信息修改申请")

    def __str__(self) -> str:
        return f"amendment #{self.pk}"


class BlacklistStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    ACTIVE = "active", _("生效")
    REMOVED = "removed", _("已移除")
    REJECTED = "rejected", _("未通过")


class BlacklistEntry(models.Model):
    """黑名单: an id document (individual id or corporate code) that openings, amendments and
    endorsements must not silently pass."""

    id_type = models.CharField(_("证件类型"), max_length=32, choices=IdType.choices)
    id_number = models.CharField(_("证件号码"), max_length=32)
    name = models.CharField(_("名称"), max_length=100, blank=True)
    reason = models.TextField(_("原因"))
    source = models.CharField(_("来源"), max_length=100)
    status = models.CharField(max_length=16, choices=BlacklistStatus.choices, default=BlacklistStatus.PENDING)
    org_unit = models.ForeignKey("organisation.OrgUnit", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["id_type", "id_number"],
                condition=Q(status__in=["pending", "active"]),
                name="uniq_blacklist_live_entry",
            )
        ]
        indexes = [models.Index(fields=["id_number", "status"])]
        verbose_name = _("黑名单")
        verbose_name_plural = _("黑名单")

    def __str__(self) -> str:
        return f"blacklist {self.id_type}:{self.pk}"


class BlacklistAction(models.TextChoices):
    ADD = "add", _("加入黑名单")
    REMOVE = "remove", _("移出黑名单")


class BlacklistChange(CaseBase):
    """A reviewed change to the blacklist (four eyes): adding or removing one entry."""

    entry = models.ForeignKey(BlacklistEntry, on_delete=models.PROTECT, related_name="changes")
    action = models.CharField(max_length=8, choices=BlacklistAction.choices)
    reason = models.TextField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=AmendmentStatus.choices, default=AmendmentStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("黑名单变更申请")
        verbose_name_plural = _("黑名单变更申请")

    def __str__(self) -> str:
        return f"blacklist change #{self.pk}"


class RevealEventKind(models.TextChoices):
    REVEAL = "reveal", _("查看完整信息")
    LOOKUP = "lookup", _("按证件号码、电话或名称查询")
    SCAN = "scan", _("查看证件扫描件")


class RevealEvent(models.Model):
    """An access event. `reveal`: a user revealed one personal field of a customer, with a
    reason. `lookup`: a user searched customers by one identifier; the value is kept only as
    a keyed hash (`value_hash`), with the number of results; there is no customer."""

    kind = models.CharField(max_length=16, choices=RevealEventKind.choices, default=RevealEventKind.REVEAL)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="reveal_events", null=True, blank=True
    )
    field = models.CharField(max_length=32)
    reason = models.TextField(blank=True, default="")
    value_hash = models.CharField(max_length=64, blank=True, default="", db_index=True)
    result_count = models.PositiveIntegerField(null=True, blank=True)
    org_unit = models.ForeignKey("organisation.OrgUnit", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "created_at"]),
            models.Index(fields=["kind", "user", "created_at"], name="reveal_kind_user_created"),
        ]
        verbose_name = _("敏感信息查看记录")
        verbose_name_plural = _("敏感信息查看记录")

    def __str__(self) -> str:
        return f"{self.kind} {self.field} of {self.customer_id or '-'}"


class PrintBatchStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("打印中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class PrintBatch(models.Model):
    """批量打印: many customers' collection cards as one merged, signed PDF, built by a job;
    `done` / `total` is the progress the page polls."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    org_unit = models.ForeignKey("organisation.OrgUnit", on_delete=models.PROTECT, related_name="+")
    customer_ids = models.JSONField(default=list)
    reason = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=16, choices=PrintBatchStatus.choices, default=PrintBatchStatus.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    document = models.ForeignKey(PrintedDocument, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    pdf = models.BinaryField(default=b"")
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"print batch {self.id}"


class NoticeChannel(models.TextChoices):
    SMS = "sms", _("短信")
    LETTER = "letter", _("信函")


class NoticeStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")


class CustomerNotice(models.Model):
    """A notice to the customer (客户变更通知): what changed (field names, never values), when,
    through which channel and case. Written in the transaction of the change, sent by a
    sweeping job through the backend named by CUSTFLOW_CUSTOMER_NOTICE_BACKEND."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="notices")
    kind = models.CharField(max_length=32, default="data_changed")
    channel = models.CharField(max_length=16, choices=NoticeChannel.choices)
    fields = models.JSONField(default=list)
    body = models.TextField()  # the rendered text: field labels only, no personal values
    case_type = models.CharField(max_length=64, blank=True)
    case_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=NoticeStatus.choices, default=NoticeStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "id"]), models.Index(fields=["customer", "created_at"])]
        verbose_name = _("客户变更通知")
        verbose_name_plural = _("客户变更通知")

    def __str__(self) -> str:
        return f"notice #{self.pk} {self.channel} customer {self.customer_id}"


class RenewalOutcome(models.TextChoices):
    AMENDMENT_REQUESTED = "amendment_requested", _("已提交证件信息修改申请")
    UNREACHABLE = "unreachable", _("无法联系客户")
    DECLINED = "declined", _("客户暂不更新")


class IdDocumentRenewal(CaseBase):
    """证件到期更新: the monthly job found the customer's identity document expiring within
    ID_EXPIRY_NOTICE_DAYS (or expired) and opened an update task for the owning branch. One
    per customer and month; no second one while one is open."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="id_renewals")
    period = models.CharField(max_length=7)  # YYYY-MM of the run
    valid_until = models.DateField()  # the document's last day when the task was opened
    expired = models.BooleanField(default=False)
    outcome = models.CharField(max_length=32, choices=RenewalOutcome.choices, blank=True)
    notes = models.TextField(blank=True)
    decision_comment = None  # the officer's outcome and notes are the record

    SUBMITTER_FIELD = ""  # opened by the monthly job
    STATUS_FIELD = "outcome"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["period", "customer"], name="uniq_id_renewal_period_customer"),
            models.UniqueConstraint(
                fields=["customer"], condition=Q(closed_at__isnull=True), name="uniq_open_id_renewal"
            ),
        ]
        verbose_name = _("证件到期更新")
        verbose_name_plural = _("证件到期更新")

    def __str__(self) -> str:
        return f"id renewal #{self.pk}"


# The customer's fields as people read them (change requests, notices, history, forms).
FIELD_LABELS = {
    "name": _("姓名/名称"),
    "id_type": _("证件类型"),
    "id_number": _("证件号码"),
    "birth_date": _("出生日期"),
    "id_valid_until": _("证件有效期至"),
    "gender": _("性别"),
    "phone": _("联系电话"),
    "address": _("地址"),
    "email": _("电子邮箱"),
    "contact_person": _("联系人"),
    "legal_rep_name": _("法定代表人"),
    "legal_rep_id_type": _("法定代表人证件类型"),
    "legal_rep_id_number": _("法定代表人证件号码"),
}


class ContactKind(models.TextChoices):
    CALL = "call", _("来电")
    VISIT = "visit", _("拜访")
    LETTER = "letter", _("信函")
    MESSAGE = "message", _("短信")
    COMPLAINT = "complaint", _("投诉")
    REPORT = "report", _("报案")


class ContactChannel(models.TextChoices):
    PHONE = "phone", _("电话")
    HOTLINE = "hotline", _("客服热线")
    BRANCH = "branch", _("柜面")
    VISIT = "visit", _("上门")
    WECHAT = "wechat", _("微信")
    EMAIL = "email", _("电子邮件")
    LETTER = "letter", _("信函")
    OTHER = "other", _("其他")


class CustomerContact(models.Model):
    """联系记录: one contact with the customer (seed 002 客户档案动态要素: 拜访时间、地点、要点、
    结果; seed 004 呼叫中心: every contact under the one customer, as a connected record).
    Append-only: a contact is recorded once and never edited."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="contacts")
    kind = models.CharField(_("联系类型"), max_length=16, choices=ContactKind.choices)
    channel = models.CharField(_("渠道"), max_length=16, choices=ContactChannel.choices)
    summary = models.TextField(_("联系要点"), max_length=2000)
    outcome = models.CharField(_("结果"), max_length=500, blank=True)
    next_step_at = models.DateTimeField(_("下次跟进时间"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    org_unit = models.ForeignKey("organisation.OrgUnit", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["customer", "-created_at"], name="contact_customer_created_idx")]
        verbose_name = _("联系记录")
        verbose_name_plural = _("联系记录")

    def __str__(self) -> str:
        return f"contact #{self.pk}"


class ProspectSource(models.TextChoices):
    """Where a prospect's details came from (seed 003 §1.3 第三方信息采集, §1.4 其他潜在客户信息收集)."""

    THIRD_PARTY = "third_party", _("第三方采集")
    HOTLINE_CALL = "hotline_call", _("来电")
    EVENT = "event", _("活动")
    REFERRAL = "referral", _("转介绍")
    WALK_IN = "walk_in", _("到店")


# Details gathered by someone other than the person, or in bulk at an event, are stored only with
# the person's consent (lawful collection).
CONSENT_REQUIRED_SOURCES = (ProspectSource.THIRD_PARTY, ProspectSource.EVENT)


class ProspectStatus(models.TextChoices):
    OPEN = "open", _("跟进中")
    CONVERTED = "converted", _("已转开户")
    DUPLICATE = "duplicate", _("重复")
    EXPIRED = "expired", _("已过期")


class Prospect(models.Model):
    """准客户: a person's simple details (seed 003 §1.4: 简单信息) gathered from a third party, a
    call, an event, a referral or a visit, before any opening. Personal fields (phone, id number)
    follow the privacy policy like a customer's. A prospect that is not converted expires after
    `CUSTFLOW['PROSPECTS']['EXPIRE_DAYS']` and its personal data is blanked `PURGE_DAYS` later
    (the row stays, `purged_at` set, so the counts per source and collector remain)."""

    org_unit = models.ForeignKey("organisation.OrgUnit", on_delete=models.PROTECT, related_name="prospects")
    name = models.CharField(_("姓名"), max_length=100, blank=True)
    phone = models.CharField(_("联系电话"), max_length=32, blank=True, db_index=True)
    id_type = models.CharField(_("证件类型"), max_length=32, choices=IdType.choices, blank=True)
    id_number = models.CharField(_("证件号码"), max_length=32, blank=True, db_index=True)
    interest = models.CharField(_("意向产品"), max_length=200, blank=True)
    notes = models.CharField(_("备注"), max_length=1000, blank=True)
    source = models.CharField(_("来源"), max_length=16, choices=ProspectSource.choices)
    source_detail = models.CharField(_("来源说明"), max_length=100, blank=True)
    consent = models.BooleanField(_("本人同意"), default=False)
    consent_at = models.DateTimeField(_("同意时间"), null=True, blank=True)
    collected_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("状态"), max_length=16, choices=ProspectStatus.choices, default=ProspectStatus.OPEN, db_index=True
    )
    # The customer it became (converted) or duplicates (a match in the collector's scope).
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="prospects"
    )
    opening = models.ForeignKey(
        AccountOpening, null=True, blank=True, on_delete=models.PROTECT, related_name="prospects"
    )
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The match the dedupe found, in any scope: shown only to users who may see the matched record
    # (an officer above both), never to a collector outside its scope (no oracle).
    matched_customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    matched_prospect = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    expires_at = models.DateTimeField(_("到期时间"), db_index=True)
    expired_at = models.DateTimeField(null=True, blank=True)
    converted_at = models.DateTimeField(null=True, blank=True)
    purge_after = models.DateTimeField(null=True, blank=True, db_index=True)
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["org_unit", "status", "-created_at"], name="prospect_unit_status_idx")]
        verbose_name = _("准客户")
        verbose_name_plural = _("准客户")

    def __str__(self) -> str:
        return f"prospect #{self.pk}"
