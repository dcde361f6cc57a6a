"""Per-collector statistics (seed 003 §1.1.1: the collector is recorded so the incentive reaches
him): `GET /api/reports/collectors/` and the page `/reports/collectors/`, level-scoped."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from tasks.models import HumanTask
from tests.factories import opening_payload, resident_id

pytestmark = pytest.mark.django_db
URL = "/api/reports/collectors/"


def this_month() -> str:
    return timezone.localdate().strftime("%Y-%m")


@pytest.fixture
def openings(api, submit):
    """深圳: collector.sz submits three (one returned by the officer, one with a sales agent's
    phone), officer.sz opens one of his own; 广州: collector.gz submits one."""
    submit("primary")
    returned = submit("primary", id_number=resident_id(birth=date(1970, 1, 1)), confirm_as=None).json()
    task = HumanTask.objects.get(case_id=returned["id"], step="officer_check", status="ready")
    resp = api("officer.sz").post(
        f"/api/tasks/{task.pk}/complete/", {"decision": "return", "comment": "扫描件不清晰"}, format="json"
    )
    assert resp.status_code == 200
    submit("advanced", id_number=resident_id(birth=date(1971, 1, 1)), phone="+8613900000001")
    submit("primary", as_user="officer.sz", id_number=resident_id(birth=date(1972, 1, 1)))
    resp = api("collector.gz").post(
        "/api/account-openings/",
        opening_payload("primary", id_number=resident_id(region="440106", birth=date(1973, 1, 1))),
        format="multipart",
    )
    assert resp.status_code == 201, resp.content


def rows_by_collector(body: dict) -> dict[str, dict]:
    return {(r["org_unit"], r["collector"]): r for r in body["rows"]}


def test_openings_returns_and_flags_per_collector_and_branch(api, openings):
    resp = api("officer.gd").get(URL, {"month": this_month()})
    assert resp.status_code == 200, resp.content
    body = resp.json()
    rows = rows_by_collector(body)
    assert set(rows) == {("GD-SZ", "collector.sz"), ("GD-SZ", "officer.sz"), ("GD-GZ", "collector.gz")}
    sz = rows[("GD-SZ", "collector.sz")]
    assert {
        k: sz[k] for k in ("month", "openings", "advanced", "opened", "pending", "returned", "flagged")
    } == {
        "month": this_month(),
        "openings": 3,
        "advanced": 1,
        "opened": 1,
        "pending": 2,
        "returned": 1,
        "flagged": 1,
    }
    assert sz["flag_counts"] == {"agent_phone": 1, "shared_phone": 1}
    assert sz["collector_name"] == "深圳采集人"
    assert rows[("GD-SZ", "officer.sz")]["opened"] == 1
    assert rows[("GD-GZ", "collector.gz")]["pending"] == 1  # waits for 广州's officer
    assert body["totals"]["openings"] == 5


def test_scope_a_branch_officer_sees_his_branch_only(api, openings):
    body = api("officer.sz").get(URL).json()  # the month defaults to this one
    assert {r["org_unit"] for r in body["rows"]} == {"GD-SZ"}
    # Another branch: not found, as if it did not exist.
    for unit in ("GD-GZ", "GD", "ZJ-HZ", "NOPE"):
        resp = api("officer.sz").get(URL, {"org_unit": unit})
        assert resp.status_code == 404, unit
    # The province picks one of its branches, by code or id.
    from backend.organisation.models import OrgUnit

    gz = OrgUnit.objects.get(code="GD-GZ")
    for value in ("GD-GZ", str(gz.pk)):
        body = api("officer.gd").get(URL, {"org_unit": value}).json()
        assert {r["collector"] for r in body["rows"]} == {"collector.gz"} and body["org_unit"][
            "code"
        ] == "GD-GZ"
    # Another province sees none of it; head office compliance sees all.
    assert api("compliance.ho").get(URL).json()["totals"]["openings"] == 5


def test_other_months_are_empty(api, openings):
    body = api("officer.gd").get(URL, {"month": "2020-01"}).json()
    assert body["rows"] == [] and body["totals"]["openings"] == 0


@pytest.mark.parametrize("username", ["collector.sz", "reviewer.sz", "handler.sz"])
def test_only_officers_and_compliance_read_it(api, openings, username):
    assert api(username).get(URL).status_code == 403


@pytest.mark.parametrize(
    "params, field",
    [
        ({"month": "2026-13"}, "month"),
        ({"month": "december"}, "month"),
        ({"month": "2026-1"}, "month"),
        ({"from": "2026-05", "to": "2026-01"}, "to"),
        ({"from": "2020-01", "to": "2026-01"}, "to"),
        ({"month": "2026-01", "from": "2026-01"}, "month"),
        ({"collector": "nobody"}, "collector"),
    ],
)
def test_bad_input_is_400_on_its_field(api, openings, params, field):
    resp = api("officer.sz").get(URL, params)
    assert resp.status_code == 400 and field in resp.json(), resp.content


def test_a_collector_filter_and_a_range_of_months(api, openings):
    body = (
        api("officer.gd")
        .get(URL, {"from": "2026-01", "to": this_month(), "collector": "collector.sz"})
        .json()
    )
    assert {r["collector"] for r in body["rows"]} == {"collector.sz"}
    assert body["months"][-1] == this_month()


def test_the_page_lists_the_collectors_and_refuses_others(client, users, openings):
    client.force_login(users["officer.sz"])
    page = client.get("/reports/collectors/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-collector="collector.sz"' in html and "深圳采集人" in html and "collector.gz" not in html
    assert client.get("/reports/collectors/", {"month": "2026-13"}).status_code == 400
    assert client.get("/reports/collectors/", {"org_unit": "GD-GZ"}).status_code == 404
    client.force_login(users["collector.sz"])
    assert client.get("/reports/collectors/").status_code == 403
