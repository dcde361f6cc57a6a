from celery import shared_task

from backend.hotline.monthly_report import service_report_archive


@shared_task(name="hotline.archive_monthly_service_report", acks_late=True)
def archive_monthly_service_report() -> int:
    """Daily; archives the previous month's 客服信息分析报告 once the month's first working day has come."""
    return len(service_report_archive())
