"""In real Chromium: a process owner opens the modeler, changes the review deadline, sees a lint
error on a user task whose lane names no role, fixes it, requests publishing; a second owner
approves; a new case then runs on the new deadline while a case started before keeps the old one."""

from __future__ import annotations

import io
import os
import re
from datetime import timedelta

import pytest
from django.core.management import call_command

from backend.organisation.models import OrgUnit, Role
from backend.organisation.services import role_assign, user_ensure
from processes.drafts import (
    draft_content_sha256,
    process_draft_approve,
    process_draft_create,
    process_draft_publish_request,
)
from processes.models import DraftStatus, ProcessDraft, ProcessVersion, Timer
from processes.services import process_instance_start
from tasks.models import HumanTask
from tests.browser.test_review_flow import chromium, shot  # noqa: F401 - the fixture
from tests.fixtures.diagrams import review_diagram
from tests.web.helpers import DEMO_PASSWORD

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(context, base: str, username: str):
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_url(re.compile(r"/inbox/$"))
    return page


def start_case(owner, city):
    instance = process_instance_start(actor=owner, key="review_test", org_unit=city, data={})
    timer = Timer.objects.get(instance=instance, spec="review_deadline", status="pending")
    task = HumanTask.objects.get(instance=instance, step="review", status="ready")
    return instance, timer, task


def test_owner_edits_deadline_fixes_lane_and_publishes_with_second_owner(live_server, transactional_db, chromium):  # noqa: F811
    from playwright.sync_api import expect

    call_command("seed_demo", stdout=io.StringIO())
    owner = user_ensure(username="owner.ho", password=DEMO_PASSWORD, full_name="总公司流程管理员")
    second = user_ensure(username="owner2.ho", password=DEMO_PASSWORD, full_name="第二流程管理员")
    role_assign(user=second, role=Role.PROCESS_OWNER, org_unit=OrgUnit.objects.get(code="HO"))
    city = OrgUnit.objects.get(code="GD-SZ")

    # v1: the review deadline is the configured "review" deadline (48 h); an old case runs on it.
    v1_draft = process_draft_create(actor=owner, key="review_test", bpmn_xml=review_diagram(deadline_property="review", deadline_timer='deadline("review")').decode())
    process_draft_publish_request(actor=owner, draft_id=v1_draft.pk)
    v1 = process_draft_approve(actor=second, draft_id=v1_draft.pk, content_sha256=draft_content_sha256(ProcessDraft.objects.get(pk=v1_draft.pk)))
    old_case, old_timer, old_task = start_case(owner, city)
    assert old_timer.due_at - old_case.created_at == pytest.approx(timedelta(hours=48), abs=timedelta(seconds=5))

    # The new draft: someone left the review lane unnamed (no role).
    draft = process_draft_create(
        actor=owner, key="review_test", bpmn_xml=review_diagram(lane="", deadline_property="review", deadline_timer='deadline("review")').decode()
    )
    assert [(p["element"], p["severity"]) for p in draft.problems] == [("review", "error"), ("lane1", "warning")]  # ours, bpmnlint

    context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1400, "height": 1000})
    try:
        page = login(context, live_server.url, "owner.ho")
        page.goto(f"{live_server.url}/processes/drafts/{draft.pk}/modeler/")
        expect(page.locator("body")).to_have_attribute("data-modeler-ready", "1")
        # The stored problem is on the diagram before any edit.
        expect(page.locator("[data-testid=overlay-review]")).to_be_visible()
        # Token simulation: switch it on and off again (playing a path before publishing).
        toggle = page.locator(".bts-toggle-mode")
        toggle.click()
        expect(page.locator("#canvas .bjs-container")).to_have_class(re.compile(r"\bsimulation\b"))
        toggle.click()
        expect(page.locator("#canvas .bjs-container")).not_to_have_class(re.compile(r"\bsimulation\b"))

        # Change the review deadline in the properties panel.
        page.locator('.djs-element[data-element-id="review"]').click()
        panel = page.locator("[data-testid=properties-panel]")
        expect(panel).to_contain_text("审核")
        expect(page.locator("[data-testid=prop-deadline]")).to_have_value("review")
        page.fill("[data-testid=prop-deadline]", "PT72H")
        page.press("[data-testid=prop-deadline]", "Tab")
        page.click("[data-testid=modeler-save]")
        expect(page.locator("[data-testid=modeler-status]")).to_have_text("已保存,发现 1 个错误")
        errors = page.locator("[data-testid=problem].problem-error")
        expect(errors).to_have_count(1)
        expect(errors.first).to_have_attribute("data-element", "review")
        expect(errors.first).to_contain_text("泳道")
        # bpmnlint's recommended rules run too (as warnings): the unnamed lane.
        expect(page.locator('[data-testid=problem].problem-warning[data-element="lane1"]')).to_contain_text("bpmnlint label-required")
        expect(page.locator("[data-testid=overlay-review]")).to_be_visible()
        expect(page.locator("[data-testid=modeler-request]")).to_be_disabled()
        shot(page, "modeler-lint-error")

        # Fix it: the lane gets a role.
        lane_box = page.locator('.djs-element[data-element-id="lane1"]').bounding_box()
        page.mouse.click(lane_box["x"] + 15, lane_box["y"] + lane_box["height"] / 2)
        expect(page.locator("[data-testid=prop-lane]")).to_be_visible()
        page.select_option("[data-testid=prop-lane]", "city_reviewer")
        page.click("[data-testid=modeler-save]")
        expect(page.locator("[data-testid=modeler-status]")).to_have_text("已保存,校验通过")
        expect(page.locator("[data-testid=problem]")).to_have_count(0)
        expect(page.locator("[data-testid=overlay-review]")).to_have_count(0)
        page.click("[data-testid=modeler-request]")
        expect(page.locator("[data-testid=awaiting-approval]")).to_be_visible()
        assert ProcessDraft.objects.get(pk=draft.pk).status == DraftStatus.PENDING
        # The requester has no approve button.
        expect(page.locator("[data-testid=modeler-approve]")).to_have_count(0)
        page.close()

        context.close()
        context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1400, "height": 1000})
        page = login(context, live_server.url, "owner2.ho")
        page.goto(f"{live_server.url}/processes/drafts/{draft.pk}/modeler/")
        expect(page.locator("body")).to_have_attribute("data-modeler-ready", "1")
        page.fill("[data-testid=decision-comment]", "时限延长为 72 小时,同意")
        page.click("[data-testid=modeler-approve]")
        expect(page.locator("[data-testid=published-version]")).to_have_text("v2")
        shot(page, "modeler-published")
    finally:
        context.close()

    v2 = ProcessVersion.objects.get(definition__key="review_test", version=2)
    assert v2.pk != v1.pk and 'deadline("PT72H")' in v2.bpmn_xml and 'name="city_reviewer"' in v2.bpmn_xml
    new_case, new_timer, new_task = start_case(owner, city)
    assert new_case.version_id == v2.pk
    assert new_timer.due_at - new_case.created_at == pytest.approx(timedelta(hours=72), abs=timedelta(seconds=5))
    assert new_task.due_at == new_timer.due_at
    old_case.refresh_from_db()
    old_timer.refresh_from_db()
    old_task.refresh_from_db()
    assert old_case.version_id == v1.pk
    assert old_timer.due_at - old_case.created_at == pytest.approx(timedelta(hours=48), abs=timedelta(seconds=5))
    assert old_task.due_at == old_timer.due_at


def test_instance_view_marks_the_diagram(live_server, transactional_db, chromium):  # noqa: F811
    from playwright.sync_api import expect

    from backend.organisation.services import user_ensure as ensure

    call_command("seed_demo", stdout=io.StringIO())
    owner = ensure(username="owner.ho", password=DEMO_PASSWORD, full_name="总公司流程管理员")
    second = ensure(username="owner2.ho", password=DEMO_PASSWORD, full_name="第二流程管理员")
    role_assign(user=second, role=Role.PROCESS_OWNER, org_unit=OrgUnit.objects.get(code="HO"))
    draft = process_draft_create(actor=owner, key="review_test", bpmn_xml=review_diagram().decode())
    process_draft_publish_request(actor=owner, draft_id=draft.pk)
    process_draft_approve(actor=second, draft_id=draft.pk, content_sha256=draft_content_sha256(ProcessDraft.objects.get(pk=draft.pk)))
    case, _timer, _task = start_case(owner, OrgUnit.objects.get(code="GD-SZ"))
    context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1400, "height": 1000})
    try:
        page = login(context, live_server.url, "reviewer.sz")
        page.goto(f"{live_server.url}/processes/instances/{case.pk}/")
        expect(page.locator("body")).to_have_attribute("data-viewer-ready", "1")
        expect(page.locator('.djs-element[data-element-id="review"]')).to_have_class(re.compile(r"\bstate-current\b"))
        expect(page.locator('.djs-element[data-element-id="start"]')).to_have_class(re.compile(r"\bstate-done\b"))
        expect(page.locator('.djs-element[data-element-id="end_ok"]')).not_to_have_class(re.compile(r"\bstate-done\b"))
        expect(page.locator("[data-testid=instance-timeline]")).to_contain_text("发起")
        shot(page, "instance-view")
    finally:
        context.close()
