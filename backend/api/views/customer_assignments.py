"""客户分配与移交 through the API: ask for a customer to be served by a manager (or moved to
another), read a request. The approval goes through the task API like every review."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api.views.customers import CustomerManagerBrief
from backend.service.assignments import customer_assignment_request
from backend.service.models import AssignmentStatus
from backend.service.selectors import customer_assignment_get, customer_assignment_view

AssignmentOutput = inline_serializer(
    "CustomerAssignmentOutput",
    {
        "id": serializers.IntegerField(),
        "customer_id": serializers.IntegerField(),
        "manager": CustomerManagerBrief,
        "previous_manager": CustomerManagerBrief,
        "transfer": serializers.BooleanField(),
        "reason": serializers.CharField(),
        "requested_by": serializers.CharField(),
        "status": serializers.ChoiceField(choices=AssignmentStatus.values),
        "decided_by": serializers.CharField(allow_null=True),
        "decided_at": serializers.DateTimeField(allow_null=True),
        "decision_comment": serializers.CharField(),
        "process_instance_id": serializers.IntegerField(allow_null=True),
        "created_at": serializers.DateTimeField(),
    },
)


class CustomerAssignmentCreateApi(APIView):
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        # Shapes only: the service checks scope first (404), then every value field by field.
        customer_id = serializers.JSONField(required=False, default=None, allow_null=True)
        manager = serializers.JSONField(required=False, default=None, allow_null=True)
        reason = serializers.JSONField(required=False, default=None, allow_null=True)

    @extend_schema(request=InputSerializer, responses={201: AssignmentOutput})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        case = customer_assignment_request(actor=request.user, data=dict(data.validated_data))
        return Response(customer_assignment_view(case), status=status.HTTP_201_CREATED)


class CustomerAssignmentApi(APIView):
    @extend_schema(responses={200: AssignmentOutput})
    def get(self, request, assignment_id: int):
        return Response(customer_assignment_view(customer_assignment_get(user=request.user, assignment_id=assignment_id)))
