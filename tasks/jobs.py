from celery import shared_task

from tasks.digest import notifications_digest_send
from tasks.notifications import EMAIL_JOB, notifications_email, notifications_email_resend


@shared_task(name=EMAIL_JOB, acks_late=True)
def email_notifications(ids: list[int]) -> int:
    return notifications_email(ids=ids)


@shared_task(name="tasks.resend_notification_emails", acks_late=True)
def resend_notification_emails() -> int:
    return notifications_email_resend()


@shared_task(name="tasks.send_notification_digests", acks_late=True)
def send_notification_digests() -> int:
    return notifications_digest_send()
