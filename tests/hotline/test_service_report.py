"""客服信息分析报告 (issue 20 item 7): the month's figures of head office and each province, archived
once on the first working day as XLSX and signed PDF, sent to the unit's decision makers, and on a
page with charts for the report roles."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from backend.complaints.analysis import Month
from backend.customers.documents import printed_pdf_verify
from backend.hotline.models import HotlineCall
from backend.hotline.monthly_report import REPORT_KIND, service_report_archive, service_report_of_unit
from backend.organisation.models import OrgUnit
from backend.reports.models import ReportArchive
from backend.reports.services import report_recipient_add
from tasks.models import Notification
from tests.customers.factories import customer_make

pytestmark = pytest.mark.django_db


def _calls(api, n, category, customer=None):
    for i in range(n):
        resp = api("hotline.gd").post("/api/hotline/calls/", {
            "caller_phone": f"1391234{i:04d}", "customer_id": customer.pk if customer else None, "category": category, "summary": "来电",
        }, format="json")
        assert resp.status_code == 201, resp.content


def _section(report, title_part):
    return next(s for s in report["sections"] if title_part in str(s["title"]))


def test_the_report_counts_contacts_hot_topics_and_more(api):
    customer = customer_make()
    _calls(api, 3, "claim", customer)
    _calls(api, 1, "product")
    month = Month(timezone.localdate().replace(day=1))
    report = service_report_of_unit(unit=OrgUnit.objects.get(code="GD"), month=month)
    hot = _section(report, "热线咨询热点")
    assert hot["rows"][0][:3] == ["理赔咨询", 3, "75.0%"] and hot["rows"][-1][1] == 4
    assert hot["rows"][-1][-1] == 1  # one unknown caller
    contacts = _section(report, "联系记录")
    assert contacts["rows"][-1][-1] == 3  # the known customer's three calls, in his contact log
    totals = {str(t["label"]): t["value"] for t in report["totals"]}
    assert totals["热线来电"] == 4 and totals["咨询热点"] == "理赔咨询"
    zhejiang = service_report_of_unit(unit=OrgUnit.objects.get(code="ZJ"), month=month)
    assert {str(t["label"]): t["value"] for t in zhejiang["totals"]}["热线来电"] == 0


def test_the_month_is_archived_once_signed_and_sent(api, users):
    _calls(api, 2, "policy", customer_make())
    gd = OrgUnit.objects.get(code="GD")
    report_recipient_add(actor=None, kind=REPORT_KIND, org_unit=gd, user=users["compliance.gd"])
    HotlineCall.objects.update(created_at=timezone.now() - dt.timedelta(days=40))
    today = timezone.localdate().replace(day=1) + dt.timedelta(days=10)
    created = service_report_archive(today=today)
    assert {a.org_unit.code for a in created} == {"HO", "GD", "ZJ"}
    assert service_report_archive(today=today) == []
    archive = ReportArchive.objects.get(kind=REPORT_KIND, org_unit=gd)
    assert bytes(archive.pdf).startswith(b"%PDF") and bytes(archive.xlsx)[:2] == b"PK"
    assert printed_pdf_verify(pdf=bytes(archive.pdf))["verdict"] == "genuine"
    assert Notification.objects.filter(user=users["compliance.gd"], message__contains="客服信息分析报告").count() == 1


def test_nothing_is_archived_before_the_first_working_day(api):
    assert service_report_archive(today=dt.date(2026, 1, 1)) == []  # New Year's Day
    assert not ReportArchive.objects.filter(kind=REPORT_KIND).exists()


def test_revisits_due_in_the_month_are_counted_done_and_late(demo):
    from backend.service.models import Revisit

    unit = OrgUnit.objects.get(code="GD-SZ")
    month = Month(timezone.localdate().replace(day=1))
    start, _end = month.bounds()
    due = start + dt.timedelta(days=3)
    for n, (status, late) in enumerate([("done", False), ("done", True), ("open", False), ("open", False)]):
        Revisit.objects.create(
            org_unit=unit, customer=customer_make(), kind="renewal_reminder", period=f"p{n}", lane="hotline",
            due_at=due, status=status, late=late,
        )
    Revisit.objects.create(org_unit=unit, customer=customer_make(), kind="renewal_reminder", period="next", lane="hotline", due_at=start + dt.timedelta(days=40))
    report = service_report_of_unit(unit=OrgUnit.objects.get(code="GD"), month=month)
    section = _section(report, "回访")
    assert section["rows"][-1][1:] == [4, 1, 1, 2]
    assert {str(t["label"]): t["value"] for t in report["totals"]}["逾期或未完成的回访"] == 3
