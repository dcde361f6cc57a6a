"""The server-rendered pages: login, inbox, task page (approve/reject), customers, openings,
processes, scoping (404 for a sibling branch) and the language switch."""

from __future__ import annotations

import shutil

import pytest
from django.test import Client
from django.utils import timezone

from backend.customers.models import Customer
from tasks.models import HumanTask
from tests.web.helpers import DEMO_PASSWORD, bad_check_digit, html, png_scan, resident_id, submit_opening

pytestmark = pytest.mark.django_db

OPENING_CASE = "customers.accountopening"


# ---- login & chrome ------------------------------------------------------------------------


def test_login_page_renders_chinese(seeded):
    response = Client().get("/login/")
    assert response.status_code == 200
    body = html(response)
    assert '<html lang="zh-CN">' in body
    assert "<h1>登录</h1>" in body
    assert '<label for="id_username">用户名</label>' in body
    assert '<label for="id_password">密码</label>' in body


def test_pages_require_login_and_root_redirects_to_inbox(login):
    assert Client().get("/inbox/")["Location"] == "/login/?next=/inbox/"
    client = login("reviewer.sz")
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/inbox/"
    assert client.get("/logout/").status_code == 405  # logout is POST only
    response = client.post("/logout/")
    assert (response.status_code, response["Location"]) == (302, "/login/")
    assert client.get("/inbox/")["Location"] == "/login/?next=/inbox/"


def test_login_form_then_top_bar_shows_name_role_and_unit(seeded):
    client = Client()
    response = client.post("/login/", {"username": "reviewer.sz", "password": DEMO_PASSWORD}, follow=True)
    assert response.redirect_chain[-1] == ("/inbox/", 302)
    body = html(response)
    assert '<span class="user-name" data-testid="user-name">深圳审核岗</span>' in body
    assert '<span class="user-meta">审核岗 · 深圳市分公司</span>' in body
    assert 'data-testid="nav-inbox">待办</a>' in body
    assert 'data-testid="nav-opening"' not in body  # reviewers do not open accounts
    assert 'data-testid="nav-processes"' not in body


def test_wrong_password_rerenders_login_with_message(seeded):
    response = Client().post("/login/", {"username": "reviewer.sz", "password": "wrong"})
    assert response.status_code == 200
    assert "请输入一个正确的" in html(response)


# ---- inbox ----------------------------------------------------------------------------------


def test_inbox_lists_review_task_for_shenzhen_reviewer_only(login, review_task):
    response = login("reviewer.sz").get("/inbox/")
    assert response.status_code == 200
    body = html(response)
    assert f'data-testid="task-link-{review_task.pk}">客户信息审核</a>' in body
    assert '<b data-testid="count-total">1</b>' in body
    assert '<b data-testid="count-group">1</b>' in body
    assert '<b data-testid="count-mine">0</b>' in body
    assert '<span class="muted">待认领</span>' in body
    # Due time in Asia/Shanghai.
    assert timezone.localtime(review_task.due_at).strftime("%Y-%m-%d %H:%M") in body
    assert str(timezone.get_current_timezone()) == "Asia/Shanghai"

    other = html(login("reviewer.gz").get("/inbox/"))
    assert f"task-link-{review_task.pk}" not in other
    assert '<b data-testid="count-total">0</b>' in other
    assert 'data-testid="inbox-empty">没有待办任务</p>' in other


def test_inbox_filter_by_name_and_process(login, review_task):
    client = login("reviewer.sz")
    assert f"task-link-{review_task.pk}" in html(client.get("/inbox/", {"q": "审核"}))
    assert f"task-link-{review_task.pk}" not in html(client.get("/inbox/", {"q": "不存在的任务"}))
    assert f"task-link-{review_task.pk}" in html(client.get("/inbox/", {"process": "individual_account_opening"}))
    assert f"task-link-{review_task.pk}" not in html(client.get("/inbox/", {"process": "other"}))
    assert client.get("/inbox/", {"page": "999"}).status_code == 200  # out of range → last page


def test_shared_phone_flag_shows_as_chinese_badge(login, seeded):
    first = submit_opening(seq=123)
    second = submit_opening(seq=124, name="李测试")  # same phone as the first
    task = HumanTask.objects.get(case_type=OPENING_CASE, case_id=second.pk, step="review")
    assert task.flags == ["shared_phone"]
    body = html(login("reviewer.sz").get("/inbox/"))
    assert '<span class="badge badge-warn" data-flag="shared_phone">电话号码重复</span>' in body
    page = html(login("reviewer.sz").get(f"/tasks/{task.pk}/"))
    assert 'data-testid="shared-phone"' in page
    assert f'<a href="/customers/{first.customer_id}/">{first.customer_id}</a>' in page


def test_claim_without_htmx_redirects_and_with_htmx_returns_the_row(login, seeded):
    task_a = HumanTask.objects.get(case_id=submit_opening(seq=123).pk, step="review")
    task_b = HumanTask.objects.get(case_id=submit_opening(seq=125, name="赵测试").pk, step="review")
    client = login("reviewer.sz")
    response = client.post(f"/tasks/{task_a.pk}/claim/", {"next": "/inbox/"})
    assert (response.status_code, response["Location"]) == (302, "/inbox/")
    response = client.post(f"/tasks/{task_b.pk}/claim/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert html(response).lstrip().startswith(f'<tr id="task-row-{task_b.pk}"')
    # The assignee shows under the step; the swapped row keeps its case columns.
    assert '<small class="who">深圳审核岗</small>' in html(response)
    assert f'data-testid="case-number-{task_b.pk}">#{task_b.case_id}</a>' in html(response)
    assert response["HX-Trigger"] == "inbox-changed"  # the tabs' counts refresh at once
    assert HumanTask.objects.get(pk=task_b.pk).assignee.username == "reviewer.sz"
    # Someone else cannot claim it any more: the message goes to the flash area.
    refused = login("reviewer.gd").post(f"/tasks/{task_b.pk}/claim/", HTTP_HX_REQUEST="true")
    assert refused.status_code == 409
    assert refused["HX-Retarget"] == "#flash"
    assert "任务已被 深圳审核岗 认领" in html(refused)


# ---- task page ------------------------------------------------------------------------------


def test_task_page_shows_masked_case_checks_and_review_form(login, opening, review_task):
    response = login("reviewer.sz").get(f"/tasks/{review_task.pk}/")
    assert response.status_code == 200
    body = html(response)
    number = opening.customer.id_number
    assert f'<dd class="mono">{number[0]}{"*" * 16}{number[-1]}</dd>' in body
    assert number not in body
    assert "<dd>collector.sz</dd>" in body  # submitted by
    assert "<td>A 证件是否已在客户信息库中存在</td>" in body
    assert 'name="decision" value="approve" required data-testid="decision-approve"> 通过' in body
    assert 'name="decision" value="reject" required data-testid="decision-reject"> 拒绝' in body
    assert 'name="decision" value="return" required data-testid="decision-return"> 退回修改' in body
    assert 'data-testid="task-submit"' in body
    assert "data-confirm-reject=" in body
    assert "提交开户申请" in body  # the trail


def test_approve_activates_customer(login, opening, review_task):
    client = login("reviewer.sz")
    response = client.post(f"/tasks/{review_task.pk}/", {"decision": "approve", "comment": ""})
    assert (response.status_code, response["Location"]) == (302, "/inbox/")
    assert Customer.objects.get(pk=opening.customer_id).status == "active"
    inbox = html(client.get("/inbox/"))
    assert "任务“客户信息审核”已提交" in inbox
    # A second submit: the task is done → 409 with the service's message.
    again = client.post(f"/tasks/{review_task.pk}/", {"decision": "approve"})
    assert again.status_code == 409
    assert "任务已处理,不能重复操作" in html(again)


def test_reject_without_comment_rerenders_with_field_message_and_changes_nothing(login, opening, review_task):
    response = login("reviewer.sz").post(f"/tasks/{review_task.pk}/", {"decision": "reject", "comment": ""})
    assert response.status_code == 400
    body = html(response)
    assert '<ul class="field-errors"><li>此项为必填项</li></ul>' in body
    assert 'value="reject" checked required' in body  # the choice is kept
    assert Customer.objects.get(pk=opening.customer_id).status == "pending_review"
    assert HumanTask.objects.get(pk=review_task.pk).status == "ready"


def test_missing_decision_is_a_field_error(login, review_task):
    response = login("reviewer.sz").post(f"/tasks/{review_task.pk}/", {"comment": "看过"})
    assert response.status_code == 400
    assert '<ul class="field-errors"><li>此项为必填项</li></ul>' in html(response)


def test_return_then_collector_fixes_through_the_fix_form(login, opening, review_task):
    reviewer = login("reviewer.sz")
    response = reviewer.post(f"/tasks/{review_task.pk}/", {"decision": "return", "comment": "电话号码有误"})
    assert response.status_code == 302
    assert Customer.objects.get(pk=opening.customer_id).status == "returned"
    fix = HumanTask.objects.get(case_id=opening.pk, step="fix_submission", status="ready")
    collector = login("collector.sz")
    assert f'data-testid="task-link-{fix.pk}">修改并重新提交</a>' in html(collector.get("/inbox/"))
    page = html(collector.get(f"/tasks/{fix.pk}/"))
    assert 'name="name" id="f_name" value="王测试"' in page  # prefilled
    assert 'name="id_type" value="resident_id" checked' in page
    assert 'name="id_number" id="f_id_number" value=""' in page  # masked for the collector: not prefilled
    assert "证件号码、联系电话、通讯地址、电子邮箱 的原值对您遮蔽显示;留空则保持原值" in page
    assert "<dd>电话号码有误</dd>" in page  # the reviewer's comment
    assert 'data-testid="task-unclaim"' not in page
    bad = collector.post(f"/tasks/{fix.pk}/", {"name": "王测试", "id_type": "resident_id", "id_number": "123", "phone": "13812345679"})
    assert bad.status_code == 400
    assert '<ul class="field-errors"><li>' in html(bad)
    assert Customer.objects.get(pk=opening.customer_id).status == "returned"
    fixed = {
        "name": "王测试",
        "id_type": "resident_id",
        "id_number": opening.customer.id_number,
        "phone": "13812345679",
        "address": "深圳市福田区福华路 1 号",
        "email": "wang@example.com",
        "comment": "已更正电话",
    }
    assert collector.post(f"/tasks/{fix.pk}/", fixed).status_code == 302
    customer = Customer.objects.get(pk=opening.customer_id)
    assert (customer.status, customer.phone) == ("pending_review", "+8613812345679")
    # The collector's changed data passes the officer again (issue 16 item 4), on his page.
    check = HumanTask.objects.get(case_id=opening.pk, step="officer_check", status="ready")
    officer = login("officer.sz")
    assert f"task-link-{check.pk}" in html(officer.get("/inbox/"))
    assert officer.post(f"/tasks/{check.pk}/", {"decision": "confirm"}).status_code == 302
    again = HumanTask.objects.get(case_id=opening.pk, step="review", status="ready")
    assert f"task-link-{again.pk}" in html(reviewer.get("/inbox/"))


def test_submitter_cannot_approve_own_opening(login, opening, review_task):
    response = login("collector.sz").post(f"/tasks/{review_task.pk}/", {"decision": "approve"})
    assert response.status_code == 403
    assert "四眼原则:不能审核自己提交的业务" in html(response)
    assert Customer.objects.get(pk=opening.customer_id).status == "pending_review"


def test_sibling_branch_gets_404_on_task_customer_and_card(login, opening, review_task):
    client = login("reviewer.gz")
    for url in (
        f"/tasks/{review_task.pk}/",
        f"/customers/{opening.customer_id}/",
        f"/customers/{opening.customer_id}/collection-card.pdf",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
    assert client.post(f"/customers/{opening.customer_id}/collection-card.pdf").status_code == 404
    assert client.post(f"/tasks/{review_task.pk}/", {"decision": "approve"}).status_code == 404
    assert client.post(f"/tasks/{review_task.pk}/claim/").status_code == 404
    assert Customer.objects.get(pk=opening.customer_id).status == "pending_review"


# ---- customers ------------------------------------------------------------------------------


def test_customer_list_search_and_detail(login, opening):
    client = login("reviewer.sz")
    body = html(client.get("/customers/", {"q": "王测试"}))
    assert f'data-testid="customer-link-{opening.customer_id}">{opening.customer_id}</a>' in body
    assert f"customer-link-{opening.customer_id}" not in html(client.get("/customers/", {"status": "active"}))
    assert f"customer-link-{opening.customer_id}" in html(client.get("/customers/", {"status": "pending_review"}))
    assert f"customer-link-{opening.customer_id}" not in html(login("reviewer.gz").get("/customers/"))
    detail = html(client.get(f"/customers/{opening.customer_id}/"))
    # The print button is a POST form (control 13).
    assert f'<form method="post" action="/customers/{opening.customer_id}/collection-card.pdf"' in detail
    assert 'data-testid="customer-status">待审核</span>' in detail


@pytest.mark.skipif(shutil.which("fc-list") is None, reason="fontconfig is needed to render the PDF")
def test_collection_card_pdf_is_inline(login, opening):
    response = login("reviewer.sz").post(f"/customers/{opening.customer_id}/collection-card.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="collection-card-{opening.customer_id}.pdf"'
    assert response.content.startswith(b"%PDF-")


# ---- new opening ----------------------------------------------------------------------------


def _opening_form(**overrides) -> dict:
    data = {
        "info_level": "advanced",
        "name": "陈表单",
        "id_type": "resident_id",
        "id_number": resident_id(seq=321),
        "phone": "13812340000",
        "address": "深圳市福田区深南大道 2 号",
        "email": "",
        "id_valid_until": "2041-06-30",
        "scan": png_scan(),
    }
    data.update(overrides)
    return data


def test_opening_form_with_bad_id_number_keeps_values_and_creates_nothing(login):
    client = login("collector.sz")
    assert client.get("/openings/new/").status_code == 200
    bad = bad_check_digit(resident_id(seq=321))
    response = client.post("/openings/new/", _opening_form(id_number=bad))
    assert response.status_code == 400
    body = html(response)
    assert '<ul class="field-errors"><li>居民身份证号码校验位不正确,请核对号码</li></ul>' in body
    assert f'name="id_number" id="f_id_number" value="{bad}"' in body
    assert 'name="name" id="f_name" value="陈表单"' in body
    assert Customer.objects.count() == 0


def test_opening_form_success_redirects_to_customer(login):
    response = login("collector.sz").post("/openings/new/", _opening_form(), follow=True)
    customer = Customer.objects.get()
    assert response.redirect_chain == [(f"/customers/{customer.pk}/", 302)]
    # A collector's submission waits for the branch's customer-information officer (issue 16 item 4).
    assert f"已提交,待客户信息管理岗确认开户,客户号 {customer.pk}" in html(response)
    assert customer.status == "pending_review"
    assert "待客户信息管理岗确认" in html(response)  # the customer page: no officer has opened it yet


def test_opening_form_duplicate_links_existing_customer(login):
    client = login("collector.sz")
    client.post("/openings/new/", _opening_form())
    existing = Customer.objects.get()
    response = client.post("/openings/new/", _opening_form())
    assert response.status_code == 409
    body = html(response)
    assert f"该证件已开户或正在办理(客户号 {existing.pk}),不能重复开户" in body
    assert f'<a href="/customers/{existing.pk}/" data-testid="duplicate-link">' in body
    assert Customer.objects.count() == 1


def test_opening_form_missing_scan_and_forbidden_for_reviewer(login):
    response = login("collector.sz").post("/openings/new/", _opening_form(scan=""))
    assert response.status_code == 400
    assert "<li>请上传证件扫描件</li>" in html(response)
    refused = login("reviewer.sz").post("/openings/new/", _opening_form())
    assert refused.status_code == 403
    assert "只有采集人或客户信息管理岗可以提交开户" in html(refused)
    assert Customer.objects.count() == 0


# ---- language -------------------------------------------------------------------------------


def test_language_switch_to_english(login):
    client = login("reviewer.sz")
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/inbox/"})
    assert (response.status_code, response["Location"]) == (302, "/inbox/")
    body = html(client.get("/inbox/"))
    assert '<html lang="en">' in body
    assert 'data-testid="nav-inbox">Inbox</a>' in body
    assert 'data-testid="nav-customers">Customers</a>' in body
    assert "<h1>Inbox</h1>" in body
