"""客户分配与移交 through the API: ask for a customer to be served by a manager (or moved to
another), read a request. The approval goes through the task API like every review."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api.views.customers import CustomerManagerBrief
from backend.service.assignments import bulk_transfer_request, customer_assignment_request
from backend.service.models import AssignmentStatus
from backend.service.selectors import (
    bulk_transfer_get,
    bulk_transfer_view,
    customer_assignment_get,
    customer_assignment_view,
)

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


BulkTransferOutput = inline_serializer(
    "BulkTransferOutput",
    {
        "id": serializers.IntegerField(),
        "manager": CustomerManagerBrief,
        "to_manager": CustomerManagerBrief,
        "reason": serializers.CharField(),
        "requested_by": serializers.CharField(),
        "customer_count": serializers.IntegerField(),
        "moved_count": serializers.IntegerField(),
        "status": serializers.ChoiceField(choices=AssignmentStatus.values),
        "decided_by": serializers.CharField(allow_null=True),
        "decided_at": serializers.DateTimeField(allow_null=True),
        "decision_comment": serializers.CharField(),
        "process_instance_id": serializers.IntegerField(allow_null=True),
        "created_at": serializers.DateTimeField(),
    },
)


class BulkTransferCreateApi(APIView):
    """客户经理离岗移交: all of a departing manager's customers to another manager at once."""

    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        manager = serializers.JSONField(required=False, default=None, allow_null=True)
        to_manager = serializers.JSONField(required=False, default=None, allow_null=True)
        reason = serializers.JSONField(required=False, default=None, allow_null=True)

    @extend_schema(request=InputSerializer, responses={201: BulkTransferOutput})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        case = bulk_transfer_request(actor=request.user, data=dict(data.validated_data))
        return Response(bulk_transfer_view(case), status=status.HTTP_201_CREATED)


class BulkTransferApi(APIView):
    @extend_schema(responses={200: BulkTransferOutput})
    def get(self, request, transfer_id: int):
        return Response(bulk_transfer_view(bulk_transfer_get(user=request.user, transfer_id=transfer_id)))
