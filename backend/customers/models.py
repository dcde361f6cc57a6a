from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition


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


class CustomerStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PENDING_REVIEW = "pending_review", _("待审核")
    ACTIVE = "active", _("已开户")
    REJECTED = "rejected", _("已拒绝")
    RETURNED = "returned", _("退回修改")


# A customer in any of these states holds its id: a second opening is a duplicate (check A).
HOLDING_STATUSES = [CustomerStatus.DRAFT, CustomerStatus.PENDING_REVIEW, CustomerStatus.ACTIVE, CustomerStatus.RETURNED]


class Customer(models.Model):
    customer_type = models.CharField(_("客户类型"), max_length=16, choices=CustomerType.choices, default=CustomerType.INDIVIDUAL)
    name = models.CharField(_("姓名"), max_length=100)
    id_type = models.CharField(_("证件类型"), max_length=32, choices=IdType.choices)
    id_number = models.CharField(_("证件号码"), max_length=32)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    gender = models.CharField(_("性别"), max_length=1, blank=True)
    phone = models.CharField(_("联系电话"), max_length=32, blank=True, db_index=True)
    address = models.CharField(_("通讯地址"), max_length=300, blank=True)
    email = models.CharField(_("电子邮箱"), max_length=254, blank=True)
    info_level = models.CharField(_("信息程度"), max_length=16, choices=InfoLevel.choices)
    status = FSMField(_("状态"), max_length=16, choices=CustomerStatus.choices, default=CustomerStatus.DRAFT, protected=True)
    org_unit = models.ForeignKey("organisation.OrgUnit", on_delete=models.PROTECT, related_name="customers")
    collected_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["id_type", "id_number"], condition=Q(status__in=HOLDING_STATUSES), name="uniq_customer_id_document"
            )
        ]
        indexes = [models.Index(fields=["id_type", "id_number"])]
        verbose_name = _("客户")
        verbose_name_plural = _("客户")

    def __str__(self) -> str:
        return f"{self.name} #{self.pk}"

    # Transitions only change state; services do the side effects (audit, timestamps).
    @transition(field=status, source=CustomerStatus.DRAFT, target=CustomerStatus.PENDING_REVIEW)
    def submit_for_review(self) -> None:
        pass

    @transition(field=status, source=[CustomerStatus.DRAFT, CustomerStatus.PENDING_REVIEW], target=CustomerStatus.ACTIVE)
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


class AccountOpening(models.Model):
    """An account-opening case (开户申请): one per submission, carries the checks' results."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="openings")
    info_level = models.CharField(max_length=16, choices=InfoLevel.choices)
    org_unit = models.ForeignKey("organisation.OrgUnit", on_delete=models.PROTECT, related_name="+")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    checks = models.JSONField(default=dict, blank=True)
    flags = models.JSONField(default=list, blank=True)
    decision_comment = models.TextField(blank=True)
    process_instance = models.OneToOneField("processes.ProcessInstance", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("开户申请")
        verbose_name_plural = _("开户申请")

    def __str__(self) -> str:
        return f"opening #{self.pk}"


class ScanDocument(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="scans")
    opening = models.ForeignKey(AccountOpening, null=True, blank=True, on_delete=models.PROTECT, related_name="scans")
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
    printed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    printed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.kind} {self.id}"
