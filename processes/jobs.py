from celery import shared_task

from processes.services import timers_sweep


@shared_task(name="processes.sweep_timers", acks_late=True)
def sweep_timers() -> int:
    return timers_sweep()
