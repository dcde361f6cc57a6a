"""准客户 (seed 003 §1.3–1.4): record, list, read and convert prospects."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api.schema import paginated
from backend.api.views.openings import OpeningOutputSerializer
from backend.customers.lookups import lookup_query_refuse
from backend.customers.models import ProspectSource
from backend.customers.prospects import (
    prospect_convert,
    prospect_get_visible,
    prospect_list,
    prospect_record,
    prospect_view,
)


class ProspectListCreateApi(APIView):
    """GET: the prospects of the user's scope, newest first, phone and id number masked (filters
    `status`, `source`, `q` by name). POST: record one (201); the dedupe marks it `duplicate` when
    a customer or open prospect in the user's scope holds its phone or id number. Bad input is a
    400 per field and writes nothing; each POST counts as a look-up (429 past the hourly limit)."""

    class InputSerializer(serializers.Serializer):
        # Documentation of the body: the service checks every field (customers/prospects.py).
        name = serializers.CharField(max_length=100)
        phone = serializers.CharField(max_length=32)
        id_type = serializers.CharField(required=False, allow_blank=True)
        id_number = serializers.CharField(required=False, allow_blank=True)
        interest = serializers.CharField(max_length=200, required=False, allow_blank=True)
        notes = serializers.CharField(max_length=1000, required=False, allow_blank=True)
        source = serializers.ChoiceField(choices=ProspectSource.choices)
        source_detail = serializers.CharField(max_length=100, required=False, allow_blank=True)
        consent = serializers.BooleanField(required=False, help_text="本人同意;第三方采集和活动来源必须为 true")

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, description="姓名(电话、证件号码不能放在网址中)"),
            OpenApiParameter("status", str),
            OpenApiParameter("source", str),
        ],
        responses={200: paginated("ProspectPage", serializers.ListField(child=serializers.DictField()))},
    )
    def get(self, request):
        params = request.query_params
        lookup_query_refuse(params)
        qs = prospect_list(
            user=request.user, status=params.get("status", ""), source=params.get("source", ""), query=params.get("q", "")
        )
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response([prospect_view(user=request.user, prospect=p, purpose="list") for p in page])

    @extend_schema(request=InputSerializer, responses={201: OpenApiTypes.OBJECT})
    def post(self, request):
        data = request.data if hasattr(request.data, "get") else {}
        prospect = prospect_record(actor=request.user, data=data)
        return Response(prospect_view(user=request.user, prospect=prospect), status=201)


class ProspectDetailApi(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, prospect_id: int):
        prospect = prospect_get_visible(user=request.user, prospect_id=prospect_id)
        return Response(prospect_view(user=request.user, prospect=prospect))


class ProspectConvertApi(APIView):
    """Convert an open prospect into an account opening (the opening's checks A–D, blacklist and
    officer step), credited to the prospect's collector. The body carries what the prospect lacks
    (`info_level`, `scan`, `id_type`/`id_number` if not recorded, `id_valid_until`, `address`,
    `email`); a value given replaces the prospect's. Errors as `POST /api/account-openings/`."""

    parser_classes = [MultiPartParser, FormParser, JSONParser]

    class InputSerializer(serializers.Serializer):
        info_level = serializers.CharField(required=False, allow_blank=True)
        name = serializers.CharField(required=False, allow_blank=True)
        id_type = serializers.CharField(required=False, allow_blank=True)
        id_number = serializers.CharField(required=False, allow_blank=True)
        id_valid_until = serializers.CharField(required=False, allow_blank=True)
        phone = serializers.CharField(required=False, allow_blank=True)
        address = serializers.CharField(required=False, allow_blank=True)
        email = serializers.CharField(required=False, allow_blank=True)
        scan = serializers.FileField(required=False)

    @extend_schema(request={"multipart/form-data": InputSerializer}, responses={201: OpeningOutputSerializer})
    def post(self, request, prospect_id: int):
        data = request.data if hasattr(request.data, "get") else {}
        fields = {k: data.get(k) for k in ("info_level", "name", "id_type", "id_number", "id_valid_until", "phone", "address", "email") if k in data}
        opening = prospect_convert(actor=request.user, prospect_id=prospect_id, data=fields, scan=request.FILES.get("scan"))
        return Response(OpeningOutputSerializer(opening).data, status=201)
