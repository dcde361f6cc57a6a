"""bpmnlint's recommended rules (Node, from npm: scripts/bpmnlint.cjs) on a draft's diagram.

Their findings are style and modelling hints, so they come back as warnings: they are shown on the
diagram but never block publishing (our own lint and the parser decide that). Skipped when Node or
the npm packages are not installed (`scripts/build_static.sh` installs them).
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from processes.engine import Problem

logger = logging.getLogger(__name__)
SCRIPT = Path(settings.BASE_DIR) / "scripts" / "bpmnlint.cjs"


def bpmnlint_available() -> bool:
    return (
        settings.CUSTFLOW["BPMNLINT"]["ENABLED"]
        and shutil.which("node") is not None
        and SCRIPT.is_file()
        and (Path(settings.BASE_DIR) / "node_modules" / "bpmnlint").is_dir()
    )


def bpmnlint_problems(data: bytes) -> list[Problem]:
    if not bpmnlint_available():
        return []
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv, the diagram goes through stdin
            ["node", str(SCRIPT)],
            input=data,
            capture_output=True,
            timeout=settings.CUSTFLOW["BPMNLINT"]["TIMEOUT"],
            cwd=settings.BASE_DIR,
            check=False,
        )
        found = json.loads(done.stdout or b"[]")
    except (subprocess.TimeoutExpired, ValueError, OSError) as exc:
        logger.warning("bpmnlint did not run: %s", exc)
        return []
    return [
        Problem(
            bpmnlint_message(str(item.get("rule") or ""), str(item.get("message") or "")),
            item.get("id") or None,
            severity="warning",
        )
        for item in found
        if isinstance(item, dict)
    ]


# bpmnlint's English reports in Chinese: by rule, and by the message's first words where a rule
# reports more than one thing. The rule's name stays at the end, so an owner can look it up.
_RULE_TEXT = {
    "conditional-flows": gettext_noop("顺序流缺少条件"),
    "end-event-required": gettext_noop("缺少结束事件"),
    "event-sub-process-typed-start-event": gettext_noop("事件子流程的开始事件缺少事件定义"),
    "fake-join": gettext_noop("多条进入的流并未真正汇合(请用网关汇合)"),
    "global": gettext_noop("全局元素有问题(缺少名称、未被使用或名称重复)"),
    "label-required": gettext_noop("元素缺少名称"),
    "link-event": gettext_noop("链接事件缺少名称或没有配对"),
    "no-bpmndi": gettext_noop("元素没有画在图上(缺少 bpmndi)"),
    "no-complex-gateway": gettext_noop("不支持复杂网关"),
    "no-disconnected": gettext_noop("元素没有连线"),
    "no-duplicate-sequence-flows": gettext_noop("重复的顺序流"),
    "no-gateway-join-fork": gettext_noop("网关同时汇合与分支(请拆成两个网关)"),
    "no-implicit-split": gettext_noop("流程隐式分支(请用网关分支)"),
    "no-implicit-end": gettext_noop("元素是隐式结束(请连到结束事件)"),
    "no-implicit-start": gettext_noop("元素是隐式开始(请从开始事件连入)"),
    "no-inclusive-gateway": gettext_noop("不建议使用包容网关"),
    "no-overlapping-elements": gettext_noop("元素与其他元素重叠或超出所在范围"),
    "single-blank-start-event": gettext_noop("有多个空白开始事件"),
    "single-event-definition": gettext_noop("事件有多个事件定义"),
    "start-event-required": gettext_noop("缺少开始事件"),
    "sub-process-blank-start-event": gettext_noop("子流程的开始事件须为空白开始事件"),
    "superfluous-gateway": gettext_noop("多余的网关(只有一条进入和一条出去的流)"),
    "superfluous-termination": gettext_noop("多余的终止结束事件"),
}
_MESSAGE_TEXT = {
    "Element is missing name": gettext_noop("全局元素缺少名称"),
    "Element is unused": gettext_noop("全局元素未被使用"),
    "Element name is not unique": gettext_noop("全局元素名称重复"),
    "Element is outside of parent boundary": gettext_noop("元素超出所在范围"),
    "Element overlaps with other element": gettext_noop("元素与其他元素重叠"),
    "Duplicate outgoing sequence flows": gettext_noop("重复的出口顺序流"),
    "Duplicate incoming sequence flows": gettext_noop("重复的进入顺序流"),
}


def bpmnlint_message(rule: str, message: str) -> str:
    """A bpmnlint report in the user's language; an unknown rule keeps a generic text."""
    text = next(
        (t for start, t in _MESSAGE_TEXT.items() if message.startswith(start)), None
    ) or _RULE_TEXT.get(rule)
    if text is None:
        logger.info("bpmnlint rule without a translation: %s: %s", rule, message)
        text = gettext_noop("建模规范检查提示")
    return _("%(text)s(bpmnlint %(rule)s)") % {"text": _(text), "rule": rule or "bpmnlint"}
