from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.customers.printing import collection_card_print
from backend.customers.selectors import customer_get_visible, customer_list, customer_view
from pdfs.responses import pdf_response


class CustomerOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    name = serializers.CharField()
    id_type = serializers.CharField()
    id_number = serializers.CharField()
    phone = serializers.CharField()
    address = serializers.CharField()
    email = serializers.CharField()
    info_level = serializers.CharField()
    org_unit = serializers.CharField()
    masked = serializers.BooleanField()


class CustomerListApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("q", str, description="姓名、客户号或完整证件号码"), OpenApiParameter("status", str)],
        responses={200: CustomerOutputSerializer(many=True)},
    )
    def get(self, request):
        qs = customer_list(user=request.user, query=request.query_params.get("q", ""), status=request.query_params.get("status", ""))
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response([customer_view(user=request.user, customer=c, purpose="list") for c in page])


class CustomerDetailApi(APIView):
    @extend_schema(responses={200: CustomerOutputSerializer})
    def get(self, request, customer_id: int):
        customer = customer_get_visible(user=request.user, customer_id=customer_id)
        return Response(customer_view(user=request.user, customer=customer))


class CustomerCollectionCardApi(APIView):
    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request, customer_id: int):
        customer = customer_get_visible(user=request.user, customer_id=customer_id)
        pdf, document = collection_card_print(actor=request.user, customer=customer)
        return pdf_response(pdf, filename=f"collection-card-{customer.pk}.pdf", document_id=document.id)
