from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api.schema import paginated
from backend.api.views.printing import PrintApi
from backend.api.views.segments import CustomerSegmentOutput
from backend.customers.linkage import customer_field_history, customer_linkage, field_history_rows
from backend.customers.lookups import customer_lookup, lookup_query_refuse
from backend.customers.printing import collection_card_print
from backend.customers.reveal import customer_field_reveal, reveal_event_list, reveal_event_row
from backend.customers.selectors import (
    customer_get_visible,
    customer_list,
    customer_search_clean,
    customer_view,
)
from backend.segments.selectors import customer_segment_view
from backend.service.selectors import customer_manager_brief


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


CustomerManagerBrief = inline_serializer(
    "CustomerManagerBrief",
    {
        "username": serializers.CharField(),
        "name": serializers.CharField(),
        "org_unit": serializers.CharField(),
        "grade": serializers.CharField(),
        "grade_label": serializers.CharField(),
    },
    allow_null=True,
)


class CustomerDetailOutputSerializer(CustomerOutputSerializer):
    # 一户一经理: the customer manager who serves the customer (null when none is assigned).
    manager = CustomerManagerBrief
    # 客户分群与预警: segments and alerts with their reasons (null until the rules have run).
    segment = CustomerSegmentOutput


class CustomerListApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, description="姓名或客户号(证件号码、电话请用 POST /api/customers/search/)"),
            OpenApiParameter("status", str),
            OpenApiParameter("name", str, description="姓名/名称,精确匹配"),
        ],
        responses={200: paginated("CustomerPage", CustomerOutputSerializer(many=True))},
    )
    def get(self, request):
        params = request.query_params
        lookup_query_refuse(params)  # identifiers in the URL: 400 pointing at the POST search
        qs = customer_list(
            user=request.user,
            query=params.get("q", ""),
            status=params.get("status", ""),
            search=customer_search_clean({"name": params.get("name", "")}),
        )
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response([customer_view(user=request.user, customer=c, purpose="list") for c in page])


class CustomerSearchApi(APIView):
    """客户精确查询 by one identifier or exact name, in the body (never in the URL). Each call is
    a recorded look-up (listed at /api/reveal-events/?kind=lookup) and counts against the
    user's hourly limit (429 with Retry-After). Results are masked and paginated (?page=).
    The body is JSON (a form body is read too: either way the value stays out of the URL)."""

    class InputSerializer(serializers.Serializer):
        field = serializers.ChoiceField(choices=["phone", "id_number", "uscc", "name"])
        value = serializers.CharField(max_length=100, trim_whitespace=False)

    @extend_schema(
        request=InputSerializer,
        responses={200: paginated("CustomerSearchPage", CustomerOutputSerializer(many=True))},
    )
    def post(self, request):
        body = request.data if isinstance(request.data, dict) else {}
        qs = customer_lookup(actor=request.user, field=body.get("field"), value=body.get("value"))
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response([customer_view(user=request.user, customer=c, purpose="list") for c in page])


class CustomerDetailApi(APIView):
    @extend_schema(responses={200: CustomerDetailOutputSerializer})
    def get(self, request, customer_id: int):
        customer = customer_get_visible(user=request.user, customer_id=customer_id)
        return Response({**customer_view(user=request.user, customer=customer), "manager": customer_manager_brief(customer), "segment": customer_segment_view(customer)})


class CustomerCollectionCardApi(PrintApi):
    def print_form(self, request, reason, customer_id: int):
        customer = customer_get_visible(user=request.user, customer_id=customer_id)
        pdf, document = collection_card_print(actor=request.user, customer=customer, reason=reason)
        return pdf, document, f"collection-card-{customer.pk}.pdf"


class CustomerRevealApi(APIView):
    """查看完整信息: one personal field in full, with a reason; logged and rate limited."""

    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        field = serializers.CharField(required=False, allow_blank=True, default="")
        reason = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(
        request=InputSerializer,
        responses={200: inline_serializer("RevealOut", {"field": serializers.CharField(), "value": serializers.CharField()})},
    )
    def post(self, request, customer_id: int):
        customer = customer_get_visible(user=request.user, customer_id=customer_id)  # out of scope: 404
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        field = data.validated_data["field"]
        value = customer_field_reveal(actor=request.user, customer=customer, field=field, reason=data.validated_data["reason"])
        return Response({"field": field, "value": value})


class RevealEventOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    user = serializers.CharField()
    user_name = serializers.CharField()
    customer_id = serializers.IntegerField(allow_null=True)
    customer_name = serializers.CharField()
    field = serializers.CharField()
    reason = serializers.CharField()
    result_count = serializers.IntegerField(allow_null=True)
    value_hash = serializers.CharField(allow_null=True)
    org_unit = serializers.CharField()
    created_at = serializers.CharField()


class RevealEventListApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, enum=["reveal", "lookup", "scan"], description="reveal(默认)、lookup 或 scan(查看证件扫描件)"),
            OpenApiParameter("user", str, description="用户名"),
            OpenApiParameter("value_hash", str, description="查询值的摘要(manage.py lookup_hash)"),
            OpenApiParameter("customer", int, description="客户号"),
            OpenApiParameter("field", str),
            OpenApiParameter("date_from", str, description="YYYY-MM-DD(北京时间)"),
            OpenApiParameter("date_to", str, description="YYYY-MM-DD(北京时间,含当日)"),
        ],
        responses={200: paginated("RevealEventPage", RevealEventOutputSerializer(many=True))},
    )
    def get(self, request):
        qs = reveal_event_list(user=request.user, params=request.query_params)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response([reveal_event_row(e) for e in page])


class CustomerLinkageApi(APIView):
    """客户业务关联查询: status history, completeness, freshness, field history, cases, shared phone."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, customer_id: int):
        customer = customer_get_visible(user=request.user, customer_id=customer_id)
        return Response(customer_linkage(user=request.user, customer=customer))


class FieldChangeOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    field = serializers.CharField()
    field_label = serializers.CharField()
    old_value = serializers.CharField()
    new_value = serializers.CharField()
    masked = serializers.BooleanField()
    changed_by = serializers.CharField()
    approved_by = serializers.CharField(allow_null=True)
    changed_at = serializers.CharField()
    reason = serializers.CharField()
    case_type = serializers.CharField()
    case_id = serializers.IntegerField(allow_null=True)


class CustomerHistoryApi(APIView):
    """Field history (CustomerFieldChange rows), newest first, paginated."""

    @extend_schema(responses={200: paginated("FieldChangePage", FieldChangeOutputSerializer(many=True))})
    def get(self, request, customer_id: int):
        customer = customer_get_visible(user=request.user, customer_id=customer_id)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(customer_field_history(customer=customer), request, view=self)
        return paginator.get_paginated_response(field_history_rows(user=request.user, customer=customer, changes=page))
