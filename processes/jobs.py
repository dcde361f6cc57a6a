from celery import shared_task

from processes.sweep import sweep_until_done


@shared_task(name="processes.sweep_timers", acks_late=True)
def sweep_timers() -> int:
    """Beat's timer sweep: batches until nothing is due (processes/sweep.py)."""
    return sweep_until_done()
