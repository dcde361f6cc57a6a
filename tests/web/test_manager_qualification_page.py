"""资格申请 page: for customer managers only; errors next to their fields; a good application
starts the city or province approval."""

from __future__ import annotations

import pytest

from backend.service.models import ManagerQualification
from tasks.models import HumanTask
from tests.web.helpers import html

pytestmark = pytest.mark.django_db

GOOD = {
    "requested_grade": "senior",
    "ability": "独立完成企业客户保险方案",
    "experience_years": "9",
    "results": "上年度新增保费 500 万元",
    "customer_types": ["corporate", "major"],
}


def test_the_nav_links_the_page_for_managers_only(login):
    assert 'data-testid="nav-manager-qualification"' in html(login("manager.sz").get("/inbox/"))
    for username in ("collector.sz", "reviewer.sz"):
        client = login(username)
        assert 'data-testid="nav-manager-qualification"' not in html(client.get("/inbox/"))
        assert client.get("/manager-qualification/").status_code == 403
        assert client.post("/manager-qualification/", GOOD).status_code == 403
    assert ManagerQualification.objects.count() == 0


def test_the_form_proposes_the_next_grade_and_shows_errors_by_field(login):
    client = login("manager.sz")
    body = html(client.get("/manager-qualification/"))
    assert '<option value="regular" selected>' in body  # 初级 → 普通
    resp = client.post("/manager-qualification/", {**GOOD, "experience_years": "99", "customer_types": []})
    assert resp.status_code == 400
    body = html(resp)
    assert "专业工作经验应在 0 到 50 年之间" in body and "请选择至少一种所负责客户类型" in body
    assert "独立完成企业客户保险方案" in body  # what was typed stays
    assert ManagerQualification.objects.count() == 0


def test_a_good_application_goes_to_the_province(login):
    client = login("manager.sz")
    resp = client.post("/manager-qualification/", GOOD, follow=True)
    assert resp.status_code == 200 and "待省分公司审批" in html(resp)
    case = ManagerQualification.objects.get()
    assert HumanTask.objects.get(case_id=case.pk, case_type="service.managerqualification", status="ready").org_unit.code == "GD"
    # While it is open the page says so instead of offering the form; a post anyway is 409.
    body = html(client.get("/manager-qualification/"))
    assert 'data-testid="qualification-pending"' in body and 'data-testid="qualification-form"' not in body
    assert client.post("/manager-qualification/", {**GOOD, "requested_grade": "regular"}).status_code == 409
