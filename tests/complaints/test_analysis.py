"""客户投诉分析表: every figure equals a count made here in plain Python over the seeded rows;
every drill-down lists exactly the cases behind its figure; readers see their scope only."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter, defaultdict

import pytest
from django.conf import settings

from backend.common.exceptions import Forbidden, ValidationFailed
from backend.complaints.analysis import (
    BLANK,
    DIMENSIONS,
    METRICS,
    analysis_cases,
    analysis_cases_weight,
    complaint_analysis,
    drill_clean,
    month_parse,
)
from backend.complaints.models import Complaint, ComplaintMerge, CorrectiveAction
from backend.organisation.models import OrgUnit
from tests.complaints.factories import TZ, complaint_make, complaint_users, seed_month

MONTH = dt.date(2026, 10, 1)
TODAY = dt.date(2026, 11, 20)


@pytest.fixture
def seeded(users):
    complaint_users()
    seed_month(month=MONTH, count=1200, today=TODAY)


def _user(username):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)


def expected_figures(user) -> dict:
    """The analysis table recomputed from the raw rows, without the selector's queries."""
    paths = {u.pk: u.path for u in OrgUnit.objects.all()}
    if user.is_superuser:
        scopes = [""]
    else:
        scopes = [ra.org_unit.path for ra in user.role_assignments.select_related("org_unit")]
    cfg = settings.CUSTFLOW["COMPLAINTS"]
    window = dt.timedelta(days=cfg["DUPLICATE_WINDOW_DAYS"])
    start = dt.datetime.combine(MONTH, dt.time.min, tzinfo=TZ)
    end = dt.datetime.combine(dt.date(2026, 11, 1), dt.time.min, tzinfo=TZ)
    every = list(Complaint.objects.all())
    by_phone, by_id = defaultdict(list), defaultdict(list)
    for c in every:
        by_phone[c.complainant_phone].append(c)
        if c.complainant_id_number:
            by_id[c.complainant_id_number].append(c)
    merges = Counter(ComplaintMerge.objects.values_list("complaint_id", flat=True))
    actions = defaultdict(list)
    for a in CorrectiveAction.objects.all():
        actions[a.complaint_id].append(a)

    def visible(c):
        return any(
            paths[c.org_unit_id].startswith(s) or paths[c.received_org_unit_id].startswith(s) for s in scopes
        )

    def repeat(c):
        others = by_phone[c.complainant_phone] + (
            by_id[c.complainant_id_number] if c.complainant_id_number else []
        )
        return any(
            o.pk != c.pk
            and c.received_at - window <= o.received_at
            and (o.received_at < c.received_at or (o.received_at == c.received_at and o.pk < c.pk))
            for o in others
        )

    def figures(c) -> dict[str, int]:
        closed = c.status == "closed"
        acts = actions[c.pk]
        return {
            "total": 1,
            "open": int(c.status in ("accepted", "verified", "registered", "handling", "decided")),
            "closed": int(closed),
            "on_time": int(closed and c.on_time is True),
            "late": int(closed and c.on_time is False),
            "withdrawn": int(c.status == "withdrawn"),
            "breached": int(c.breached_at is not None),
            "major": int(c.major),
            "extended": int(c.limit_days > cfg["BASE_DAYS"]),
            "extended_30": int(cfg["BASE_DAYS"] < c.limit_days <= cfg["COMPLEX_DAYS"]),
            "extended_60": int(c.limit_days > cfg["COMPLEX_DAYS"]),
            "repeat": int(repeat(c)),
            "merged": int(merges[c.pk] > 0),
            "merges": merges[c.pk],
            "actions_open": sum(a.status == "open" for a in acts),
            "actions_closed": sum(a.status == "closed" for a in acts),
            "actions_overdue": sum(a.status == "open" and a.due_date < TODAY for a in acts),
        }

    cases = [c for c in every if start <= c.received_at < end and visible(c)]
    totals: Counter = Counter()
    rows: dict[str, dict[str, Counter]] = {d: defaultdict(Counter) for d in DIMENSIONS}
    ids: dict[tuple[str, str, str], set[int]] = defaultdict(set)
    for c in cases:
        f = figures(c)
        keys = {
            "category": c.category,
            "channel": c.channel,
            "org_unit": str(c.org_unit_id),
            "product": c.product or BLANK,
            "root_cause": c.root_cause or BLANK,
        }
        totals.update(f)
        for dim, value in keys.items():
            rows[dim][value].update(f)
        for m, n in f.items():
            if n:
                ids[("", "", m)].add(c.pk)
                for dim, value in keys.items():
                    ids[(dim, value, m)].add(c.pk)
    return {"totals": totals, "rows": rows, "ids": ids, "count": len(cases)}


@pytest.mark.parametrize("username", ["compliance.ho", "compliance.gd", "handler.sz", "handler.gd"])
def test_the_monthly_table_equals_an_independent_count(seeded, username):
    user = _user(username)
    expected = expected_figures(user)
    report = complaint_analysis(user=user, month=month_parse("2026-10"), today=TODAY)

    assert report["month"] == "2026-10"
    for m in METRICS:
        assert report["totals"][m] == expected["totals"][m], m
    t = expected["totals"]
    assert report["totals"]["on_time_rate"] == round(t["on_time"] / (t["on_time"] + t["late"]), 4)
    for dim in DIMENSIONS:
        got = {row["value"]: {m: row[m] for m in METRICS} for row in report["dimensions"][dim]}
        want = {value: {m: counter[m] for m in METRICS} for value, counter in expected["rows"][dim].items()}
        assert got == want, dim
        assert sum(row["total"] for row in report["dimensions"][dim]) == report["totals"]["total"]


def test_the_seeded_month_covers_every_case(seeded):
    expected = expected_figures(_user("compliance.ho"))
    t = expected["totals"]
    assert expected["count"] >= 1000
    for m in METRICS:
        assert t[m] > 0, m  # the seed exercises every figure
    assert t["on_time"] + t["late"] < t["closed"]  # some closed cases have no on-time verdict
    assert len(expected["rows"]["org_unit"]) == OrgUnit.objects.count()
    assert BLANK in expected["rows"]["product"] and BLANK in expected["rows"]["root_cause"]


def test_every_drill_down_lists_exactly_the_cases_behind_its_figure(seeded):
    user = _user("compliance.gd")
    expected = expected_figures(user)
    month = month_parse("2026-10")
    report = complaint_analysis(user=user, month=month, today=TODAY)
    checked = 0
    for m in METRICS:
        qs = analysis_cases(user=user, month=month, metric=m, today=TODAY)
        assert set(qs.values_list("pk", flat=True)) == expected["ids"][("", "", m)], m
        assert analysis_cases_weight(qs) == report["totals"][m], m
        checked += 1
    for dim in DIMENSIONS:
        for row in report["dimensions"][dim]:
            for m in ("total", "repeat", "on_time", "merges", "actions_overdue", "extended_60"):
                qs = analysis_cases(
                    user=user, month=month, dimension=dim, value=row["value"], metric=m, today=TODAY
                )
                assert set(qs.values_list("pk", flat=True)) == expected["ids"][(dim, row["value"], m)], (
                    dim,
                    row,
                    m,
                )
                assert analysis_cases_weight(qs) == row[m], (dim, row["value"], m)
                checked += 1
    assert checked > 100


def test_a_city_sees_its_own_and_handed_in_cases_a_province_its_subtree_head_office_all(users):
    complaint_users()
    at = dt.datetime(2026, 10, 5, 9, tzinfo=TZ)
    own = complaint_make(org="GD-SZ", received_at=at)
    handed_in = complaint_make(org="GD-SZ", received="GD-GZ", received_at=at)
    handed_out = complaint_make(org="GD", received="GD-SZ", received_at=at)
    sibling = complaint_make(org="GD-GZ", received_at=at)
    other_province = complaint_make(org="ZJ-HZ", received_at=at)
    head_office = complaint_make(org="HO", received_at=at)
    month = month_parse("2026-10")

    def seen(username):
        return set(analysis_cases(user=_user(username), month=month).values_list("pk", flat=True))

    assert seen("handler.sz") == {own.pk, handed_in.pk, handed_out.pk}
    assert seen("handler.gz") == {handed_in.pk, sibling.pk}
    assert seen("handler.gd") == {own.pk, handed_in.pk, handed_out.pk, sibling.pk}
    assert seen("compliance.ho") == {
        own.pk,
        handed_in.pk,
        handed_out.pk,
        sibling.pk,
        other_province.pk,
        head_office.pk,
    }
    report = complaint_analysis(user=_user("handler.sz"), month=month)
    assert report["totals"]["total"] == 3
    assert {row["label"] for row in report["dimensions"]["org_unit"]} == {"深圳市分公司", "广东省分公司"}


def test_readers_without_a_report_or_complaint_role_are_refused(users):
    with pytest.raises(Forbidden):
        complaint_analysis(user=_user("reviewer.sz"), month=month_parse("2026-10"))
    with pytest.raises(Forbidden):
        analysis_cases(user=_user("collector.sz"), month=month_parse("2026-10"))


def test_the_month_is_the_local_calendar_month(users):
    first = complaint_make(received_at=dt.datetime(2026, 10, 1, 0, 0, tzinfo=TZ))
    complaint_make(received_at=dt.datetime(2026, 9, 30, 23, 59, 59, tzinfo=TZ))
    last = complaint_make(received_at=dt.datetime(2026, 10, 31, 23, 59, 59, tzinfo=TZ))
    complaint_make(received_at=dt.datetime(2026, 11, 1, 0, 0, tzinfo=TZ))  # 2026-10-31 16:00 UTC
    ids = set(
        analysis_cases(user=_user("compliance.ho"), month=month_parse("2026-10")).values_list("pk", flat=True)
    )
    assert ids == {first.pk, last.pk}


def test_a_repeat_needs_an_earlier_complaint_by_the_same_complainant_within_the_window(users):
    window = settings.CUSTFLOW["COMPLAINTS"]["DUPLICATE_WINDOW_DAYS"]
    at = dt.datetime(2026, 10, 20, 12, tzinfo=TZ)
    complaint_make(complainant_phone="13800000001", received_at=at - dt.timedelta(days=window))
    by_phone = complaint_make(complainant_phone="13800000001", received_at=at)
    complaint_make(complainant_phone="13800000002", received_at=at - dt.timedelta(days=window, seconds=1))
    too_old = complaint_make(complainant_phone="13800000002", received_at=at)
    complaint_make(
        complainant_phone="13800000003", complainant_id_number="440305198001010011", received_at=at
    )
    by_id = complaint_make(
        complainant_phone="13800000004",
        complainant_id_number="440305198001010011",
        received_at=at + dt.timedelta(hours=1),
    )
    complaint_make(complainant_phone="13800000005", received_at=at)
    blank_ids = complaint_make(complainant_phone="13800000006", received_at=at)
    later_first = complaint_make(complainant_phone="13800000007", received_at=at + dt.timedelta(days=2))
    complaint_make(complainant_phone="13800000007", received_at=at + dt.timedelta(days=3))
    repeats = set(
        analysis_cases(
            user=_user("compliance.ho"), month=month_parse("2026-10"), metric="repeat"
        ).values_list("pk", flat=True)
    )
    assert by_phone.pk in repeats and by_id.pk in repeats
    assert too_old.pk not in repeats and blank_ids.pk not in repeats and later_first.pk not in repeats
    assert len(repeats) == 3  # the two above and the second complaint of 13800000007


@pytest.mark.parametrize(
    "params, field",
    [
        ({"month": "2026-13"}, "month"),
        ({"month": "October"}, "month"),
        ({"month": "2026-10", "dimension": "colour", "value": "x"}, "dimension"),
        ({"month": "2026-10", "dimension": "category"}, "value"),
        ({"month": "2026-10", "dimension": "org_unit", "value": "GD"}, "value"),
        ({"month": "2026-10", "dimension": "channel", "value": "pigeon"}, "value"),
        ({"month": "2026-10", "metric": "sum"}, "metric"),
    ],
)
def test_bad_drill_down_parameters_are_field_errors(params, field):
    with pytest.raises(ValidationFailed) as exc:
        drill_clean(params=params)
    assert list(exc.value.field_errors) == [field]


def test_the_figures_take_a_handful_of_queries_and_little_time(seeded, django_assert_num_queries):
    user = _user("compliance.ho")
    started = time.perf_counter()
    # the reader's roles, complaints, merges, corrective actions, org unit names
    with django_assert_num_queries(5):
        complaint_analysis(user=user, month=month_parse("2026-10"), today=TODAY)
    assert time.perf_counter() - started < 5


def test_the_issuer_of_a_table_is_the_readers_unit_or_the_common_ancestor_of_their_units(users):
    from backend.complaints.analysis import analysis_scope
    from backend.organisation.models import Role
    from backend.organisation.services import role_assign

    assert [u.code for u in [analysis_scope(_user("compliance.gd"))[0]]] == ["GD"]
    assert analysis_scope(_user("compliance.gd"))[1] == "广东省分公司"
    assert analysis_scope(_user("admin"))[0].code == "HO"
    two = _user("reviewer.sz")
    role_assign(user=two, role=Role.COMPLIANCE, org_unit=OrgUnit.objects.get(code="ZJ-HZ"))
    two = _user("reviewer.sz")  # fresh role cache
    unit, scope = analysis_scope(two)
    assert unit.code == "HO" and scope == "深圳市分公司、杭州市分公司"
    gz = _user("reviewer.gz")
    role_assign(user=gz, role=Role.COMPLIANCE, org_unit=OrgUnit.objects.get(code="GD-SZ"))
    assert analysis_scope(_user("reviewer.gz")) == (
        OrgUnit.objects.get(code="GD"),
        "广州市分公司、深圳市分公司",
    )
