"""时限报表 page: figures, chart data, drill-down pages whose counts match, exports, scope."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from backend.organisation.models import OrgUnit
from tests.reports.seed import seed_tasks

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
RANGE = (
    f"from={(TODAY - dt.timedelta(days=200)).isoformat()}&to={(TODAY + dt.timedelta(days=30)).isoformat()}"
)


@pytest.fixture
def tasks_seeded(seeded):
    users = list(get_user_model().objects.filter(username__startswith="reviewer."))
    seed_tasks(count=600, now=timezone.now(), users=users)


def test_report_page_with_charts_and_matching_drill_down(login, tasks_seeded):
    client = login("compliance.gd")
    page = client.get(f"/reports/sla/?{RANGE}&group_by=org_unit&period=month")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="nav-reports"' in html and "echarts.min.js" in html
    charts = json.loads(
        re.search(r'<script id="sla-chart-data" type="application/json">(.*?)</script>', html, re.S).group(1)
    )
    assert len(charts["trend"]["periods"]) >= 6 and len(charts["trend"]["breached"]) == len(
        charts["trend"]["periods"]
    )
    assert {label.split(" ")[0] for label in charts["breakdown"]["labels"]} <= {
        "广东省分公司",
        "深圳市分公司",
        "广州市分公司",
    }
    assert "杭州市分公司" not in html

    links = re.findall(r'<a href="([^"]+)" data-testid="drill-breached">(\d+)</a>', html)
    assert len(links) >= 6
    for href, figure in links[:5]:
        drill = client.get(href.replace("&amp;", "&"))
        assert drill.status_code == 200
        count = re.search(r'data-testid="drill-count">共 (\d+) 个任务', drill.content.decode()).group(1)
        assert count == figure
    total = re.search(r'<a href="([^"]+)" data-testid="total-breached">(\d+)</a>', html)
    assert int(total.group(2)) == sum(int(figure) for _, figure in links)

    xlsx = client.get(f"/reports/sla/export.xlsx?{RANGE}&group_by=org_unit")
    assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK")


def test_report_page_scope_and_errors(login, tasks_seeded):
    assert login("reviewer.sz").get("/reports/sla/").status_code == 403
    zj = OrgUnit.objects.get(code="ZJ")
    assert login("compliance.gd").get(f"/reports/sla/?within={zj.pk}").status_code == 404
    bad = login("compliance.gd").get("/reports/sla/?period=year")
    assert bad.status_code == 400 and "周期应为" in bad.content.decode()
    assert 'data-testid="nav-reports"' not in login("reviewer.sz").get("/inbox/").content.decode()


def test_report_opens_on_the_latest_month_with_figures_chart_and_breaches(login, seeded):
    """Before: the page opened on the current month (empty when the data is older) with no
    breach list. Now it redirects to the latest month with deadlines, every filter in the URL."""
    from urllib.parse import parse_qs, urlsplit

    from tasks.models import HumanTask

    users = list(get_user_model().objects.filter(username__startswith="reviewer."))
    seed_tasks(count=300, now=timezone.now() - dt.timedelta(days=100), users=users)
    client = login("compliance.gd")
    resp = client.get("/reports/sla/")
    assert resp.status_code == 302
    url = urlsplit(resp["Location"])
    assert url.path == "/reports/sla/"
    params = {k: v[0] for k, v in parse_qs(url.query).items()}
    gd = OrgUnit.objects.get(code="GD").path
    latest = (
        HumanTask.objects.filter(org_unit__path__startswith=gd, due_at__lte=timezone.now())
        .order_by("-due_at")
        .values_list("due_at", flat=True)
        .first()
    )
    month = timezone.localtime(latest).date().replace(day=1)
    assert params["from"] == month.isoformat()
    assert dt.date.fromisoformat(params["to"]) == (month + dt.timedelta(days=32)).replace(
        day=1
    ) - dt.timedelta(days=1)
    assert params["group_by"] == "org_unit"

    page = client.get(resp["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    charts = json.loads(
        re.search(r'<script id="sla-chart-data" type="application/json">(.*?)</script>', html, re.S).group(1)
    )
    assert len(charts["trend"]["periods"]) > 1 and sum(charts["trend"]["breached"]) > 0
    assert charts["breakdown"]["labels"]
    assert 'data-testid="breach-list"' in html and html.count('data-testid="breach-row"') > 0
    total = int(re.search(r'data-testid="total-breached">(\d+)</a>', html).group(1))
    assert html.count('data-testid="breach-row"') == min(total, 10)


def test_report_redirect_keeps_the_filters_given(login, seeded):
    resp = login("compliance.gd").get("/reports/sla/?process=endorsement&group_by=step")
    assert resp.status_code == 302
    location = resp["Location"]
    assert "process=endorsement" in location and "group_by=step" in location and "from=" in location
    # No data at all: the current month.
    today = timezone.localdate()
    assert f"from={today.replace(day=1).isoformat()}" in location


def test_report_with_dates_in_the_url_is_not_redirected(login, seeded):
    assert login("compliance.gd").get(f"/reports/sla/?{RANGE}").status_code == 200
