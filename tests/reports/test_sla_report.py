"""SLA report figures equal counts computed here from the raw task rows (≥ 10,000 seeded
tasks across org levels and months); drill-down totals match; level scope holds."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from backend.organisation.models import OrgUnit
from tasks.models import HumanTask
from tests.reports.seed import seed_tasks

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("sla_report")]
TZ = ZoneInfo("Asia/Shanghai")
NOW = timezone.now()
FROM, TO = (
    (NOW - dt.timedelta(days=200)).astimezone(TZ).date(),
    (NOW + dt.timedelta(days=40)).astimezone(TZ).date(),
)
METRICS = ("total", "on_time", "breached", "breached_done", "escalated", "overdue", "open")


@pytest.fixture
def seeded(users):
    people = [users[name] for name in ("reviewer.sz", "reviewer.gz", "reviewer.gd", "reviewer.hz")]
    seed_tasks(count=10_500, now=NOW, users=people)
    assert HumanTask.objects.count() >= 10_500
    return users


def classify(row: dict, now: dt.datetime) -> set[str]:
    """The metrics one raw row counts in, from its plain fields (independent of tasks/sla.py)."""
    status, due, done = row["status"], row["due_at"], row["completed_at"]
    if due is None or (status == "cancelled" and row["outcome"] != "escalated"):
        return set()
    if status == "completed":
        return {"total", "on_time"} if done <= due else {"total", "breached", "breached_done"}
    if status == "cancelled":
        return {"total", "breached", "escalated"}
    return {"total", "breached", "overdue"} if due < now else {"total", "open"}


def bucket(due: dt.datetime, period: str) -> str:
    day = due.astimezone(TZ).date()
    if period == "month":
        day = day.replace(day=1)
    elif period == "week":
        day = day - dt.timedelta(days=day.weekday())
    return day.isoformat()


def raw_rows(paths: list[str] | None = None) -> list[dict]:
    units = {u.pk: u for u in OrgUnit.objects.all()}
    rows = []
    for row in HumanTask.objects.values(
        "id",
        "status",
        "due_at",
        "completed_at",
        "outcome",
        "org_unit_id",
        "process_key",
        "step",
        "assignee_id",
        "completed_by_id",
    ):
        if row["due_at"] is None:
            continue
        local = row["due_at"].astimezone(TZ).date()
        if not FROM <= local <= TO:
            continue
        unit = units[row["org_unit_id"]]
        if paths and not any(unit.path.startswith(p) for p in paths):
            continue
        row["org_level"] = unit.level
        row["org_unit"] = unit.pk
        row["process"] = row["process_key"]
        person = row["completed_by_id"] or row["assignee_id"]
        row["assignee"] = person if person is not None else "none"
        rows.append(row)
    return rows


def expected(rows: list[dict], group_by: list[str], period: str) -> dict[tuple, Counter]:
    figures: dict[tuple, Counter] = defaultdict(Counter)
    for row in rows:
        key = tuple(row[d] for d in group_by) + ((bucket(row["due_at"], period),) if period else ())
        for metric in classify(row, NOW):
            figures[key][metric] += 1
    return {k: v for k, v in figures.items() if v["total"]}


def report(api, user="compliance.ho", **params):
    resp = api(user).get("/api/reports/sla/", {"from": FROM.isoformat(), "to": TO.isoformat(), **params})
    assert resp.status_code == 200, resp.content
    return resp.json()


def as_figures(body: dict, group_by: list[str], period: str) -> dict[tuple, Counter]:
    out = {}
    for row in body["rows"]:
        key = tuple(row["key"][d] for d in group_by) + ((row["key"]["period_start"],) if period else ())
        out[key] = Counter({m: row[m] for m in METRICS if row[m]})
    return out


@pytest.mark.parametrize(
    ("group_by", "period"),
    [
        (["org_unit", "step"], "month"),
        (["org_level"], "month"),
        (["process"], "week"),
        (["assignee"], ""),
        (["org_unit", "process", "step"], ""),
        ([], "day"),
    ],
)
def test_figures_equal_counts_from_raw_rows(api, seeded, group_by, period):
    body = report(api, group_by=",".join(group_by), period=period)
    want = expected(raw_rows(), group_by, period)
    assert len(want) >= 3
    assert as_figures(body, group_by, period) == want
    totals = Counter()
    for counter in want.values():
        totals.update(counter)
    assert {m: body["totals"][m] for m in METRICS} == {m: totals[m] for m in METRICS}
    assert body["totals"]["total"] > 8_000
    assert body["totals"]["on_time_rate"] == round(
        totals["on_time"] / (totals["on_time"] + totals["breached"]), 4
    )
    for row in body["rows"]:
        if row["on_time"] + row["breached"]:
            assert row["on_time_rate"] == round(row["on_time"] / (row["on_time"] + row["breached"]), 4)


def test_drill_down_totals_match_every_figure(api, seeded):
    body = report(api, group_by="org_unit,step", period="month")
    client = api("compliance.ho")
    checked = 0
    for row in body["rows"][:6]:
        for metric in ("total", "breached", "on_time", "overdue", "escalated"):
            page = client.get(row["tasks"][metric]).json()
            assert page["count"] == row[metric], (row["key"], metric)
            checked += 1
    assert checked == 30
    # The drill-down of the whole report's breaches is the sum of the rows' breaches.
    whole = client.get(
        "/api/reports/sla/tasks/", {"from": FROM.isoformat(), "to": TO.isoformat(), "metric": "breached"}
    )
    assert whole.json()["count"] == body["totals"]["breached"] == sum(r["breached"] for r in body["rows"])
    # Every task listed under "overdue" of one row is ready, past due and of that row.
    row = next(r for r in body["rows"] if r["overdue"])
    tasks = client.get(row["tasks"]["overdue"]).json()["results"]
    assert {t["sla_state"] for t in tasks} == {"overdue"}
    assert {t["step"] for t in tasks} == {row["key"]["step"]}


def test_a_province_sees_only_its_subtree(api, seeded):
    gd = OrgUnit.objects.get(code="GD")
    body = report(api, "compliance.gd", group_by="org_unit")
    want = expected(raw_rows([gd.path]), ["org_unit"], "")
    assert as_figures(body, ["org_unit"], "") == want
    assert {OrgUnit.objects.get(pk=k[0]).code for k in want} == {"GD", "GD-SZ", "GD-GZ"}
    zj = OrgUnit.objects.get(code="ZJ")
    resp = api("compliance.gd").get("/api/reports/sla/", {"within": zj.pk})
    assert resp.status_code == 404 and resp.json()["code"] == "org_unit_not_found"
    # Filtering on a unit outside the scope finds nothing rather than leaking figures.
    assert report(api, "compliance.gd", org_unit=zj.pk)["totals"]["total"] == 0


def test_within_narrows_to_a_subtree(api, seeded):
    sz = OrgUnit.objects.get(code="GD-SZ")
    body = report(api, within=sz.pk, group_by="org_unit")
    assert [r["key"]["org_unit"] for r in body["rows"]] == [sz.pk]
    assert body["totals"]["total"] == sum(1 for r in raw_rows([sz.path]) if "total" in classify(r, NOW))


def test_readers_without_a_report_role_are_refused(api, demo):
    resp = api("reviewer.sz").get("/api/reports/sla/")
    assert resp.status_code == 403 and resp.json()["code"] == "report_not_allowed"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"group_by": "colour"}, "group_by"),
        ({"period": "year"}, "period"),
        ({"from": "2026-13-01"}, "from"),
        ({"metric": "x"}, "metric"),
    ],
)
def test_bad_parameters_are_field_errors(api, demo, params, field):
    resp = api("compliance.ho").get("/api/reports/sla/", params)
    assert resp.status_code == 400 and field in resp.json()
