"""In real Chromium: handler.sz accepts a complaint on /complaints/new/, verifies and registers it
from the inbox and hands it over to Zhejiang naming handler.zj; handler.zj handles it there,
fills the 处理表 and the feedback; the complaint page shows 已办结 with the hand-over and the
decision notice in its trail, and the regulatory clock on every screen."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.utils import timezone

from backend.complaints.models import Complaint, ComplaintStatus
from tasks.models import HumanTask
from tests.browser.test_customer_life import log_in
from tests.browser.test_review_flow import chromium, shot  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _ready_task(complaint_id: int, step: str) -> HumanTask:
    return HumanTask.objects.get(case_type="complaints.complaint", case_id=complaint_id, step=step, status="ready")


def _open_from_inbox(page, task: HumanTask) -> None:
    from playwright.sync_api import expect

    page.click("[data-testid=nav-inbox]")
    page.wait_for_url(re.compile(r"/inbox/$"))
    page.locator(f"[data-testid=task-link-{task.pk}]").click()
    page.wait_for_url(re.compile(rf"/tasks/{task.pk}/$"))
    # The clock is on the task page too.
    expect(page.locator("[data-testid=complaint-case] [data-testid=complaint-case-link]")).to_be_visible()
    expect(page.locator("[data-testid=complaint-clock]")).to_be_visible()


def _submit_task(page) -> None:
    from playwright.sync_api import expect

    page.click("[data-testid=task-submit]")
    page.wait_for_url(re.compile(r"/inbox/$"))
    expect(page.locator("[data-testid=flash-success]")).to_contain_text("已提交")


def test_accept_hand_over_handle_and_feedback_in_browser(live_server, transactional_db, chromium):  # noqa: F811
    from playwright.sync_api import expect

    call_command("seed_demo", stdout=io.StringIO())

    context, page = log_in(chromium, live_server, "handler.sz")
    try:
        page.click("[data-testid=nav-complaints]")
        page.wait_for_url(re.compile(r"/complaints/$"))
        page.click("[data-testid=complaint-new-link]")
        page.wait_for_url(re.compile(r"/complaints/new/$"))
        page.select_option("#f_channel", "hotline")
        page.select_option("#f_category", "claims")
        page.fill("#f_subject", "理赔款迟迟未到账")
        page.fill("#f_description", "客户称理赔材料已交齐一个月,赔款仍未到账。")
        page.fill("#f_complainant_name", "王小明")
        page.fill("#f_complainant_phone", "13800001111")
        page.check("#f_identity_verified")
        page.fill("#f_product", "健康守护重疾险")
        shot(page, "complaint-new")
        page.click("[data-testid=complaint-submit]")
        page.wait_for_url(re.compile(r"/complaints/\d+/$"))
        expect(page.locator("[data-testid=flash-success]")).to_contain_text("投诉已受理")
        expect(page.locator("[data-testid=clock-state]")).to_have_text("计时中")
        expect(page.locator("[data-testid=clock-limit]")).to_contain_text("15")
        complaint = Complaint.objects.get(pk=int(re.search(r"/complaints/(\d+)/$", page.url).group(1)))
        assert complaint.received_org_unit.code == "GD-SZ"

        _open_from_inbox(page, _ready_task(complaint.pk, "verify"))
        page.fill("#f_verified_facts", "调取理赔系统记录,材料已齐全,付款审批卡在二级审核。")
        page.check("#f_identity_verified")
        _submit_task(page)

        _open_from_inbox(page, _ready_task(complaint.pk, "register"))
        page.check("[data-testid=category-claims]")
        _submit_task(page)

        _open_from_inbox(page, _ready_task(complaint.pk, "handover"))
        page.check("[data-testid=decision-hand_over]")
        page.fill("#f_target_org_unit", "ZJ")
        page.fill("#f_handler", "handler.zj")
        page.fill("#f_reason", "被投诉机构在浙江")
        shot(page, "complaint-handover")
        _submit_task(page)
    finally:
        context.close()
    complaint.refresh_from_db()
    assert complaint.org_unit.code == "ZJ"

    context, page = log_in(chromium, live_server, "handler.zj")
    try:
        _open_from_inbox(page, _ready_task(complaint.pk, "handover"))
        page.check("[data-testid=decision-handle_here]")
        _submit_task(page)

        _open_from_inbox(page, _ready_task(complaint.pk, "handle"))
        page.fill("#f_facts", "理赔审批超时。")
        page.fill("#f_basis", "《保险法》第二十三条。")
        page.fill("#f_reasons", "审批流程延误,责任在我司。")
        page.fill("#f_decision_text", "三日内支付赔款并支付延期利息。")
        page.check("#f_remedy_review")
        page.check("#f_remedy_litigation")
        shot(page, "complaint-handle")
        _submit_task(page)

        _open_from_inbox(page, _ready_task(complaint.pk, "feedback"))
        page.check("[data-testid=notice_channel-sms]")
        page.fill("#f_notice_sent_at", timezone.localtime().strftime("%Y-%m-%d %H:%M"))
        page.fill("#f_notice_proof", "短信回执 SMS-20260501-0001")
        page.check("[data-testid=satisfaction-satisfied]")
        _submit_task(page)

        page.goto(f"{live_server.url}/complaints/{complaint.pk}/")
        expect(page.locator("[data-testid=complaint-status]")).to_have_text("已办结")
        expect(page.locator("[data-testid=clock-state]")).to_have_text("已停止计时")
        expect(page.locator("[data-testid=trail-handovers] [data-testid=handover-to]")).to_have_text("浙江省分公司")
        expect(page.locator("[data-testid=trail-notices] [data-testid=notice-decision]")).to_contain_text("短信回执 SMS-20260501-0001")
        expect(page.locator("[data-testid=complaint-decision]")).to_contain_text("三日内支付赔款")
        shot(page, "complaint-closed")
        # 核查: the complainant asks the upper level (head office above Zhejiang) for a review.
        page.fill("[data-testid=action-review-request] textarea[name=reason]", "投诉人对赔付金额不满")
        page.click("[data-testid=action-review-request-submit]")
        page.wait_for_url(re.compile(rf"/complaints/{complaint.pk}/$"))
        expect(page.locator("[data-testid=flash-success]")).to_contain_text("核查申请已提交")
        expect(page.locator("[data-testid=trail-reviews] tbody tr")).to_have_count(1)
    finally:
        context.close()
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.CLOSED and complaint.on_time is True
    review = complaint.reviews.get()
    assert review.org_unit.code == "HO"
    assert HumanTask.objects.filter(case_type="complaints.complaintreview", case_id=review.pk, status="ready").exists()


def test_duplicate_offer_merges_in_browser(live_server, transactional_db, chromium):  # noqa: F811
    from playwright.sync_api import expect

    call_command("seed_demo", stdout=io.StringIO())
    context, page = log_in(chromium, live_server, "handler.sz")

    def fill_and_submit(name: str) -> None:
        page.goto(f"{live_server.url}/complaints/new/")
        page.select_option("#f_category", "claims")
        page.fill("#f_subject", "理赔款迟迟未到账")
        page.fill("#f_description", "客户称理赔材料已交齐一个月,赔款仍未到账。")
        page.fill("#f_complainant_name", name)
        page.fill("#f_complainant_phone", "13800001111")
        page.click("[data-testid=complaint-submit]")

    try:
        fill_and_submit("王小明")
        page.wait_for_url(re.compile(r"/complaints/\d+/$"))
        first = int(re.search(r"/complaints/(\d+)/$", page.url).group(1))
        fill_and_submit("王小明(再次来电)")
        expect(page.locator("[data-testid=duplicate-offer]")).to_be_visible()
        shot(page, "complaint-duplicate")
        page.click(f"[data-testid=merge-into-{first}]")
        page.wait_for_url(re.compile(rf"/complaints/{first}/$"))
        expect(page.locator("[data-testid=flash-success]")).to_contain_text("已合并到投诉")
        expect(page.locator("[data-testid=trail-merges] tbody tr")).to_have_count(1)
        page.click("[data-testid=nav-complaints]")
        page.wait_for_url(re.compile(r"/complaints/$"))
        expect(page.locator("[data-testid=complaint-table] tbody tr")).to_have_count(1)
        shot(page, "complaint-list")
        # 撤诉 asks first: dismissing the question changes nothing, accepting it ends the case.
        page.goto(f"{live_server.url}/complaints/{first}/")
        page.fill("[data-testid=action-withdraw] textarea[name=reason]", "客户已与业务员和解")
        page.once("dialog", lambda dialog: dialog.dismiss())
        page.click("[data-testid=action-withdraw-submit]")
        expect(page.locator("[data-testid=complaint-status]")).to_have_text("已受理")
        assert Complaint.objects.get(pk=first).status == ComplaintStatus.ACCEPTED
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("[data-testid=action-withdraw-submit]")
        expect(page.locator("[data-testid=flash-success]")).to_contain_text("投诉已撤诉")
        expect(page.locator("[data-testid=complaint-status]")).to_have_text("已撤诉")
        expect(page.locator("[data-testid=clock-state]")).to_have_text("已停止计时")
    finally:
        context.close()
    assert Complaint.objects.count() == 1
    assert Complaint.objects.get(pk=first).status == ComplaintStatus.WITHDRAWN
    assert not HumanTask.objects.filter(case_type="complaints.complaint", case_id=first, status="ready").exists()
