"""Reads of the service desk: which grade applications a user may see, and how they look."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.cases import case_decision_fields
from backend.common.exceptions import Forbidden
from backend.organisation.models import OrgLevel, Role
from backend.organisation.privacy import masked
from backend.organisation.selectors import case_get_or_404, cases_readable, scope_q, user_role_assignments
from backend.service.models import (
    Assessment,
    BulkTransfer,
    CustomerAssignment,
    CustomerManager,
    MajorEvent,
    MajorEventKind,
    ManagedCustomer,
    ManagerGrade,
    ManagerQualification,
    ManagerRecertification,
    Revisit,
    RevisitKind,
    RevisitLane,
    RevisitStatus,
    ServedCustomerType,
    VisitReport,
    VisitReportStatus,
)
from tasks.models import HumanTask, TaskStatus


def qualification_review_level(grade: str) -> str:
    """The org level that approves an application for `grade` (资深、高级: province; others: city)."""
    return OrgLevel.PROVINCE if grade in (ManagerGrade.PRINCIPAL, ManagerGrade.SENIOR) else OrgLevel.CITY


# Who reads grade applications besides the applicant: the approvers, the customer-information
# officers and compliance of the branch, its province and head office, and customer service
# (客服管理部 "guides and manages the customer managers", seed 001 §三).
READER_ROLES = frozenset({Role.REVIEWER, Role.OFFICER, Role.COMPLIANCE, Role.CUSTOMER_SERVICE})


def manager_qualifications_visible(*, user) -> QuerySet[ManagerQualification]:
    """Applications the user may read: readers' in their org subtrees, and his own."""
    qs = ManagerQualification.objects.select_related("manager", "applicant", "org_unit", "decided_by")
    return cases_readable(qs, user=user, roles=READER_ROLES, own=Q(applicant=user))


def manager_qualification_get(*, user, qualification_id: Any) -> ManagerQualification:
    return case_get_or_404(manager_qualifications_visible(user=user), qualification_id, _("资格申请不存在"), "qualification_not_found")


def customer_manager_page_check(user) -> None:
    """The 资格申请 page is for customer managers: anybody else gets 403."""
    if not any(ra.role == Role.CUSTOMER_MANAGER for ra in user_role_assignments(user)):
        raise Forbidden(_("只有客户经理可以申请客户经理资格"), code="not_customer_manager")


def customer_manager_of(user) -> CustomerManager | None:
    return CustomerManager.objects.filter(user=user).select_related("org_unit").first() if user.is_authenticated else None


def _grade_label(grade: str) -> str:
    return str(ManagerGrade(grade).label) if grade in ManagerGrade.values else _("未定级")


def manager_qualification_view(case: ManagerQualification) -> dict[str, Any]:
    level = qualification_review_level(case.requested_grade)
    types = [str(ServedCustomerType(t).label) for t in case.customer_types if t in ServedCustomerType.values]
    return {
        "id": case.pk,
        "applicant": case.applicant.username,
        "applicant_name": case.applicant.get_full_name() or case.applicant.username,
        "org_unit": case.org_unit.code,
        "requested_grade": case.requested_grade,
        "requested_grade_label": _grade_label(case.requested_grade),
        "previous_grade": case.previous_grade,
        "previous_grade_label": _grade_label(case.previous_grade),
        "review_level": str(level),
        "review_level_label": str(OrgLevel(level).label),
        "ability": case.ability,
        "experience_years": case.experience_years,
        "results": case.results,
        "customer_types": list(case.customer_types),
        "customer_type_labels": types,
        **case_decision_fields(case),
    }


def manager_qualification_case_view(*, user, case_id: Any) -> dict[str, Any]:
    """The case on the task page (generic template: title and rows) and in the task API."""
    case = manager_qualification_get(user=user, qualification_id=case_id)
    data = manager_qualification_view(case)
    data["title"] = _("客户经理资格申请 #%(id)s") % {"id": case.pk}
    data["rows"] = [
        {"label": _("申请人"), "value": f"{data['applicant_name']}({case.org_unit.name})"},
        {"label": _("申请级别"), "value": data["requested_grade_label"]},
        {"label": _("原级别"), "value": data["previous_grade_label"]},
        {"label": _("审批层级"), "value": data["review_level_label"]},
        {"label": _("工作能力"), "value": case.ability},
        {"label": _("专业工作经验"), "value": _("%(n)s 年") % {"n": case.experience_years}},
        {"label": _("工作业绩"), "value": case.results},
        {"label": _("所负责客户类型"), "value": "、".join(types) if (types := data["customer_type_labels"]) else "—"},
    ]
    return data


# ---- 客户重大事件 -----------------------------------------------------------------------------------

# Who reads major-event reports besides the reporter: those the process reaches (unit heads,
# customer service) and the branch's officers and compliance, in their org subtrees.
MAJOR_EVENT_READER_ROLES = frozenset({Role.UNIT_HEAD, Role.CUSTOMER_SERVICE, Role.OFFICER, Role.COMPLIANCE})


def major_events_visible(*, user) -> QuerySet[MajorEvent]:
    qs = MajorEvent.objects.select_related("customer", "reported_by", "org_unit", "head_by", "centre_by")
    return cases_readable(qs, user=user, roles=MAJOR_EVENT_READER_ROLES, own=Q(reported_by=user))


def major_event_get(*, user, event_id: Any) -> MajorEvent:
    return case_get_or_404(major_events_visible(user=user), event_id, _("重大事件报告不存在"), "major_event_not_found")


def _who(user) -> str | None:
    return (user.get_full_name() or user.username) if user is not None else None


def major_event_view(case: MajorEvent) -> dict[str, Any]:
    return {
        "id": case.pk,
        "customer_id": case.customer_id,
        "org_unit": case.org_unit.code,
        "reported_by": case.reported_by.username,
        "reported_by_name": _who(case.reported_by),
        "kind": case.kind,
        "kind_label": str(MajorEventKind(case.kind).label) if case.kind in MajorEventKind.values else case.kind,
        "occurred_on": case.occurred_on.isoformat(),
        "description": case.description,
        "status": case.status,
        "status_label": str(case.get_status_display()),
        "head_instruction": case.head_instruction,
        "head_by": case.head_by.username if case.head_by_id else None,
        "head_at": case.head_at.isoformat() if case.head_at else None,
        "centre_plan": case.centre_plan,
        "centre_by": case.centre_by.username if case.centre_by_id else None,
        "centre_at": case.centre_at.isoformat() if case.centre_at else None,
        "process_instance_id": case.process_instance_id,
        "created_at": case.created_at.isoformat(),
        "closed_at": case.closed_at.isoformat() if case.closed_at else None,
    }


def major_event_case_view(*, user, case_id: Any) -> dict[str, Any]:
    """The case on the task page (generic template: title and rows) and in the task API."""
    case = major_event_get(user=user, event_id=case_id)
    data = major_event_view(case)
    data["title"] = _("客户重大事件 #%(id)s") % {"id": case.pk}
    data["rows"] = [
        {"label": _("客户"), "value": f"{case.customer.name}({case.org_unit.name})"},
        {"label": _("事件类型"), "value": data["kind_label"]},
        {"label": _("发生日期"), "value": data["occurred_on"]},
        {"label": _("事件经过"), "value": case.description},
        {"label": _("报告人"), "value": data["reported_by_name"]},
        {"label": _("负责人批示"), "value": case.head_instruction or "—"},
        {"label": _("客服中心跟进安排"), "value": case.centre_plan or "—"},
    ]
    return data


# ---- 资格年度认证 ---------------------------------------------------------------------------------


def manager_recertifications_visible(*, user) -> QuerySet[ManagerRecertification]:
    """Recertifications the user may read: the grade's readers in their subtrees, and his own."""
    qs = ManagerRecertification.objects.select_related("manager__user", "org_unit", "decided_by")
    return cases_readable(qs, user=user, roles=READER_ROLES, own=Q(manager__user=user))


def manager_recertification_get(*, user, recertification_id: Any) -> ManagerRecertification:
    return case_get_or_404(manager_recertifications_visible(user=user), recertification_id, _("年度认证不存在"), "recertification_not_found")


def manager_recertification_view(case: ManagerRecertification) -> dict[str, Any]:
    level = qualification_review_level(case.grade)
    user = case.manager.user
    return {
        "id": case.pk,
        "manager": user.username,
        "manager_name": user.get_full_name() or user.username,
        "org_unit": case.org_unit.code,
        "year": case.year,
        "grade": case.grade,
        "grade_label": _grade_label(case.grade),
        "review_level": str(level),
        "review_level_label": str(OrgLevel(level).label),
        "assessment": case.assessment,
        "assessment_label": str(Assessment(case.assessment).label) if case.assessment in Assessment.values else "",
        "results": case.results,
        "submitted_at": case.submitted_at.isoformat() if case.submitted_at else None,
        "new_grade": case.new_grade,
        "new_grade_label": _grade_label(case.new_grade) if case.new_grade else "",
        **case_decision_fields(case),
    }


def manager_recertification_case_view(*, user, case_id: Any) -> dict[str, Any]:
    case = manager_recertification_get(user=user, recertification_id=case_id)
    data = manager_recertification_view(case)
    data["title"] = _("客户经理资格年度认证 #%(id)s") % {"id": case.pk}
    data["rows"] = [
        {"label": _("客户经理"), "value": f"{data['manager_name']}({case.org_unit.name})"},
        {"label": _("认证年度"), "value": str(case.year)},
        {"label": _("现级别"), "value": data["grade_label"]},
        {"label": _("认证层级"), "value": data["review_level_label"]},
        {"label": _("上年度考核结果"), "value": data["assessment_label"] or "—"},
        {"label": _("上年度工作业绩"), "value": case.results or "—"},
    ]
    return data


# ---- 客户分配与移交 ---------------------------------------------------------------------------------

ASSIGNMENT_READER_ROLES = frozenset({Role.UNIT_HEAD, Role.OFFICER, Role.COMPLIANCE, Role.CUSTOMER_SERVICE})


def customer_assignments_visible(*, user) -> QuerySet[CustomerAssignment]:
    qs = CustomerAssignment.objects.select_related(
        "customer", "manager__user", "previous_manager__user", "org_unit", "requested_by", "decided_by"
    )
    return cases_readable(qs, user=user, roles=ASSIGNMENT_READER_ROLES, own=Q(requested_by=user) | Q(manager__user=user) | Q(previous_manager__user=user))


def customer_assignment_get(*, user, assignment_id: Any) -> CustomerAssignment:
    return case_get_or_404(customer_assignments_visible(user=user), assignment_id, _("客户分配申请不存在"), "assignment_not_found")


def _manager_brief(manager: CustomerManager | None) -> dict[str, Any] | None:
    if manager is None:
        return None
    return {
        "username": manager.user.username,
        "name": manager.user.get_full_name() or manager.user.username,
        "org_unit": manager.org_unit.code,
        "grade": manager.grade,
        "grade_label": _grade_label(manager.grade),
    }


def customer_manager_brief(customer) -> dict[str, Any] | None:
    """`manager` on the customer's detail: who serves the customer (一户一经理), or None."""
    managed = ManagedCustomer.objects.select_related("manager__user", "manager__org_unit").filter(customer=customer).first()
    return _manager_brief(managed.manager) if managed else None


def customer_assignment_view(case: CustomerAssignment) -> dict[str, Any]:
    return {
        "id": case.pk,
        "customer_id": case.customer_id,
        "manager": _manager_brief(case.manager),
        "previous_manager": _manager_brief(case.previous_manager),
        "transfer": case.previous_manager_id is not None,
        "reason": case.reason,
        "requested_by": case.requested_by.username,
        **case_decision_fields(case),
    }


def customer_assignment_case_view(*, user, case_id: Any) -> dict[str, Any]:
    case = customer_assignment_get(user=user, assignment_id=case_id)
    data = customer_assignment_view(case)
    data["title"] = (_("客户移交 #%(id)s") if data["transfer"] else _("客户分配 #%(id)s")) % {"id": case.pk}
    previous = data["previous_manager"]
    data["rows"] = [
        {"label": _("客户"), "value": f"{case.customer.name}({case.customer.org_unit.name if case.customer.org_unit_id else ''})"},
        {"label": _("原客户经理"), "value": f"{previous['name']}({previous['grade_label']})" if previous else "—"},
        {"label": _("接收客户经理"), "value": f"{data['manager']['name']}({data['manager']['grade_label']})"},
        {"label": _("理由"), "value": case.reason},
        {"label": _("申请人"), "value": case.requested_by.get_full_name() or case.requested_by.username},
    ]
    return data


def customer_manager_candidates(customer) -> list[tuple[str, str]]:
    """(username, "name · grade") of the managers whose unit covers the customer: the choices of
    the customer page's assignment form."""
    path = customer.org_unit.path  # "HO/GD/GD-SZ/": the units covering it are its prefixes
    covering = [path[: i + 1] for i, ch in enumerate(path) if ch == "/"]
    managers = CustomerManager.objects.select_related("user", "org_unit").filter(user__is_active=True, org_unit__path__in=covering)
    return [
        (m.user.username, f"{m.user.get_full_name() or m.user.username} · {_grade_label(m.grade)}")
        for m in managers.order_by("user__username")
    ]


def bulk_transfers_visible(*, user) -> QuerySet[BulkTransfer]:
    qs = BulkTransfer.objects.select_related("from_manager__user", "to_manager__user", "org_unit", "requested_by", "decided_by")
    return cases_readable(qs, user=user, roles=ASSIGNMENT_READER_ROLES, own=Q(requested_by=user) | Q(from_manager__user=user) | Q(to_manager__user=user))


def bulk_transfer_get(*, user, transfer_id: Any) -> BulkTransfer:
    return case_get_or_404(bulk_transfers_visible(user=user), transfer_id, _("离岗移交申请不存在"), "bulk_transfer_not_found")


def bulk_transfer_view(case: BulkTransfer) -> dict[str, Any]:
    return {
        "id": case.pk,
        "manager": _manager_brief(case.from_manager),
        "to_manager": _manager_brief(case.to_manager),
        "reason": case.reason,
        "requested_by": case.requested_by.username,
        "customer_count": case.customer_count,
        "moved_count": case.moved_count,
        **case_decision_fields(case),
    }


def bulk_transfer_case_view(*, user, case_id: Any) -> dict[str, Any]:
    case = bulk_transfer_get(user=user, transfer_id=case_id)
    data = bulk_transfer_view(case)
    data["title"] = _("客户经理离岗移交 #%(id)s") % {"id": case.pk}
    data["rows"] = [
        {"label": _("离岗客户经理"), "value": f"{data['manager']['name']}({case.org_unit.name})"},
        {"label": _("接收客户经理"), "value": f"{data['to_manager']['name']}({data['to_manager']['grade_label']})"},
        {"label": _("移交客户数"), "value": str(case.customer_count)},
        {"label": _("理由"), "value": case.reason},
        {"label": _("申请人"), "value": case.requested_by.get_full_name() or case.requested_by.username},
    ]
    return data


def managers_with_customers(*, user) -> list[dict[str, Any]]:
    """The customer managers in the user's org subtrees with how many customers each serves: the
    离岗移交 page's list and choices."""
    managers = CustomerManager.objects.select_related("user", "org_unit").annotate(served=Count("customers"))
    if not user.is_superuser:
        managers = managers.filter(scope_q(user, "org_unit"))
    return [
        {**_manager_brief(m), "customers": m.served, "active": m.user.is_active}
        for m in managers.order_by("org_unit__path", "user__username")
    ]


def manager_transfers_page_check(user) -> None:
    """The 离岗移交 page is for those who ask (officers) and approve (unit heads): 403 otherwise."""
    if not user.is_superuser and not any(ra.role in (Role.OFFICER, Role.UNIT_HEAD) for ra in user_role_assignments(user)):
        raise Forbidden(_("只有客户信息管理岗和机构负责人可以办理离岗移交"), code="not_allowed")


# ---- 月度走访分析报告 ---------------------------------------------------------------------------

# Who reads the managers' visit reports besides the manager: his unit head (机构负责人, who follows
# the late ones), the branch's reviewers, officers and compliance, and customer service (客服管理部
# guides and manages the customer managers), in their org subtrees.
VISIT_REPORT_READER_ROLES = frozenset({Role.UNIT_HEAD, Role.REVIEWER, Role.OFFICER, Role.COMPLIANCE, Role.CUSTOMER_SERVICE})


def visit_reports_visible(*, user) -> QuerySet[VisitReport]:
    """Visit reports the user may read: his own, and those of the subtrees where he reads them."""
    qs = VisitReport.objects.select_related("manager__user", "org_unit")
    return cases_readable(qs, user=user, roles=VISIT_REPORT_READER_ROLES, own=Q(manager__user=user))


def visit_report_get(*, user, report_id: Any) -> VisitReport:
    return case_get_or_404(visit_reports_visible(user=user), report_id, _("月度走访分析报告不存在"), "visit_report_not_found")


def visit_reports_late(*, user) -> QuerySet[VisitReport]:
    """The late reports the user may read (not his own unless he reads his unit's): past their
    due time and still open, or submitted after it; the oldest first."""
    now = timezone.now()
    qs = visit_reports_visible(user=user)
    return qs.filter(Q(status=VisitReportStatus.OPEN, due_at__lt=now) | Q(status=VisitReportStatus.SUBMITTED, late=True)).order_by(
        "month", "org_unit__path", "manager__user__username"
    )


def visit_reports_own(*, user, limit: int = 24) -> list[dict[str, Any]]:
    """The manager's own reports, the newest month first; an open one names his ready task."""
    rows = [visit_report_view(r) for r in visit_reports_visible(user=user).filter(manager__user=user).order_by("-month")[:limit]]
    open_ids = [r["id"] for r in rows if r["status"] == VisitReportStatus.OPEN]
    tasks = dict(
        HumanTask.objects.filter(case_type=VisitReport._meta.label_lower, case_id__in=open_ids, status=TaskStatus.READY).values_list("case_id", "pk")
    )
    for row in rows:
        row["task_id"] = tasks.get(row["id"])
    return rows


def visit_reports_page_check(user) -> None:
    """The 走访报告 page is for customer managers and those who read their reports: 403 otherwise."""
    roles = {ra.role for ra in user_role_assignments(user)}
    if not user.is_superuser and not roles & (VISIT_REPORT_READER_ROLES | {Role.CUSTOMER_MANAGER}):
        raise Forbidden(_("只有客户经理及其管理人员可以查看月度走访分析报告"), code="not_allowed")


def visit_report_reads_unit(user) -> bool:
    """Whether the user reads other managers' reports (the page's unit sections)."""
    return user.is_superuser or any(ra.role in VISIT_REPORT_READER_ROLES for ra in user_role_assignments(user))


def visit_report_view(case: VisitReport, *, now=None) -> dict[str, Any]:
    now = now or timezone.now()
    user = case.manager.user
    overdue = case.status == VisitReportStatus.OPEN and case.due_at < now
    return {
        "id": case.pk,
        "manager": user.username,
        "manager_name": user.get_full_name() or user.username,
        "org_unit": case.org_unit.code,
        "org_unit_name": case.org_unit.name,
        "month": case.month.strftime("%Y-%m"),
        "due_at": case.due_at.isoformat(),
        "due_on": timezone.localtime(case.due_at).date().isoformat(),
        "visits": case.visits,
        "customers_visited": case.customers_visited,
        "analysis": case.analysis,
        "status": case.status,
        "status_label": str(case.get_status_display()),
        "submitted_at": case.submitted_at.isoformat() if case.submitted_at else None,
        "submitted_on": timezone.localtime(case.submitted_at).date().isoformat() if case.submitted_at else None,
        "late": case.late,
        "overdue": overdue,
        "process_instance_id": case.process_instance_id,
        "created_at": case.created_at.isoformat(),
    }


def visit_report_case_view(*, user, case_id: Any) -> dict[str, Any]:
    case = visit_report_get(user=user, report_id=case_id)
    data = visit_report_view(case)
    data["title"] = _("月度走访分析报告 #%(id)s") % {"id": case.pk}
    data["rows"] = [
        {"label": _("客户经理"), "value": f"{data['manager_name']}（{case.org_unit.name}）"},
        {"label": _("报告月份"), "value": data["month"]},
        {"label": _("应交日期"), "value": data["due_on"]},
        {"label": _("状态"), "value": data["status_label"]},
    ]
    if case.status == VisitReportStatus.SUBMITTED:
        data["rows"] += [
            {"label": _("走访次数"), "value": str(case.visits)},
            {"label": _("走访客户数"), "value": str(case.customers_visited)},
            {"label": _("走访分析"), "value": case.analysis},
        ]
    return data


# ---- 回访与提醒 ---------------------------------------------------------------------------------

# Who reads revisits besides the one who makes it and the customer's manager: officers, customer
# service (the hotline), unit heads and compliance, in their org subtrees.
REVISIT_READER_ROLES = frozenset({Role.OFFICER, Role.CUSTOMER_SERVICE, Role.UNIT_HEAD, Role.COMPLIANCE})


def revisits_visible(*, user) -> QuerySet[Revisit]:
    """Revisits the user may read: those he makes or made, those of the customers he serves, and
    every revisit of the subtrees where he holds a reader role."""
    qs = Revisit.objects.select_related("customer", "org_unit", "manager__user", "complaint", "policy", "completed_by")
    own = Q(manager__user=user) | Q(completed_by=user) | Q(customer__managed_by__manager__user=user)
    return cases_readable(qs, user=user, roles=REVISIT_READER_ROLES, own=own)


def revisit_get(*, user, revisit_id: Any) -> Revisit:
    return case_get_or_404(revisits_visible(user=user), revisit_id, _("回访不存在"), "revisit_not_found")


def revisits_page_check(user) -> None:
    """The 回访 page is for customer managers and the revisits' readers: 403 otherwise."""
    roles = {ra.role for ra in user_role_assignments(user)}
    if not user.is_superuser and not roles & (REVISIT_READER_ROLES | {Role.CUSTOMER_MANAGER}):
        raise Forbidden(_("只有客户经理、客服和管理人员可以查看回访"), code="not_allowed")


def revisits_open(*, user, limit: int = 200) -> list[dict[str, Any]]:
    """The open revisits the user may read, the late ones first, then by due time; each names its
    ready task."""
    now = timezone.now()
    qs = revisits_visible(user=user).filter(status=RevisitStatus.OPEN).order_by("due_at", "pk")[:limit]
    rows = [revisit_view(r, now=now) for r in qs]
    tasks = dict(
        HumanTask.objects.filter(case_type=Revisit._meta.label_lower, case_id__in=[r["id"] for r in rows], status=TaskStatus.READY).values_list(
            "case_id", "pk"
        )
    )
    for row in rows:
        row["task_id"] = tasks.get(row["id"])
    return rows


def revisits_late_done(*, user, limit: int = 100) -> list[dict[str, Any]]:
    """Revisits made after their due time, the newest first."""
    qs = revisits_visible(user=user).filter(status=RevisitStatus.DONE, late=True).order_by("-completed_at", "-pk")[:limit]
    return [revisit_view(r) for r in qs]


def _customer_label(case: Revisit) -> str:
    if case.customer_id:
        return masked("customer_name", case.customer.name)
    if case.complaint_id:
        return masked("customer_name", case.complaint.complainant_name)
    return "—"


def _period_label(case: Revisit) -> str:
    """The period in words: 2026 年第 4 季度, 2026 年度, the complaint's or the policy's number."""
    if case.complaint_id:
        return _("投诉 %(n)s") % {"n": case.complaint.number}
    if case.policy_id:
        return _("保单 %(n)s，%(d)s 到期") % {"n": case.policy.policy_number, "d": case.period.split(":")[-1]}
    if "Q" in case.period:
        year, quarter = case.period.split("Q", 1)
        return _("%(y)s 年第 %(q)s 季度") % {"y": year, "q": quarter}
    return _("%(y)s 年度") % {"y": case.period}


def revisit_view(case: Revisit, *, now=None) -> dict[str, Any]:
    now = now or timezone.now()
    manager = case.manager.user if case.manager_id else None
    return {
        "id": case.pk,
        "kind": case.kind,
        "kind_label": str(RevisitKind(case.kind).label) if case.kind in RevisitKind.values else case.kind,
        "period": case.period,
        "period_label": _period_label(case),
        "customer_id": case.customer_id,
        "customer_name": _customer_label(case),
        "complaint_id": case.complaint_id,
        "complaint_number": case.complaint.number if case.complaint_id else None,
        "policy_id": case.policy_id,
        "policy_number": case.policy.policy_number if case.policy_id else None,
        "org_unit": case.org_unit.code,
        "org_unit_name": case.org_unit.name,
        "lane": case.lane,
        "lane_label": str(RevisitLane(case.lane).label) if case.lane in RevisitLane.values else case.lane,
        "manager": manager.username if manager else None,
        "manager_name": _who(manager),
        "due_at": case.due_at.isoformat(),
        "due_on": timezone.localtime(case.due_at).date().isoformat(),
        "status": case.status,
        "status_label": str(case.get_status_display()),
        "contacted": case.contacted,
        "channel": case.channel or None,
        "summary": case.summary,
        "satisfaction": case.satisfaction or None,
        "data_confirmed": case.data_confirmed,
        "next_step_at": case.next_step_at.isoformat() if case.next_step_at else None,
        "contact_id": case.contact_id,
        "completed_at": case.completed_at.isoformat() if case.completed_at else None,
        "completed_on": timezone.localtime(case.completed_at).date().isoformat() if case.completed_at else None,
        "completed_by": case.completed_by.username if case.completed_by_id else None,
        "late": case.late,
        "overdue": case.status == RevisitStatus.OPEN and case.due_at < now,
        "process_instance_id": case.process_instance_id,
        "created_at": case.created_at.isoformat(),
    }


def revisit_case_view(*, user, case_id: Any) -> dict[str, Any]:
    """The case on the task page (generic template) and in the task API. Names and phones stay
    masked; the customer's page reveals them to a role that may."""
    case = revisit_get(user=user, revisit_id=case_id)
    data = revisit_view(case)
    data["title"] = _("客户回访 #%(id)s") % {"id": case.pk}
    rows = [
        {"label": _("回访类型"), "value": data["kind_label"]},
        {"label": _("客户"), "value": f"{data['customer_name']}（{case.org_unit.name}）"},
    ]
    phone = case.customer.phone if case.customer_id else (case.complaint.complainant_phone if case.complaint_id else "")
    if phone:
        rows.append({"label": _("联系电话"), "value": masked("phone", phone)})
    if case.complaint_id:
        rows.append({"label": _("投诉"), "value": f"{case.complaint.number}：{case.complaint.subject}"})
    if case.policy_id:
        rows.append({"label": _("保单"), "value": f"{case.policy.policy_number}（{case.policy.product}，{_('止期')} {case.policy.end_date.isoformat()}）"})
    rows += [
        {"label": _("回访人"), "value": data["manager_name"] or data["lane_label"]},
        {"label": _("应完成日期"), "value": data["due_on"]},
        {"label": _("状态"), "value": data["status_label"]},
    ]
    if case.status == RevisitStatus.DONE:
        rows.append({"label": _("回访情况"), "value": case.summary})
    data["rows"] = rows
    return data
