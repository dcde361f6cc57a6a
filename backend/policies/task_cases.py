"""The endorsement case shown with a task (API task detail and web task page).

Kept apart so the task views need one call per case type: it answers None for any other
case type, or when the user may not see the endorsement.
"""

from __future__ import annotations

from typing import Any

from backend.common.exceptions import NotFound
from backend.policies.selectors import endorsement_case_view
from backend.policies.services import ENDORSEMENT_CASE


def endorsement_task_case(*, user, task) -> dict[str, Any] | None:
    if task.case_type != ENDORSEMENT_CASE or not task.case_id:
        return None
    try:
        return endorsement_case_view(user=user, endorsement_id=task.case_id)
    except NotFound:
        return None


def endorsement_case(*, user, case_id) -> dict[str, Any]:
    """The case view registered in tasks.cases (raises NotFound when not visible)."""
    return endorsement_case_view(user=user, endorsement_id=case_id)
