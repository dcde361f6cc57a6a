"""The privacy matrix, generated from the field registry (backend/organisation/privacy.py) and
the URL configuration.

The access matrix's objects are created at 深圳 (customers, an amendment, a policy, an import,
a complaint, …). Every personal value they hold (each field of `privacy.FIELDS` on every
customer and complaint) is then looked for in every readable API response and page, as users of
every role and level. A value may appear whole only where the policy says SHOWN for that user,
field and case — and never in a list. A new route, field or role is covered without an edit here;
a view that shows a value the policy masks fails.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from backend.complaints.models import Complaint
from backend.customers.models import Customer, CustomerAmendment, Prospect
from backend.organisation import privacy
from tests.api.test_access_matrix import objects, people  # noqa: F401 - fixtures

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("privacy-matrix")]

# One user per role and level: the case's own unit, its province, head office, another city.
USERS = [
    "collector.sz", "officer.sz", "reviewer.sz", "compliance.gd", "officer.gd", "reviewer.gd",
    "compliance.ho", "officer.ho", "handler.sz", "handler.gd", "cs.ho", "reviewer.gz", "officer.zj",
]
# Binary answers (PDF, XLSX) are not searched as text; what a printed form carries is checked in
# tests/pdfs (only listed keys reach a template) and its personal fields come from the same policy.
BINARY = (".pdf", "export", "archive", "batch-pdf", "card", "-form", "form-pdf")
SKIP_PREFIXES = ("admin", "api-schema", "api-docs", "logout", "set_language")


def readable_routes() -> list[tuple[str, list[str]]]:
    """(url name, path parameters) of every named route but admin and binary downloads."""
    found = []

    def walk(patterns, converters):
        for p in patterns:
            if isinstance(p, URLResolver):
                if p.namespace:  # the admin site: superusers only
                    continue
                walk(p.url_patterns, {**converters, **p.pattern.converters})
            elif isinstance(p, URLPattern) and p.name and not p.name.startswith(SKIP_PREFIXES):
                view = getattr(p.callback, "view_class", None)
                if view is not None and not hasattr(view, "get"):
                    continue
                if "admin" in str(p.pattern) or any(b in p.name for b in BINARY):
                    continue
                found.append((p.name, list({**converters, **p.pattern.converters})))

    walk(get_resolver().url_patterns, {})
    return found


def personal_values() -> list[tuple[str, str, object, str]]:
    """(field, whole value, org unit, subject) of every personal value in the database."""
    values = []
    for c in Customer.objects.select_related("org_unit"):
        for field in privacy.CUSTOMER_FIELDS:
            value = getattr(c, field, "") or ""
            if len(value) >= 6:
                values.append((field, value, c.org_unit, "customer"))
    for a in CustomerAmendment.objects.select_related("customer__org_unit"):
        for field, change in a.changes.items():
            if privacy.is_personal(field) and len(change.get("new") or "") >= 6:
                values.append((field, change["new"], a.customer.org_unit, "customer"))
    for p in Prospect.objects.select_related("org_unit"):  # 准客户: masked like a customer's
        for field in ("phone", "id_number"):
            value = getattr(p, field) or ""
            if len(value) >= 6:
                values.append((field, value, p.org_unit, "customer"))
    for c in Complaint.objects.select_related("org_unit"):
        for field in ("complainant_phone", "complainant_id_number"):
            value = getattr(c, field) or ""
            if len(value) >= 6:
                values.append((field, value, c.org_unit, "complainant"))
    return values


def _text(resp) -> str:
    if resp.streaming or resp.status_code != 200:
        return ""
    kind = resp.get("Content-Type", "")
    if not kind.startswith(("application/json", "text/")):
        return ""
    return resp.content.decode("utf-8", "replace")


def _found(text: str, value: str) -> bool:
    return value in text or json.dumps(value)[1:-1] in text


def test_personal_values_appear_only_where_the_policy_shows_them(api, objects, django_user_model):  # noqa: F811
    ids, overrides = objects
    users = {u.username: u for u in django_user_model.objects.filter(username__in=USERS)}
    assert set(users) == set(USERS)
    values = personal_values()
    assert {f for f, *_ in values} >= {"id_number", "phone", "address", "email", "complainant_phone", "employer", "family_members"}
    routes = readable_routes()
    assert len(routes) > 80
    leaks, shown = [], set()
    for username in USERS:
        clients = {"api": api(username), "web": Client()}
        clients["web"].force_login(users[username])
        for name, params in routes:
            kwargs = {**ids, **overrides.get(name, {})}
            if not all(p in kwargs for p in params):
                continue
            url = reverse(name, kwargs={p: kwargs[p] for p in params})
            text = _text(clients["api" if name.startswith("api-") else "web"].get(url))
            if not text:
                continue
            one_case = bool(params)
            for field, value, org_unit, subject in values:
                if not _found(text, value):
                    continue
                state = privacy.visibility(users[username], field, org_unit=org_unit, subject=subject,
                                           purpose="view" if one_case else "list")
                if state != privacy.SHOWN:
                    leaks.append(f"{username} GET {url}: {field} whole ({state} by the policy)")
                else:
                    shown.add((username, field))
    assert leaks == []
    # The policy is not vacuous: the officer reads a customer's data whole, the handler a complainant's.
    assert ("officer.sz", "phone") in shown and ("officer.sz", "id_number") in shown
    assert ("officer.sz", "employer") in shown and ("officer.sz", "family_members") in shown
    assert ("handler.sz", "complainant_phone") in shown


def test_policy_states(users):
    from backend.organisation.models import OrgUnit

    sz, gz = OrgUnit.objects.get(code="GD-SZ"), OrgUnit.objects.get(code="GD-GZ")
    officer, reviewer = users["officer.sz"], users["reviewer.sz"]
    assert privacy.visibility(officer, "phone", org_unit=sz) == privacy.SHOWN
    assert privacy.visibility(officer, "phone", org_unit=sz, purpose="list") == privacy.MASKED
    assert privacy.visibility(reviewer, "phone", org_unit=sz) == privacy.MASKED
    assert privacy.visibility(officer, "phone", org_unit=gz) == privacy.HIDDEN
    assert privacy.visibility(officer, "name", org_unit=gz) == privacy.SHOWN  # not a personal field
    assert privacy.visibility(officer, "complainant_phone", org_unit=sz, subject="complainant") == privacy.MASKED
    assert privacy.apply(privacy.HIDDEN, "phone", "13812345678") == ""
    assert privacy.apply(privacy.MASKED, "phone", "+8613812345678") == "138****5678"
