"""客户分群与预警 through the API: a branch's thresholds (read, propose a change) and a change's
state. The approval goes through the task API like every review."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.segments.models import ChangeStatus
from backend.segments.rules import THRESHOLDS
from backend.segments.selectors import (
    threshold_change_get,
    threshold_change_view,
    thresholds_unit_get,
    thresholds_view,
)
from backend.segments.services import threshold_change_request

SegmentItem = inline_serializer(
    "SegmentItem",
    {"code": serializers.CharField(), "label": serializers.CharField(), "reasons": serializers.ListField(child=serializers.CharField())},
    many=True,
)
CustomerSegmentOutput = inline_serializer(
    "CustomerSegment",
    {
        "segments": SegmentItem,
        "alerts": SegmentItem,
        "thresholds_version": serializers.IntegerField(),
        "computed_at": serializers.DateTimeField(),
    },
    allow_null=True,
)
ThresholdChangeOutput = inline_serializer(
    "ThresholdChangeOutput",
    {
        "id": serializers.IntegerField(),
        "org_unit": serializers.CharField(),
        "values": serializers.DictField(child=serializers.CharField()),
        "base_version": serializers.IntegerField(),
        "reason": serializers.CharField(),
        "requested_by": serializers.CharField(),
        "status": serializers.ChoiceField(choices=ChangeStatus.values),
        "decided_by": serializers.CharField(allow_null=True),
        "decided_at": serializers.DateTimeField(allow_null=True),
        "decision_comment": serializers.CharField(),
        "process_instance_id": serializers.IntegerField(allow_null=True),
        "created_at": serializers.DateTimeField(),
    },
)


# Shapes only: the service checks the unit (404 / 403), then every value against its range.
ThresholdsInput = type(
    "ThresholdsInput",
    (serializers.Serializer,),
    {
        name: serializers.JSONField(required=False, default=None, allow_null=True)
        for name in ("org_unit", "reason", *(t.name for t in THRESHOLDS))
    },
)


class SegmentThresholdsApi(APIView):
    parser_classes = [JSONParser]

    @extend_schema(parameters=[OpenApiParameter("org_unit", str, description="机构代码（默认本人所在机构）")], responses={200: dict})
    def get(self, request):
        unit = thresholds_unit_get(user=request.user, code=request.query_params.get("org_unit"))
        return Response(thresholds_view(user=request.user, unit=unit))

    @extend_schema(request=ThresholdsInput, responses={201: ThresholdChangeOutput})
    def post(self, request):
        data = ThresholdsInput(data=request.data)
        data.is_valid(raise_exception=True)
        case = threshold_change_request(actor=request.user, data=dict(data.validated_data))
        return Response(threshold_change_view(case), status=status.HTTP_201_CREATED)


class ThresholdChangeApi(APIView):
    @extend_schema(responses={200: ThresholdChangeOutput})
    def get(self, request, threshold_change_id: int):
        return Response(threshold_change_view(threshold_change_get(user=request.user, change_id=threshold_change_id)))
