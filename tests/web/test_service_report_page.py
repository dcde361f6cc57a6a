"""客服信息分析报告 page: report roles read the units of their scope, with the charts' data."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_the_page_for_report_roles_with_charts(login):
    client = login("compliance.gd")
    resp = client.get("/service-report/")
    html = resp.content.decode()
    assert resp.status_code == 200 and 'id="service-chart-data"' in html and "广东" in html
    assert client.get("/service-report/?org_unit=ZJ").status_code == 404
    assert client.get("/service-report/?month=2026-13").status_code == 400
    assert login("reviewer.sz").get("/service-report/").status_code == 403
