"""Junk into every process-owner endpoint: never a 5xx."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.fixtures.diagrams import review_diagram
from tests.web.helpers import DEMO_PASSWORD

pytestmark = pytest.mark.django_db

JUNK = [None, [], [1, 2], "text", 12, {}, {"key": None}, {"key": ["x"]}, {"key": "a" * 500}, {"key": "ok", "bpmn_xml": 5},
        {"bpmn_xml": "\x00"}, {"bpmn_xml": "<a>" * 1000}, {"row_version": -1, "bpmn_xml": "x"}, {"comment": {"x": 1}},
        {"target_version": "x"}, {"target_version": 2, "instances": ["a"]}, {"target_version": 2, "instances": [10**12]},
        {"target_version": 10**12, "from_version": 1}, {"dry_run": "maybe", "target_version": 1}]


@pytest.mark.parametrize("user", ["owner.ho", "reviewer.sz"])
def test_api_never_500(api, user):
    client = api(user)
    owner = api("owner.ho")
    draft = owner.post("/api/processes/drafts/", {"key": "review_test", "bpmn_xml": review_diagram().decode()}, format="json").json()["id"]
    paths = [
        "/api/processes/drafts/",
        f"/api/processes/drafts/{draft}/request-publish/",
        f"/api/processes/drafts/{draft}/approve/",
        f"/api/processes/drafts/{draft}/reject/",
        "/api/processes/drafts/999999/approve/",
        "/api/processes/review_test/migrations/",
        "/api/processes/nope/migrations/",
        "/api/processes/migrations/999999/rollback/",
    ]
    for path in paths:
        for body in JUNK:
            resp = client.post(path, body, format="json")
            assert resp.status_code < 500, (path, body, resp.content[:300])
    for body in JUNK:
        resp = client.put(f"/api/processes/drafts/{draft}/", body, format="json")
        assert resp.status_code < 500, (body, resp.content[:300])
    for query in ("", "?old=x&new=y", "?old=1", "?old=-1&new=0", "?old=1&new=99999999999999999999"):
        assert client.get(f"/api/processes/review_test/diff/{query}").status_code < 500
    for path in ("/api/processes/catalog/", "/api/processes/nope/versions/", "/api/processes/nope/versions/1/", f"/api/processes/drafts/{draft}/", "/api/processes/drafts/?key=%00"):
        assert client.get(path).status_code < 500, path


@pytest.mark.parametrize("user", ["owner.ho", "reviewer.sz"])
def test_pages_never_500(users, user):
    client = Client()
    assert client.login(username=user, password=DEMO_PASSWORD)
    for data in ({}, {"key": ""}, {"key": "x" * 300}, {"key": "ok_key"}, {"key": "\x00"}):
        assert client.post("/processes/drafts/new/", data).status_code < 500, data
    for data in ({}, {"target_version": "x"}, {"instances": "a,b", "target_version": "1"}, {"instances": "99999999", "target_version": "1", "run": "1"}, {"from_version": "z", "target_version": "1"}):
        assert client.post("/processes/individual_account_opening/migrate/", data).status_code < 500, data
    for path in ("/processes/drafts/", "/processes/drafts/99999/modeler/", "/processes/nope/versions/", "/processes/individual_account_opening/versions/?old=x&new=1",
                 "/processes/instances/99999/", "/processes/individual_account_opening/versions/?old=1&new=99"):
        assert client.get(path).status_code < 500, path
    assert client.post("/processes/individual_account_opening/migrations/99999/rollback/").status_code < 500


def test_nul_bytes_and_huge_numbers_in_urls_never_500(api, users):
    client = api("owner.ho")
    for path in ("/api/processes/%00/versions/", "/api/processes/a%00b/versions/1/", "/api/processes/%00/diff/?old=1&new=2",
                 "/api/processes/drafts/?key=%00", "/api/processes/individual_account_opening/versions/99999999999/"):
        assert client.get(path).status_code < 500, path
    for body in ({"target_version": 1, "from_version": 99999999999}, {"target_version": 99999999999, "instances": [1]},
                 {"target_version": 1, "instances": [99999999999999999999]}):
        assert client.post("/api/processes/%00/migrations/", body, format="json").status_code < 500, body
        assert client.post("/api/processes/individual_account_opening/migrations/", body, format="json").status_code < 500, body
    web = Client()
    assert web.login(username="owner.ho", password=DEMO_PASSWORD)
    for path in ("/processes/%00/versions/", "/processes/individual_account_opening/versions/?old=1&new=99999999999"):
        assert web.get(path).status_code < 500, path
    assert web.post("/processes/%00/migrate/", {"target_version": "1"}).status_code < 500


def test_nul_bytes_in_a_draft_file_are_a_400(users):
    from django.core.files.uploadedfile import SimpleUploadedFile

    web = Client()
    assert web.login(username="owner.ho", password=DEMO_PASSWORD)
    resp = web.post("/processes/drafts/new/", {"key": "nul_test", "file": SimpleUploadedFile("n.bpmn", b"<a>\x00</a>")})
    assert resp.status_code == 400 and "NUL" in resp.content.decode()
    bad_utf8 = web.post("/processes/drafts/new/", {"key": "nul_test", "file": SimpleUploadedFile("n.bpmn", b"\xff\xfe<a/>")})
    assert bad_utf8.status_code == 302  # saved as a draft whose problems say what is wrong


def test_huge_ids_in_urls_never_500(api, users):
    huge = "99999999999999999999"
    client = api("owner.ho")
    for path in (f"/api/processes/drafts/{huge}/", f"/api/processes/lint_test/versions/{huge}/"):
        assert client.get(path).status_code < 500, path
    for path in (f"/api/processes/drafts/{huge}/approve/", f"/api/processes/drafts/{huge}/request-publish/", f"/api/processes/migrations/{huge}/rollback/"):
        assert client.post(path, {}, format="json").status_code < 500, path
    web = Client()
    assert web.login(username="owner.ho", password=DEMO_PASSWORD)
    for path in (f"/processes/instances/{huge}/", f"/processes/drafts/{huge}/modeler/"):
        assert web.get(path).status_code < 500, path
    assert web.post(f"/processes/x/migrations/{huge}/rollback/").status_code < 500
