"""资格年度认证 (seed 001 §二: "资格认证每年进行一次"): on each anniversary of his grade a customer
manager submits last year's assessment and results; the level that grants his grade (the
province branch for 资深、高级, the city branch for the others) confirms the grade or lowers it.
A higher grade is not given here: that is a qualification application (services.py).

The anniversary is the timer: the daily job `service.recertifications_open_due` opens one case per
manager and certification year (idempotent: a unique constraint), started in the manager's name so
that his step is his own and four eyes keeps him from deciding it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.audit import audit_batch, audit_event_record
from backend.common.cases import case_cancel
from backend.common.exceptions import Conflict, Forbidden, ValidationFailed
from backend.organisation.models import OrgLevel, Role
from backend.organisation.selectors import user_role_assignments
from backend.service.models import (
    Assessment,
    CustomerManager,
    ManagerGrade,
    ManagerRecertification,
    RecertificationStatus,
)
from backend.service.selectors import qualification_review_level
from forms.validation import control_character_fields
from processes.services import process_instance_start

RECERTIFICATION_PROCESS = "customer_manager_recertification"
RECERTIFICATION_CASE = "service.managerrecertification"
RESULTS_MAX = 2000
GRADES_HIGH_TO_LOW = list(ManagerGrade.values)  # 资深 … 见习


def certification_year_due(since: date, today: date) -> int | None:
    """The year of the latest anniversary of `since` on or before `today` (None before the
    first). A grade given on 29 February has its anniversary on 28 February in common years."""
    years = today.year - since.year
    try:
        anniversary = since.replace(year=today.year)
    except ValueError:
        anniversary = date(today.year, 2, 28)
    if today < anniversary:
        years -= 1
    return since.year + years if years >= 1 else None


def recertifications_open_due(*, today: date | None = None) -> int:
    """Open the recertification of every graded manager whose anniversary has come and whose
    case for that year does not exist yet. Returns how many were opened."""
    today = today or timezone.localdate()
    opened = 0
    for manager in CustomerManager.objects.exclude(grade="").filter(since__isnull=False).select_related("user", "org_unit"):
        year = certification_year_due(timezone.localtime(manager.since).date(), today)
        if year is None or manager.recertifications.filter(year=year).exists():
            continue
        try:
            recertification_open(manager=manager, year=year)
        except IntegrityError:
            continue  # another run opened it first
        opened += 1
    return opened


def recertification_open(*, manager: CustomerManager, year: int) -> ManagerRecertification:
    level = qualification_review_level(manager.grade)
    with transaction.atomic(), audit_batch():
        case = ManagerRecertification.objects.create(manager=manager, year=year, grade=manager.grade, org_unit=manager.org_unit)
        audit_event_record(
            actor=None,
            action="manager_recertification.opened",
            obj=case,
            org_unit=manager.org_unit,
            data={"manager": manager.pk, "year": year, "grade": manager.grade, "review_level": str(level)},
        )
        instance = process_instance_start(
            actor=manager.user,  # his case: the assessment step is his, four eyes keeps him from the review
            key=RECERTIFICATION_PROCESS,
            org_unit=manager.org_unit,
            data={"case_id": case.pk, "grade": manager.grade, "review_level": str(level)},
            subject_type=RECERTIFICATION_CASE,
            subject_id=case.pk,
        )
        case.process_instance = instance
        case.save(update_fields=["process_instance"])
    return case


# ---- operations of the customer_manager_recertification diagram ------------------------------


def _locked(case_id: Any) -> ManagerRecertification:
    return (
        ManagerRecertification.objects.select_for_update(of=("self",))
        .select_related("org_unit", "manager")
        .get(pk=int(case_id))
    )


def recertification_submit(*, actor, case_id: Any, assessment: Any, results: Any) -> dict:
    """The manager's own step: last year's assessment and results."""
    case = _locked(case_id)
    if case.status != RecertificationStatus.PENDING:
        raise Conflict(_("该年度认证已办结"), code="recertification_closed")
    if actor is None or actor.pk != case.manager.user_id:
        raise Forbidden(_("年度认证材料由客户经理本人提交"), code="not_the_manager")
    errors: dict[str, list[str]] = {}
    if assessment not in Assessment.values:
        errors["assessment"] = [_("请选择上年度考核结果")]
    text = results.strip() if isinstance(results, str) else ""
    if not text:
        errors["results"] = [_("请填写上年度工作业绩")]
    elif len(text) > RESULTS_MAX:
        errors["results"] = [_("上年度工作业绩不能超过 %(n)s 个字符") % {"n": RESULTS_MAX}]
    elif control_character_fields(text):
        errors["results"] = [_("不能包含控制字符")]
    if errors:
        raise ValidationFailed("", field_errors=errors, code="invalid_recertification")
    case.assessment, case.results, case.submitted_at = assessment, text, timezone.now()
    case.save(update_fields=["assessment", "results", "submitted_at"])
    audit_event_record(actor=actor, action="manager_recertification.submitted", obj=case, org_unit=case.org_unit, data={"assessment": assessment})
    return {"assessment": assessment}


def _check_decider(actor, case: ManagerRecertification) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise Forbidden(_("年度认证须由审核岗决定"), code="wrong_review_level")
    if actor.pk == case.manager.user_id:
        raise Forbidden(_("不能认证本人的级别"), code="self_approval")
    level = qualification_review_level(case.grade)
    unit = case.org_unit.ancestor_at(level) or case.org_unit
    if not any(ra.role == Role.REVIEWER and ra.org_unit_id == unit.pk for ra in user_role_assignments(actor)):
        raise Forbidden(
            _("%(grade)s的年度认证须由%(level)s决定") % {"grade": ManagerGrade(case.grade).label, "level": OrgLevel(level).label},
            code="wrong_review_level",
        )


def recertification_decide(*, actor, case_id: Any, decision: Any, new_grade: Any, comment: Any) -> dict:
    """Confirm the grade, or lower it (an 不称职 year cannot be confirmed)."""
    case = _locked(case_id)
    if case.status != RecertificationStatus.PENDING:
        raise Conflict(_("该年度认证已办结"), code="recertification_closed")
    _check_decider(actor, case)
    comment = comment.strip() if isinstance(comment, str) else ""
    if decision == "confirm":
        if case.assessment == Assessment.INCOMPETENT:
            raise ValidationFailed.field("decision", _("上年度考核不称职，不能维持原级别，请降级"), code="cannot_confirm")
        grade, status = case.grade, RecertificationStatus.CONFIRMED
    elif decision == "downgrade":
        lower = GRADES_HIGH_TO_LOW[GRADES_HIGH_TO_LOW.index(case.grade) + 1 :] if case.grade in GRADES_HIGH_TO_LOW else []
        if new_grade not in lower:
            raise ValidationFailed.field(
                "new_grade",
                _("请选择低于%(grade)s的级别") % {"grade": ManagerGrade(case.grade).label} if lower else _("见习客户经理不能再降级"),
                code="invalid_new_grade",
            )
        if not comment:
            raise ValidationFailed.field("comment", _("降级须填写理由"), code="reason_required")
        grade, status = new_grade, RecertificationStatus.DOWNGRADED
    else:
        raise ValidationFailed.field("decision", _("请选择认证结论"), code="invalid_decision")
    now = timezone.now()
    manager = CustomerManager.objects.select_for_update().get(pk=case.manager_id)
    if grade != manager.grade:
        manager.grade = grade
        manager.save(update_fields=["grade"])
    case.status, case.new_grade, case.decided_by, case.decided_at, case.decision_comment, case.closed_at = (
        status, grade, actor, now, comment, now,
    )
    case.save(update_fields=["status", "new_grade", "decided_by", "decided_at", "decision_comment", "closed_at"])
    audit_event_record(
        actor=actor,
        action=f"manager_recertification.{status}",
        obj=case,
        org_unit=case.org_unit,
        data={"year": case.year, "grade": case.grade, "new_grade": grade, "assessment": case.assessment},
    )
    return {"status": str(status), "grade": grade}


def recertification_cancel(*, actor, case_id: Any, reason: str, withdrawn: bool) -> None:
    case = _locked(case_id)
    case_cancel(case, status=RecertificationStatus.CANCELLED, reason=reason)
    audit_event_record(
        actor=actor, action="manager_recertification.cancelled", obj=case, org_unit=case.org_unit, data={"reason": reason, "withdrawn": withdrawn}
    )
