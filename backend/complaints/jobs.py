from celery import shared_task

from backend.complaints.archive import complaint_analysis_archive


@shared_task(name="complaints.archive_monthly_analysis", acks_late=True)
def archive_monthly_analysis() -> int:
    """Daily; archives the previous month's analysis once its first working day has come."""
    return len(complaint_analysis_archive())
