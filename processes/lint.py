"""Domain lint over a parsed diagram: lanes map to roles, forms exist, operations are registered."""

from __future__ import annotations

from django.utils.translation import gettext as _

from backend.organisation.lanes import LANES
from forms.registry import form_exists
from processes.engine import Diagram, Problem
from processes.registry import operation_get


def diagram_lint(diagram: Diagram) -> list[Problem]:
    problems: list[Problem] = []
    for task in diagram.user_tasks:
        lane = task.get("lane")
        if not lane:
            problems.append(Problem(_("用户任务“%(name)s”不在任何泳道中") % {"name": task["name"] or task["id"]}, task["id"]))
        elif lane not in LANES:
            problems.append(
                Problem(_("泳道“%(lane)s”没有对应的角色(可用: %(known)s)") % {"lane": lane, "known": ", ".join(sorted(LANES))}, task["id"])
            )
        form = (task.get("properties") or {}).get("form")
        if not form:
            problems.append(Problem(_("用户任务“%(name)s”没有指定表单(form 属性)") % {"name": task["name"] or task["id"]}, task["id"]))
        elif not form_exists(form):
            problems.append(Problem(_("表单“%(form)s”不存在") % {"form": form}, task["id"]))
    for task in diagram.service_tasks:
        op = task.get("operation")
        if not op:
            problems.append(Problem(_("服务任务“%(name)s”没有指定操作") % {"name": task["name"] or task["id"]}, task["id"]))
        elif operation_get(op) is None:
            problems.append(Problem(_("服务操作“%(op)s”未注册") % {"op": op}, task["id"]))
    return problems
