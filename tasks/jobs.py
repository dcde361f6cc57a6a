from celery import shared_task

from tasks.notifications import notifications_email


@shared_task(name="tasks.email_notifications", acks_late=True)
def email_notifications(ids: list[int]) -> int:
    return notifications_email(ids=ids)
