"""历史导入 (upload with a progress bar) and 数据质量 pages."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from backend.common.exceptions import ApplicationError
from backend.integrations.imports import import_batch_create
from backend.integrations.quality import data_quality
from backend.integrations.selectors import import_batch_get_visible, import_batch_list, import_batch_view
from backend.web.views.base import form_errors, page_view


@page_view
def imports_page(request: HttpRequest) -> HttpResponse:
    exc = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            batch = import_batch_create(
                actor=request.user, fileobj=upload, filename=getattr(upload, "name", "")
            )
        except ApplicationError as error:
            exc = error
        else:
            messages.success(request, _("文件已上传,正在导入(导入号 %(id)s)") % {"id": batch.pk})
            return redirect("import-detail", batch_id=batch.pk)
    context = {
        "batches": [import_batch_view(b) for b in import_batch_list(user=request.user)],
        **form_errors(exc, ("file",)),
    }
    return render(request, "web/imports.html", context, status=exc.status_code if exc else 200)


@page_view
def import_detail(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = import_batch_view(import_batch_get_visible(user=request.user, batch_id=batch_id))
    return render(request, "web/import_detail.html", {"batch": batch})


@page_view
def import_progress(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = import_batch_view(import_batch_get_visible(user=request.user, batch_id=batch_id))
    return render(request, "web/_import_progress.html", {"batch": batch})


@page_view
def data_quality_page(request: HttpRequest) -> HttpResponse:
    return render(request, "web/data_quality.html", {"branches": data_quality(user=request.user)})
