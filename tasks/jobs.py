from celery import shared_task

from tasks.notifications import notifications_email, notifications_email_resend


@shared_task(name="tasks.email_notifications", acks_late=True)
def email_notifications(ids: list[int]) -> int:
    return notifications_email(ids=ids)


@shared_task(name="tasks.resend_notification_emails", acks_late=True)
def resend_notification_emails() -> int:
    return notifications_email_resend()
