"""The engine's diagram problems in the process owner's language.

The engine adapter (processes/engine/) reports in technical English, sometimes with a Python
exception's text in it. The modeler shows problems to process owners, so each known kind of
engine message becomes a Chinese sentence (with its line); anything else becomes a generic
sentence, and the original text goes to the log, never to the owner.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace

from django.utils.translation import gettext as _

from processes.engine import Problem

logger = logging.getLogger(__name__)


def _script(match: re.Match) -> str:
    kind = _("脚本") if match.group(1) == "script" else _("表达式")
    return _("%(kind)s未通过安全检查:只允许简单的计算和赋值,不能导入模块、调用未开放的函数或访问内部属性") % {
        "kind": kind
    }


# (pattern over the engine's message, Chinese text or a function of the match). Engine messages
# that carry a Python exception's text are matched here too and answered without it.
_KNOWN = [
    (re.compile(r"^not well-formed XML"), lambda m: _("XML 格式不正确,请检查标签是否成对、特殊字符是否转义")),
    (
        re.compile(r"^no executable process"),
        lambda m: _('图中没有可执行的流程(须有 isExecutable="true" 的流程)'),
    ),
    (re.compile(r"^DOCTYPE declarations are not allowed"), lambda m: _("流程图不允许包含 DOCTYPE 声明")),
    (re.compile(r"^not a BPMN 2\.0 file"), lambda m: _("不是 BPMN 2.0 文件(根元素须为 bpmn:definitions)")),
    (re.compile(r"^XML schema: "), lambda m: _("元素不符合 BPMN 2.0 规范")),
    (re.compile(r"^the file is empty"), lambda m: _("文件为空")),
    (re.compile(r"^the file is larger than"), lambda m: _("文件过大")),
    (re.compile(r"^(script|expression) refused: "), _script),
    (re.compile(r"^empty expression in (\w+)"), lambda m: _("表达式为空(%(where)s)") % {"where": m.group(1)}),
    (re.compile(r"^a service parameter needs id and value"), lambda m: _("服务参数须有 id 和 value")),
    (
        re.compile(r"^(pre|post)Script on a script task is ignored"),
        lambda m: _("脚本任务上的前置/后置脚本不会执行,请把代码写进脚本本身"),
    ),
]
_CJK = re.compile(r"[\u4e00-\u9fff]")


def problem_for_owner(problem: Problem) -> Problem:
    """The same problem (element, line, severity) with a message an owner can read."""
    message = problem.message or ""
    if _CJK.search(message):
        return problem  # ours: already in the user's language
    for pattern, text in _KNOWN:
        match = pattern.search(message)
        if match:
            logger.info("diagram problem at %s (line %s): %s", problem.element, problem.line, message)
            return replace(problem, message=_with_line(text(match), problem.line))
    logger.warning(
        "diagram problem without an owner text at %s (line %s): %s", problem.element, problem.line, message
    )
    return replace(
        problem,
        message=_with_line(
            _("流程图的这一部分无法被流程引擎接受,请检查它的设置(详细原因已记录,可联系管理员)"), problem.line
        ),
    )


def _with_line(text: str, line: int | None) -> str:
    return _("%(text)s(第 %(line)s 行)") % {"text": text, "line": line} if line else text


def problems_for_owner(problems: list[Problem]) -> list[Problem]:
    return [problem_for_owner(p) for p in problems]
