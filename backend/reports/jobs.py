from celery import shared_task

from backend.reports.services import sla_breaches_sweep, sla_report_archive


@shared_task(name="reports.sweep_sla_breaches", acks_late=True)
def sweep_sla_breaches() -> dict:
    return sla_breaches_sweep()


@shared_task(name="reports.archive_monthly_sla", acks_late=True)
def archive_monthly_sla() -> int:
    return len(sla_report_archive())
