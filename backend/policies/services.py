"""保单 and 批改 (endorsement): writes.

An endorsement changes a policy and, in the same request, the customer data of its
policyholder and/or insured. Both parts are reviewed together and applied in one
transaction: the customer parts through `backend.customers.amendments.customer_changes_apply`
(the same diff/apply core as a plain amendment, with its history rows), the policy part with a
stale check on `Policy.version`. Anything stale refuses the whole endorsement.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.audit import audit_batch, audit_event_record
from backend.common.exceptions import Conflict, Forbidden, InvalidValue, ValidationFailed
from backend.customers.amendments import (
    TYPED_FIELDS,
    amendment_check_subject,
    customer_changes_apply,
    customer_changes_clean,
    customer_values,
)
from backend.customers.checks import (
    CheckSubject,
    customer_checks_run_many,
    flags_merge,
)
from backend.customers.models import INDIVIDUAL_ID_TYPES, ChangeScope, Customer, CustomerStatus
from backend.customers.validators import validate_id_number
from backend.organisation.models import OrgLevel, Role
from backend.organisation.selectors import scope_filter, user_org_unit_for_role, user_role_assignments
from backend.policies.models import (
    BeneficiaryRelationship,
    Endorsement,
    EndorsementStatus,
    PaymentMode,
    Policy,
    PolicyBeneficiary,
    PolicyStatus,
)
from forms.validation import control_character_fields
from processes.services import process_instance_start

ENDORSEMENT_PROCESS = "endorsement"
ENDORSEMENT_CASE = "policies.endorsement"
REQUESTER_ROLES = (Role.COLLECTOR, Role.OFFICER)
PARTIES = ("policyholder", "insured")
POLICY_FIELDS = ("payment_mode", "sum_insured", "premium")
MAX_BENEFICIARIES = 10
MAX_ID = 2**63
HUNDRED = Decimal("100")
CENT = Decimal("0.01")
AMOUNT_LIMITS = {"sum_insured": Decimal("999999999999.99"), "premium": Decimal("9999999999.99")}
BENEFICIARY_KEYS = ("customer_id", "name", "id_type", "id_number", "relationship", "share")


# ---- small cleaners (each adds field messages to `errors`) -----------------------------------


def _text(raw: Any) -> str:
    return "" if raw is None else str(raw).strip()


def _amount(raw: Any, name: str, errors: dict[str, list[str]]) -> Decimal | None:
    text = _text(raw)
    if not text:
        errors.setdefault(name, []).append(_("请填写金额"))
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        errors.setdefault(name, []).append(_("金额格式不正确"))
        return None
    if value <= 0:
        errors.setdefault(name, []).append(_("金额必须大于 0"))
        return None
    if value > AMOUNT_LIMITS[name] or value != value.quantize(CENT):
        errors.setdefault(name, []).append(
            _("金额最多两位小数,且不能超过 %(max)s") % {"max": AMOUNT_LIMITS[name]}
        )
        return None
    return value.quantize(CENT)


def _payment_mode(raw: Any, errors: dict[str, list[str]]) -> str | None:
    value = _text(raw)
    if value not in PaymentMode.values:
        errors.setdefault("payment_mode", []).append(
            _("缴费方式无效,可选: %(choices)s") % {"choices": ", ".join(PaymentMode.values)}
        )
        return None
    return value


def _status_message(customer: Customer, action: str) -> str:
    return _("客户当前状态为「%(status)s」,不能%(action)s") % {
        "status": customer.get_status_display(),
        "action": action,
    }


def _visible_customer(actor, raw_id: Any) -> Customer | None:
    try:
        pk = int(str(raw_id).strip())
    except (TypeError, ValueError):
        return None
    if not 0 < pk < MAX_ID:
        return None
    return scope_filter(Customer.objects.select_related("org_unit"), actor).filter(pk=pk).first()


def _beneficiaries_clean(
    *, actor, raw: Any, errors: dict[str, list[str]], action: str
) -> list[dict[str, Any]]:
    """Named beneficiaries: a customer of ours (in scope, active) or a person given by name and
    id; shares > 0 that add up to exactly 100. An empty list means 法定受益人 (by law)."""
    if not isinstance(raw, list):
        errors.setdefault("beneficiaries", []).append(_("受益人格式不正确"))
        return []
    if len(raw) > MAX_BENEFICIARIES:
        errors.setdefault("beneficiaries", []).append(_("受益人不能超过 %(n)d 位") % {"n": MAX_BENEFICIARIES})
        return []
    out: list[dict[str, Any]] = []
    total = Decimal(0)
    shares_ok = True
    for i, item in enumerate(raw):
        key = f"beneficiaries.{i}"
        if not isinstance(item, dict):
            errors.setdefault(key, []).append(_("受益人格式不正确"))
            shares_ok = False
            continue
        if control_character_fields(item):
            errors.setdefault(key, []).append(_("不能包含控制字符"))
            shares_ok = False
            continue
        row: dict[str, Any] = {"customer_id": None, "order": i + 1}
        if _text(item.get("customer_id")):
            customer = _visible_customer(actor, item.get("customer_id"))
            if customer is None:
                errors.setdefault(f"{key}.customer_id", []).append(_("客户不存在"))
            elif customer.status != CustomerStatus.ACTIVE:
                errors.setdefault(key, []).append(_status_message(customer, action))
            else:
                row.update(
                    customer_id=customer.pk,
                    name=customer.name,
                    id_type=customer.id_type,
                    id_number=customer.id_number,
                )
        else:
            name = _text(item.get("name"))
            id_type = _text(item.get("id_type"))
            if not name:
                errors.setdefault(f"{key}.name", []).append(_("请填写受益人姓名"))
            elif len(name) > 100:
                errors.setdefault(f"{key}.name", []).append(_("姓名不能超过 100 个字符"))
            if id_type not in INDIVIDUAL_ID_TYPES:
                errors.setdefault(f"{key}.id_type", []).append(
                    _("证件类型无效,可选: %(choices)s") % {"choices": ", ".join(INDIVIDUAL_ID_TYPES)}
                )
            else:
                try:
                    row["id_number"] = validate_id_number(id_type, _text(item.get("id_number"))).normalized
                except InvalidValue as exc:
                    errors.setdefault(f"{key}.id_number", []).append(exc.message)
            row.update(name=name, id_type=id_type)
        relationship = _text(item.get("relationship"))
        if relationship not in BeneficiaryRelationship.values:
            errors.setdefault(f"{key}.relationship", []).append(
                _("与被保险人关系无效,可选: %(choices)s")
                % {"choices": ", ".join(BeneficiaryRelationship.values)}
            )
        row["relationship"] = relationship
        try:
            share = Decimal(_text(item.get("share")))
            valid = share.is_finite() and 0 < share <= HUNDRED and share == share.quantize(CENT)
        except InvalidOperation:
            valid = False
        if not valid:
            errors.setdefault(f"{key}.share", []).append(_("受益比例应大于 0、不超过 100,最多两位小数"))
            shares_ok = False
            continue
        total += share
        row["share"] = str(share.quantize(CENT))
        out.append(row)
    if shares_ok and out and total != HUNDRED:
        errors.setdefault("beneficiaries", []).append(
            _("受益比例合计应为 100%%,当前合计 %(total)s%%") % {"total": format(total.normalize(), "f")}
        )
    return out


def _requester_may_act(actor, org_unit) -> bool:
    return any(
        ra.role in REQUESTER_ROLES and org_unit.path.startswith(ra.org_unit.path)
        for ra in user_role_assignments(actor)
    )


def beneficiaries_current(policy: Policy) -> list[dict[str, Any]]:
    return [
        {
            "customer_id": b.customer_id,
            "name": b.name,
            "id_type": b.id_type,
            "id_number": b.id_number,
            "relationship": b.relationship,
            "share": str(b.share.quantize(CENT)),
            "order": b.order,
        }
        for b in policy.beneficiaries.order_by("order", "id")
    ]


def _same_beneficiaries(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> bool:
    def key(rows):
        return [tuple(str(r.get(k) or "") for k in BENEFICIARY_KEYS) for r in rows]

    return key(a) == key(b)


# ---- 黑名单 at underwriting: no policy is written or endorsed for a listed person -------------


def _document_values(obj: Any) -> dict[str, str]:
    get = obj.get if isinstance(obj, dict) else (lambda name, default="": getattr(obj, name, default))
    return {
        name: str(get(name, "") or "")
        for name in ("id_type", "id_number", "legal_rep_id_type", "legal_rep_id_number")
    }


def _blacklist_refuse(parts: dict[str, Any], errors: dict[str, list[str]], *, action: str) -> bool:
    """Each part (policyholder, insured, beneficiaries.N) whose id document (or its legal
    representative's) is on the active blacklist gets a field message naming the list; the
    caller then refuses the whole request (400) and nothing is written."""
    subjects = {
        key: CheckSubject(values=_document_values(obj), check_phone=False, check_duplicate=False)
        for key, obj in parts.items()
    }
    hit = False
    for key, result in zip(subjects, customer_checks_run_many(list(subjects.values())), strict=True):
        if result.blacklist_hit:
            hit = True
            sources = "、".join(dict.fromkeys(e.source for e in result.blacklist))
            errors.setdefault(key, []).append(
                _("命中生效中的黑名单（来源：%(sources)s），不能%(action)s")
                % {"sources": sources, "action": action}
            )
    return hit


# ---- policies --------------------------------------------------------------------------------


def policy_create(
    *,
    actor,
    policy_number: Any,
    product: Any,
    policyholder_id: Any,
    insured_id: Any,
    effective_date: Any,
    term_months: Any,
    sum_insured: Any,
    premium: Any,
    payment_mode: Any,
    beneficiaries: Any = None,
) -> Policy:
    """Record a policy written by the actor's branch. Bad input → 400 with field messages and
    nothing is created. The policyholder and the insured must be active customers in scope."""
    org_unit = next((u for u in (user_org_unit_for_role(actor, r) for r in REQUESTER_ROLES) if u), None)
    if org_unit is None:
        raise Forbidden(_("只有采集人或客户信息管理岗可以录入保单"), code="not_entitled")
    errors: dict[str, list[str]] = {}
    fields = {"policy_number": policy_number, "product": product}
    for name in control_character_fields(fields):
        errors[name] = [_("不能包含控制字符")]
    number = _text(policy_number).upper()
    if "policy_number" not in errors:
        if not number:
            errors["policy_number"] = [_("请填写保单号")]
        elif len(number) > 32 or not all(c.isascii() and (c.isalnum() or c == "-") for c in number):
            errors["policy_number"] = [_("保单号只能包含字母、数字和连字符,不超过 32 个字符")]
        elif Policy.objects.filter(policy_number=number).exists():
            errors["policy_number"] = [_("保单号已存在")]
    product_name = _text(product)
    if "product" not in errors:
        if not product_name:
            errors["product"] = [_("请填写险种")]
        elif len(product_name) > 100:
            errors["product"] = [_("险种名称不能超过 100 个字符")]
    parties: dict[str, Customer] = {}
    for key, raw in (("policyholder", policyholder_id), ("insured", insured_id)):
        customer = _visible_customer(actor, raw) if _text(raw) else None
        if customer is None:
            errors[key] = [_("请选择客户") if not _text(raw) else _("客户不存在")]
        elif customer.status != CustomerStatus.ACTIVE:
            errors[key] = [_status_message(customer, _("投保"))]
        else:
            parties[key] = customer
    start = None
    try:
        start = date.fromisoformat(_text(effective_date))
    except ValueError:
        errors["effective_date"] = [_("生效日期格式应为 YYYY-MM-DD")]
    if start is not None and (start < date(2000, 1, 1) or start > timezone.localdate() + timedelta(days=365)):
        errors["effective_date"] = [_("生效日期应在 2000-01-01 之后,且不晚于一年以后")]
    try:
        months = int(_text(term_months))
        if not 1 <= months <= 1200:
            raise ValueError
    except ValueError:
        months = None
        errors["term_months"] = [_("保险期间应为 1 到 1200 之间的整数(月)")]
    amounts = {
        name: _amount(raw, name, errors) for name, raw in (("sum_insured", sum_insured), ("premium", premium))
    }
    mode = _payment_mode(payment_mode, errors)
    rows = _beneficiaries_clean(actor=actor, raw=beneficiaries or [], errors=errors, action=_("投保"))
    blacklisted = _blacklist_refuse(
        {**parties, **{f"beneficiaries.{i}": row for i, row in enumerate(rows) if row.get("id_number")}},
        errors,
        action=_("投保"),
    )
    if errors:
        raise ValidationFailed("", field_errors=errors, code="blacklisted" if blacklisted else None)
    try:
        with transaction.atomic(), audit_batch():
            policy = Policy.objects.create(
                policy_number=number,
                product=product_name,
                policyholder=parties["policyholder"],
                insured=parties["insured"],
                effective_date=start,
                term_months=months,
                sum_insured=amounts["sum_insured"],
                premium=amounts["premium"],
                payment_mode=mode,
                org_unit=org_unit,
                created_by=actor,
            )
            _beneficiaries_write(policy, rows)
            audit_event_record(
                actor=actor,
                action="policy.created",
                obj=policy,
                org_unit=org_unit,
                data={
                    "policy_number": number,
                    "policyholder": policy.policyholder_id,
                    "insured": policy.insured_id,
                    "beneficiaries": len(rows),
                },
            )
    except IntegrityError:
        raise ValidationFailed.field(
            "policy_number", _("保单号已存在"), code="duplicate_policy_number"
        ) from None
    return policy


def _beneficiaries_write(policy: Policy, rows: list[dict[str, Any]]) -> None:
    PolicyBeneficiary.objects.bulk_create(
        PolicyBeneficiary(
            policy=policy,
            customer_id=r.get("customer_id"),
            name=r.get("name") or "",
            id_type=r.get("id_type") or "",
            id_number=r.get("id_number") or "",
            relationship=r["relationship"],
            share=Decimal(r["share"]),
            order=r.get("order") or i + 1,
        )
        for i, r in enumerate(rows)
    )


# ---- the endorsement request -----------------------------------------------------------------


def _customer_parts_clean(
    *, policy: Policy, customer_changes: dict, errors: dict[str, list[str]]
) -> tuple[dict[str, dict], dict[str, int], bool]:
    """Each party's diff through customer_changes_clean; its field errors come back keyed
    "policyholder.phone". Returns (changes by customer id, base versions, identity?)."""
    parties = {"policyholder": policy.policyholder, "insured": policy.insured}
    changes: dict[str, dict] = {}
    versions: dict[str, int] = {}
    identity = False
    given = [p for p in PARTIES if customer_changes.get(p)]
    if len(given) == 2 and policy.policyholder_id == policy.insured_id:
        errors.setdefault("insured", []).append(_("投保人与被保险人为同一客户,请只在投保人一栏填写修改"))
        return changes, versions, identity
    for party in given:
        proposed = customer_changes[party]
        customer = parties[party]
        if not isinstance(proposed, dict):
            errors.setdefault(party, []).append(_("格式不正确"))
            continue
        unknown = sorted(k for k in proposed if k not in TYPED_FIELDS[customer.customer_type])
        for name in unknown:
            errors.setdefault(f"{party}.{name}", []).append(_("不能批改的字段"))
        if unknown:
            continue
        try:
            cleaned = customer_changes_clean(customer=customer, proposed=proposed)
        except ValidationFailed as exc:
            if exc.code == "no_changes":
                continue  # this party is unchanged; a request changing nothing at all is refused below
            for name, messages in exc.field_errors.items():
                errors.setdefault(f"{party}.{name}", []).extend(messages)
            continue
        changes[str(customer.pk)] = cleaned.changes
        versions[str(customer.pk)] = customer.version
        identity = identity or cleaned.scope == ChangeScope.IDENTITY
    return changes, versions, identity


def _policy_part_clean(*, actor, policy: Policy, policy_changes: dict, errors: dict[str, list[str]]) -> dict:
    changes: dict[str, Any] = {}
    for name in sorted(k for k in policy_changes if k not in (*POLICY_FIELDS, "beneficiaries")):
        errors.setdefault(name, []).append(_("不能批改的项目"))
    if _text(policy_changes.get("payment_mode")):
        mode = _payment_mode(policy_changes["payment_mode"], errors)
        if mode is not None and mode != policy.payment_mode:
            changes["payment_mode"] = {"old": policy.payment_mode, "new": mode}
    for name in ("sum_insured", "premium"):
        if _text(policy_changes.get(name)):
            value = _amount(policy_changes[name], name, errors)
            current = getattr(policy, name)
            if value is not None and value != current:
                changes[name] = {"old": str(current.quantize(CENT)), "new": str(value)}
    if policy_changes.get("beneficiaries") is not None:
        rows = _beneficiaries_clean(
            actor=actor, raw=policy_changes["beneficiaries"], errors=errors, action=_("批改")
        )
        current = beneficiaries_current(policy)
        if not any(k.startswith("beneficiaries") for k in errors) and not _same_beneficiaries(rows, current):
            changes["beneficiaries"] = {"old": current, "new": rows}
    return changes


def endorsement_request(
    *, actor, policy: Policy, customer_changes: Any, policy_changes: Any, reason: Any
) -> Endorsement:
    """Start a 批改 on an in-force policy the actor may see (the caller resolved visibility:
    out of scope is a 404 before this runs). Every party must be an active customer."""
    if not _requester_may_act(actor, policy.org_unit):
        raise Forbidden(
            _("只有保单所属机构(或上级机构)的采集人或客户信息管理岗可以申请批改"), code="not_entitled"
        )
    policy = Policy.objects.select_related("org_unit", "policyholder", "insured").get(pk=policy.pk)
    if policy.status != PolicyStatus.IN_FORCE:
        raise Conflict(
            _("保单当前状态为「%(status)s」,只有有效保单可以批改") % {"status": policy.get_status_display()},
            code="policy_not_in_force",
        )
    errors: dict[str, list[str]] = {}
    customer_changes = customer_changes if customer_changes is not None else {}
    policy_changes = policy_changes if policy_changes is not None else {}
    if not isinstance(customer_changes, dict):
        errors["customer_changes"] = [_("格式不正确")]
        customer_changes = {}
    if not isinstance(policy_changes, dict):
        errors["policy_changes"] = [_("格式不正确")]
        policy_changes = {}
    for name in sorted(k for k in customer_changes if k not in PARTIES):
        errors[str(name)[:64]] = [_("只能批改投保人或被保险人的客户信息")]
    reason = _text(reason)
    if control_character_fields(reason):
        errors["reason"] = [_("不能包含控制字符")]
    elif not reason:
        errors["reason"] = [_("请填写批改原因")]
    elif len(reason) > 1000:
        errors["reason"] = [_("批改原因不能超过 1000 个字符")]
    # Every party must be active: a frozen (or otherwise not active) customer is not endorsed.
    for party, customer in (("policyholder", policy.policyholder), ("insured", policy.insured)):
        if customer.status != CustomerStatus.ACTIVE:
            errors.setdefault(party, []).append(_status_message(customer, _("批改")))
    if policy_changes.get("beneficiaries") is None:
        for i, b in enumerate(policy.beneficiaries.select_related("customer").order_by("order", "id")):
            if b.customer_id and b.customer.status != CustomerStatus.ACTIVE:
                errors.setdefault(f"beneficiaries.{i}", []).append(_status_message(b.customer, _("批改")))
    changes, versions, identity = _customer_parts_clean(
        policy=policy, customer_changes=customer_changes, errors=errors
    )
    policy_diff = _policy_part_clean(actor=actor, policy=policy, policy_changes=policy_changes, errors=errors)
    blacklisted = False
    if not errors:
        # Every person the policy names after the endorsement: the parties with their new
        # documents, and the new (or, when unchanged, the current) beneficiaries.
        parties = {"policyholder": policy.policyholder, "insured": policy.insured}
        after = {
            party: {
                **_document_values(customer),
                **{k: v["new"] for k, v in changes.get(str(customer.pk), {}).items()},
            }
            for party, customer in parties.items()
        }
        named = (policy_diff.get("beneficiaries") or {}).get("new")
        if named is None:
            named = beneficiaries_current(policy)
        after.update({f"beneficiaries.{i}": row for i, row in enumerate(named) if row.get("id_number")})
        blacklisted = _blacklist_refuse(after, errors, action=_("批改"))
    if errors:
        raise ValidationFailed("", field_errors=errors, code="blacklisted" if blacklisted else None)
    if not changes and not policy_diff:
        raise ValidationFailed(
            _("没有任何修改:请至少修改一项信息"),
            field_errors={"non_field_errors": [_("没有任何修改:请至少修改一项信息")]},
            code="no_changes",
        )
    scope = ChangeScope.IDENTITY if identity else ChangeScope.CONTACT
    try:
        with transaction.atomic(), audit_batch():
            locked = Policy.objects.select_for_update(of=("self",)).get(pk=policy.pk)
            if Endorsement.objects.filter(policy=locked, status=EndorsementStatus.PENDING).exists():
                raise Conflict(_("该保单已有一笔审核中的批改申请,请等待其办结"), code="endorsement_pending")
            fresh = dict(
                Customer.objects.filter(pk__in=[int(k) for k in versions]).values_list("pk", "version")
            )
            if locked.version != policy.version or any(fresh.get(int(k)) != v for k, v in versions.items()):
                raise Conflict(_("保单或客户信息刚刚被修改,请刷新后重新填写"), code="stale_endorsement")
            endorsement = Endorsement.objects.create(
                policy=locked,
                org_unit=locked.org_unit,
                requested_by=actor,
                customer_changes=changes,
                customer_base_versions=versions,
                policy_changes=policy_diff,
                policy_base_version=locked.version,
                scope=scope,
                reason=reason,
            )
            audit_event_record(
                actor=actor,
                action="endorsement.requested",
                obj=endorsement,
                org_unit=locked.org_unit,
                data={
                    "policy": locked.pk,
                    "customers": {k: sorted(v) for k, v in changes.items()},
                    "policy_fields": sorted(policy_diff),
                    "scope": scope,
                    "reason": reason,
                },
            )
            instance = process_instance_start(
                actor=actor,
                key=ENDORSEMENT_PROCESS,
                org_unit=locked.org_unit,
                data={
                    "case_id": endorsement.pk,
                    "customer_id": locked.policyholder_id,
                    "policy_id": locked.pk,
                    "scope": str(scope),
                },
                subject_type=ENDORSEMENT_CASE,
                subject_id=endorsement.pk,
            )
            endorsement.process_instance = instance
            endorsement.save(update_fields=["process_instance"])
    except IntegrityError:
        raise Conflict(_("该保单已有一笔审核中的批改申请,请等待其办结"), code="endorsement_pending") from None
    return Endorsement.objects.select_related("policy").get(pk=endorsement.pk)


# ---- the operations the endorsement diagram calls (registered in handlers.py) ---------------


def _endorsement_locked(case_id: Any) -> Endorsement:
    return (
        Endorsement.objects.select_for_update(of=("self",))
        .select_related("policy", "org_unit")
        .get(pk=int(case_id))
    )


def endorsement_check_subjects(endorsement: Endorsement) -> dict[str, CheckSubject]:
    """What an endorsement writes, by part: each changed party's new customer values, and each
    named beneficiary of a new beneficiary list (their id documents)."""
    policy = endorsement.policy
    party_of = {str(policy.insured_id): "insured", str(policy.policyholder_id): "policyholder"}
    subjects: dict[str, CheckSubject] = {}
    for customer in Customer.objects.filter(pk__in=[int(k) for k in endorsement.customer_changes]).order_by(
        "pk"
    ):
        diff = endorsement.customer_changes[str(customer.pk)]
        subjects[party_of.get(str(customer.pk), str(customer.pk))] = amendment_check_subject(
            customer=customer, changes=diff
        )
    for i, row in enumerate((endorsement.policy_changes.get("beneficiaries") or {}).get("new") or []):
        subjects[f"beneficiaries.{i}"] = CheckSubject(
            values={"id_type": str(row.get("id_type") or ""), "id_number": str(row.get("id_number") or "")},
            check_phone=False,
            check_duplicate=False,
        )
    return subjects


def endorsement_run_checks(*, actor, case_id: Any) -> dict:
    """Checks A, D and the blacklist on every part (as at opening). Which level reviews it:
    any identity change or a blacklist hit goes to province; the rest to the city branch."""
    endorsement = _endorsement_locked(case_id)
    subjects = endorsement_check_subjects(endorsement)
    results = dict(zip(subjects, customer_checks_run_many(list(subjects.values())), strict=True))
    flags = flags_merge(*(r.flags for r in results.values()))
    hits = [entry for r in results.values() for entry in r.checks["blacklist"]]
    endorsement.flags = flags
    endorsement.checks = {
        "blacklist": hits,
        "parts": {part: {"flags": r.flags, **r.checks} for part, r in results.items()},
    }
    endorsement.save(update_fields=["flags", "checks"])
    province = endorsement.scope == ChangeScope.IDENTITY or bool(hits)
    audit_event_record(
        actor=actor,
        action="endorsement.checked",
        obj=endorsement,
        org_unit=endorsement.org_unit,
        data={"flags": flags, "review_level": "province" if province else "city"},
    )
    return {"review_level": "province" if province else "city", "flags": flags}


def _stale_parts(endorsement: Endorsement) -> list[str]:
    """What changed since the request: "policy" and/or the customer ids whose data moved."""
    stale = []
    policy = Policy.objects.get(pk=endorsement.policy_id)
    current_policy = {name: getattr(policy, name) for name in POLICY_FIELDS}
    policy_moved = policy.version != endorsement.policy_base_version
    for name, change in endorsement.policy_changes.items():
        if name == "beneficiaries":
            policy_moved = policy_moved or not _same_beneficiaries(
                beneficiaries_current(policy), change["old"]
            )
        else:
            old = current_policy[name]
            policy_moved = (
                policy_moved
                or (str(old.quantize(CENT)) if isinstance(old, Decimal) else old) != change["old"]
            )
    if policy_moved:
        stale.append("policy")
    for customer in Customer.objects.filter(pk__in=[int(k) for k in endorsement.customer_changes]):
        diff = endorsement.customer_changes[str(customer.pk)]
        current = customer_values(customer)
        if customer.version != endorsement.customer_base_versions.get(str(customer.pk)) or any(
            current.get(k) != v["old"] for k, v in diff.items()
        ):
            stale.append(str(customer.pk))
    return stale


def endorsement_is_stale(endorsement: Endorsement) -> bool:
    return bool(_stale_parts(endorsement))


def endorsement_apply(*, actor, case_id: Any, comment: str = "") -> dict:
    """Apply every part in ONE transaction: the customer parts through customer_changes_apply
    (history rows with case_type "policies.endorsement"), then the policy part. Any stale
    part is a 409 and nothing at all is applied."""
    endorsement = _endorsement_locked(case_id)
    reviewer = actor if getattr(actor, "is_authenticated", False) else None
    policy = (
        Policy.objects.select_for_update(of=("self",))
        .select_related("org_unit")
        .get(pk=endorsement.policy_id)
    )
    stale = _stale_parts(endorsement)
    if stale:
        raise Conflict(
            _("保单或客户信息在申请提交后已被修改,本次批改已过期,不能通过;请拒绝后重新发起申请"),
            code="stale_endorsement",
            extra={"stale": stale},
        )
    with transaction.atomic():
        for customer_id, diff in sorted(endorsement.customer_changes.items()):
            customer_changes_apply(
                actor=endorsement.requested_by,
                approved_by=reviewer,
                customer_id=int(customer_id),
                changes=diff,
                base_version=endorsement.customer_base_versions[customer_id],
                reason=endorsement.reason,
                case_type=ENDORSEMENT_CASE,
                case_id=endorsement.pk,
            )
        fields = []
        for name, change in endorsement.policy_changes.items():
            if name == "payment_mode":
                policy.payment_mode = change["new"]
                fields.append(name)
            elif name in ("sum_insured", "premium"):
                setattr(policy, name, Decimal(change["new"]))
                fields.append(name)
            elif name == "beneficiaries":
                policy.beneficiaries.all().delete()
                _beneficiaries_write(policy, change["new"])
        policy.version += 1
        policy.save(update_fields=[*fields, "version", "updated_at"])
        audit_event_record(
            actor=reviewer,
            action="policy.endorsed",
            obj=policy,
            org_unit=policy.org_unit,
            data={
                "endorsement": endorsement.pk,
                "fields": sorted(endorsement.policy_changes),
                "version": policy.version,
            },
        )
        endorsement.status = EndorsementStatus.APPLIED
        endorsement.decision_comment = comment
        endorsement.decided_by = reviewer
        endorsement.closed_at = timezone.now()
        endorsement.save(update_fields=["status", "decision_comment", "decided_by", "closed_at"])
        audit_event_record(
            actor=reviewer,
            action="endorsement.applied",
            obj=endorsement,
            org_unit=endorsement.org_unit,
            data={"comment": comment},
        )
    return {"endorsement_status": str(endorsement.status)}


def endorsement_reject(*, actor, case_id: Any, comment: str) -> dict:
    endorsement = _endorsement_locked(case_id)
    reviewer = actor if getattr(actor, "is_authenticated", False) else None
    endorsement.status = EndorsementStatus.REJECTED
    endorsement.decision_comment = comment
    endorsement.decided_by = reviewer
    endorsement.closed_at = timezone.now()
    endorsement.save(update_fields=["status", "decision_comment", "decided_by", "closed_at"])
    audit_event_record(
        actor=reviewer,
        action="endorsement.rejected",
        obj=endorsement,
        org_unit=endorsement.org_unit,
        data={"reason": comment},
    )
    return {"endorsement_status": str(endorsement.status)}


def _reviewer_level_ok(actor, endorsement: Endorsement) -> bool:
    """Identity changes (and blacklist hits) need a reviewer at province level or above."""
    if endorsement.scope != ChangeScope.IDENTITY and "blacklist_hit" not in (endorsement.flags or []):
        return True
    unit_path = endorsement.org_unit.path
    return any(
        ra.role == Role.REVIEWER
        and ra.org_unit.level in (OrgLevel.PROVINCE, OrgLevel.HEAD_OFFICE)
        and unit_path.startswith(ra.org_unit.path)
        for ra in user_role_assignments(actor)
    )


def endorsement_review_clean(data: dict, context: Any) -> dict:
    """Domain validation of the review form: a stale endorsement cannot be approved, and an
    identity change cannot be approved below province level."""
    endorsement = Endorsement.objects.select_related("org_unit").get(pk=context.task.case_id)
    if data.get("decision") == "approve":
        if endorsement_is_stale(endorsement):
            raise ValidationFailed.field(
                "decision",
                _("保单或客户信息在申请提交后已被修改,本次批改已过期,不能通过;请选择拒绝"),
                code="stale_endorsement",
            )
        inactive = (
            Customer.objects.filter(pk__in=[int(k) for k in endorsement.customer_changes])
            .exclude(status=CustomerStatus.ACTIVE)
            .order_by("pk")
            .first()
        )
        if inactive is not None:
            raise ValidationFailed.field(
                "decision", _status_message(inactive, _("批改")), code="customer_not_active"
            )
        if not _reviewer_level_ok(context.actor, endorsement):
            raise ValidationFailed.field(
                "decision", _("身份信息变更须由省级及以上审核岗审批"), code="province_review_required"
            )
    return data
