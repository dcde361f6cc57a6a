"""流程: deployed definitions, diagram upload and test instances (process owners)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from backend.common.exceptions import ApplicationError, ValidationFailed
from backend.web.views.base import form_errors, page_view
from processes.services import process_definition_list, process_definition_upload, process_test_instance_start
from tasks.models import HumanTask, TaskStatus


def _render(request: HttpRequest, *, upload_error=None, start_error=None, started=None, values=None) -> HttpResponse:
    # Process owners and compliance only (403 for everyone else).
    definitions = [{"key": v.definition.key, "name": v.definition.name, "version": v} for v in process_definition_list(actor=request.user)]
    error = upload_error or start_error
    context = {
        "definitions": definitions,
        "upload": form_errors(upload_error, ["file"]),
        "start": form_errors(start_error, ["process", "data"]),
        "started": started,
        "values": values or {"process": "", "data": "{}"},
    }
    return render(request, "web/processes.html", context, status=error.status_code if error else 200)


@page_view
def process_list(request: HttpRequest) -> HttpResponse:
    return _render(request)


@require_POST
@page_view
def process_upload(request: HttpRequest) -> HttpResponse:
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise ValidationFailed.field("file", _("请上传 BPMN 文件"))
        version, created = process_definition_upload(actor=request.user, data=upload.read(), filename=upload.name or "diagram.bpmn")
    except ApplicationError as exc:
        if exc.status_code == 403:
            raise  # the error page: a refused user does not get the definitions list either
        return _render(request, upload_error=exc)
    except UnicodeDecodeError:
        # Workaround: process_version_deploy stores the XML with data.decode("utf-8") and lets a
        # well-formed diagram in another encoding escape as UnicodeDecodeError (reported).
        return _render(request, upload_error=ValidationFailed.field("file", _("流程图文件须为 UTF-8 编码")))
    params = {"key": version.definition.key, "version": version.version}
    if created:
        messages.success(request, _("已部署 %(key)s 版本 %(version)s") % params)
    else:
        messages.info(request, _("内容未变化:%(key)s 版本 %(version)s 已部署") % params)
    return redirect("processes")


@require_POST
@page_view
def process_test_start(request: HttpRequest) -> HttpResponse:
    values = {"process": request.POST.get("process", ""), "data": request.POST.get("data", "") or "{}"}
    try:
        try:
            data = json.loads(values["data"])
        except ValueError as exc:
            raise ValidationFailed.field("data", _("不是有效的 JSON:%(error)s") % {"error": exc})
        except RecursionError:
            raise ValidationFailed.field("data", _("JSON 嵌套层次过深"))
        instance = process_test_instance_start(actor=request.user, key=values["process"], data=data)
    except ApplicationError as exc:
        if exc.status_code == 403:
            raise
        return _render(request, start_error=exc, values=values)
    started = {
        "instance": instance,
        "ready_tasks": list(HumanTask.objects.filter(instance=instance, status=TaskStatus.READY).order_by("id")),
    }
    return _render(request, started=started, values=values)
