"""What a task page shows of its case: each process type declares its case view
(`ProcessType.case_view`, processes/types.py) and its recusal check.

A case view is `fn(*, user, case_id) -> dict`, raising NotFound when the user may not see the
case; the web page shows it with the type's `case_template`. `case_view_register` and
`case_recusal_register` still work for a case type without a declaration.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Q, QuerySet

from backend.common.exceptions import NotFound
from processes.types import process_type_for_case, process_types

CaseView = Callable[..., dict[str, Any]]
_VIEWS: dict[str, CaseView] = {}


def case_view_register(case_type: str, fn: CaseView) -> None:
    _VIEWS[case_type] = fn


def case_view_for(*, user, case_type: str, case_id: int | None) -> dict[str, Any] | None:
    """The case as this user may see it, or None (no view registered, or not visible)."""
    fn = _VIEWS.get(case_type) or getattr(process_type_for_case(case_type), "case_view", None)
    if fn is None or not case_id:
        return None
    try:
        return fn(user=user, case_id=case_id)
    except NotFound:
        return None


# Recusal (回避): a case type may name users with an interest in a case; they can neither be
# assigned its tasks nor claim or complete them. `fn(*, user, case_id) -> reason | None`.
RecusalCheck = Callable[..., str | None]
_RECUSALS: dict[str, RecusalCheck] = {}


def case_recusal_register(case_type: str, fn: RecusalCheck) -> None:
    _RECUSALS[case_type] = fn


def case_recusal_reason(*, user, case_type: str, case_id: int | None) -> str | None:
    """Why `user` must stay out of this case, or None."""
    fn = _RECUSALS.get(case_type) or getattr(process_type_for_case(case_type), "recusal", None)
    if fn is None or not case_id or user is None:
        return None
    return fn(user=user, case_id=case_id)


# Four eyes beyond the task rows: a case type may name the cases whose data a user gathered or
# changed without completing a step of them (the collector an officer opened an account for).
# `fn(*, user) -> QuerySet of case ids`; such a user never approves those cases.
DataWorkCases = Callable[..., QuerySet]
_DATA_WORK: dict[str, DataWorkCases] = {}


def case_data_work_register(case_type: str, fn: DataWorkCases) -> None:
    _DATA_WORK[case_type] = fn


def case_data_work_q(user) -> Q:
    """Task rows of cases whose data `user` gathered or changed (per the process types' declared
    `data_work`, and case types registered without a declaration)."""
    sources = {t.case_type: t.data_work for t in process_types() if t.data_work is not None}
    sources.update(_DATA_WORK)
    arms = [Q(case_type=case_type, case_id__in=fn(user=user)) for case_type, fn in sources.items()]
    return reduce(or_, arms) if arms else Q(pk__in=[])
