"""客户经理资格申请 through the API: apply for a grade, read an application. The decision goes
through the task API like every review."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.service.models import ManagerGrade, ServedCustomerType
from backend.service.selectors import (
    manager_qualification_get,
    manager_qualification_view,
    manager_recertification_get,
    manager_recertification_view,
)
from backend.service.services import manager_qualification_apply

QualificationOutput = inline_serializer(
    "ManagerQualificationOutput",
    {
        "id": serializers.IntegerField(),
        "applicant": serializers.CharField(),
        "org_unit": serializers.CharField(),
        "requested_grade": serializers.ChoiceField(choices=ManagerGrade.values),
        "previous_grade": serializers.CharField(),
        "review_level": serializers.ChoiceField(choices=["city", "province"]),
        "ability": serializers.CharField(),
        "experience_years": serializers.IntegerField(),
        "results": serializers.CharField(),
        "customer_types": serializers.ListField(child=serializers.ChoiceField(choices=ServedCustomerType.values)),
        "status": serializers.ChoiceField(choices=["pending", "approved", "rejected", "cancelled"]),
        "decided_by": serializers.CharField(allow_null=True),
        "decided_at": serializers.DateTimeField(allow_null=True),
        "process_instance_id": serializers.IntegerField(allow_null=True),
    },
)


class ManagerQualificationCreateApi(APIView):
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        # Shapes only: the service validates every value and answers field by field.
        requested_grade = serializers.JSONField(required=False, default=None, allow_null=True)
        ability = serializers.JSONField(required=False, default=None, allow_null=True)
        experience_years = serializers.JSONField(required=False, default=None, allow_null=True)
        results = serializers.JSONField(required=False, default=None, allow_null=True)
        customer_types = serializers.JSONField(required=False, default=None, allow_null=True)

    @extend_schema(request=InputSerializer, responses={201: QualificationOutput})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        case = manager_qualification_apply(actor=request.user, data=dict(data.validated_data))
        return Response(manager_qualification_view(case), status=status.HTTP_201_CREATED)


class ManagerQualificationApi(APIView):
    @extend_schema(responses={200: QualificationOutput})
    def get(self, request, qualification_id: int):
        case = manager_qualification_get(user=request.user, qualification_id=qualification_id)
        return Response(manager_qualification_view(case))


RecertificationOutput = inline_serializer(
    "ManagerRecertificationOutput",
    {
        "id": serializers.IntegerField(),
        "manager": serializers.CharField(),
        "org_unit": serializers.CharField(),
        "year": serializers.IntegerField(),
        "grade": serializers.ChoiceField(choices=ManagerGrade.values),
        "review_level": serializers.ChoiceField(choices=["city", "province"]),
        "assessment": serializers.CharField(),
        "results": serializers.CharField(),
        "status": serializers.ChoiceField(choices=["pending", "confirmed", "downgraded", "cancelled"]),
        "new_grade": serializers.CharField(),
        "decided_by": serializers.CharField(allow_null=True),
        "decided_at": serializers.DateTimeField(allow_null=True),
        "process_instance_id": serializers.IntegerField(allow_null=True),
    },
)


class ManagerRecertificationApi(APIView):
    """资格年度认证: opened by the anniversary job, worked through the task API; read here."""

    @extend_schema(responses={200: RecertificationOutput})
    def get(self, request, recertification_id: int):
        case = manager_recertification_get(user=request.user, recertification_id=recertification_id)
        return Response(manager_recertification_view(case))
