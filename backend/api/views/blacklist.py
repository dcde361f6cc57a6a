"""黑名单 through the API: list, propose an addition or a removal, read a change."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api.schema import paginated
from backend.customers.blacklist import (
    blacklist_add_request,
    blacklist_change_get,
    blacklist_entries,
    blacklist_entry_get,
    blacklist_remove_request,
)
from backend.customers.case_views import blacklist_change_view, blacklist_entry_view
from backend.customers.models import BlacklistStatus

EntryOutput = inline_serializer(
    "BlacklistEntryOutput",
    {
        "id": serializers.IntegerField(),
        "id_type": serializers.CharField(),
        "id_number": serializers.CharField(help_text="遮蔽显示"),
        "name": serializers.CharField(),
        "reason": serializers.CharField(),
        "source": serializers.CharField(),
        "status": serializers.ChoiceField(choices=["pending", "active", "removed", "rejected"]),
    },
)
ChangeOutput = inline_serializer(
    "BlacklistChangeOutput",
    {
        "id": serializers.IntegerField(),
        "action": serializers.ChoiceField(choices=["add", "remove"]),
        "status": serializers.CharField(),
        "reason": serializers.CharField(),
        "process_instance_id": serializers.IntegerField(allow_null=True),
        "entry": serializers.DictField(),
    },
)


class BlacklistListCreateApi(APIView):
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        id_type = serializers.CharField(required=False, allow_blank=True, default="")
        id_number = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)
        name = serializers.CharField(required=False, allow_blank=True, default="")
        reason = serializers.CharField(required=False, allow_blank=True, default="")
        source = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=BlacklistStatus.values)],
        responses={200: paginated("BlacklistEntryPage", type(EntryOutput)(many=True))},
    )
    def get(self, request):
        qs = blacklist_entries(user=request.user, status=request.query_params.get("status", ""))
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response([blacklist_entry_view(e) for e in page])

    @extend_schema(request=InputSerializer, responses={201: ChangeOutput})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        change = blacklist_add_request(actor=request.user, **data.validated_data)
        return Response(blacklist_change_view(user=request.user, change=change), status=status.HTTP_201_CREATED)


class BlacklistEntryApi(APIView):
    @extend_schema(responses={200: EntryOutput})
    def get(self, request, entry_id: int):
        return Response(blacklist_entry_view(blacklist_entry_get(user=request.user, entry_id=entry_id)))


class BlacklistRemoveApi(APIView):
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(request=InputSerializer, responses={201: ChangeOutput})
    def post(self, request, entry_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        change = blacklist_remove_request(actor=request.user, entry_id=entry_id, reason=data.validated_data["reason"])
        return Response(blacklist_change_view(user=request.user, change=change), status=status.HTTP_201_CREATED)


class BlacklistChangeApi(APIView):
    @extend_schema(responses={200: ChangeOutput})
    def get(self, request, change_id: int):
        return Response(blacklist_change_view(user=request.user, change=blacklist_change_get(user=request.user, change_id=change_id)))
