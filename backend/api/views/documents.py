"""Public verification of printed forms: by id (the QR code) and by uploading the PDF."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.common.exceptions import NotFound
from backend.common.throttling import DocumentVerifyThrottle
from backend.customers.documents import printed_document_verify, printed_pdf_verify, uploaded_pdf_read


class DocumentOutputSerializer(serializers.Serializer):
    document_id = serializers.CharField()
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    org_unit = serializers.CharField()
    printed_at = serializers.DateTimeField()
    sha256 = serializers.CharField()
    copy_number = serializers.IntegerField()
    is_reprint = serializers.BooleanField()
    superseded = serializers.BooleanField()
    superseded_by = serializers.CharField()
    superseded_at = serializers.DateTimeField(allow_null=True)


class DocumentVerifyApi(APIView):
    """What the QR code of a printed form leads to, as JSON."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    class OutputSerializer(DocumentOutputSerializer):
        hash_checked = serializers.BooleanField()
        hash_matches = serializers.BooleanField()

    @extend_schema(parameters=[OpenApiParameter("sha256", str)], responses={200: OutputSerializer})
    def get(self, request, document_id: str):
        result = printed_document_verify(
            document_id=document_id, sha256=request.query_params.get("sha256", "")
        )
        if not result["found"]:
            raise NotFound("未找到该单证", code="document_not_found")
        return Response(self.OutputSerializer(result).data)


class DocumentPdfVerifyApi(APIView):
    """Upload a PDF (`pdf`): verdict genuine / reprint / superseded / tampered / unsigned /
    unreadable / unknown, and the record it claims to be when known. The file is read in a
    killable child with structural limits (400 `pdf_too_complex` when one is broken); uploads
    are rate limited per client address (429 with Retry-After)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    parser_classes = [MultiPartParser]
    throttle_classes = [DocumentVerifyThrottle]

    class OutputSerializer(serializers.Serializer):
        verdict = serializers.CharField()
        found = serializers.BooleanField()
        document = serializers.SerializerMethodField()
        signer = serializers.CharField(required=False, default="")
        signed_at = serializers.CharField(required=False, default="")

        def get_document(self, result) -> dict | None:
            return DocumentOutputSerializer(result).data if result.get("found") else None

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"pdf": {"type": "string", "format": "binary"}},
            }
        },
        responses={200: OutputSerializer, 400: OpenApiTypes.OBJECT, 429: OpenApiTypes.OBJECT},
    )
    def post(self, request):
        result = printed_pdf_verify(pdf=uploaded_pdf_read(request.FILES.get("pdf")))
        return Response(self.OutputSerializer(result).data)
