from celery import shared_task

from backend.organisation.models import OrgUnit
from backend.segments.services import ASSIGN_UNIT_JOB, segments_assign_all


@shared_task(name="segments.assign_nightly", acks_late=True)
def assign_nightly() -> int:
    """Nightly: judge every customer by his branch's thresholds (优质客户, 大客户, 多次理赔, 高赔付率)."""
    return segments_assign_all()


@shared_task(name=ASSIGN_UNIT_JOB, acks_late=True)
def assign_unit(org_unit_id: int) -> int:
    """After a new thresholds version: judge the customers of the branch's subtree again."""
    unit = OrgUnit.objects.filter(pk=org_unit_id).first()
    return segments_assign_all(under=unit) if unit else 0
