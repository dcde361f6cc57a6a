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


# ---- issue 17 item 6: the modeler never loses work ------------------------------------------------


def _owner_on_modeler(live_server, chromium, xml: bytes):  # noqa: F811
    """A process owner on the modeler of a new draft of `xml`, at 1366 px: (context, page, draft)."""
    from playwright.sync_api import expect

    call_command("seed_demo", stdout=io.StringIO())
    owner = user_ensure(username="owner.ho", password=DEMO_PASSWORD, full_name="总公司流程管理员")
    draft = process_draft_create(actor=owner, key="review_test", bpmn_xml=xml.decode())
    context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1366, "height": 900})
    page = login(context, live_server.url, "owner.ho")
    page.goto(f"{live_server.url}/processes/drafts/{draft.pk}/modeler/")
    expect(page.locator("body")).to_have_attribute("data-modeler-ready", "1")
    return context, page, draft


def _type_label_on_canvas(page, element_id: str, label: str) -> None:
    """Double-click an element and type its new name directly on the canvas, leaving the editor open."""
    from playwright.sync_api import expect

    page.locator(f'.djs-element[data-element-id="{element_id}"]').dblclick()
    editor = page.locator(".djs-direct-editing-parent")
    expect(editor).to_be_visible()
    page.keyboard.press("Control+A")
    page.keyboard.type(label)
    expect(editor).to_be_visible()  # still editing: nothing has committed the label yet


def test_a_label_typed_on_the_canvas_is_saved_by_ctrl_s_and_by_the_save_button(live_server, transactional_db, chromium):  # noqa: F811
    from playwright.sync_api import expect

    context, page, draft = _owner_on_modeler(live_server, chromium, review_diagram())
    try:
        status = page.locator("[data-testid=modeler-status]")
        _type_label_on_canvas(page, "review", "复核开户资料")
        page.keyboard.press("Control+s")
        expect(status).to_have_text(re.compile(r"^已保存"))
        assert 'name="复核开户资料"' in ProcessDraft.objects.get(pk=draft.pk).bpmn_xml

        _type_label_on_canvas(page, "review", "二次复核")
        page.click("[data-testid=modeler-save]")
        expect(page.locator(".djs-direct-editing-parent")).to_be_hidden()
        expect(status).to_have_text(re.compile(r"^已保存"))
        saved = ProcessDraft.objects.get(pk=draft.pk)
        assert 'name="二次复核"' in saved.bpmn_xml and saved.row_version == draft.row_version + 2
        shot(page, "modeler-direct-label-saved")
    finally:
        context.close()


def test_leaving_with_unsaved_changes_warns(live_server, transactional_db, chromium):  # noqa: F811

    context, page, draft = _owner_on_modeler(live_server, chromium, review_diagram())
    try:
        modeler_url = page.url
        # Nothing changed: a link leaves without a question.
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append((d.type, d.message)), d.dismiss()))
        _type_label_on_canvas(page, "review", "未保存的名称")
        # A navigation link asks first (in Chinese); declining stays on the page with the edit.
        page.click("[data-testid=nav-inbox]")
        page.wait_for_timeout(300)
        assert dialogs and dialogs[0][0] == "confirm" and "尚未保存" in dialogs[0][1], dialogs
        assert page.url == modeler_url
        # Closing or reloading the tab: the browser's own warning (beforeunload).
        with page.expect_event("dialog") as info:
            page.close(run_before_unload=True)
        assert info.value.type == "beforeunload"
        assert "未保存的名称" not in ProcessDraft.objects.get(pk=draft.pk).bpmn_xml
    finally:
        context.close()


def test_saved_work_leaves_without_a_question(live_server, transactional_db, chromium):  # noqa: F811
    from playwright.sync_api import expect

    context, page, _draft = _owner_on_modeler(live_server, chromium, review_diagram())
    try:
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.type), d.dismiss()))
        _type_label_on_canvas(page, "review", "已保存的名称")
        page.keyboard.press("Control+s")
        expect(page.locator("[data-testid=modeler-status]")).to_have_text(re.compile(r"^已保存"))
        page.click("[data-testid=nav-inbox]")
        page.wait_for_url(re.compile(r"/inbox/$"))
        assert dialogs == []
    finally:
        context.close()


def test_choose_an_operation_and_a_deadline_from_the_lists(live_server, transactional_db, chromium):  # noqa: F811
    from playwright.sync_api import expect

    context, page, draft = _owner_on_modeler(live_server, chromium, review_diagram())
    try:
        # The owner draws a service task (the palette's drag, done through the modeler's API).
        page.evaluate(
            """() => {
              const m = window.custflowModeler, reg = m.get("elementRegistry");
              const shape = m.get("elementFactory").createShape({ type: "bpmn:ServiceTask", id: "svc_new" });
              m.get("modeling").createShape(shape, { x: 560, y: 310 }, reg.get("lane1"));
            }"""
        )
        page.locator('.djs-element[data-element-id="svc_new"]').click()
        choice = page.locator("[data-testid=prop-operation]")
        expect(choice).to_be_visible()
        # The choices are the registered operations, with their descriptions: nothing to type.
        options = choice.locator("option")
        assert options.count() > 3
        expect(choice.locator('option[value="customers.activate_customer"]')).to_have_count(1)
        choice.select_option("customers.activate_customer")
        # The deadline of the review task offers the configured deadlines.
        page.locator('.djs-element[data-element-id="review"]').click()
        expect(page.locator("#deadline-choices option[value=review]")).to_have_count(1)
        page.keyboard.press("Control+s")
        expect(page.locator("[data-testid=modeler-status]")).to_have_text(re.compile(r"^已保存"))
        xml = ProcessDraft.objects.get(pk=draft.pk).bpmn_xml
        assert re.search(r'serviceTaskOperator id="customers\.activate_customer"', xml), xml
        # Valid as saved: the operator carries its (empty) parameter list, so no schema error.
        problems = ProcessDraft.objects.get(pk=draft.pk).problems
        assert not [p for p in problems if "BPMN 2.0" in p["message"]], problems
        shot(page, "modeler-operation-chosen")
    finally:
        context.close()


def test_lint_message_in_chinese_highlights_and_selects_its_element(live_server, transactional_db, chromium):  # noqa: F811
    from playwright.sync_api import expect

    from processes.bpmnlint import bpmnlint_available

    if not bpmnlint_available():
        pytest.skip("node or node_modules/bpmnlint missing (scripts/build_static.sh installs them)")
    context, page, _draft = _owner_on_modeler(live_server, chromium, review_diagram(lane=""))
    try:
        item = page.locator('[data-testid=problem].problem-warning[data-element="lane1"]')
        expect(item).to_contain_text("元素缺少名称(bpmnlint label-required)")
        expect(item).not_to_contain_text("missing")
        lane = page.locator('.djs-element[data-element-id="lane1"]')
        expect(lane).to_have_class(re.compile(r"\blint-warning\b"))
        item.click()
        expect(lane).to_have_class(re.compile(r"\bselected\b"))
        expect(page.locator("[data-testid=prop-lane]")).to_be_visible()
        for problem in page.locator("[data-testid=problem]").all_inner_texts():
            assert re.search(r"[\u4e00-\u9fff]", problem) and "Error" not in problem, problem
        shot(page, "modeler-lint-chinese")
    finally:
        context.close()


def test_a_server_failure_on_save_is_a_chinese_sentence_not_a_traceback(live_server, transactional_db, chromium):  # noqa: F811
    from playwright.sync_api import expect

    context, page, draft = _owner_on_modeler(live_server, chromium, review_diagram())
    try:
        page.route(
            re.compile(rf"/api/processes/drafts/{draft.pk}/$"),
            lambda route: route.fulfill(status=500, content_type="text/html", body="<h1>Traceback</h1> KeyError: 'bpmn_xml'"),
        )
        _type_label_on_canvas(page, "review", "会失败的保存")
        page.click("[data-testid=modeler-save]")
        status = page.locator("[data-testid=modeler-status]")
        expect(status).to_have_text("服务器出错,修改尚未保存。请稍后重试;问题已记录。")
        expect(status).to_have_class(re.compile(r"\berror\b"))
        # Still unsaved: leaving asks.
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.type), d.dismiss()))
        page.click("[data-testid=nav-inbox]")
        page.wait_for_timeout(300)
        assert dialogs == ["confirm"]
    finally:
        context.close()
