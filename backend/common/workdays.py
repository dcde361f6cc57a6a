"""Working-day calendar: Chinese public holidays and adjusted working days (调休) from the
chinese-calendar package, corrected by administrators (WorkdayOverride). Years the package
has no data for fall back to Monday–Friday plus the overrides."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import chinese_calendar
from django.utils import timezone

from backend.common.models import WorkdayOverride

MAX_WORKING_DAYS = 366


def is_workday(day: date, overrides: dict[date, bool] | None = None) -> bool:
    if overrides is None:
        overrides = dict(WorkdayOverride.objects.filter(date=day).values_list("date", "is_workday"))
    if day in overrides:
        return overrides[day]
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:  # outside the package's data
        return day.weekday() < 5


def add_working_days(start: datetime, days: int) -> datetime:
    """The same local time-of-day `days` working days after `start` (Asia/Shanghai)."""
    if not 0 <= days <= MAX_WORKING_DAYS:
        raise ValueError(f"working days must be between 0 and {MAX_WORKING_DAYS}")
    local = timezone.localtime(start)
    horizon = local.date() + timedelta(days=days * 3 + 30)
    overrides = dict(WorkdayOverride.objects.filter(date__gt=local.date(), date__lte=horizon).values_list("date", "is_workday"))
    day, left = local.date(), days
    while left:
        day += timedelta(days=1)
        if is_workday(day, overrides):
            left -= 1
    return local.replace(year=day.year, month=day.month, day=day.day)


def first_workday_of_month(day: date) -> date:
    """The first working day of `day`'s month (holidays, 调休 and overrides included)."""
    first = day.replace(day=1)
    overrides = dict(
        WorkdayOverride.objects.filter(date__gte=first, date__lt=first + timedelta(days=31)).values_list(
            "date", "is_workday"
        )
    )
    current = first
    while current.month == first.month:
        if is_workday(current, overrides):
            return current
        current += timedelta(days=1)
    return first  # a month without a working day (only through overrides): its first day


def working_days_between(start: datetime, end: datetime) -> int:
    """Working days after `start`'s day up to and including `end`'s day (Asia/Shanghai): how
    many working days `end` lies after `start` (0 on the same day or when `end` is earlier)."""
    first, last = timezone.localtime(start).date(), timezone.localtime(end).date()
    if last <= first:
        return 0
    overrides = dict(WorkdayOverride.objects.filter(date__gt=first, date__lte=last).values_list("date", "is_workday"))
    days, day = 0, first
    while day < last:
        day += timedelta(days=1)
        days += is_workday(day, overrides)
    return days
