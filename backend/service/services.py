"""客户经理资格审批 (seed 001 §二): a manager applies for a grade with the evidence the seed names
(ability, experience, results, customer types); the province branch approves the top two grades,
the city branch the others. The level is decided here and handed to the diagram's gateway.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.audit import audit_batch, audit_event_record
from backend.common.cases import case_cancel, case_decide
from backend.common.exceptions import Conflict, Forbidden, ValidationFailed
from backend.organisation.models import OrgLevel, OrgUnit, Role
from backend.organisation.selectors import user_role_assignments
from backend.service.models import (
    CustomerManager,
    ManagerGrade,
    ManagerQualification,
    QualificationStatus,
    ServedCustomerType,
)
from backend.service.selectors import qualification_review_level
from forms.validation import control_character_fields
from processes.services import process_instance_start

QUALIFICATION_PROCESS = "customer_manager_qualification"
QUALIFICATION_CASE = "service.managerqualification"
BASE_LEVEL = OrgLevel.CITY  # 客户经理岗位只设在基层单位
MAX_EXPERIENCE_YEARS = 50
TEXT_LIMITS = {"ability": 1000, "results": 2000}


def _manager_unit(actor) -> OrgUnit:
    units = [ra.org_unit for ra in user_role_assignments(actor) if ra.role == Role.CUSTOMER_MANAGER]
    if not units:
        raise Forbidden(_("只有客户经理可以申请客户经理资格"), code="not_customer_manager")
    base = [u for u in units if u.level == BASE_LEVEL]
    if not base:
        raise ValidationFailed(_("客户经理岗位只设在基层单位（市分公司），您的客户经理岗位不在基层单位"), code="not_base_level")
    return base[0]


def _text(data: dict, name: str, label: str, errors: dict[str, list[str]]) -> str:
    value = data.get(name)
    value = value.strip() if isinstance(value, str) else ""
    limit = TEXT_LIMITS[name]
    if control_character_fields(value):
        errors[name] = [_("不能包含控制字符")]
    elif not value:
        errors[name] = [_("请填写%(label)s") % {"label": label}]
    elif len(value) > limit:
        errors[name] = [_("%(label)s不能超过 %(n)s 个字符") % {"label": label, "n": limit}]
    return value


def manager_qualification_clean(data: dict[str, Any], *, current_grade: str = "") -> dict[str, Any]:
    """The evidence, checked field by field; raises ValidationFailed with every field's message."""
    errors: dict[str, list[str]] = {}
    grade = data.get("requested_grade")
    if grade not in ManagerGrade.values:
        errors["requested_grade"] = [_("请选择申请级别：%(choices)s") % {"choices": "、".join(str(g.label) for g in ManagerGrade)}]
    elif grade == current_grade:
        errors["requested_grade"] = [_("您已是%(grade)s,无需重复申请") % {"grade": ManagerGrade(grade).label}]
    ability = _text(data, "ability", _("工作能力"), errors)
    results = _text(data, "results", _("工作业绩"), errors)
    years_raw = data.get("experience_years")
    years: int | None = None
    if isinstance(years_raw, bool):
        years_raw = None
    if isinstance(years_raw, int):
        years = years_raw
    elif isinstance(years_raw, str) and years_raw.strip().isdigit():
        years = int(years_raw.strip())
    if years is None:
        errors["experience_years"] = [_("请填写专业工作经验年数（整数）")]
    elif not 0 <= years <= MAX_EXPERIENCE_YEARS:
        errors["experience_years"] = [_("专业工作经验应在 0 到 %(n)s 年之间") % {"n": MAX_EXPERIENCE_YEARS}]
    types = data.get("customer_types")
    if isinstance(types, str):
        types = [types] if types else []
    if not isinstance(types, list | tuple) or not types:
        errors["customer_types"] = [_("请选择至少一种所负责客户类型")]
        types = []
    elif any(t not in ServedCustomerType.values for t in types):
        errors["customer_types"] = [_("客户类型无效，可选：%(choices)s") % {"choices": "、".join(str(t.label) for t in ServedCustomerType)}]
    elif len(set(types)) != len(types):
        errors["customer_types"] = [_("客户类型不能重复")]
    if errors:
        raise ValidationFailed("", field_errors=errors)
    return {
        "requested_grade": grade,
        "ability": ability,
        "experience_years": years,
        "results": results,
        "customer_types": list(types),
    }


def manager_qualification_apply(*, actor, data: dict[str, Any]) -> ManagerQualification:
    """The applicant applies for himself; one open application at a time; starts the process."""
    unit = _manager_unit(actor)
    manager = CustomerManager.objects.filter(user=actor).first()
    if manager is not None and manager.org_unit_id != unit.pk:
        raise ValidationFailed(_("客户经理档案所在机构与岗位机构不一致，请联系管理员"), code="manager_unit_mismatch")
    clean = manager_qualification_clean(data, current_grade=manager.grade if manager else "")
    level = qualification_review_level(clean["requested_grade"])
    try:
        with transaction.atomic(), audit_batch():
            manager, _created = CustomerManager.objects.get_or_create(user=actor, defaults={"org_unit": unit})
            manager = CustomerManager.objects.select_for_update().get(pk=manager.pk)
            if manager.qualifications.filter(status=QualificationStatus.PENDING).exists():
                raise Conflict(_("您已有一笔审批中的资格申请，请待其办结后再申请"), code="qualification_pending")
            case = ManagerQualification.objects.create(
                manager=manager,
                applicant=actor,
                org_unit=unit,
                previous_grade=manager.grade,
                **clean,
            )
            audit_event_record(
                actor=actor,
                action="manager_qualification.applied",
                obj=case,
                org_unit=unit,
                data={"requested_grade": case.requested_grade, "review_level": level},
            )
            instance = process_instance_start(
                actor=actor,
                key=QUALIFICATION_PROCESS,
                org_unit=unit,
                data={"case_id": case.pk, "requested_grade": case.requested_grade, "review_level": str(level)},
                subject_type=QUALIFICATION_CASE,
                subject_id=case.pk,
            )
            case.process_instance = instance
            case.save(update_fields=["process_instance"])
    except IntegrityError:
        raise Conflict(_("您已有一笔审批中的资格申请，请待其办结后再申请"), code="qualification_pending") from None
    return ManagerQualification.objects.select_related("manager", "applicant", "org_unit").get(pk=case.pk)


# ---- operations of the customer_manager_qualification diagram -------------------------------


def _locked(case_id: Any) -> ManagerQualification:
    return (
        ManagerQualification.objects.select_for_update(of=("self",))
        .select_related("org_unit", "manager")
        .get(pk=int(case_id))
    )


def _check_decider(actor, case: ManagerQualification) -> None:
    """The decision is made at the grade's level by a reviewer there, never by the applicant."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return  # a timer or the system: no approval
    if actor.pk == case.applicant_id:
        raise Forbidden(_("不能审批本人的资格申请"), code="self_approval")
    level = qualification_review_level(case.requested_grade)
    unit = case.org_unit.ancestor_at(level) or case.org_unit
    if not any(ra.role == Role.REVIEWER and ra.org_unit_id == unit.pk for ra in user_role_assignments(actor)):
        raise Forbidden(
            _("%(grade)s须由%(level)s审批") % {"grade": ManagerGrade(case.requested_grade).label, "level": OrgLevel(level).label},
            code="wrong_review_level",
        )


def manager_qualification_approve(*, actor, case_id: Any, comment: str = "") -> dict:
    case = _locked(case_id)
    if case.status != QualificationStatus.PENDING:
        raise Conflict(_("该资格申请已办结"), code="qualification_closed")
    _check_decider(actor, case)
    now = timezone.now()
    manager = CustomerManager.objects.select_for_update().get(pk=case.manager_id)
    manager.grade, manager.since = case.requested_grade, now
    manager.save(update_fields=["grade", "since"])
    case_decide(case, status=QualificationStatus.APPROVED, actor=actor, comment=comment)
    audit_event_record(
        actor=actor,
        action="manager_qualification.approved",
        obj=case,
        org_unit=case.org_unit,
        data={"grade": case.requested_grade, "previous_grade": case.previous_grade, "manager": manager.pk},
    )
    return {"status": str(case.status), "grade": manager.grade}


def manager_qualification_reject(*, actor, case_id: Any, comment: str) -> dict:
    case = _locked(case_id)
    if case.status != QualificationStatus.PENDING:
        raise Conflict(_("该资格申请已办结"), code="qualification_closed")
    _check_decider(actor, case)
    case_decide(case, status=QualificationStatus.REJECTED, actor=actor, comment=comment)
    audit_event_record(
        actor=actor,
        action="manager_qualification.rejected",
        obj=case,
        org_unit=case.org_unit,
        data={"grade": case.requested_grade, "reason": comment},
    )
    return {"status": str(case.status)}


def manager_qualification_cancel(*, actor, case_id: Any, reason: str, withdrawn: bool) -> None:
    case = _locked(case_id)
    case_cancel(case, status=QualificationStatus.CANCELLED, reason=reason)
    audit_event_record(
        actor=actor,
        action="manager_qualification.cancelled",
        obj=case,
        org_unit=case.org_unit,
        data={"reason": reason, "withdrawn": withdrawn},
    )


def customer_manager_ensure(*, user, org_unit: OrgUnit, grade: str = "") -> CustomerManager:
    """Register `user` as a customer manager at a base-level unit (demo seeding, administration).
    Idempotent; an existing manager keeps his grade."""
    if org_unit.level != BASE_LEVEL:
        raise ValidationFailed.field("org_unit", _("客户经理岗位只设在基层单位（市分公司）"), code="not_base_level")
    if grade and grade not in ManagerGrade.values:
        raise ValidationFailed.field("grade", _("未知的客户经理级别"), code="invalid_grade")
    manager, created = CustomerManager.objects.get_or_create(
        user=user, defaults={"org_unit": org_unit, "grade": grade, "since": timezone.now() if grade else None}
    )
    if created:
        audit_event_record(actor=None, action="customer_manager.registered", obj=manager, org_unit=org_unit, data={"grade": grade})
    return manager
