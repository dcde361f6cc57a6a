from celery import shared_task

from backend.common.audit_checkpoints import audit_verify_and_checkpoint
from backend.common.outbox import outbox_relay


@shared_task(name="common.audit_checkpoint", acks_late=True)
def audit_checkpoint() -> dict:
    """Beat: verify the audit trail and, when clean, write a signed checkpoint of every stream's head
    (problems are logged as errors naming the streams, and no checkpoint is written)."""
    result = audit_verify_and_checkpoint()
    return {
        "ok": result.ok,
        "streams": len(result.heads),
        "events": result.events,
        "problems": [str(p) for p in result.problems[:100]],
    }



@shared_task(name="common.relay_outbox", acks_late=True)
def relay_outbox() -> int:
    return outbox_relay()
