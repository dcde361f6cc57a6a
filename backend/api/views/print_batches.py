"""批量打印: queue a batch of collection cards, poll its progress, fetch the merged PDF."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.customers.batch_printing import (
    print_batch_get_visible,
    print_batch_pdf_download,
    print_batch_request,
    print_batch_view,
)
from pdfs.responses import pdf_response


class PrintBatchOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    total = serializers.IntegerField()
    done = serializers.IntegerField()
    percent = serializers.IntegerField()
    error = serializers.CharField()
    document_id = serializers.CharField()


class PrintBatchCreateApi(APIView):
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        customer_ids = serializers.ListField(child=serializers.IntegerField(), allow_empty=True)
        reason = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(request=InputSerializer, responses={202: PrintBatchOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        batch = print_batch_request(actor=request.user, **data.validated_data)
        return Response(print_batch_view(batch), status=status.HTTP_202_ACCEPTED)


class PrintBatchDetailApi(APIView):
    @extend_schema(responses={200: PrintBatchOutputSerializer})
    def get(self, request, batch_id: str):
        return Response(print_batch_view(print_batch_get_visible(user=request.user, batch_id=batch_id)))


class PrintBatchPdfApi(APIView):
    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request, batch_id: str):
        content, batch = print_batch_pdf_download(user=request.user, batch_id=batch_id)
        return pdf_response(content, filename=f"print-batch-{batch.pk}.pdf", document_id=batch.document_id)
