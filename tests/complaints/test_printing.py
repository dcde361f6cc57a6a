"""The four complaint forms and the monthly analysis table as signed PDFs: genuine on upload,
reprints numbered and explained, personal data masked, the case's trail printed, every CJK
character drawn, hostile field values printed as text and never fetched."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string

from backend.common.audit import audit_event_record
from backend.complaints.models import (
    ClockEventKind,
    ComplaintAttachment,
    ComplaintClockEvent,
    ComplaintHandover,
    ComplaintNotice,
    ComplaintOpinion,
    ComplaintReview,
    ComplaintStatus,
    CorrectiveAction,
)
from backend.customers.models import PrintedDocument
from backend.organisation.models import OrgUnit
from pdfs.complaint_documents import (
    COMPLAINT_FORMS,
    analysis_table_context,
    complaint_form_context,
    render_complaint_form,
)
from pdfs.rendering import STATIC_DIR
from tests.complaints.factories import TZ, complaint_make, complaint_users
from tests.pdfs.test_glyphs import missing_glyphs
from tests.pdfs.test_hostile_fields import hostile
from tests.pdfs.test_rendering import fetch_log, local_http_server, pdf_text  # noqa: F401

AT = dt.datetime(2026, 10, 8, 9, 30, tzinfo=TZ)


@pytest.fixture
def case(users):
    people = complaint_users()
    gz, sz, gd = (OrgUnit.objects.get(code=c) for c in ("GD-GZ", "GD-SZ", "GD"))
    c = complaint_make(
        org="GD-SZ",
        received="GD-GZ",
        received_at=AT,
        complainant_name="欧阳娜娜",
        complainant_phone="13812345678",
        complainant_id_type="居民身份证",
        complainant_id_number="440305198506150012",
        subject="理赔款迟迟未到账",
        description="客户称三个月前报案,至今未收到理赔款。",
        category="claims",
        product="重大疾病保险",
        identity_verified=True,
        verified_facts="经核实,理赔材料已于九月齐备。",
        facts="理赔审核超期。",
        basis="《保险法》第二十三条",
        reasons="审核人员积压案件。",
        decision="十日内支付理赔款及利息。",
        remedies=["review", "mediation"],
        satisfaction="basic",
        root_cause="process",
        root_cause_note="理赔审核流程缺少时限提醒",
        status=ComplaintStatus.DECIDED,
        limit_days=30,
        extension_reason="案情复杂",
    )
    handler = people["handler.sz"]
    ComplaintClockEvent.objects.create(
        complaint=c, kind=ClockEventKind.STARTED, at=AT, actor=people["handler.gz"]
    )
    ComplaintClockEvent.objects.create(
        complaint=c,
        kind=ClockEventKind.EXTENDED,
        at=AT + dt.timedelta(days=10),
        actor=handler,
        reason="需调取理赔档案",
    )
    ComplaintHandover.objects.create(
        complaint=c,
        from_org_unit=gz,
        to_org_unit=sz,
        handler=handler,
        reason="保单属深圳承保",
        by=people["handler.gz"],
        at=AT + dt.timedelta(hours=5),
    )
    ComplaintOpinion.objects.create(
        complaint=c,
        org_unit=gd,
        question="是否加付利息",
        opinion="同意加付利息",
        by=people["handler.gd"],
        at=AT + dt.timedelta(days=3),
    )
    ComplaintNotice.objects.create(
        complaint=c,
        kind="decision",
        channel="sms",
        sent_at=AT + dt.timedelta(days=12),
        proof="短信回执 20261020-0001",
        recorded_by=handler,
    )
    ComplaintReview.objects.create(
        complaint=c,
        reason="对利息计算有异议",
        org_unit=gd,
        received_at=AT + dt.timedelta(days=14),
        due_at=AT + dt.timedelta(days=44),
        requested_by=handler,
    )
    ComplaintAttachment.objects.create(
        complaint=c,
        kind="recording",
        file="complaints/x.mp3",
        filename="来电录音.mp3",
        content_type="audio/mpeg",
        size=2048,
        sha256="ab" * 32,
        uploaded_by=handler,
    )
    CorrectiveAction.objects.create(
        complaint=c,
        root_cause="process",
        description="理赔审核增加时限提醒",
        owner_org_unit=sz,
        due_date=dt.date(2026, 12, 31),
        created_by=handler,
    )
    audit_event_record(
        actor=handler, action="complaint.decided", obj=c, org_unit=sz, data={"comment": "决定已作出"}
    )
    return c


def form_pdf(api, case, form, user="handler.sz", reason=None):
    params = {"reason": reason} if reason is not None else {}
    # Printing is a POST (control 13).
    return api(user).post(f"/api/complaints/{case.pk}/forms/{form}.pdf", params, format="json")


def upload(client, pdf):
    return client.post("/api/documents/verify/", {"pdf": SimpleUploadedFile("x.pdf", pdf, "application/pdf")})


@pytest.mark.parametrize(
    "form, expected",
    [
        ("register", ["客户投诉登记表", "客户称三个月前报案", "来电录音.mp3", "广州市分公司"]),
        ("verify", ["客户投诉核实表", "身份已核验", "理赔材料已于九月齐备"]),
        ("handover", ["客户投诉移交表", "保单属深圳承保", "广州市分公司", "深圳市分公司"]),
        (
            "handle",
            [
                "客户投诉处理表",
                "十日内支付理赔款及利息",
                "申请核查、调解",
                "同意加付利息",
                "短信回执20261020-0001",
                "基本满意",
                "对利息计算有异议",
                "理赔审核增加时限提醒",
                "延长至30日",
            ],
        ),
    ],
)
def test_each_form_prints_signed_with_the_case_and_its_trail(api, client, case, form, expected, tmp_path):
    resp = form_pdf(api, case, form)
    assert resp.status_code == 200, resp.content[:300]
    assert resp["Content-Type"] == "application/pdf" and resp["X-Copy-Number"] == "0"
    document = PrintedDocument.objects.get(pk=resp["X-Document-Id"])
    assert document.kind == f"complaint_{form}" and document.subject == f"complaint:{case.pk}:{form}"
    issuer = "GD-GZ" if form in ("register", "verify") else "GD-SZ"
    assert document.signed_by == issuer

    body = upload(client, resp.content).json()
    assert body["verdict"] == "genuine", body
    assert body["document"]["kind_label"] == COMPLAINT_FORMS[form][1]

    text = pdf_text(resp.content, tmp_path)
    for snippet in expected + ["欧阳娜娜", "理赔款迟迟未到账", "决定已作出"]:
        assert snippet in text, snippet
    # masked: the phone and the id number never appear whole
    assert "13812345678" not in text and "440305198506150012" not in text
    assert "138****5678" in text
    assert "开始计时" in text  # the clock events are part of the trail


def test_a_reprint_needs_a_reason_and_is_marked_as_a_copy(api, client, case, tmp_path):
    assert form_pdf(api, case, "handle").status_code == 200
    refused = form_pdf(api, case, "handle")
    assert refused.status_code == 400 and refused.json()["code"] == "reprint_reason_required"
    assert "reason" in refused.json()
    again = form_pdf(api, case, "handle", reason="客户要求补发")
    assert again.status_code == 200 and again["X-Copy-Number"] == "1"
    assert "副本第1份" in pdf_text(again.content, tmp_path)
    assert upload(client, again.content).json()["verdict"] == "reprint"
    assert PrintedDocument.objects.filter(subject=f"complaint:{case.pk}:handle").count() == 2
    # another form of the same complaint is its own original
    assert form_pdf(api, case, "register")["X-Copy-Number"] == "0"


def test_forms_are_level_scoped_and_unknown_forms_are_not_found(api, case):
    assert form_pdf(api, case, "register", user="handler.hz").status_code == 404
    assert form_pdf(api, case, "register", user="handler.gd").status_code == 200
    assert form_pdf(api, case, "appeal").status_code == 404
    assert (
        api("handler.sz").post("/api/complaints/999999/forms/register.pdf", format="json").status_code == 404
    )


def _text(template: str, context: dict) -> str:
    import html

    body = render_to_string(template, context).split("<body", 1)[1]
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


@pytest.mark.parametrize("family", ["Noto Sans CJK SC", "Noto Serif CJK SC"])
def test_every_character_of_the_complaint_forms_has_a_glyph(case, family, tmp_path):
    from backend.complaints.analysis import month_parse
    from backend.complaints.exports import analysis_pdf_content
    from backend.complaints.printing import complaint_analysis, complaint_form_content

    text = ""
    for form, (template, _title) in COMPLAINT_FORMS.items():
        content = {
            "org_unit": "深圳市分公司",
            "copy_number": 1,
            **complaint_form_content(complaint=case, form=form),
        }
        text += _text(template, complaint_form_context(form, content))
    from django.contrib.auth import get_user_model

    report = complaint_analysis(
        user=get_user_model().objects.get(username="compliance.ho"), month=month_parse("2026-10")
    )
    text += _text(
        "pdfs/complaint_analysis.html",
        analysis_table_context({"org_unit": "总公司", **analysis_pdf_content(report, scope="总公司")}),
    )
    assert "移交" in text and "客户投诉分析表" in text and "整改逾期" in text
    assert len({c for c in text if ord(c) > 0x7F}) > 200
    assert missing_glyphs(text + "第页共副本份电子签章", family, tmp_path) == []


@pytest.mark.parametrize("form", list(COMPLAINT_FORMS))
def test_hostile_values_are_printed_as_text_and_fetch_nothing(form, local_http_server, fetch_log, tmp_path):  # noqa: F811
    base, hits = local_http_server
    values = hostile(base)
    row = {"at": values[0], "actor": values[1], "action": values[2], "comment": values[3]}
    doc = {
        "document_id": "x",
        "org_unit": values[6],
        "case": {"complainant_name": values[0], "subject": values[1], "product": values[2]},
        "description": values[3],
        "verified_facts": values[4],
        "decision": {"facts": values[5], "decision": values[1], "remedies": values[6]},
        "clock": {"extension_reason": values[1]},
        "attachments": [{"filename": values[0], "kind": values[4]}],
        "handovers": [{"reason": values[1], "from_org": values[5], "to_org": values[3]}],
        "opinions": [{"opinion": values[1], "question": values[4]}],
        "notices": [{"proof": values[1], "kind_label": values[0]}],
        "reviews": [{"reason": values[1], "comment": values[5]}],
        "actions": [{"description": values[1], "closing_note": values[3]}],
        "trail": [row],
    }
    pdf = render_complaint_form(form, doc)
    assert pdf.startswith(b"%PDF")
    assert hits == []
    fetched = {url for url, _ in fetch_log}
    assert fetched <= {(STATIC_DIR / "forms.css").as_uri()} | {
        u for u in fetched if u.startswith("data:image/png;base64,")
    }
    text = pdf_text(pdf, tmp_path)
    assert "file:///etc/passwd" in text
    assert "root:x:0:0" not in text
