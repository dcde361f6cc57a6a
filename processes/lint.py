"""Domain lint over a parsed diagram. Every problem names the element it is about, so the
modeler can put it on the diagram.

- user tasks: a lane that maps to a known role, a form that exists, a deadline (an
  interrupting timer on the task; its `deadline` property, when given, must be a known
  deadline name or a duration);
- service tasks: a registered operation, given only the parameters it declares and never a
  record identifier (the case is bound from the instance);
- exclusive / inclusive gateways that split: a default flow or a condition on every outgoing flow;
- timers: the expression evaluates (sandboxed, no case data) to a valid duration, date or cycle.

Scripts and conditions are compiled under the sandbox by the parser (`parse_diagram`).
"""

from __future__ import annotations

import logging
import re

from django.conf import settings
from django.utils.translation import gettext as _

from backend.organisation.lanes import lanes_known
from forms.registry import form_exists
from processes.engine import Diagram, Engine, Problem
from processes.registry import operation_get, param_names_record
from processes.runtime import deadline_value, parse_duration, script_pool_limits

logger = logging.getLogger(__name__)
_DURATION = re.compile(r"^(P\d+WD|P(?!$)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?)$")


def _label(item: dict) -> str:
    return item.get("name") or item["id"]


def _user_task_problems(task: dict, deadlines: set[str]) -> list[Problem]:
    problems: list[Problem] = []
    name = _label(task)
    lane = task.get("lane")
    if not lane:
        problems.append(Problem(_("用户任务“%(name)s”不在有名称的泳道中(泳道名称决定由哪个角色处理)") % {"name": name}, task["id"]))
    elif lane not in (known := lanes_known()):
        problems.append(
            Problem(_("泳道“%(lane)s”没有对应的角色(可用: %(known)s)") % {"lane": lane, "known": ", ".join(sorted(known))}, task["id"])
        )
    properties = task.get("properties") or {}
    form = properties.get("form")
    if not form:
        problems.append(Problem(_("用户任务“%(name)s”没有指定表单(form 属性)") % {"name": name}, task["id"]))
    elif not form_exists(form):
        problems.append(Problem(_("表单“%(form)s”不存在") % {"form": form}, task["id"]))
    deadline = properties.get("deadline")
    if deadline and deadline not in deadlines and not _DURATION.match(deadline):
        problems.append(
            Problem(
                _("用户任务“%(name)s”的时限“%(value)s”既不是已配置的时限名称,也不是时长(如 PT48H、P3D、P5WD)")
                % {"name": name, "value": deadline},
                task["id"],
            )
        )
    return problems


def _service_param_problems(task: dict, operation) -> list[Problem]:
    """Control 4: an operation acts on its instance's own case, so a diagram may give it only the
    parameters it declares, and never a case, customer or complaint identifier."""
    problems: list[Problem] = []
    for name in sorted(task.get("params") or {}):
        if param_names_record(name):
            problems.append(
                Problem(
                    _("服务任务“%(name)s”的参数“%(param)s”指向业务记录:服务操作只作用于本流程实例绑定的业务,不能由流程数据指定案件、客户或投诉")
                    % {"name": _label(task), "param": name},
                    task["id"],
                )
            )
        elif name not in operation.params:
            allowed = "、".join(operation.params) or _("无")
            problems.append(
                Problem(
                    _("服务操作“%(op)s”不接受参数“%(param)s”(可用参数:%(allowed)s)")
                    % {"op": operation.name, "param": name, "allowed": allowed},
                    task["id"],
                )
            )
    return problems


def _static_deadline(name: str, default: str | None = None) -> str:
    """`deadline()` / `reminder_after()` for lint: checks the value without the working-day
    calendar (no database at `manage.py check` time) and answers a duration of the same form."""

    value = deadline_value(name, default)
    if re.match(r"^P\d+WD$", value):
        return "PT1S"
    parse_duration(value)
    return value


def _lint_engine() -> Engine:
    def no_service(*args, **kwargs):
        raise RuntimeError("service calls are not available in a timer expression")

    return Engine(
        service_caller=no_service,
        helpers={"deadline": _static_deadline, "reminder_after": _static_deadline},
        max_steps=settings.CUSTFLOW["SCRIPT_MAX_STEPS"],
        max_seconds=settings.CUSTFLOW["SCRIPT_MAX_SECONDS"],
        pool=script_pool_limits(),
    )


def diagram_lint(diagram: Diagram) -> list[Problem]:
    problems: list[Problem] = []
    deadlines = set(settings.CUSTFLOW["DEADLINES"])
    guarded = {t["attached_to"] for t in diagram.timers if t.get("attached_to") and t.get("interrupting")}
    for task in diagram.user_tasks:
        problems.extend(_user_task_problems(task, deadlines))
        if task["id"] not in guarded:
            problems.append(
                Problem(
                    _("用户任务“%(name)s”没有时限(请附加一个中断型定时边界事件)") % {"name": _label(task)},
                    task["id"],
                    severity="warning",
                )
            )
    for task in diagram.service_tasks:
        op = task.get("operation")
        if not op:
            problems.append(Problem(_("服务任务“%(name)s”没有指定操作") % {"name": _label(task)}, task["id"]))
        elif operation_get(op) is None:
            problems.append(Problem(_("服务操作“%(op)s”未注册") % {"op": op}, task["id"]))
        else:
            problems.extend(_service_param_problems(task, operation_get(op)))
    for gateway in diagram.gateways:
        if gateway["type"] not in ("exclusive", "inclusive") or gateway.get("outgoing", 0) < 2:
            continue
        if not gateway["has_default"] and len(gateway["conditions"]) < gateway["outgoing"]:
            problems.append(
                Problem(
                    _("网关“%(name)s”有 %(n)d 条出口,但只有 %(c)d 条有条件且没有默认出口:流程可能在此停住")
                    % {"name": _label(gateway), "n": gateway["outgoing"], "c": len(gateway["conditions"])},
                    gateway["id"],
                )
            )
    timer_engine = _lint_engine()
    for timer in diagram.timers:
        found = timer_engine.check_timer(timer["expression"], timer.get("kind", "duration"))
        if found is not None:
            severity, reason, detail = found
            logger.debug("timer %s: %s: %s", timer["id"], reason, detail)
            problems.append(
                Problem(
                    _("定时器“%(name)s”的表达式 %(expr)s %(reason)s")
                    % {"name": _label(timer), "expr": timer["expression"], "reason": _timer_reason(reason, timer.get("kind", "duration"))},
                    timer["id"],
                    severity=severity,
                )
            )
    return problems


def _timer_reason(reason: str, kind: str) -> str:
    kinds = {"date": _("日期"), "cycle": _("周期")}
    texts = {
        "needs_data": _("用到了案件数据,保存时无法检查,请确认运行时能得到有效的值"),
        "not_text": _("的结果不是文本(请加引号,如 \"PT48H\")"),
        "invalid_value": _("的结果不是有效的%(kind)s(时长如 PT48H、P3D)") % {"kind": kinds.get(kind, _("时长"))},
    }
    return texts.get(reason, _("无法求值,请检查表达式的写法"))
