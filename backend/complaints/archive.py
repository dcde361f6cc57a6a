"""客户投诉分析表, frozen monthly: on (or after) the first working day of a month the previous
month's table of head office and of every province is archived once as XLSX and signed PDF
in the report archive, and the decision makers named for that org unit are notified.

Months missed while the job did not run are archived on its next run (the archive lists every
month since the first complaint); a run for a month already archived changes nothing."""

from __future__ import annotations

import datetime as dt

from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.workdays import first_workday_of_month
from backend.complaints.analysis import Month, complaint_analysis_of_unit
from backend.complaints.exports import analysis_xlsx
from backend.complaints.models import Complaint
from backend.complaints.printing import complaint_analysis_archive_print
from backend.organisation.models import OrgUnit
from backend.reports.models import ReportArchive
from backend.reports.services import archive_units, report_archive_once

ARCHIVE_KIND = "complaint_analysis_monthly"
MAX_CATCH_UP_MONTHS = 36


def _previous(first: dt.date) -> dt.date:
    return (first - dt.timedelta(days=1)).replace(day=1)


def analysis_months_due(*, today: dt.date) -> list[Month]:
    """Months to archive on `today`: none before the month's first working day; then every
    month from the first complaint's (at most MAX_CATCH_UP_MONTHS back) to the previous one."""
    if today < first_workday_of_month(today):
        return []
    last = _previous(today.replace(day=1))
    earliest = Complaint.objects.aggregate(first=Min("received_at"))["first"]
    start = min(timezone.localdate(earliest).replace(day=1), last) if earliest else last
    months = []
    current = last
    while current >= start and len(months) < MAX_CATCH_UP_MONTHS:
        months.append(Month(current))
        current = _previous(current)
    return sorted(months, key=lambda m: m.first)


def complaint_analysis_archive_month(
    *, unit: OrgUnit, month: Month, now: dt.datetime
) -> ReportArchive | None:
    """Archive one unit's table for one month and notify its decision makers; None when it was
    archived before."""

    def build() -> dict:
        report = complaint_analysis_of_unit(unit=unit, month=month, today=timezone.localdate(now))
        pdf, document = complaint_analysis_archive_print(unit=unit, month=month, report=report)
        return {
            "pdf": pdf,
            "xlsx": analysis_xlsx(report, scope=unit.name),
            "figures": {
                "totals": {k: v for k, v in report["totals"].items() if k != "on_time_rate"},
                "on_time_rate": report["totals"]["on_time_rate"],
                "document_id": str(document.id),
            },
            "document_id": str(document.id),
        }

    message = _("%(unit)s %(month)s 客户投诉分析表已归档,请在报表归档中查阅。") % {"unit": unit.name, "month": month.label}
    return report_archive_once(kind=ARCHIVE_KIND, unit=unit, month=month.first, now=now, build=build, message=message)


def complaint_analysis_archive(
    *, today: dt.date | None = None, now: dt.datetime | None = None
) -> list[ReportArchive]:
    """The monthly job: archive every due month of head office and of every province; returns
    the archives it created (empty before the first working day and on a re-run)."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    created = []
    for month in analysis_months_due(today=today):
        for unit in archive_units():
            archive = complaint_analysis_archive_month(unit=unit, month=month, now=now)
            if archive is not None:
                created.append(archive)
    return created
