from celery import shared_task

from backend.service.recertification import recertifications_open_due
from backend.service.revisits import revisits_plan
from backend.service.visit_reports import visit_reports_open_due


@shared_task(name="service.recertifications_open_due", acks_late=True)
def recertifications_open() -> int:
    """Daily: open the yearly recertification of every manager whose grade's anniversary has come
    (idempotent per manager and year)."""
    return recertifications_open_due()


@shared_task(name="service.visit_reports_open_due", acks_late=True)
def visit_reports_open() -> int:
    """Daily: open last month's visit-analysis report of every active customer manager who has
    none yet (idempotent per manager and month)."""
    return visit_reports_open_due()


@shared_task(name="service.revisits_plan", acks_late=True)
def revisits_plan_daily() -> dict[str, int]:
    """Daily: open the revisits the plan owes (key customers' quarterly visits, good customers'
    yearly calls, satisfaction calls after closed complaints, renewal reminders, stale records);
    idempotent per customer, kind and period."""
    return revisits_plan()
