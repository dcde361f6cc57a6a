"""Working days: Chinese holidays, 调休 workdays, administrator overrides, deadlines in working days."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from backend.common.models import WorkdayOverride
from backend.common.workdays import add_working_days, is_workday
from processes.engine import clock
from processes.runtime import deadline_delta

SH = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db


def test_national_day_and_adjusted_workday_2026():
    assert not is_workday(date(2026, 10, 1))  # 国庆节
    assert is_workday(date(2026, 10, 10))  # a Saturday made a working day (调休)
    assert not is_workday(date(2026, 10, 11))  # an ordinary Sunday


def test_add_working_days_skips_the_holiday():
    start = datetime(2026, 9, 30, 10, 0, tzinfo=SH)  # Wednesday before National Day
    assert add_working_days(start, 1) == datetime(2026, 10, 8, 10, 0, tzinfo=SH)
    assert add_working_days(start, 3) == datetime(2026, 10, 10, 10, 0, tzinfo=SH)
    assert add_working_days(start, 0) == start


def test_override_beats_the_package_and_covers_unknown_years():
    WorkdayOverride.objects.create(date=date(2026, 10, 8), is_workday=False, note="公司调整")
    assert not is_workday(date(2026, 10, 8))
    WorkdayOverride.objects.create(date=date(2027, 1, 4), is_workday=False, note="2027 元旦调休")
    assert not is_workday(date(2027, 1, 4))
    assert is_workday(date(2027, 1, 5))  # no data for 2027: Monday–Friday
    assert add_working_days(datetime(2027, 1, 1, 9, 0, tzinfo=SH), 1) == datetime(2027, 1, 5, 9, 0, tzinfo=SH)


def test_bad_working_day_counts_are_refused():
    with pytest.raises(ValueError):
        add_working_days(datetime(2026, 1, 5, tzinfo=SH), -1)


def test_deadline_in_working_days_follows_the_engine_clock():
    with clock.frozen(datetime(2026, 9, 30, 10, 0, tzinfo=SH)):
        assert deadline_delta("P2WD") == timedelta(days=9)  # Sept 30 → Oct 9
    assert deadline_delta("PT48H") == timedelta(hours=48)


def test_review_deadline_in_working_days_crosses_national_day(submit, settings):
    from tasks.models import HumanTask

    settings.CUSTFLOW = {**settings.CUSTFLOW, "DEADLINES": {"review": "P2WD"}}
    with clock.frozen(datetime(2026, 9, 30, 10, 0, tzinfo=SH)):
        assert submit("advanced").status_code == 201
    task = HumanTask.objects.get(step="review")
    assert task.due_at == datetime(2026, 10, 9, 10, 0, tzinfo=SH)
