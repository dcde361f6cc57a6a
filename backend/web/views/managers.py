"""客户经理资格申请 in the web UI: a manager's grade, his applications and the application form."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from backend.common.exceptions import ApplicationError
from backend.service.assignments import bulk_transfer_request, user_may_request_bulk_transfer
from backend.service.models import ManagerGrade, QualificationStatus, ServedCustomerType
from backend.service.selectors import (
    bulk_transfer_view,
    bulk_transfers_visible,
    customer_manager_of,
    customer_manager_page_check,
    manager_qualification_view,
    manager_qualifications_visible,
    manager_recertification_view,
    manager_recertifications_visible,
    manager_transfers_page_check,
    managers_with_customers,
    revisits_late_done,
    revisits_open,
    revisits_page_check,
    visit_report_reads_unit,
    visit_report_view,
    visit_reports_late,
    visit_reports_own,
    visit_reports_page_check,
    visit_reports_visible,
)
from backend.service.services import manager_qualification_apply
from backend.web.views.base import form_errors, page_view, paginate

FIELDS = ("requested_grade", "ability", "experience_years", "results", "customer_types")


def _page(request: HttpRequest, values: dict, exc: ApplicationError | None = None) -> HttpResponse:
    customer_manager_page_check(request.user)
    manager = customer_manager_of(request.user)
    mine = manager_qualifications_visible(user=request.user).filter(applicant=request.user).order_by("-id")[:20]
    context = {
        "manager": manager,
        "grade_label": ManagerGrade(manager.grade).label if manager and manager.grade else _("未定级"),
        "rows": (rows := [manager_qualification_view(c) for c in mine]),
        "pending": any(r["status"] == QualificationStatus.PENDING for r in rows),
        "recertifications": [
            manager_recertification_view(c)
            for c in manager_recertifications_visible(user=request.user).filter(manager__user=request.user).order_by("-year")[:10]
        ],
        "values": values,
        "grades": ManagerGrade.choices,
        "customer_types": ServedCustomerType.choices,
        **form_errors(exc, FIELDS),
    }
    return render(request, "web/manager_qualification.html", context, status=exc.status_code if exc else 200)


def _next_grade(user) -> str:
    """The grade above the manager's own (见习 for one not graded yet): the form's first choice."""
    manager = customer_manager_of(user)
    order = list(reversed(ManagerGrade.values))  # 见习 … 资深
    if manager is None or manager.grade not in order:
        return ManagerGrade.TRAINEE
    return order[min(order.index(manager.grade) + 1, len(order) - 1)]


@page_view
def manager_qualification_page(request: HttpRequest) -> HttpResponse:
    customer_manager_page_check(request.user)
    if request.method != "POST":
        return _page(request, {"customer_types": [], "requested_grade": _next_grade(request.user)})
    values = {name: request.POST.get(name, "") for name in FIELDS}
    values["customer_types"] = request.POST.getlist("customer_types")
    try:
        case = manager_qualification_apply(actor=request.user, data=values)
    except ApplicationError as exc:
        return _page(request, values, exc)
    messages.success(
        request,
        _("已提交资格申请（申请号 %(id)s），待%(level)s审批") % {"id": case.pk, "level": manager_qualification_view(case)["review_level_label"]},
    )
    return redirect("manager-qualification")


TRANSFER_FIELDS = ("manager", "to_manager", "reason")


def _transfers_page(request: HttpRequest, values: dict, exc: ApplicationError | None = None) -> HttpResponse:
    managers = managers_with_customers(user=request.user)
    context = {
        "managers": managers,
        "choices": [(m["username"], f"{m['name']} · {m['org_unit']} · {m['customers']} 户") for m in managers],
        "transfers": [bulk_transfer_view(t) for t in bulk_transfers_visible(user=request.user).order_by("-id")[:20]],
        "may_request": user_may_request_bulk_transfer(request.user),
        "values": values,
        **form_errors(exc, TRANSFER_FIELDS),
    }
    return render(request, "web/manager_transfers.html", context, status=exc.status_code if exc else 200)


@page_view
def manager_transfers_page(request: HttpRequest) -> HttpResponse:
    """客户经理离岗移交: the managers in scope with their customers, and the request form (officers)."""
    manager_transfers_page_check(request.user)
    if request.method != "POST":
        return _transfers_page(request, {})
    values = {name: request.POST.get(name, "") for name in TRANSFER_FIELDS}
    try:
        case = bulk_transfer_request(actor=request.user, data=values)
    except ApplicationError as exc:
        if exc.status_code not in (400, 409):
            raise
        return _transfers_page(request, values, exc)
    messages.success(request, _("已提交离岗移交申请（编号 %(id)s，%(n)s 户），待机构负责人审批") % {"id": case.pk, "n": case.customer_count})
    return redirect("manager-transfers")


@page_view
def visit_reports_page(request: HttpRequest) -> HttpResponse:
    """月度走访分析报告: a manager's own reports (the open one links to his task); for those who
    read the unit's reports, the late ones (逾期未交 or 逾期提交) and every report in scope."""
    visit_reports_page_check(request.user)
    visible = visit_reports_visible(user=request.user)
    mine = visit_reports_own(user=request.user)
    reads_unit = visit_report_reads_unit(request.user)
    context = {"mine": mine, "reads_unit": reads_unit, "late": [], "page": None, "rows": []}
    if reads_unit:
        context["late"] = [visit_report_view(r) for r in visit_reports_late(user=request.user)[:100]]
        page = paginate(request, visible.order_by("-month", "org_unit__path", "manager__user__username", "pk"))
        context.update(page=page, rows=[visit_report_view(r) for r in page.object_list])
    return render(request, "web/visit_reports.html", context)


@page_view
def revisits_page(request: HttpRequest) -> HttpResponse:
    """回访与提醒: the open revisits in the user's scope (his own as a manager; the branch's for
    customer service, officers, unit heads and compliance), the overdue first, each with a link to
    its task; and those made late."""
    revisits_page_check(request.user)
    rows = revisits_open(user=request.user)
    context = {
        "overdue": [r for r in rows if r["overdue"]],
        "open": [r for r in rows if not r["overdue"]],
        "late_done": revisits_late_done(user=request.user),
    }
    return render(request, "web/revisits.html", context)
