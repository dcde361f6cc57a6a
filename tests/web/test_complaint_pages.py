"""The complaint pages through the Django test client: the list, the accept form (field errors,
the duplicate offer, merge and not-a-duplicate), the complaint page with its clock and its
actions, the task page's case view and the customer page's complaints."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from backend.complaints.models import Complaint, ComplaintMerge, ComplaintStatus
from tasks.models import HumanTask

pytestmark = pytest.mark.django_db

FORM = {
    "channel": "hotline",
    "category": "claims",
    "subject": "理赔款迟迟未到账",
    "description": "客户称理赔材料已交齐一个月,赔款仍未到账。",
    "complainant_name": "王小明",
    "complainant_phone": "13800001111",
    "identity_verified": "on",
    "complainant_count": "1",
}


def html(resp) -> str:
    return resp.content.decode()


def accept(client, **overrides) -> Complaint:
    resp = client.post("/complaints/new/", FORM | overrides)
    assert resp.status_code == 302, html(resp)[:3000]
    return Complaint.objects.get(pk=int(re.search(r"/complaints/(\d+)/$", resp["Location"]).group(1)))


def test_nav_and_list_are_for_complaint_roles(login):
    handler = login("handler.sz")
    body = html(handler.get("/inbox/"))
    assert 'data-testid="nav-complaints"' in body
    assert 'data-testid="nav-complaints"' not in html(login("collector.sz").get("/inbox/"))
    c = accept(handler)
    body = html(handler.get("/complaints/"))
    assert f'data-testid="complaint-link-{c.pk}"' in body and 'data-testid="complaint-new-link"' in body
    # The phone is masked in list rows.
    assert "13800001111" not in body
    # Filters: another status hides it, a search by number finds it, Guangzhou never sees it.
    assert f"complaint-link-{c.pk}" not in html(handler.get("/complaints/?status=closed"))
    assert f"complaint-link-{c.pk}" in html(handler.get(f"/complaints/?q={c.number}&channel=hotline&category=claims&org_unit=GD-SZ"))
    assert f"complaint-link-{c.pk}" not in html(handler.get("/complaints/?overdue=1"))
    assert f"complaint-link-{c.pk}" not in html(login("handler.gz").get("/complaints/"))


def test_overdue_row_is_highlighted(login):
    handler = login("handler.sz")
    c = accept(handler)
    Complaint.objects.filter(pk=c.pk).update(received_at=timezone.now() - timedelta(days=20), clock_start=timezone.now() - timedelta(days=20), due_at=timezone.now() - timedelta(days=5))
    body = html(handler.get("/complaints/?overdue=1"))
    assert f'data-testid="complaint-row-{c.pk}" data-clock="overdue"' in body
    assert 'class="clock-row-overdue"' in body


def test_accept_form_shows_field_errors_with_400_and_changes_nothing(login):
    handler = login("handler.sz")
    before = Complaint.objects.count()
    resp = handler.post("/complaints/new/", FORM | {"complainant_phone": "12", "channel": "fax", "complainant_count": "many", "subject": ""})
    assert resp.status_code == 400
    body = html(resp)
    assert body.count('class="field has-error"') >= 4
    assert 'data-testid="form-error"' in body
    # What was typed is shown again.
    assert "客户称理赔材料已交齐一个月" in body and 'value="many"' in body
    assert Complaint.objects.count() == before


def test_duplicate_is_offered_for_merge_or_a_new_complaint(login):
    handler = login("handler.sz")
    first = accept(handler)
    resp = handler.post("/complaints/new/", FORM | {"complainant_name": "王小明(再次来电)"})
    assert resp.status_code == 409
    body = html(resp)
    assert 'data-testid="duplicate-offer"' in body
    assert f'data-testid="merge-into-{first.pk}"' in body and 'data-testid="not-duplicate"' in body
    assert "合并到此投诉" in body and "不是重复,仍新建" in body
    assert Complaint.objects.count() == 1
    # Merge: the same form re-posted with merge_into.
    resp = handler.post("/complaints/new/", FORM | {"complainant_name": "王小明(再次来电)", "merge_into": str(first.pk)})
    assert resp.status_code == 302 and resp["Location"].endswith(f"/complaints/{first.pk}/")
    assert ComplaintMerge.objects.filter(complaint=first).count() == 1 and Complaint.objects.count() == 1
    page = html(handler.get(resp["Location"]))
    assert "已合并到投诉" in page and "王小明(再次来电)" in page
    # Not a duplicate: a new complaint.
    second = accept(handler, not_duplicate="true")
    assert second.pk != first.pk and Complaint.objects.count() == 2


def test_complaint_page_shows_clock_and_runs_actions(login):
    handler = login("handler.sz")
    c = accept(handler)
    body = html(handler.get(f"/complaints/{c.pk}/"))
    assert 'data-testid="complaint-clock" data-state="running"' in body
    assert 'data-testid="clock-limit">15 日' in body
    # Unmasked for the responsible handler; the open verify task is linked.
    assert "13800001111" in body
    task = HumanTask.objects.get(case_type="complaints.complaint", case_id=c.pk, status="ready")
    assert f'data-testid="complaint-task-{task.pk}"' in body
    # A refused action: field message, status 400, nothing changed.
    resp = handler.post(f"/complaints/{c.pk}/extend/", {"reason": ""})
    assert resp.status_code == 400 and "请填写原因" in html(resp)
    resp = handler.post(f"/complaints/{c.pk}/extend/", {"reason": "案情复杂,需调取录音"})
    assert resp.status_code == 302
    assert 'data-testid="clock-limit">30 日' in html(handler.get(f"/complaints/{c.pk}/"))
    # Extending twice is a conflict shown on the page, not a 500.
    resp = handler.post(f"/complaints/{c.pk}/extend/", {"reason": "再次延长"})
    assert resp.status_code == 409 and "处理时限已延长过" in html(resp)
    assert handler.post(f"/complaints/{c.pk}/pause/", {"reason": "外部鉴定"}).status_code == 302
    assert 'data-state="paused"' in html(handler.get(f"/complaints/{c.pk}/"))
    assert handler.post(f"/complaints/{c.pk}/resume/", {"reason": "鉴定完成"}).status_code == 302
    sent = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    resp = handler.post(f"/complaints/{c.pk}/notice/", {"kind": "extension", "channel": "sms", "sent_at": sent, "proof": ""})
    assert resp.status_code == 400 and "请填写送达凭证" in html(resp)
    resp = handler.post(f"/complaints/{c.pk}/notice/", {"kind": "extension", "channel": "sms", "sent_at": sent, "proof": "短信回执 R-1"})
    assert resp.status_code == 302
    resp = handler.post(f"/complaints/{c.pk}/attachment/", {"kind": "letter", "file": _text_file()})
    assert resp.status_code == 400 and "只接受" in html(resp)
    from tests.web.helpers import png_scan

    assert handler.post(f"/complaints/{c.pk}/attachment/", {"kind": "letter", "file": png_scan("letter.png")}).status_code == 302
    # The further 30 days goes to the upper level (广东) for approval.
    resp = handler.post(f"/complaints/{c.pk}/extension-request/", {"reason": "需省公司协调多家医院"})
    assert resp.status_code == 302
    ext_task = HumanTask.objects.get(case_type="complaints.complaintextension", status="ready")
    assert ext_task.org_unit.code == "GD"
    gd_body = html(login("handler.gd").get(f"/complaints/{c.pk}/"))
    assert f'data-testid="complaint-task-{ext_task.pk}"' in gd_body
    gd_task = html(login("handler.gd").get(f"/tasks/{ext_task.pk}/"))
    assert 'data-testid="extension-request"' in gd_task and 'data-testid="complaint-clock"' in gd_task
    # New facts restart the clock at 15 days.
    resp = handler.post(f"/complaints/{c.pk}/new-facts/", {"description": "客户补充了新的医院证明", "received_at": "2001-01-01T09:00"})
    assert resp.status_code == 400 and "时间不能早于" in html(resp)
    assert handler.post(f"/complaints/{c.pk}/new-facts/", {"description": "客户补充了新的医院证明"}).status_code == 302
    assert 'data-testid="clock-limit">15 日' in html(handler.get(f"/complaints/{c.pk}/"))
    assert handler.post(f"/complaints/{c.pk}/unknown/", {}).status_code == 404
    body = html(handler.get(f"/complaints/{c.pk}/"))
    assert 'data-testid="notice-extension"' in body and "短信回执 R-1" in body
    assert "letter.png" in body and "需省公司协调多家医院" in body
    assert "案情复杂,需调取录音" in body
    # Withdrawal asks first, then ends the case and its tasks.
    assert 'data-testid="action-withdraw"' in body and "data-confirm=" in body
    resp = handler.post(f"/complaints/{c.pk}/withdraw/", {"reason": "客户已与业务员和解"})
    assert resp.status_code == 302
    c.refresh_from_db()
    assert c.status == ComplaintStatus.WITHDRAWN
    body = html(handler.get(f"/complaints/{c.pk}/"))
    assert 'data-state="stopped"' in body and 'data-testid="action-withdraw"' not in body


def test_other_branch_gets_404_and_task_page_shows_clock(login):
    handler = login("handler.sz")
    c = accept(handler)
    assert login("handler.gz").get(f"/complaints/{c.pk}/").status_code == 404
    assert login("handler.gz").post(f"/complaints/{c.pk}/pause/", {"reason": "外部鉴定"}).status_code == 404
    task = HumanTask.objects.get(case_type="complaints.complaint", case_id=c.pk, status="ready")
    body = html(handler.get(f"/tasks/{task.pk}/"))
    assert 'data-testid="complaint-case"' in body and 'data-testid="complaint-clock"' in body
    assert f'href="/complaints/{c.pk}/"' in body


def test_customer_page_lists_the_customers_complaints_in_scope(login):
    from tests.web.helpers import submit_opening

    opening = submit_opening()
    handler = login("handler.sz")
    c = accept(handler, customer_id=str(opening.customer_id))
    assert c.customer_id == opening.customer_id
    body = html(handler.get(f"/customers/{opening.customer_id}/"))
    assert f'data-testid="customer-complaint-{c.pk}"' in body and c.subject in body


def _text_file():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("note.txt", b"just text", content_type="text/plain")


def test_compliance_reads_without_actions_and_english_labels(login):
    c = accept(login("handler.sz"))
    client = login("compliance.gd")
    assert 'data-testid="nav-complaints"' in html(client.get("/inbox/"))
    body = html(client.get(f"/complaints/{c.pk}/"))
    assert 'data-testid="complaint-clock"' in body and 'data-testid="complaint-actions"' not in body
    assert "13800001111" not in body
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    body = html(client.get(f"/complaints/{c.pk}/"))
    assert "Deadline" in body and "Running" in body and "Claims dispute" in body
