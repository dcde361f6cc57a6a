"""批量打印 pages: start a batch from the customer list, watch its progress, download it."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from backend.common.exceptions import ValidationFailed
from backend.customers.batch_printing import (
    print_batch_get_visible,
    print_batch_pdf_download,
    print_batch_request,
    print_batch_view,
)
from backend.web.views.base import form_errors, page_view
from pdfs.responses import pdf_response


@require_POST
@page_view
def print_batch_new(request: HttpRequest) -> HttpResponse:
    ids = request.POST.getlist("customer_ids")
    try:
        batch = print_batch_request(
            actor=request.user, customer_ids=ids, reason=request.POST.get("reason", "")
        )
    except ValidationFailed as exc:
        context = {
            "customer_ids": ids,
            "reason": request.POST.get("reason", ""),
            **form_errors(exc, ["reason"]),
        }
        return render(request, "web/print_batch_reason.html", context, status=400)
    return redirect("print-batch", batch_id=batch.pk)


@page_view
def print_batch_page(request: HttpRequest, batch_id: str) -> HttpResponse:
    batch = print_batch_get_visible(user=request.user, batch_id=batch_id)
    return render(request, "web/print_batch.html", {"batch": print_batch_view(batch)})


@page_view
def print_batch_progress(request: HttpRequest, batch_id: str) -> HttpResponse:
    """The progress fragment the page polls (htmx, every second until done)."""
    batch = print_batch_get_visible(user=request.user, batch_id=batch_id)
    return render(request, "web/_print_batch_progress.html", {"batch": print_batch_view(batch)})


@page_view
def print_batch_pdf(request: HttpRequest, batch_id: str) -> HttpResponse:
    content, batch = print_batch_pdf_download(user=request.user, batch_id=batch_id)
    return pdf_response(content, filename=f"print-batch-{batch.pk}.pdf", document_id=batch.document_id)
