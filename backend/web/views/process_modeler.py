"""流程建模: drafts, the bpmn-js modeler page, versions and their diff (process owners)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from backend.common.exceptions import ApplicationError, ValidationFailed
from backend.organisation.models import Role
from backend.organisation.selectors import user_has_role
from backend.web.views.base import form_errors, page_view
from backend.web.views.tasks import _form_rows
from processes.drafts import (
    draft_content_sha256,
    draft_errors,
    draft_form_raw,
    modeler_catalog,
    process_draft_create,
    process_draft_form_preview,
    process_draft_form_save,
    process_draft_get,
    process_draft_list,
    process_version_diff,
    process_versions,
)
from processes.instance_migrations import instance_migration_rollback, instances_migrate
from processes.models import DraftStatus, ProcessDefinition
from tasks.case_diagram import instance_overview


def _modeler_labels() -> dict[str, str]:
    return {
        "choose": _("(请选择)"),
        "unknown": _("未知"),
        "select_element": _("选择图中的元素以编辑其属性"),
        "lane_role": _("泳道 → 角色"),
        "lane_help": _("泳道名称决定由哪个角色、在相对案件机构的哪一级处理任务。"),
        "form": _("表单"),
        "deadline": _("时限"),
        "deadline_help": _("已配置的时限名称,或时长:PT48H(小时)、P3D(天)、P5WD(工作日)。修改后任务上的定时器随之更新。已配置:"),
        "operation": _("服务操作"),
        "timer": _("定时器表达式"),
        "timer_help": _("表达式须给出文本,如 \"PT48H\" 或 deadline(\"review\")。"),
        "warning": _("警告"),
        "error": _("错误"),
        "saving": _("正在保存并校验……"),
        "saved": _("已保存,校验通过"),
        "saved_with_problems": _("已保存,发现 %s 个错误"),
        "saved_with_warnings": _("已保存,没有错误;%s 条警告"),
        "failed": _("操作失败"),
        "requested": _("已申请发布,等待另一位流程管理员审批"),
        "approved": _("已批准并发布新版本"),
        "rejected": _("已驳回"),
        "import_warnings": _("流程图导入时有 %s 条警告"),
        "import_failed": _("流程图无法打开:"),
        "edit_form": _("编辑表单"),
        "leave_confirm": _("有尚未保存的修改,离开此页将丢失这些修改。确定离开吗?"),
        "server_error": _("服务器出错,修改尚未保存。请稍后重试;问题已记录。"),
        "network_error": _("无法连接服务器,修改尚未保存。请检查网络后重试。"),
        "list_separator": _(","),
    }


@page_view
def draft_list(request: HttpRequest, error: ApplicationError | None = None, key: str = "") -> HttpResponse:
    drafts = list(process_draft_list(actor=request.user)[:100])
    keys = list(ProcessDefinition.objects.order_by("key").values_list("key", "name"))
    context = {"drafts": drafts, "keys": keys, "new": form_errors(error, ["key", "bpmn_xml"]), "key": key}
    return render(request, "web/process_drafts.html", context, status=error.status_code if error else 200)


@require_POST
@page_view
def draft_new(request: HttpRequest) -> HttpResponse:
    key = request.POST.get("key", "")
    upload = request.FILES.get("file")
    try:
        xml = upload.read() if upload is not None else None
        if xml is not None and len(xml) > 50 * 1024 * 1024:
            raise ValidationFailed.field("bpmn_xml", _("文件过大"))
        draft = process_draft_create(actor=request.user, key=key, bpmn_xml=xml or None)
    except ApplicationError as exc:
        return draft_list(request, error=exc, key=key)
    return redirect("process-modeler", draft_id=draft.pk)


@page_view
def modeler(request: HttpRequest, draft_id: int) -> HttpResponse:
    draft = process_draft_get(actor=request.user, draft_id=draft_id)
    config = {
        # content_sha256: the hash of exactly the text rendered here; approving sends it back and
        # the server refuses (409) if the draft changed since this page was rendered.
        "draft": {
            "id": draft.pk,
            "status": draft.status,
            "row_version": draft.row_version,
            "bpmn_xml": draft.bpmn_xml,
            "problems": draft.problems,
            "content_sha256": draft_content_sha256(draft),
        },
        "catalog": modeler_catalog(actor=request.user),
        "urls": {
            "save": reverse("api-process-draft", args=[draft.pk]),
            "request": reverse("api-process-draft-request", args=[draft.pk]),
            "approve": reverse("api-process-draft-approve", args=[draft.pk]),
            "reject": reverse("api-process-draft-reject", args=[draft.pk]),
            # The form editor of a user task's form: this prefix + the form key + "/".
            "form_editor": reverse("process-draft-form", args=[draft.pk, "x"])[:-2],
        },
        "csrf": get_token(request),
        "labels": _modeler_labels(),
    }
    # Compliance reads drafts too; only process owners edit and decide.
    owner = request.user.is_superuser or user_has_role(request.user, Role.PROCESS_OWNER)
    editable = owner and draft.status in (DraftStatus.DRAFT, DraftStatus.REJECTED, DraftStatus.PENDING)
    config["editable"] = editable
    may_decide = owner and draft.status == DraftStatus.PENDING and request.user.pk not in (draft.requested_by_id, draft.updated_by_id)
    context = {
        "draft": draft,
        "config": config,
        "editable": editable,
        "may_decide": may_decide,
        "has_errors": bool(draft_errors(draft)),
    }
    return render(request, "web/process_modeler.html", context)


@page_view
def versions(request: HttpRequest, key: str, migration: dict | None = None, migration_error: ApplicationError | None = None) -> HttpResponse:
    found = list(process_versions(actor=request.user, key=key))
    diff, diff_error = None, None
    old, new = request.GET.get("old"), request.GET.get("new")
    if not (old and new) and len(found) >= 2:
        old, new = str(found[1].version), str(found[0].version)  # the latest change by default
    if old and new:
        try:
            diff = process_version_diff(actor=request.user, key=key, old=int(old), new=int(new))
        except ValueError:
            diff_error = _("请选择两个版本")
        except ApplicationError as exc:
            diff_error = exc.message
    context = {
        "key": key,
        "versions": found,
        "diff": diff,
        "diff_error": diff_error,
        "old": old,
        "new": new,
        "migration": migration,
        "outcome_labels": {
            "can_move": _("可迁移"),
            "migrated": _("已迁移"),
            "incompatible": _("不可迁移"),
            "skipped": _("跳过"),
            "failed": _("失败"),
            "not_found": _("不存在"),
        },
        "migrate": form_errors(migration_error, ["from_version", "target_version", "instances"]),
        "migrate_values": request.POST if request.method == "POST" else {},
    }
    return render(request, "web/process_versions.html", context, status=migration_error.status_code if migration_error else 200)


@require_POST
@page_view
def migrate(request: HttpRequest, key: str) -> HttpResponse:
    raw_ids = [p for p in request.POST.get("instances", "").replace(",", " ").split() if p]
    try:
        try:
            ids = [int(p) for p in raw_ids] or None
        except ValueError:
            raise ValidationFailed.field("instances", _("实例编号须为整数,用逗号或空格分隔"))
        result = instances_migrate(
            actor=request.user,
            key=key,
            target_version=request.POST.get("target_version"),
            from_version=request.POST.get("from_version") if ids is None else None,
            instance_ids=ids,
            dry_run=request.POST.get("run") != "1",
        )
    except ApplicationError as exc:
        return versions(request, key, migration_error=exc)
    return versions(request, key, migration=result)


@require_POST
@page_view
def migration_rollback(request: HttpRequest, key: str, migration_id: int) -> HttpResponse:
    migration = instance_migration_rollback(actor=request.user, migration_id=migration_id)
    messages.success(request, _("实例 #%(id)s 已回滚到版本 %(v)s") % {"id": migration.instance_id, "v": migration.from_version.version})
    return redirect("process-versions", key=key)


@page_view
def instance_view(request: HttpRequest, instance_id: int) -> HttpResponse:
    overview = instance_overview(user=request.user, instance_id=instance_id)
    config = {
        "bpmn_xml": overview["bpmn_xml"],
        "completed": overview["completed"],
        "current": overview["current"],
        "overdue": overview["overdue"],
        "failed": overview["failed"],
        "incidents": {i.element: i.message for i in overview["incidents"] if i.element},
    }
    data_json = json.dumps(overview["data"], ensure_ascii=False, indent=2, sort_keys=True, default=str)
    return render(request, "web/process_instance.html", {**overview, "config": config, "data_json": data_json})


# ---- forms edited with the draft ---------------------------------------------------------------


def _definition_text(raw: dict) -> str:
    return json.dumps(raw, ensure_ascii=False, indent=2)


@page_view
def draft_form(request: HttpRequest, draft_id: int, form_key: str) -> HttpResponse:
    """编辑表单: the form's JSON with a live preview (the task page's fields), saved into the draft."""
    draft = process_draft_get(actor=request.user, draft_id=draft_id)
    error: ApplicationError | None = None
    text = None
    if request.method == "POST":
        text = request.POST.get("definition", "")
        try:
            process_draft_form_save(actor=request.user, draft_id=draft.pk, form_key=form_key, definition=text)
        except ApplicationError as exc:
            error = exc
        else:
            messages.success(request, _("表单“%(key)s”已保存到草稿") % {"key": form_key})
            return redirect("process-draft-form", draft_id=draft.pk, form_key=form_key)
    raw = draft_form_raw(draft, form_key)
    if text is None:
        text = _definition_text(raw)
    preview = _preview_context(request, text)
    context = {
        "draft": draft,
        "form_key": form_key,
        "definition": text,
        "edited": form_key in (draft.forms or {}),
        "editable": draft.status != DraftStatus.PUBLISHED and (request.user.is_superuser or user_has_role(request.user, Role.PROCESS_OWNER)),
        **preview,
        **form_errors(error, ["definition"]),
    }
    return render(request, "web/process_form_editor.html", context, status=error.status_code if error else 200)


def _preview_context(request: HttpRequest, text: str) -> dict:
    try:
        form = process_draft_form_preview(actor=request.user, definition=text)
    except ValidationFailed as exc:
        return {"preview_form": None, "form_rows": [], "preview_errors": [m for v in exc.field_errors.values() for m in v] or [exc.message]}
    return {"preview_form": form, "form_rows": _form_rows(form.fields(), {}, {}), "preview_errors": []}


@require_POST
@page_view
def draft_form_preview(request: HttpRequest, draft_id: int) -> HttpResponse:
    """htmx: the posted definition checked and rendered as the task page renders it, or its errors."""
    process_draft_get(actor=request.user, draft_id=draft_id)
    return render(request, "web/_form_preview.html", _preview_context(request, request.POST.get("definition", "")))
