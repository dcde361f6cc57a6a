from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from backend.customers.selectors import printed_document_verify

KIND_LABELS = {"collection_card": "客户信息资料采集卡"}


def verify_document(request: HttpRequest, document_id: str) -> HttpResponse:
    """Public: the target of the QR code printed on every form."""
    result = printed_document_verify(document_id=document_id, sha256=request.GET.get("sha256", ""))
    result["kind_label"] = KIND_LABELS.get(result.get("kind", ""), result.get("kind", ""))
    return render(request, "web/verify.html", {"result": result}, status=200 if result["found"] else 404)
