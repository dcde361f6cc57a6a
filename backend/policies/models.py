"""保单 and 批改: policies, their beneficiaries, and endorsements (a policy change reviewed
together with the changes it makes to the policyholder's / insured's customer data)."""

from __future__ import annotations

import calendar
from datetime import date

from django.conf import settings
from django.db import models
from django.db.models.functions import Greatest
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


def policy_end(effective_date: date, term_months: int) -> date:
    months = effective_date.month - 1 + term_months
    year, month = effective_date.year + months // 12, months % 12 + 1
    return date(year, month, min(effective_date.day, calendar.monthrange(year, month)[1]))


# 年化保费: the premium field is the yearly premium for regular payments; a single premium (趸缴) is
# spread over the policy's term. The segment rules compare customers by it.
ANNUAL_PREMIUM = models.Case(
    models.When(
        payment_mode=PaymentMode.SINGLE,
        then=models.F("premium") * 12 / Greatest(models.F("term_months"), 1),
    ),
    default=models.F("premium"),
    output_field=models.DecimalField(max_digits=16, decimal_places=2),
)


def policies_in_force(queryset, today: date):
    """有效保单 on `today`: in force by its status and already started."""
    return queryset.filter(status=PolicyStatus.IN_FORCE, effective_date__lte=today)


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

    @property
    def end_date(self) -> date:
        """The day cover ends (exclusive): the effective date moved on by the term, clamped to the
        month's last day (a policy from 31 January for one month ends on 28/29 February)."""
        return policy_end(self.effective_date, self.term_months)


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


class ClaimStatus(models.TextChoices):
    REPORTED = "reported", _("已报案")
    SETTLED = "settled", _("已结案赔付")
    DECLINED = "declined", _("拒赔")
    WITHDRAWN = "withdrawn", _("已撤案")


class Claim(models.Model):
    """理赔: a claim on one of our policies as the claims system reports it (POST
    /api/integrations/claims/). The claims system owns it; we keep what the segment and alert
    rules need (when it happened, what was claimed and paid) and who told us."""

    claim_number = models.CharField(_("赔案号"), max_length=32, unique=True)
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="claims", verbose_name=_("保单"))
    # Copied from the policy when the claim arrives: the rules count claims per policyholder.
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="claims", verbose_name=_("投保人")
    )
    org_unit = models.ForeignKey("organisation.OrgUnit", on_delete=models.PROTECT, related_name="+")
    occurred_on = models.DateField(_("出险日期"))
    reported_on = models.DateField(_("报案日期"))
    status = models.CharField(_("赔案状态"), max_length=16, choices=ClaimStatus.choices, default=ClaimStatus.REPORTED)
    amount_claimed = models.DecimalField(_("索赔金额"), max_digits=14, decimal_places=2, default=0)
    amount_paid = models.DecimalField(_("赔付金额"), max_digits=14, decimal_places=2, default=0)
    cause = models.CharField(_("出险原因"), max_length=200, blank=True)
    source = models.CharField(_("来源系统"), max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("赔案")
        verbose_name_plural = _("赔案")
        indexes = [models.Index(fields=["customer", "occurred_on"], name="claim_customer_occurred")]

    def __str__(self) -> str:
        return self.claim_number
