from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from backend.common.exceptions import ValidationFailed
from backend.common.throttling import DocumentVerifyThrottle, address_throttle_wait
from backend.customers.documents import printed_document_verify, printed_pdf_verify, uploaded_pdf_read


@require_http_methods(["GET", "POST"])
def verify_document(request: HttpRequest, document_id: str) -> HttpResponse:
    """Public: the target of the QR code printed on every form; a PDF may be uploaded here to
    learn whether it is genuine, tampered, a reprint or superseded by a newer version."""
    result = printed_document_verify(document_id=document_id, sha256=request.GET.get("sha256", ""))
    context = {"result": result, "document_id": document_id}
    if request.method == "POST" and result["found"]:
        wait = address_throttle_wait(DocumentVerifyThrottle, request)
        if wait is not None:
            context["upload_errors"] = [_("核验过于频繁，请 %(seconds)s 秒后再试。") % {"seconds": wait}]
            response = render(request, "web/verify.html", context, status=429)
            response["Retry-After"] = str(wait)
            return response
        try:
            context["upload"] = printed_pdf_verify(
                pdf=uploaded_pdf_read(request.FILES.get("pdf")), document_id=document_id
            )
        except ValidationFailed as exc:
            context["upload_errors"] = exc.field_errors.get("pdf", [exc.message])
            return render(request, "web/verify.html", context, status=400)
    return render(request, "web/verify.html", context, status=200 if result["found"] else 404)
