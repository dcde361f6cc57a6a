from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api.views.printing import PrintApi
from backend.customers.printing import opening_form_print
from backend.customers.scans import opening_scan_open, scan_filename
from backend.customers.selectors import id_validity_text, opening_get_visible, opening_scan_url
from backend.customers.services import account_opening_submit


class OpeningOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField(source="customer.status")
    customer_id = serializers.IntegerField()
    process_instance_id = serializers.IntegerField(allow_null=True)
    info_level = serializers.CharField()
    customer_type = serializers.CharField(source="customer.customer_type")
    flags = serializers.ListField(child=serializers.CharField())
    id_valid_until = serializers.SerializerMethodField(help_text="YYYY-MM-DD、long_term 或 null(未登记)")
    scan_url = serializers.SerializerMethodField(help_text="证件扫描件(每次查看都被记录);没有扫描件时为 null")

    def get_id_valid_until(self, opening) -> str | None:
        return id_validity_text(opening.customer) or None

    def get_scan_url(self, opening) -> str | None:
        return opening_scan_url(opening)
    # Seed 003 §1.1.1: who gathered the data (采集人) and which officer opened it (客户信息管理岗);
    # `opened_by` is null while a collector's submission waits for the officer.
    collector = serializers.CharField(source="collector.username", allow_null=True, read_only=True)
    opened_by = serializers.CharField(source="opened_by.username", allow_null=True, read_only=True)
    opened_at = serializers.DateTimeField(allow_null=True)
    return_count = serializers.IntegerField()


class AccountOpeningCreateApi(APIView):
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    class InputSerializer(serializers.Serializer):
        # Every rule (and its Chinese message) lives in the service; this only shapes input.
        info_level = serializers.CharField(required=False, allow_blank=True, default="")
        name = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)
        id_type = serializers.CharField(required=False, allow_blank=True, default="")
        id_number = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)
        phone = serializers.CharField(required=False, allow_blank=True, default="")
        address = serializers.CharField(required=False, allow_blank=True, default="")
        email = serializers.CharField(required=False, allow_blank=True, default="")
        scan = serializers.FileField(required=False, allow_empty_file=True)
        customer_type = serializers.CharField(required=False, allow_blank=True, default="individual")
        legal_rep_name = serializers.CharField(required=False, allow_blank=True, default="")
        legal_rep_id_type = serializers.CharField(required=False, allow_blank=True, default="")
        legal_rep_id_number = serializers.CharField(required=False, allow_blank=True, default="")
        contact_person = serializers.CharField(required=False, allow_blank=True, default="")
        id_valid_until = serializers.CharField(
            required=False,
            allow_blank=True,
            default="",
            help_text="证件有效期至: YYYY-MM-DD,长期有效填 long_term 或“长期”;高级程度的居民身份证必填",
        )
        # An officer opening on behalf of a collector names him (username); 400 on this field for
        # an unknown user or one who is not a collector in the officer's scope.
        collector = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(request={"multipart/form-data": InputSerializer}, responses={201: OpeningOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        opening = account_opening_submit(actor=request.user, **data.validated_data)
        return Response(OpeningOutputSerializer(opening).data, status=status.HTTP_201_CREATED)


class AccountOpeningDetailApi(APIView):
    @extend_schema(responses={200: OpeningOutputSerializer})
    def get(self, request, opening_id: int):
        opening = opening_get_visible(user=request.user, opening_id=opening_id)
        return Response(OpeningOutputSerializer(opening).data)


class AccountOpeningScanApi(APIView):
    """The opening's identity scan (PDF, JPEG or PNG), inline. Only users who may see the case
    get it (others 404); every view is a reveal event of kind `scan` and an audit event."""

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY)})
    def get(self, request, opening_id: int):
        document, handle = opening_scan_open(actor=request.user, opening_id=opening_id)
        response = FileResponse(
            handle, content_type=document.content_type, filename=scan_filename(document, opening_id)
        )
        # Each view must reach the server (and be recorded); the task page may frame a PDF.
        response["Cache-Control"] = "private, no-store"
        response["X-Content-Type-Options"] = "nosniff"
        response["X-Frame-Options"] = "SAMEORIGIN"
        return response


class AccountOpeningFormPdfApi(PrintApi):
    def print_form(self, request, reason, opening_id: int):
        opening = opening_get_visible(user=request.user, opening_id=opening_id)
        pdf, document = opening_form_print(actor=request.user, opening=opening, reason=reason)
        return pdf, document, f"opening-{opening.pk}.pdf"
