"""The customer page (业务关联查询, 查看完整信息), the list's exact search form and the compliance
reveal log page."""

from __future__ import annotations

import pytest
from django.utils import timezone

from backend.customers.models import RevealEvent
from tests.customers.factories import corporate_make, customer_make
from tests.web.helpers import html, user

pytestmark = pytest.mark.django_db

DEMO_USERS = [
    "collector.sz",
    "officer.sz",
    "reviewer.sz",
    "reviewer.gz",
    "reviewer.gd",
    "reviewer.hz",
    "owner.ho",
    "compliance.ho",
    "admin",
]


@pytest.fixture
def customers(seeded):
    return {
        "sz": customer_make("GD-SZ", phone="+8613812340001"),
        "corp": corporate_make("GD-SZ"),
        "hz": customer_make("ZJ-HZ"),
    }


@pytest.mark.parametrize("username", DEMO_USERS)
def test_pages_render_for_every_demo_role(login, customers, username):
    client = login(username)
    sees_sz = username not in {"reviewer.gz", "reviewer.hz"}
    assert client.get("/customers/").status_code == 200
    assert client.get("/customers/", {"name": "x"}).status_code == 200
    assert client.post("/customers/", {"field": "phone", "value": "13812340001"}).status_code == 200
    assert client.post("/customers/", {"field": "phone", "value": "junk"}).status_code == 400
    # Identifiers never travel in the URL.
    assert client.get("/customers/", {"phone": "13812340001"}).status_code == 400
    for key in ("sz", "corp"):
        response = client.get(f"/customers/{customers[key].pk}/")
        assert response.status_code == (200 if sees_sz else 404)
    assert client.get("/compliance/reveals/").status_code == (200 if username == "compliance.ho" else 403)
    nav = html(client.get("/customers/"))
    assert ('data-testid="nav-reveal-log"' in nav) is (username == "compliance.ho")


def test_customer_page_sections(login, customers):
    body = html(login("reviewer.sz").get(f"/customers/{customers['sz'].pk}/"))
    for testid in (
        "linkage-status",
        "linkage-quality",
        "linkage-history",
        "linkage-cases",
        "linkage-shared-phone",
    ):
        assert f'data-testid="{testid}"' in body
    assert "暂无保单信息:保单模块接入后,这里列出该客户作为投保人、被保险人或受益人的保单。" in body
    assert "暂无您可查看的该客户投诉" in body
    assert '<dd data-testid="completeness">100% (6/6)' in body
    # A reviewer sees masked values and one reveal form per personal field holding a value.
    for field in ("id_number", "phone", "address", "email"):
        assert f'data-testid="reveal-submit-{field}"' in body
    assert 'data-testid="reveal-submit-legal_rep_id_number"' not in body
    corp = html(login("reviewer.sz").get(f"/customers/{customers['corp'].pk}/"))
    assert 'data-testid="reveal-submit-legal_rep_id_number"' in corp
    # Full-view and non-reveal roles get no reveal forms.
    assert "reveal-submit-" not in html(login("officer.sz").get(f"/customers/{customers['sz'].pk}/"))
    assert "reveal-submit-" not in html(login("collector.sz").get(f"/customers/{customers['sz'].pk}/"))


def test_reveal_form_shows_the_value(login, customers):
    customer = customers["sz"]
    response = login("reviewer.sz").post(
        f"/customers/{customer.pk}/reveal/", {"field": "phone", "reason": "客户来电核实"}
    )
    assert response.status_code == 200
    assert '<span class="mono" data-testid="revealed-phone">+8613812340001</span>' in html(response)
    assert list(RevealEvent.objects.values_list("user__username", "field", "reason")) == [
        ("reviewer.sz", "phone", "客户来电核实")
    ]


def test_reveal_form_htmx_returns_the_slot(login, customers):
    customer = customers["sz"]
    response = login("reviewer.sz").post(
        f"/customers/{customer.pk}/reveal/", {"field": "email", "reason": "寄送资料"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    body = html(response)
    assert body.startswith('<div class="reveal-slot" id="reveal-email"')
    assert f'data-testid="revealed-email">{customer.email}</span>' in body


@pytest.mark.parametrize("htmx", [False, True])
def test_reveal_errors_show_in_the_form(login, customers, htmx):
    customer = customers["sz"]
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = login("reviewer.sz").post(
        f"/customers/{customer.pk}/reveal/", {"field": "phone", "reason": " "}, **extra
    )
    assert response.status_code == 400
    body = html(response)
    assert '<ul class="field-errors"><li>请填写查看原因</li></ul>' in body
    assert 'data-testid="revealed-phone"' not in body
    assert RevealEvent.objects.count() == 0


def test_reveal_refused_and_out_of_scope(login, customers):
    response = login("collector.sz").post(
        f"/customers/{customers['sz'].pk}/reveal/", {"field": "phone", "reason": "核实身份"}
    )
    assert response.status_code == 403
    assert "您的角色无权查看该客户的完整信息" in html(response)
    assert (
        login("reviewer.gz")
        .post(f"/customers/{customers['sz'].pk}/reveal/", {"field": "phone", "reason": "核实身份"})
        .status_code
        == 404
    )
    assert login("reviewer.sz").get(f"/customers/{customers['sz'].pk}/reveal/").status_code == 405
    assert RevealEvent.objects.count() == 0


def test_list_exact_search_form(login, customers):
    client = login("reviewer.sz")
    form = html(client.get("/customers/"))
    assert '<form method="post" action="/customers/" class="filters" role="search" data-testid="linkage-search">' in form
    assert 'name="csrfmiddlewaretoken"' in form
    body = html(client.post("/customers/", {"field": "id_number", "value": customers["sz"].id_number.lower()}))
    assert f'data-testid="customer-link-{customers["sz"].pk}"' in body
    assert f'data-testid="customer-link-{customers["corp"].pk}"' not in body
    assert "138****0001" in body
    response = client.post("/customers/", {"field": "phone", "value": "12"})
    assert response.status_code == 400
    assert '<ul class="field-errors"><li>请输入有效的电话号码(手机号码,或带区号的固定电话)</li></ul>' in html(
        response
    )
    assert 'value="12"' in html(response)
    # 杭州's customer is not found from 深圳 even by its exact id.
    found = html(client.post("/customers/", {"field": "id_number", "value": customers["hz"].id_number}))
    assert "customer-link-" not in found
    # A GET carrying an identifier is refused with the form again, and nothing is searched.
    refused = client.get("/customers/", {"id_number": customers["sz"].id_number})
    assert refused.status_code == 400
    assert "customer-link-" not in html(refused)
    assert "证件号码、电话和统一社会信用代码不能放在网址中" in html(refused)


def test_compliance_page_lists_and_filters(login, customers):
    reviewer = user("reviewer.sz")
    now = timezone.now()
    a = RevealEvent.objects.create(
        user=reviewer,
        customer=customers["sz"],
        field="phone",
        reason="核实甲",
        org_unit=customers["sz"].org_unit,
        created_at=now,
    )
    b = RevealEvent.objects.create(
        user=user("reviewer.hz"),
        customer=customers["hz"],
        field="email",
        reason="核实乙",
        org_unit=customers["hz"].org_unit,
        created_at=now,
    )
    client = login("compliance.ho")
    body = html(client.get("/compliance/reveals/"))
    assert f'data-testid="reveal-row-{a.pk}"' in body and f'data-testid="reveal-row-{b.pk}"' in body
    assert 'class="active" data-testid="nav-reveal-log"' in body
    body = html(client.get("/compliance/reveals/", {"field": "email"}))
    assert f'data-testid="reveal-row-{a.pk}"' not in body and f'data-testid="reveal-row-{b.pk}"' in body
    response = client.get("/compliance/reveals/", {"date_from": "yesterday"})
    assert response.status_code == 400
    assert '<ul class="field-errors"><li>日期格式应为 YYYY-MM-DD</li></ul>' in html(response)
    assert "只有合规岗可以查看敏感信息查看记录" in html(login("reviewer.sz").get("/compliance/reveals/"))
