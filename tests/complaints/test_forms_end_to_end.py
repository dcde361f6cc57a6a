"""A complaint worked through the whole path (accept → … → feedback → closed) prints its four
forms with the real trail, and the month's analysis counts it as closed on time."""

from __future__ import annotations

import pytest
from django.utils import timezone

from backend.complaints.analysis import analysis_cases, complaint_analysis, month_parse
from backend.complaints.models import Complaint
from backend.complaints.printing import complaint_form_content
from tests.complaints.helpers import HANDLE, REGISTER, VERIFY, accept, complete, feedback, task_of, work
from tests.pdfs.test_rendering import pdf_text

pytestmark = pytest.mark.django_db


def test_the_forms_of_a_worked_complaint_carry_its_trail(api, users, tmp_path):
    c = accept(api)
    work(api, "handler.sz", c["id"], "verify", VERIFY)
    work(api, "handler.sz", c["id"], "register", REGISTER)
    task = task_of(api, "handler.sz", c["id"], "handover")
    complete(
        api,
        "handler.sz",
        task["id"],
        {
            "decision": "hand_over",
            "target_org_unit": "ZJ",
            "handler": "handler.zj",
            "reason": "被投诉机构在浙江",
        },
    )
    task = task_of(api, "handler.zj", c["id"], "handover")
    complete(
        api,
        "handler.zj",
        task["id"],
        {"decision": "handle_here", "opinion_units": "ZJ-HZ", "opinion_question": "请说明理赔审批情况"},
    )
    work(api, "handler.hz", c["id"], "give_opinion", {"opinion": "杭州:审批材料齐全。"})
    work(api, "handler.zj", c["id"], "handle", HANDLE)
    work(api, "handler.zj", c["id"], "feedback", feedback(timezone.localtime().strftime("%Y-%m-%d %H:%M")))
    complaint = Complaint.objects.get(pk=c["id"])
    assert complaint.status == "closed"

    handover = complaint_form_content(complaint=complaint, form="handover")
    moves = [step for step in handover["trail"] if step["action"].startswith("移交")]
    assert [m["action"] for m in moves] == [
        "移交:深圳市分公司 → 浙江省分公司"
    ]  # the row, not its audit twin too
    actions = [step["action"] for step in handover["trail"]]
    for label in ("开始计时", "受理", "核实", "登记", "作出处理决定", "办结停止计时"):
        assert label in actions, (label, actions)
    assert [h["to_org"] for h in handover["handovers"]] == ["浙江省分公司"]

    resp = api("handler.zj").post(f"/api/complaints/{c['id']}/forms/handle.pdf", format="json")
    assert resp.status_code == 200, resp.content[:300]
    text = pdf_text(resp.content, tmp_path)
    for snippet in (
        "三日内支付赔款并支付延期利息",
        "申请核查、诉讼",
        "杭州:审批材料齐全",
        "短信回执SMS-20260501-0001",
        "满意",
        "已停止计时",
    ):
        assert snippet in text, snippet
    # the handling form is issued by the responsible unit, the register form by the acceptor
    assert api("handler.sz").post(f"/api/complaints/{c['id']}/forms/register.pdf", format="json").status_code == 200

    from django.test import Client

    web = Client()
    assert web.login(username="handler.zj", password="demo-pass-2026")
    detail = web.get(f"/complaints/{c['id']}/").content.decode()
    assert f"/complaints/{c['id']}/forms/handle.pdf" in detail and f"/complaints/{c['id']}/corrective/actions/" in detail
    corrective = web.get(f"/complaints/{c['id']}/corrective/actions/")
    assert corrective.status_code == 200 and f'href="/complaints/{c["id"]}/"' in corrective.content.decode()

    month = month_parse(f"{timezone.localdate():%Y-%m}")
    report = complaint_analysis(user=users["compliance.ho"], month=month)
    assert report["totals"]["closed"] == report["totals"]["on_time"] == 1
    zj = [row for row in report["dimensions"]["org_unit"] if row["label"] == "浙江省分公司"]
    assert zj and zj[0]["total"] == 1
    assert list(analysis_cases(user=users["handler.sz"], month=month, metric="on_time")) == [complaint]
