from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from backend.common.exceptions import ValidationFailed
from backend.common.throttling import DocumentVerifyThrottle, address_throttle_wait
from backend.customers.documents import printed_document_verify, printed_pdf_verify, uploaded_pdf_read

# The three answers a customer reads, from the detailed verdicts of the verification services.
ANSWERS = {
    "genuine": "genuine",
    "reprint": "genuine",
    "superseded": "genuine",
    "tampered": "altered",
    "unsigned": "unknown",
    "unreadable": "unknown",
    "unknown": "unknown",
}
DOCUMENT_NUMBER_MAX = 64


def _throttled(request: HttpRequest, context: dict) -> HttpResponse | None:
    wait = address_throttle_wait(DocumentVerifyThrottle, request)
    if wait is None:
        return None
    context["upload_errors"] = [_("核验过于频繁，请 %(seconds)s 秒后再试。") % {"seconds": wait}]
    response = render(request, "web/verify.html", context, status=429)
    response["Retry-After"] = str(wait)
    return response


def _upload_checked(request: HttpRequest, context: dict, document_id: str | None) -> HttpResponse | None:
    """Verify the uploaded PDF into `context`; a response when it is refused (throttle, 400)."""
    refused = _throttled(request, context)
    if refused is not None:
        return refused
    try:
        upload = printed_pdf_verify(pdf=uploaded_pdf_read(request.FILES.get("pdf")), document_id=document_id)
    except ValidationFailed as exc:
        context["upload_errors"] = exc.field_errors.get("pdf", [exc.message])
        return render(request, "web/verify.html", context, status=400)
    context["upload"] = {**upload, "answer": ANSWERS.get(upload["verdict"], "unknown")}
    return None


@require_http_methods(["GET", "POST"])
def verify_start(request: HttpRequest) -> HttpResponse:
    """Public: anyone holding a printed form types its document number (printed under the QR
    code) or uploads its PDF, or both, and reads whether it is genuine, altered or unknown."""
    data = request.POST if request.method == "POST" else request.GET
    number = (data.get("document") or "").strip()
    context: dict = {"start": True, "number": number}
    if len(number) > DOCUMENT_NUMBER_MAX:
        context["number_errors"] = [_("单证编号过长，请核对后重新输入。")]
        return render(request, "web/verify.html", context, status=400)
    if request.method == "POST" and request.FILES.get("pdf") is not None:
        refused = _upload_checked(request, context, number or None)
        if refused is not None:
            return refused
        if number:
            context["result"] = printed_document_verify(document_id=number)
        return render(request, "web/verify.html", context)
    if number:
        result = printed_document_verify(document_id=number, sha256=data.get("sha256", ""))
        context["result"] = result
        return render(request, "web/verify.html", context, status=200 if result["found"] else 404)
    if request.method == "POST":
        context["number_errors"] = [_("请输入单证编号，或选择要核验的 PDF 文件。")]
        return render(request, "web/verify.html", context, status=400)
    return render(request, "web/verify.html", context)


@require_http_methods(["GET", "POST"])
def verify_document(request: HttpRequest, document_id: str) -> HttpResponse:
    """Public: the target of the QR code printed on every form; a PDF may be uploaded here to
    learn whether it is genuine, tampered, a reprint or superseded by a newer version."""
    result = printed_document_verify(document_id=document_id, sha256=request.GET.get("sha256", ""))
    context = {"result": result, "document_id": document_id, "number": document_id[:DOCUMENT_NUMBER_MAX]}
    if request.method == "POST" and result["found"]:
        refused = _upload_checked(request, context, document_id)
        if refused is not None:
            return refused
    return render(request, "web/verify.html", context, status=200 if result["found"] else 404)
