"""Control 13: no side effects on GET.

Generated from the URL configuration: every route of the web pages and the API is fetched with
GET by signed-in users who can see the data (one object of every kind exists, the access
matrix's fixture), once plainly and once with a hostile query (`?reason=…&format=pdf…`, the way
a reprint used to be triggered), and no table may gain or lose a row. The one allowed exception
is the audit record of a read the rules require to be logged: a full (unmasked) view of a
customer or complaint (`customer.viewed_full`, `complaint.full_viewed`), a download of an
export (`export.downloaded`, control 12) and a view of an identity scan (`customer.scan_viewed`
with its reveal event of kind `scan`, issue 16 item 3) — records of the read only, never a copy
or a print record.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from backend.common.models import AuditEvent
from backend.customers.models import RevealEvent
from tests.api.test_access_matrix import objects, people  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("access-matrix")]

VIEW_RECORDS = {"customer.viewed_full", "complaint.full_viewed", "export.downloaded", "customer.scan_viewed"}
VIEW_REVEAL_KINDS = {"scan"}  # reveal events that record a read (the scan served)
HOSTILE_QUERY = {
    "reason": "无理由重印副本",
    "format": "pdf",
    "month": "2026-10",
    "copy": "1",
    "print": "1",
    "download": "1",
}
SKIP_PREFIXES = ("admin/",)  # Django's own admin (staff only; GET there writes nothing)
STR_DEFAULTS = {"fmt": "pdf", "form": "register", "key": "individual_account_opening"}
API_USERS = ["reviewer.sz", "handler.sz", "compliance.ho", "admin"]
WEB_USERS = ["reviewer.sz", "handler.sz", "compliance.ho"]


def all_routes() -> list[tuple[str, str, dict[str, str]]]:
    """(url name, route, {param: "int"|"str"}) of every named route of the URL conf."""
    found = []

    def walk(patterns, prefix, converters):
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                walk(p.url_patterns, route, {**converters, **p.pattern.converters})
            elif isinstance(p, URLPattern) and p.name:
                conv = {**converters, **p.pattern.converters}
                kinds = {k: "int" if type(c).__name__ == "IntConverter" else "str" for k, c in conv.items()}
                found.append((p.name, route, kinds))

    walk(get_resolver().url_patterns, "", {})
    return [r for r in found if not r[1].startswith(SKIP_PREFIXES)]


def _tables() -> list[str]:
    return sorted({m._meta.db_table for m in apps.get_models() if m._meta.managed and not m._meta.proxy})


def row_counts() -> dict[str, int]:
    tables = _tables()
    qn = connection.ops.quote_name
    sql = "SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {qn(t)})" for t in tables)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        counts = dict(zip(tables, cursor.fetchone(), strict=True))
    counts[AuditEvent._meta.db_table] = AuditEvent.objects.exclude(action__in=VIEW_RECORDS).count()
    counts[RevealEvent._meta.db_table] = RevealEvent.objects.exclude(kind__in=VIEW_REVEAL_KINDS).count()
    return counts


def _changed(before: dict[str, int], after: dict[str, int]) -> dict[str, tuple[int, int]]:
    return {t: (before[t], after[t]) for t in before if before[t] != after[t]}


def _urls(ids, overrides):
    urls = []
    for name, _route, kinds in all_routes():
        values = {**ids, **overrides.get(name, {})}
        kwargs = {}
        for param, kind in kinds.items():
            if param in values:
                kwargs[param] = values[param]
            else:
                kwargs[param] = 1 if kind == "int" else STR_DEFAULTS.get(param, "x")
        try:
            urls.append((name, reverse(name, kwargs=kwargs)))
        except Exception:  # noqa: BLE001 - a converter that refuses the default (e.g. a slug shape)
            continue
    return urls


def test_the_walk_covers_the_print_routes(objects):  # noqa: F811
    names = {name for name, _url in _urls(*objects)}
    for printing in (
        "api-customer-card",
        "customer-card",
        "api-opening-form",
        "opening-form",
        "amendment-pdf",
        "api-endorsement-form",
        "endorsement-form",
        "api-complaint-form",
        "complaint-form-pdf",
        "api-complaint-analysis-export",
        "complaint-analysis-export",
    ):
        assert printing in names, printing


def test_the_walk_covers_the_scan_route_and_records_its_views(api, objects):  # noqa: F811
    ids, overrides = objects
    assert "api-opening-scan" in {name for name, _url in _urls(ids, overrides)}
    before = RevealEvent.objects.filter(kind="scan").count()
    assert api("reviewer.sz").get(f"/api/account-openings/{ids['opening_id']}/scan/").status_code == 200
    assert RevealEvent.objects.filter(kind="scan").count() == before + 1


def test_no_get_changes_any_row(api, django_user_model, objects):  # noqa: F811
    ids, overrides = objects
    urls = _urls(ids, overrides)
    assert len(urls) > 150
    # Tokens first (a token sign-in may upgrade the password hash, which ends older sessions).
    api_clients = {username: api(username) for username in API_USERS}
    web_clients = {}
    for username in WEB_USERS:
        c = Client()
        c.force_login(django_user_model.objects.get(username=username))  # fresh: objects re-set passwords
        web_clients[username] = c
    writes = []
    for _name, url in urls:
        clients = api_clients if url.startswith("/api/") else web_clients
        for username, c in clients.items():
            for query in ({}, HOSTILE_QUERY):
                before = row_counts()
                resp = c.get(url, query)
                if resp.streaming:
                    b"".join(resp.streaming_content)
                changed = _changed(before, row_counts())
                if changed:
                    writes.append(f"{username} GET {url} {query or ''} → {resp.status_code}: {changed}")
                    break
    assert writes == [], "GET must not write:\n" + "\n".join(writes)
