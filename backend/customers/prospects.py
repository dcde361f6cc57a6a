"""准客户: prospects from third-party collection, calls, events, referrals and visits (seed 003
§1.3 第三方信息采集, §1.4 其他潜在客户信息收集; docs/DOMAIN.md "Prospects").

- Who: collectors, officers, customer managers, customer service and hotline agents (`PROSPECT_ROLES`) record and
  read prospects of the units where they hold the role and below; anyone else is refused (403),
  a prospect out of scope is the 404 of a missing id.
- Lawful collection: details from a third party or an event are stored only with the person's
  consent (`CONSENT_REQUIRED_SOURCES`), with the time it was recorded.
- Dedupe: a new prospect whose phone or id number is held by a customer or by another open
  prospect is `duplicate` and linked to it — when the match is in the recorder's scope. A match
  outside it changes nothing the recorder can see (the answer is that of no match, no oracle);
  it is kept on the row (`matched_customer` / `matched_prospect`) for users who see the match and
  in an audit event filed under the match's unit. Each recording is a look-up (a `RevealEvent`
  of kind `lookup` per identifier, counted against `LOOKUP_LIMIT_PER_HOUR`): recording prospects
  cannot be used to probe customers' phones faster than the exact search allows.
- Convert: through `account_opening_submit` (checks A–D, the blacklist, the officer's step), the
  opening pre-filled from the prospect and credited to the prospect's collector.
- Expiry and purge (`prospects_expire`, daily job `customers.prospects_expire`): open and
  duplicate prospects past `expires_at` expire; `PURGE_DAYS` later their personal data (name,
  phone, id number, interest, notes) is blanked in place and `purged_at` set. The row stays for the
  counts per source and collector; the audit keeps that it happened, without the values.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.audit import audit_event_record
from backend.common.exceptions import Conflict, Forbidden, InvalidValue, NotFound, ValidationFailed
from backend.customers.lookups import lookup_limit_check, lookup_value_hash
from backend.customers.models import (
    CONSENT_REQUIRED_SOURCES,
    HOLDING_STATUSES,
    INDIVIDUAL_ID_TYPES,
    AccountOpening,
    Customer,
    Prospect,
    ProspectSource,
    ProspectStatus,
    RevealEvent,
    RevealEventKind,
)
from backend.customers.services import account_opening_submit
from backend.customers.validators import normalize_phone, validate_id_number
from backend.organisation import privacy
from backend.organisation.models import Role
from backend.organisation.selectors import scope_q, user_org_unit_for_role, user_role_assignments
from forms.validation import control_character_fields

PROSPECT_ROLES = (Role.COLLECTOR, Role.OFFICER, Role.CUSTOMER_MANAGER, Role.CUSTOMER_SERVICE, Role.HOTLINE_AGENT)
# Converting is submitting an opening: the opening's submitters.
CONVERT_ROLES = (Role.COLLECTOR, Role.OFFICER)
PROSPECT_FIELDS = ("name", "phone", "id_type", "id_number", "interest", "notes", "source", "source_detail", "consent")
MAX_LENGTHS = {"name": 100, "interest": 200, "notes": 1000, "source_detail": 100, "phone": 32, "id_number": 64}
# What the purge blanks: every field that says who the person is or what they told us.
PURGED_FIELDS = ("name", "phone", "id_type", "id_number", "interest", "notes")
# The opening's own fields a conversion takes from the request (the rest comes from the prospect).
CONVERT_FIELDS = ("info_level", "name", "id_type", "id_number", "id_valid_until", "phone", "address", "email")
TRUE_WORDS = {"true", "1", "on", "yes"}
FALSE_WORDS = {"false", "0", "off", "no", ""}


def prospect_days() -> tuple[int, int]:
    """(EXPIRE_DAYS, PURGE_DAYS) from CUSTFLOW['PROSPECTS'] (defaults 180 and 30)."""
    conf = settings.CUSTFLOW.get("PROSPECTS", {})
    return int(conf.get("EXPIRE_DAYS", 180)), int(conf.get("PURGE_DAYS", 30))


# ---- who ---------------------------------------------------------------------------------------


def _prospect_paths(user, roles=PROSPECT_ROLES) -> list[str]:
    if getattr(user, "is_superuser", False):
        return [""]
    return sorted({ra.org_unit.path for ra in user_role_assignments(user) if ra.role in roles})


def user_may_handle_prospects(user) -> bool:
    return bool(_prospect_paths(user))


def user_may_convert(user, prospect: Prospect) -> bool:
    path = prospect.org_unit.path
    return prospect.status == ProspectStatus.OPEN and any(
        path.startswith(p) for p in _prospect_paths(user, CONVERT_ROLES)
    )


def _prospects_check(user) -> list[str]:
    paths = _prospect_paths(user)
    if not paths:
        raise Forbidden(_("只有采集人、客户信息管理岗、客户经理、客服人员和热线坐席可以查看和登记准客户"), code="prospect_not_allowed")
    return paths


def _in_paths(paths: list[str]) -> Q:
    q = Q(pk__in=[])
    for p in paths:
        q |= Q(org_unit__path__startswith=p)
    return q


def prospects_visible(user) -> QuerySet[Prospect]:
    """The prospects of the subtrees where the user holds a prospect role (403 for other roles)."""
    paths = _prospects_check(user)
    return Prospect.objects.filter(_in_paths(paths)).select_related("org_unit", "collected_by")


def prospect_get_visible(*, user, prospect_id: Any) -> Prospect:
    qs = prospects_visible(user)
    try:
        prospect = qs.filter(pk=int(prospect_id)).first()
    except (TypeError, ValueError):
        prospect = None
    if prospect is None:
        raise NotFound(_("准客户不存在"), code="prospect_not_found")
    return prospect


def prospect_list(*, user, status: str = "", source: str = "", query: str = "") -> QuerySet[Prospect]:
    """The user's prospects, newest first; `query` matches the name (an identifier is never
    searched through a URL: the dedupe on recording is the look-up)."""
    qs = prospects_visible(user).order_by("-created_at", "-id")
    for name, value in (("status", status), ("source", source), ("q", query)):
        if control_character_fields(value or ""):
            raise ValidationFailed.field(name, _("不能包含控制字符"), code="invalid_search")
    if status:
        qs = qs.filter(status=status) if status in ProspectStatus.values else qs.none()
    if source:
        qs = qs.filter(source=source) if source in ProspectSource.values else qs.none()
    query = (query or "").strip()[:100]
    if query:
        qs = qs.filter(name__icontains=query)
    return qs


# ---- recording -----------------------------------------------------------------------------------


def _consent_value(raw: Any) -> bool | None:
    if isinstance(raw, bool):
        return raw
    if raw is None:
        return False
    if isinstance(raw, str) and raw.strip().lower() in TRUE_WORDS | FALSE_WORDS:
        return raw.strip().lower() in TRUE_WORDS
    return None


def prospect_clean(data: Mapping[str, Any]) -> dict[str, Any]:
    """Every field checked, every problem at once, keyed by field (400). Phone by the customers'
    rule (E.164), the id number (optional) by its type's rule (check B)."""
    data = data if hasattr(data, "get") else {}
    errors: dict[str, list[str]] = {}
    raw: dict[str, str] = {}
    for name in PROSPECT_FIELDS:
        if name == "consent":
            continue
        value = data.get(name, "")
        value = "" if value is None else value
        if not isinstance(value, str):
            errors[name] = [_("应为文本")]
        elif control_character_fields(value):
            errors[name] = [_("不能包含控制字符")]
        elif len(value) > MAX_LENGTHS.get(name, 32):
            errors[name] = [_("不能超过 %(n)s 个字") % {"n": MAX_LENGTHS.get(name, 32)}]
        raw[name] = value.strip() if isinstance(value, str) else ""
    values: dict[str, Any] = {}
    if "name" not in errors:
        if not raw["name"]:
            errors["name"] = [_("请填写姓名")]
        values["name"] = raw["name"]
    if "phone" not in errors:
        if not raw["phone"]:
            errors["phone"] = [_("请填写联系电话")]
        else:
            try:
                values["phone"] = normalize_phone(raw["phone"])
            except InvalidValue as exc:
                errors["phone"] = [exc.message]
    values["id_type"], values["id_number"] = "", ""
    if "id_number" not in errors and "id_type" not in errors and raw["id_number"]:
        id_type = raw["id_type"]
        if id_type not in INDIVIDUAL_ID_TYPES:
            errors["id_type"] = [_("请选择证件类型")]
        else:
            try:
                values["id_number"] = validate_id_number(id_type, raw["id_number"]).normalized
                values["id_type"] = id_type
            except InvalidValue as exc:
                errors["id_number"] = [exc.message]
    source = raw.get("source", "")
    if "source" not in errors and source not in ProspectSource.values:
        errors["source"] = [_("请选择来源") if not source else _("未知的来源")]
    values["source"] = source
    for name in ("interest", "notes", "source_detail"):
        if name not in errors:
            values[name] = raw[name]
    consent = _consent_value(data.get("consent"))
    if consent is None:
        errors["consent"] = [_("本人同意应为是或否")]
    elif not consent and source in CONSENT_REQUIRED_SOURCES:
        errors["consent"] = [_("第三方采集或活动收集的信息，须取得本人同意后方可登记")]
    values["consent"] = bool(consent)
    if source == ProspectSource.THIRD_PARTY and "source_detail" not in errors and not values.get("source_detail"):
        errors["source_detail"] = [_("请填写提供信息的第三方名称")]
    if errors:
        raise ValidationFailed("", field_errors=errors, code="invalid_prospect")
    return values


def _matches(values: dict[str, Any]) -> tuple[list[Customer], list[Prospect]]:
    """Customers (holding their id) and open prospects with the same phone or id number, any scope."""
    q = Q(phone=values["phone"])
    if values["id_number"]:
        q |= Q(id_number=values["id_number"])
    customers = list(
        Customer.objects.filter(q, status__in=HOLDING_STATUSES).select_related("org_unit").order_by("id")[:20]
    )
    prospects = list(
        Prospect.objects.filter(q, status=ProspectStatus.OPEN).select_related("org_unit").order_by("id")[:20]
    )
    return customers, prospects


def _lookup_record(actor, org_unit, values: dict[str, Any], found: int, now: datetime) -> None:
    """The dedupe is a look-up by identifier: one `lookup` event per identifier checked, with the
    number of matches the recorder learned (in his scope), the value only as its keyed hash."""
    keys = [("phone", values["phone"])] + ([("id_number", values["id_number"])] if values["id_number"] else [])
    for field, value in keys:
        RevealEvent.objects.create(
            kind=RevealEventKind.LOOKUP, user=actor, customer=None, field=field, reason="",
            value_hash=lookup_value_hash(value), result_count=found, org_unit=org_unit, created_at=now,
        )
    audit_event_record(
        actor=actor, action="lookup", org_unit=org_unit, object_type="customers.prospect_dedupe",
        data={"kind": "lookup", "fields": [k for k, _v in keys], "result_count": found, "purpose": "prospect"},
    )


def _match_keys(values: dict[str, Any], record) -> list[str]:
    keys = ["phone"] if record.phone and record.phone == values["phone"] else []
    if values["id_number"] and record.id_number == values["id_number"]:
        keys.append("id_number")
    return keys


def prospect_record(*, actor, data: Mapping[str, Any]) -> Prospect:
    """Record one prospect at the actor's unit (where he holds a prospect role), deduplicated
    against customers and open prospects. Bad input: ValidationFailed (400 per field), nothing
    written. Over the hourly look-up limit: TooManyRequests (429), nothing written. A role that
    does not record prospects: Forbidden (403).

    The hotline desk calls it for a call from an unknown number with `source="hotline_call"`
    (consent is not required for a call the person made)."""
    _prospects_check(actor)
    org_unit = next((u for u in (user_org_unit_for_role(actor, r) for r in PROSPECT_ROLES) if u), None)
    if org_unit is None:  # a superuser without roles: nowhere to file it
        raise Forbidden(_("只有采集人、客户信息管理岗、客户经理、客服人员和热线坐席可以登记准客户"), code="prospect_not_allowed")
    values = prospect_clean(data)
    expire_days, _purge = prospect_days()
    with transaction.atomic():
        # One look-up decision per user at a time: the hourly count cannot be raced past.
        get_user_model().objects.select_for_update().filter(pk=actor.pk).first()
        now = timezone.now()
        lookup_limit_check(actor, now)
        customers, prospects = _matches(values)
        customer_scope = scope_q(actor)
        seen_customers = set(
            Customer.objects.filter(customer_scope, pk__in=[c.pk for c in customers]).values_list("pk", flat=True)
        )
        paths = _prospect_paths(actor)
        mine_c = [c for c in customers if c.pk in seen_customers]
        mine_p = [p for p in prospects if any(p.org_unit.path.startswith(x) for x in paths)]
        duplicate = bool(mine_c or mine_p)
        prospect = Prospect.objects.create(
            org_unit=org_unit,
            collected_by=actor,
            consent_at=now if values["consent"] else None,
            status=ProspectStatus.DUPLICATE if duplicate else ProspectStatus.OPEN,
            customer=mine_c[0] if mine_c else None,
            duplicate_of=mine_p[0] if (mine_p and not mine_c) else None,
            matched_customer=(mine_c or customers or [None])[0],
            matched_prospect=(mine_p or prospects or [None])[0],
            expires_at=now + timedelta(days=expire_days),
            **values,
        )
        _lookup_record(actor, org_unit, values, len(mine_c) + len(mine_p), now)
        audit_event_record(
            actor=actor,
            action="prospect.recorded",
            obj=prospect,
            org_unit=org_unit,
            # What happened, not who: no name, phone or id number in the trail.
            data={"source": prospect.source, "consent": prospect.consent, "status": prospect.status},
        )
        # The match, in any scope, recorded for the officers who see the matched record.
        for record in [*customers[:1], *prospects[:1]]:
            audit_event_record(
                actor=actor,
                action="prospect.matched",
                obj=prospect,
                org_unit=record.org_unit,
                data={
                    "prospect": prospect.pk,
                    "matched": record._meta.label_lower,
                    "matched_id": record.pk,
                    "keys": _match_keys(values, record),
                },
            )
    return prospect


# ---- reading -------------------------------------------------------------------------------------


def _customer_seen(user, customer_id: int | None) -> bool:
    return bool(customer_id) and Customer.objects.filter(scope_q(user), pk=customer_id).exists()


def _match_view(user, prospect: Prospect) -> dict[str, Any] | None:
    """The recorded match, only for a user who may see the matched record."""
    if prospect.matched_customer_id:
        if _customer_seen(user, prospect.matched_customer_id):
            c = prospect.matched_customer
            return {"type": "customer", "id": c.pk, "name": c.name, "org_unit_name": c.org_unit.name}
    if prospect.matched_prospect_id:
        other = prospect.matched_prospect
        if any(other.org_unit.path.startswith(p) for p in _prospect_paths(user)):
            return {"type": "prospect", "id": other.pk, "name": other.name, "org_unit_name": other.org_unit.name}
    return None


def prospect_view(*, user, prospect: Prospect, purpose: str = "view") -> dict[str, Any]:
    """The prospect as this user may see it: phone and id number whole only for a full-view role
    (the officer) at the prospect's unit or above, never in a list; a full view is audited."""
    full = privacy.sees_full(user, prospect.org_unit, purpose=purpose)
    collector = prospect.collected_by
    data: dict[str, Any] = {
        "id": prospect.pk,
        "status": prospect.status,
        "status_label": prospect.get_status_display(),
        "name": prospect.name,
        "phone": privacy.present("phone", prospect.phone, full=full),
        "id_type": prospect.id_type,
        "id_type_label": prospect.get_id_type_display() if prospect.id_type else "",
        "id_number": privacy.present("id_number", prospect.id_number, full=full),
        "interest": prospect.interest,
        "source": prospect.source,
        "source_label": prospect.get_source_display(),
        "source_detail": prospect.source_detail,
        "consent": prospect.consent,
        "consent_at": prospect.consent_at.isoformat() if prospect.consent_at else None,
        "collected_by": collector.username,
        "collected_by_name": collector.get_full_name() or collector.username,
        "org_unit": prospect.org_unit.code,
        "org_unit_name": prospect.org_unit.name,
        "customer_id": prospect.customer_id if _customer_seen(user, prospect.customer_id) else None,
        "opening_id": prospect.opening_id,
        "duplicate_of": prospect.duplicate_of_id,
        "created_at": prospect.created_at.isoformat(),
        "expires_at": prospect.expires_at.isoformat(),
        "expired_at": prospect.expired_at.isoformat() if prospect.expired_at else None,
        "converted_at": prospect.converted_at.isoformat() if prospect.converted_at else None,
        "purged": prospect.purged_at is not None,
        "masked": not full,
    }
    if purpose != "list":
        data["notes"] = prospect.notes
        data["match"] = _match_view(user, prospect)
        data["may_convert"] = user_may_convert(user, prospect)
    if full and (prospect.phone or prospect.id_number):
        audit_event_record(
            actor=user, action="customer.viewed_full", obj=prospect, org_unit=prospect.org_unit,
            data={"purpose": purpose, "subject": "prospect"},
        )
    return data


# ---- converting ----------------------------------------------------------------------------------


def prospect_convert(*, actor, prospect_id: Any, data: Mapping[str, Any], scan: Any = None) -> AccountOpening:
    """Turn an open prospect into an account opening through `account_opening_submit` (the same
    checks A–D, blacklist and officer step), pre-filled from the prospect (a field given in `data`
    replaces the prospect's value), credited to the prospect's collector. The prospect becomes
    `converted` with the customer and opening linked, in the opening's transaction: a refused
    opening (400 per field, 409 duplicate) leaves the prospect open and nothing written."""
    data = data if hasattr(data, "get") else {}
    with transaction.atomic():
        prospect = prospect_get_visible(user=actor, prospect_id=prospect_id)
        prospect = Prospect.objects.select_for_update().select_related("org_unit", "collected_by").get(pk=prospect.pk)
        if prospect.status != ProspectStatus.OPEN:
            raise Conflict(
                _("该准客户当前状态为“%(status)s”，不能转为开户") % {"status": prospect.get_status_display()},
                code="prospect_not_open",
            )
        if not any(prospect.org_unit.path.startswith(p) for p in _prospect_paths(actor, CONVERT_ROLES)):
            raise Forbidden(_("只有采集人或客户信息管理岗可以将准客户转为开户"), code="prospect_convert_not_allowed")
        values: dict[str, Any] = {
            "name": prospect.name, "phone": prospect.phone, "id_type": prospect.id_type, "id_number": prospect.id_number,
        }
        for name in CONVERT_FIELDS:
            given = data.get(name)
            if isinstance(given, str) and given.strip():
                values[name] = given
            elif given is not None and not isinstance(given, str):
                values[name] = given  # the opening's cleaner answers a non-text value on its field
        values.setdefault("info_level", "")
        opening = account_opening_submit(
            actor=actor, **values, scan=scan, credit_to=prospect.collected_by, credit_unit=prospect.org_unit
        )
        prospect.status = ProspectStatus.CONVERTED
        prospect.customer = opening.customer
        prospect.opening = opening
        prospect.converted_at = timezone.now()
        prospect.save(update_fields=["status", "customer", "opening", "converted_at", "updated_at"])
        audit_event_record(
            actor=actor,
            action="prospect.converted",
            obj=prospect,
            org_unit=prospect.org_unit,
            data={"opening": opening.pk, "customer": opening.customer_id, "collector": prospect.collected_by.username},
        )
    return opening


# ---- expiry and purge ----------------------------------------------------------------------------


def prospects_expire(*, now: datetime | None = None) -> dict[str, int]:
    """Daily: open and duplicate prospects past `expires_at` expire (purge due PURGE_DAYS later);
    expired prospects past `purge_after` lose their personal data (blanked in place, `purged_at`
    set). Idempotent; one audit event per prospect, without the data."""
    now = now or timezone.now()
    _expire, purge_days = prospect_days()
    with transaction.atomic():
        due = list(
            Prospect.objects.select_for_update()
            .filter(status__in=[ProspectStatus.OPEN, ProspectStatus.DUPLICATE], expires_at__lte=now)
            .select_related("org_unit")
        )
        Prospect.objects.filter(pk__in=[p.pk for p in due]).update(
            status=ProspectStatus.EXPIRED, expired_at=now, purge_after=now + timedelta(days=purge_days), updated_at=now
        )
        for p in due:
            audit_event_record(actor=None, action="prospect.expired", obj=p, org_unit=p.org_unit, data={"from": p.status})
        purge = list(
            Prospect.objects.select_for_update()
            .filter(status=ProspectStatus.EXPIRED, purged_at__isnull=True, purge_after__lte=now)
            .select_related("org_unit")
        )
        Prospect.objects.filter(pk__in=[p.pk for p in purge]).update(
            **{f: "" for f in PURGED_FIELDS}, purged_at=now, updated_at=now
        )
        for p in purge:
            audit_event_record(
                actor=None, action="prospect.purged", obj=p, org_unit=p.org_unit,
                data={"fields": list(PURGED_FIELDS)},
            )
    return {"expired": len(due), "purged": len(purge)}
