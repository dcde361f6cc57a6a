from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class OrgLevel(models.TextChoices):
    HEAD_OFFICE = "head_office", _("总公司")
    PROVINCE = "province", _("省分公司")
    CITY = "city", _("市分公司")


class Role(models.TextChoices):
    COLLECTOR = "collector", _("采集人")
    OFFICER = "officer", _("客户信息管理岗")
    REVIEWER = "reviewer", _("审核岗")
    COMPLAINT_HANDLER = "complaint_handler", _("投诉处理岗")
    CUSTOMER_SERVICE = "customer_service", _("客服管理部")
    PROCESS_OWNER = "process_owner", _("流程管理员")
    COMPLIANCE = "compliance", _("合规")
    CUSTOMER_MANAGER = "customer_manager", _("客户经理")
    # 机构负责人: the head of a branch, who hears of a customer's major event (重大事件) first.
    UNIT_HEAD = "unit_head", _("机构负责人")
    # 热线坐席: answers the service hotline (seed 001 §三): looks a caller up, logs the call, files
    # a complaint, a change request or a claim report hand-off from the one screen.
    HOTLINE_AGENT = "hotline_agent", _("热线坐席")


class OrgUnit(models.Model):
    code = models.CharField(_("机构代码"), max_length=32, unique=True)
    name = models.CharField(_("机构名称"), max_length=100)
    level = models.CharField(_("层级"), max_length=16, choices=OrgLevel.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    # Materialised path of codes ("HO/GD/GD-SZ/"): a subtree is one indexed prefix query.
    path = models.CharField(max_length=255, db_index=True, editable=False)

    class Meta:
        ordering = ["path"]
        verbose_name = _("机构")
        verbose_name_plural = _("机构")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def ancestors_and_self(self) -> list[OrgUnit]:
        chain: list[OrgUnit] = []
        node: OrgUnit | None = self
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain

    def ancestor_at(self, level: str) -> OrgUnit | None:
        for node in self.ancestors_and_self():
            if node.level == level:
                return node
        return None

    def contains(self, other: OrgUnit) -> bool:
        return other.path.startswith(self.path)


class RoleAssignment(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices)
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="role_assignments")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "role", "org_unit"], name="uniq_role_assignment")]
        verbose_name = _("角色分配")
        verbose_name_plural = _("角色分配")

    def __str__(self) -> str:
        return f"{self.user} {self.role}@{self.org_unit.code}"


class SalesAgent(models.Model):
    """A registered sales agent (业务员/代理人); their phone numbers feed check D."""

    agent_code = models.CharField(_("工号"), max_length=32, unique=True)
    name = models.CharField(_("姓名"), max_length=100)
    phone = models.CharField(_("电话"), max_length=32, db_index=True)
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="sales_agents")
    active = models.BooleanField(default=True)
    # The agent's own login, if they have one: complaint recusal keeps agents out of cases
    # about themselves or their clients.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="sales_agent"
    )

    class Meta:
        verbose_name = _("业务员")
        verbose_name_plural = _("业务员")

    def __str__(self) -> str:
        return f"{self.name} ({self.agent_code})"
