"""Printing a form is a write (a numbered print record, an audit event, a signature), so it is
a POST, never a GET: `POST <form>.pdf` prints (the first print is the original; a later one is a
copy and needs `reason`), `POST <form>/reprint/` prints a copy and always needs `reason`.
A GET on either answers 405 and changes nothing."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.views import APIView

from backend.common.exceptions import ValidationFailed
from pdfs.responses import pdf_response


class PrintInputSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


def reprint_reason_required() -> ValidationFailed:
    return ValidationFailed(
        _("重新打印为副本，请填写重印原因。"),
        field_errors={"reason": [_("请填写重印原因。")]},
        code="reprint_reason_required",
    )


class PrintApi(APIView):
    """One printable form. Subclasses implement `print_form(request, reason, **kwargs)` →
    (pdf, document, filename). `reprint=True` (the …/reprint/ route) makes `reason` required."""

    reprint = False
    parser_classes = [JSONParser, FormParser, MultiPartParser]
    input_serializer = PrintInputSerializer

    def print_form(self, request, reason: str, **kwargs: Any) -> tuple[bytes, Any, str]:
        raise NotImplementedError

    def reason(self, request) -> str:
        data = self.input_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        reason = data.validated_data.get("reason", "")
        if self.reprint and not reason.strip():
            raise reprint_reason_required()
        return reason

    @extend_schema(request=PrintInputSerializer, responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def post(self, request, **kwargs: Any) -> HttpResponse:
        pdf, document, filename = self.print_form(request, self.reason(request), **kwargs)
        return pdf_response(pdf, filename=filename, document_id=document.id, copy_number=document.copy_number)
