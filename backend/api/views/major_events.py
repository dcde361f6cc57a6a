"""客户重大事件 through the API: a customer manager reports one on a customer, anyone who may
read it reads it. The acknowledgements go through the task API like every step."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.service.major_events import major_event_report
from backend.service.models import MajorEventKind, MajorEventStatus
from backend.service.selectors import major_event_get, major_event_view

MajorEventOutput = inline_serializer(
    "MajorEventOutput",
    {
        "id": serializers.IntegerField(),
        "customer_id": serializers.IntegerField(),
        "org_unit": serializers.CharField(),
        "reported_by": serializers.CharField(),
        "kind": serializers.ChoiceField(choices=MajorEventKind.values),
        "occurred_on": serializers.DateField(),
        "description": serializers.CharField(),
        "status": serializers.ChoiceField(choices=MajorEventStatus.values),
        "head_instruction": serializers.CharField(),
        "head_by": serializers.CharField(allow_null=True),
        "head_at": serializers.DateTimeField(allow_null=True),
        "centre_plan": serializers.CharField(),
        "centre_by": serializers.CharField(allow_null=True),
        "centre_at": serializers.DateTimeField(allow_null=True),
        "process_instance_id": serializers.IntegerField(allow_null=True),
        "created_at": serializers.DateTimeField(),
        "closed_at": serializers.DateTimeField(allow_null=True),
    },
)


class MajorEventCreateApi(APIView):
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        # Shapes only: the service checks scope first (404), then every value field by field.
        customer_id = serializers.JSONField(required=False, default=None, allow_null=True)
        kind = serializers.JSONField(required=False, default=None, allow_null=True)
        occurred_on = serializers.JSONField(required=False, default=None, allow_null=True)
        description = serializers.JSONField(required=False, default=None, allow_null=True)

    @extend_schema(request=InputSerializer, responses={201: MajorEventOutput})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        case = major_event_report(actor=request.user, customer_id=values.pop("customer_id"), data=values)
        return Response(major_event_view(case), status=status.HTTP_201_CREATED)


class MajorEventApi(APIView):
    @extend_schema(responses={200: MajorEventOutput})
    def get(self, request, event_id: int):
        return Response(major_event_view(major_event_get(user=request.user, event_id=event_id)))
