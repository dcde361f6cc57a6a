"""保单 and 批改: policies, their beneficiaries, and endorsements (a policy change reviewed
together with the changes it makes to the policyholder's / insured's customer data)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from backend.common.cases import CaseBase
from backend.customers.models import ChangeScope


class PaymentMode(models.TextChoices):
    ANNUAL = "annual", _("年缴")
    SEMIANNUAL = "semiannual", _("半年缴")
    QUARTERLY = "quarterly", _("季缴")
    MONTHLY = "monthly", _("月缴")
    SINGLE = "single", _("趸缴")


class PolicyStatus(models.TextChoices):
    IN_FORCE = "in_force", _("有效")
    LAPSED = "lapsed", _("失效")
    TERMINATED = "terminated", _("终止")


class BeneficiaryRelationship(models.TextChoices):
    SELF = "self", _("本人")
    SPOUSE = "spouse", _("配偶")
    CHILD = "child", _("子女")
    PARENT = "parent", _("父母")
    OTHER = "other", _("其他")


class Policy(models.Model):
    policy_number = models.CharField(_("保单号"), max_length=32, unique=True)
    product = models.CharField(_("险种"), max_length=100)
    policyholder = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="policies_held", verbose_name=_("投保人")
    )
    insured = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="policies_insured",
        verbose_name=_("被保险人"),
    )
    effective_date = models.DateField(_("生效日期"))
    term_months = models.PositiveIntegerField(_("保险期间(月)"))
    sum_insured = models.DecimalField(_("保险金额"), max_digits=14, decimal_places=2)
    premium = models.DecimalField(_("保费"), max_digits=12, decimal_places=2)
    payment_mode = models.CharField(_("缴费方式"), max_length=16, choices=PaymentMode.choices)
    status = models.CharField(
        _("保单状态"), max_length=16, choices=PolicyStatus.choices, default=PolicyStatus.IN_FORCE
    )
    org_unit = models.ForeignKey("organisation.OrgUnit", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Bumped by every applied endorsement: an endorsement made against an older version is stale.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("保单")
        verbose_name_plural = _("保单")

    def __str__(self) -> str:
        return self.policy_number


class PolicyBeneficiary(models.Model):
    """A named beneficiary (指定受益人): a customer of ours, or a person given by name and id."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="beneficiaries")
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="beneficiary_of"
    )
    name = models.CharField(_("姓名"), max_length=100, blank=True)
    id_type = models.CharField(_("证件类型"), max_length=32, blank=True)
    id_number = models.CharField(_("证件号码"), max_length=32, blank=True)
    relationship = models.CharField(
        _("与被保险人关系"), max_length=16, choices=BeneficiaryRelationship.choices
    )
    share = models.DecimalField(_("受益比例(%)"), max_digits=5, decimal_places=2)
    order = models.PositiveSmallIntegerField(_("顺序"), default=1)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("受益人")
        verbose_name_plural = _("受益人")

    def __str__(self) -> str:
        return f"{self.policy_id}: {self.name or self.customer_id}"


class EndorsementStatus(models.TextChoices):
    PENDING = "pending", _("审核中")
    APPLIED = "applied", _("已生效")
    REJECTED = "rejected", _("已拒绝")


class Endorsement(CaseBase):
    """批改申请: the customer parts ({customer_id: {field: {old, new}}}) and the policy part
    ({field: {old, new}}, beneficiaries as whole lists) of one change, each against the
    version it was made from."""

    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="endorsements")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    customer_changes = models.JSONField(default=dict, blank=True)
    customer_base_versions = models.JSONField(default=dict, blank=True)
    policy_changes = models.JSONField(default=dict, blank=True)
    policy_base_version = models.PositiveIntegerField()
    scope = models.CharField(max_length=16, choices=ChangeScope.choices)
    reason = models.TextField()
    status = models.CharField(
        max_length=16, choices=EndorsementStatus.choices, default=EndorsementStatus.PENDING
    )
    flags = models.JSONField(default=list, blank=True)
    checks = models.JSONField(default=dict, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["policy"],
                condition=models.Q(status="pending"),
                name="uniq_pending_endorsement_per_policy",
            )
        ]
        verbose_name = _("批改申请")
        verbose_name_plural = _("批改申请")

    def __str__(self) -> str:
        return f"endorsement #{self.pk}"
