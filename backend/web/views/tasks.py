"""待办: the inbox, the task page (case + form), claim and release, 转办 transfer and 催办 remind."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from backend.common.exceptions import ApplicationError, NotFound
from backend.customers.selectors import PERSONAL_FIELDS
from backend.web.views.base import error_page, form_errors, is_htmx, page_view, paginate, safe_next
from processes.services import instance_form
from processes.types import GENERIC_CASE_TEMPLATE, process_type_for_case, process_type_label
from tasks.actions import task_copy, task_remind, task_transfer
from tasks.cases import case_view_for
from tasks.comments import case_timeline
from tasks.flow import (
    task_delegate,
    task_return,
    task_return_targets,
    task_signer_add,
    task_signer_decide,
    task_signer_remove,
)
from tasks.inbox import SEARCH_MAX, inbox_params_clean, inbox_rows_attach, text_clean
from tasks.models import HumanTask, TaskStatus
from tasks.neighbours import task_inbox_neighbours
from tasks.selectors import (
    task_get_visible,
    task_inbox,
    task_inbox_counts,
    task_transfer_targets,
    user_is_candidate,
)
from tasks.services import task_claim, task_complete, task_unclaim
from tasks.tabs import task_inbox_listing
from tasks.timing import task_times

# The task page's small forms besides the task's own form, and the fields each posts.
ACTION_FIELDS = {
    "transfer": ("to", "reason"),
    "remind": ("message",),
    "return": ("target", "reason"),
    "delegate": ("to", "reason"),
    "signer": ("user", "position", "reason"),
    "sign": ("decision", "comment"),
    "copy": ("to", "note"),
}
# The forms that sit in a dialog behind the toolbar: a refused one opens again with its messages.
DIALOG_ACTIONS = {"transfer", "remind", "return", "delegate", "signer", "copy"}


# ---- inbox -----------------------------------------------------------------------------------


INBOX_TABS = (
    ("all", _lazy("全部"), "count-total", "total"),
    ("mine", _lazy("我的"), "count-mine", "mine"),
    ("group", _lazy("组内"), "count-group", "group"),
    ("overdue", _lazy("已超时"), "count-overdue", "overdue"),
    ("due_soon", _lazy("即将到期"), "count-due-soon", "due_soon"),
)
INBOX_SORTS = (("due", _lazy("到期时间（超时在前）")), ("received", _lazy("收到时间（最新在前）")), ("priority", _lazy("优先级")))


def _inbox_tabs_context(params, counts: dict[str, int], seen: int | None = None) -> dict[str, Any]:
    """The tabs and their counts; `seen`: the total the page was rendered with (the poll keeps
    it), so a poll that finds another total offers to refresh the rows."""
    seen = counts["total"] if seen is None else seen
    return {
        "seen": seen,
        "changed": seen != counts["total"],
        "tabs": [{"key": key, "param": "" if key == "all" else key, "label": label, "testid": testid, "count": counts[name], "active": key == params.tab} for key, label, testid, name in INBOX_TABS],
        "params": params,
    }


@page_view
def inbox(request: HttpRequest) -> HttpResponse:
    params = inbox_params_clean(request.GET)
    tasks = task_inbox(user=request.user)
    processes = sorted({(key, process_type_label(key, name)) for key, name in tasks.order_by().values_list("process_key", "process_name")})
    process = text_clean(request.GET.get("process"))
    counts = task_inbox_counts(user=request.user)
    # One tab, narrowed by the filters, in one sort (tasks/inbox.py); read arm by arm (P4). Not
    # narrowed beyond its tab, its total is that tab's count: no second COUNT.
    rows, known_count = task_inbox_listing(
        user=request.user, tab=params.tab, sort=params.sort, filters={"process": process, "q": params.q}, counts=counts
    )
    page = paginate(request, rows, **({} if known_count is None else {"known_count": known_count}))
    page.object_list = inbox_rows_attach(list(page.object_list))  # the cases: one query per case model
    times = task_times(page.object_list)  # the rows' time and history: one query for the page
    for task in page.object_list:
        task.timing = times[task.pk]
    context = {
        "page": page,
        "counts": counts,
        "processes": processes,
        "process": process,
        "q": params.q,
        "sort": params.sort,
        "sorts": INBOX_SORTS,
        "search_max": SEARCH_MAX,
        "inbox_empty": counts["total"] == 0,
        **_inbox_tabs_context(params, counts),
    }
    return render(request, "web/inbox.html", context)


@page_view
def inbox_counts(request: HttpRequest) -> HttpResponse:
    """The tabs with their counts, polled by the inbox page (htmx, every 30 s)."""
    params = inbox_params_clean(request.GET)
    counts = task_inbox_counts(user=request.user)
    seen = request.GET.get("seen", "")
    seen_total = int(seen) if seen.isascii() and seen.isdigit() and len(seen) < 10 else None
    return render(request, "web/_inbox_tabs.html", _inbox_tabs_context(params, counts, seen_total))


def _claim_action(request: HttpRequest, task_id: int, action, done_message: str) -> HttpResponse:
    try:
        task = action(actor=request.user, task_id=task_id)
    except ApplicationError as exc:
        if is_htmx(request):
            response = render(request, "web/_flash.html", {"flash_error": exc.message}, status=exc.status_code)
            response["HX-Retarget"] = "#flash"
            response["HX-Reswap"] = "innerHTML"
            return response
        if isinstance(exc, NotFound):
            return error_page(request, exc)
        return _task_page(request, task_id, error=exc)
    if is_htmx(request):
        inbox_rows_attach([task])
        response = render(request, "web/_task_row.html", {"task": task, "just_changed": done_message})
        response["HX-Trigger"] = "inbox-changed"  # the tabs' counts refresh at once (_inbox_tabs.html)
        return response
    messages.success(request, done_message)
    return redirect(safe_next(request, reverse("task-detail", args=[task.pk])))


@require_POST
@page_view
def claim(request: HttpRequest, task_id: int) -> HttpResponse:
    return _claim_action(request, task_id, task_claim, _("已认领任务"))


@require_POST
@page_view
def unclaim(request: HttpRequest, task_id: int) -> HttpResponse:
    return _claim_action(request, task_id, task_unclaim, _("已释放任务"))


# ---- task page -------------------------------------------------------------------------------


def _submitted_data(fields: list[dict[str, Any]], post) -> dict[str, Any]:
    """The form's fields from the POST body, shaped to the schema's JSON types (the form's
    schema and the domain validator decide what is valid)."""
    data: dict[str, Any] = {}
    for field in fields:
        name, kind = field["name"], field["type"]
        if kind == "boolean":
            data[name] = post.get(name) in {"on", "true", "1"}
            continue
        if name not in post:
            continue
        value = post.get(name)
        if kind in {"integer", "number"} and value.strip():
            try:
                value = int(value) if kind == "integer" else float(value)
            except ValueError:
                pass  # left as text: the schema reports the type error on the field
        data[name] = value
    return data


def _case_context(request: HttpRequest, task: HumanTask) -> dict[str, Any] | None:
    case = case_view_for(user=request.user, case_type=task.case_type, case_id=task.case_id)
    if case is None:
        return None
    # The case's section of the page, as its process type declares it (processes/types.py).
    process_type = process_type_for_case(task.case_type)
    case["template"] = process_type.case_template if process_type else GENERIC_CASE_TEMPLATE
    if process_type and process_type.page_sections:
        case.update(process_type.page_sections(case))
    return case


def _prefill(fields: list[dict[str, Any]], case: dict[str, Any] | None) -> dict[str, Any]:
    """Start values of the form: the customer's current values (for the fix form), except
    personal fields this user sees only masked: a masked value must never be sent back."""
    if not case:
        return {}
    customer = case.get("customer") or {}
    values = {}
    for field in fields:
        name = field["name"]
        if name not in customer or (customer.get("masked") and name in PERSONAL_FIELDS):
            continue
        values[name] = "" if customer[name] is None else str(customer[name])
    return values


def _form_rows(fields: list[dict[str, Any]], values: dict[str, Any], errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    rows = []
    for field in fields:
        value = values.get(field["name"], "")
        options = []
        if field["enum"]:
            labels = field["enum_labels"] or field["enum"]
            options = [{"value": v, "label": label, "checked": str(v) == str(value)} for v, label in zip(field["enum"], labels, strict=False)]
        rows.append({**field, "value": value, "options": options, "errors": errors.get(field["name"], [])})
    return rows


def _flag_rows(task: HumanTask, case: dict[str, Any] | None) -> list[dict[str, str]]:
    """The task's flags with the reason the case data gives for each (presentation only: the
    checks that raised them decided)."""
    case = case or {}
    shared = case.get("shared_phone") or {}
    sharing = shared.get("customers") or {}
    others = len(sharing.get("visible") or []) + (sharing.get("hidden_count") or 0)
    reasons = {}
    if others:
        reasons["shared_phone"] = _("与 %(n)d 位其他客户的电话号码相同") % {"n": others}
    if shared.get("agent_codes"):
        reasons["agent_phone"] = _("该号码登记为业务员电话：%(codes)s") % {"codes": "、".join(shared["agent_codes"])}
    hits = case.get("blacklist_hits") or []
    if hits:
        reasons["blacklist_hit"] = "；".join(f"{h.get('source', '')}（{h.get('reason', '')}）" for h in hits)
    return [{"flag": flag, "reason": reasons.get(flag, "")} for flag in task.flags or []]


def _history(request: HttpRequest, task: HumanTask) -> list[dict[str, Any]]:
    """The case's 办理记录 and 意见 (tasks.comments.case_timeline), each with its note."""
    return [
        {
            "at": e["at"],
            "actor": e["actor"] or _("系统"),
            "label": _(e["label"]) + (f"“{e['data']['name']}”" if (e["data"] or {}).get("name") else ""),
            "text": next((str(e["data"][k]) for k in ("comment", "reason", "message", "note") if (e["data"] or {}).get(k)), ""),
        }
        for e in case_timeline(user=request.user, task_id=task.pk)
    ]


def _started_by(task: HumanTask) -> int | None:
    """Who started the task's case (without reading the instance's saved state)."""
    return HumanTask.objects.filter(pk=task.pk).values_list("instance__started_by_id", flat=True).first()


def _approve_label(form_rows: list[dict[str, Any]]) -> str | None:
    """The label of the form's "approve" decision, if the form offers one (the `a` shortcut)."""
    for row in form_rows:
        if row["name"] == "decision":
            return next((o["label"] for o in row["options"] if o["value"] == "approve"), None)
    return None


def _task_page(
    request: HttpRequest, task_id: int, *, error: ApplicationError | None = None, posted=None, action: str = "complete"
) -> HttpResponse:
    """The task page; after a refused submit, re-rendered with the error and what was posted.
    `action` says which of its forms was posted: the task's form ("complete"), or one of
    ACTION_FIELDS (转办, 催办)."""
    task = task_get_visible(user=request.user, task_id=task_id)
    case = _case_context(request, task)
    form = instance_form(task.instance_id, task.form_key)
    fields = form.fields() if form else []
    completing = action == "complete"
    posted_form = posted if completing else None
    values = {k: posted_form.get(k, "") for k in posted_form} if posted_form is not None else _prefill(fields, case)
    errs = form_errors(error, [f["name"] for f in fields] if completing else ACTION_FIELDS[action])
    masked_fields = [
        f["label"] for f in fields if case and (case.get("customer") or {}).get("masked") and f["name"] in PERSONAL_FIELDS and posted_form is None
    ]
    is_ready = task.status == TaskStatus.READY
    mine = task.assignee_id == request.user.pk
    can_claim = is_ready and task.assignee_id is None and user_is_candidate(request.user, task)
    # Presentation only (task_transfer / task_remind enforce the rules): 转办 for whoever may
    # act on the task now, 催办 for anyone else who sees it.
    can_transfer = is_ready and (mine or can_claim)

    def action_context(name: str) -> dict[str, Any]:
        sent = posted if action == name and posted is not None else {}
        return {"errors": errs["errors"] if action == name else {}, "values": {f: sent.get(f, "") for f in ACTION_FIELDS[name]}}

    form_rows = _form_rows(fields, values, errs["errors"] if completing else {})
    previous_id, next_id = task_inbox_neighbours(user=request.user, task=task)
    may_act = is_ready and (mine or can_claim)
    context = {
        "task": task,
        "case": case,
        "form": form,
        "form_rows": form_rows,
        "flag_rows": _flag_rows(task, case),
        "history": _history(request, task),
        "previous_task_id": previous_id,
        "next_task_id": next_id,
        # The dialog of a refused action opens again, showing its field messages.
        "open_dialog": action if error is not None and action in DIALOG_ACTIONS else "",
        "approve_label": _approve_label(form_rows) if may_act and form else None,
        "masked_fields": masked_fields if form and form.key.endswith("fix_submission") else [],
        "is_ready": is_ready,
        "can_claim": can_claim,
        # Presentation only (task_unclaim enforces it): a submitter's own fix task is not released.
        "can_unclaim": is_ready and mine and task.lane != "collector",
        "is_review": bool(form) and any(f["name"] == "decision" for f in fields),
        "can_transfer": can_transfer,
        "transfer_targets": task_transfer_targets(task=task, actor=request.user) if can_transfer else [],
        "can_remind": is_ready and not mine,
        "transfer": action_context("transfer"),
        "remind": action_context("remind"),
        "return_ctx": action_context("return"),
        "delegate": action_context("delegate"),
        "signer_ctx": action_context("signer"),
        "sign_ctx": action_context("sign"),
        "return_targets": task_return_targets(task=task) if can_transfer else [],
        "signers": list(task.signers.select_related("user", "added_by")),
        "my_signature": next((sg for sg in task.signers.all() if sg.user_id == request.user.pk and sg.status == "pending"), None) if is_ready else None,
        "can_add_signer": can_transfer and task.four_eyes,
        "delegate_targets": task_transfer_targets(task=task, actor=request.user) if can_transfer else [],
        # Presentation only (task_copy / case_withdraw decide): 抄送 for whoever sees an open task,
        # 撤回 for the case's initiator while the open step is not in their hands.
        "can_copy": is_ready,
        "copy": action_context("copy"),
        "can_withdraw": is_ready and not mine and _started_by(task) == request.user.pk,
        **errs,
    }
    return render(request, "web/task_detail.html", context, status=error.status_code if error else 200)


@page_view
def task_detail(request: HttpRequest, task_id: int) -> HttpResponse:
    if request.method != "POST":
        return _task_page(request, task_id)
    task = task_get_visible(user=request.user, task_id=task_id)
    form = instance_form(task.instance_id, task.form_key)
    if form is None:
        return error_page(request, NotFound(_("该任务没有可提交的表单")))
    data = _submitted_data(form.fields(), request.POST)
    try:
        task_complete(actor=request.user, task_id=task.pk, data=data)
    except ApplicationError as exc:
        return _task_page(request, task.pk, error=exc, posted=request.POST)
    messages.success(request, _("任务“%(name)s”已提交") % {"name": task.name})
    return redirect("inbox")


def _action_refused(request: HttpRequest, task_id: int, exc: ApplicationError, action: str) -> HttpResponse:
    if isinstance(exc, NotFound):
        return error_page(request, exc)
    return _task_page(request, task_id, error=exc, posted=request.POST, action=action)


@require_POST
@page_view
def transfer(request: HttpRequest, task_id: int) -> HttpResponse:
    try:
        task = task_transfer(actor=request.user, task_id=task_id, to_username=request.POST.get("to", ""), reason=request.POST.get("reason", ""))
    except ApplicationError as exc:
        return _action_refused(request, task_id, exc, "transfer")
    messages.success(request, _("已转办给 %(user)s") % {"user": task.assignee.get_full_name() or task.assignee.username})
    return redirect("inbox")


@require_POST
@page_view
def remind(request: HttpRequest, task_id: int) -> HttpResponse:
    try:
        task_remind(actor=request.user, task_id=task_id, message=request.POST.get("message", ""))
    except ApplicationError as exc:
        return _action_refused(request, task_id, exc, "remind")
    messages.success(request, _("已催办"))
    return redirect("task-detail", task_id=task_id)


@require_POST
@page_view
def copy(request: HttpRequest, task_id: int) -> HttpResponse:
    # The recipients come as one text field: user names separated by commas or spaces.
    names = [n for n in re.split(r"[\s,，、;；]+", request.POST.get("to", "")) if n]
    try:
        sent = task_copy(actor=request.user, task_id=task_id, to_usernames=names, note=request.POST.get("note", ""))
    except ApplicationError as exc:
        return _action_refused(request, task_id, exc, "copy")
    if sent:
        messages.success(request, _("已抄送给 %(users)s") % {"users": "、".join(sent)})
    else:
        messages.success(request, _("已抄送过这些同事"))
    return redirect("task-detail", task_id=task_id)


@require_POST
@page_view
def return_task(request: HttpRequest, task_id: int) -> HttpResponse:
    try:
        new = task_return(actor=request.user, task_id=task_id, target_task_id=request.POST.get("target"), reason=request.POST.get("reason", ""))
    except ApplicationError as exc:
        return _action_refused(request, task_id, exc, "return")
    messages.success(request, _("已退回到“%(name)s”") % {"name": new.name})
    return redirect("inbox")


@require_POST
@page_view
def delegate(request: HttpRequest, task_id: int) -> HttpResponse:
    try:
        task = task_delegate(actor=request.user, task_id=task_id, to_username=request.POST.get("to", ""), reason=request.POST.get("reason", ""))
    except ApplicationError as exc:
        return _action_refused(request, task_id, exc, "delegate")
    messages.success(request, _("已委派给 %(user)s,办理后将回到您这里确认") % {"user": task.assignee.get_full_name() or task.assignee.username})
    return redirect("inbox")


@require_POST
@page_view
def add_signer(request: HttpRequest, task_id: int) -> HttpResponse:
    try:
        task_signer_add(actor=request.user, task_id=task_id, username=request.POST.get("user", ""), position=request.POST.get("position", ""), reason=request.POST.get("reason", ""))
    except ApplicationError as exc:
        return _action_refused(request, task_id, exc, "signer")
    messages.success(request, _("已加签"))
    return redirect("task-detail", task_id=task_id)


@require_POST
@page_view
def remove_signer(request: HttpRequest, task_id: int, signer_id: int) -> HttpResponse:
    try:
        task_signer_remove(actor=request.user, task_id=task_id, signer_id=signer_id)
    except ApplicationError as exc:
        return _action_refused(request, task_id, exc, "signer")
    messages.success(request, _("已减签"))
    return redirect("task-detail", task_id=task_id)


@require_POST
@page_view
def sign(request: HttpRequest, task_id: int) -> HttpResponse:
    try:
        task_signer_decide(actor=request.user, task_id=task_id, decision=request.POST.get("decision", ""), comment=request.POST.get("comment", ""))
    except ApplicationError as exc:
        return _action_refused(request, task_id, exc, "sign")
    messages.success(request, _("加签意见已提交"))
    return redirect("inbox")
