"""客户信息修改 and 冻结 through the API: one view per use case."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.customers.amendments import customer_amendment_request
from backend.customers.case_views import amendment_get_visible, amendment_view, customer_amendments
from backend.customers.selectors import customer_get_visible, customer_view
from backend.customers.services import customer_freeze

AmendmentOutput = inline_serializer(
    "AmendmentOutput",
    {
        "id": serializers.IntegerField(),
        "customer_id": serializers.IntegerField(),
        "status": serializers.CharField(),
        "scope": serializers.ChoiceField(choices=["contact", "identity"]),
        "review_level": serializers.ChoiceField(choices=["city", "province"]),
        "reason": serializers.CharField(),
        "changes": serializers.ListField(child=serializers.DictField()),
        "flags": serializers.ListField(child=serializers.CharField()),
        "stale": serializers.BooleanField(),
        "process_instance_id": serializers.IntegerField(allow_null=True),
    },
)


class CustomerAmendmentListCreateApi(APIView):
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        # Only the fields to change; each is checked by the service with the opening's rules.
        reason = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)
        name = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
        id_type = serializers.CharField(required=False, allow_blank=True)
        id_number = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
        birth_date = serializers.CharField(required=False, allow_blank=True)
        id_valid_until = serializers.CharField(
            required=False, allow_blank=True, help_text="证件有效期至: YYYY-MM-DD,长期有效填 long_term 或“长期”"
        )
        phone = serializers.CharField(required=False, allow_blank=True)
        address = serializers.CharField(required=False, allow_blank=True)
        email = serializers.CharField(required=False, allow_blank=True)
        contact_person = serializers.CharField(required=False, allow_blank=True)
        legal_rep_name = serializers.CharField(required=False, allow_blank=True)
        legal_rep_id_type = serializers.CharField(required=False, allow_blank=True)
        legal_rep_id_number = serializers.CharField(required=False, allow_blank=True)

    @extend_schema(responses={200: AmendmentOutput})
    def get(self, request, customer_id: int):
        customer = customer_get_visible(user=request.user, customer_id=customer_id)
        rows = customer_amendments(user=request.user, customer=customer)
        return Response([amendment_view(user=request.user, amendment=a, with_customer=False) for a in rows])

    @extend_schema(request=InputSerializer, responses={201: AmendmentOutput, 400: OpenApiResponse(description="字段错误或没有任何修改")})
    def post(self, request, customer_id: int):
        customer = customer_get_visible(user=request.user, customer_id=customer_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        reason = values.pop("reason")
        amendment = customer_amendment_request(actor=request.user, customer=customer, proposed=values, reason=reason)
        return Response(amendment_view(user=request.user, amendment=amendment, with_customer=False), status=status.HTTP_201_CREATED)


class AmendmentDetailApi(APIView):
    @extend_schema(responses={200: AmendmentOutput})
    def get(self, request, amendment_id: int):
        amendment = amendment_get_visible(user=request.user, amendment_id=amendment_id)
        return Response(amendment_view(user=request.user, amendment=amendment))


class _ReasonInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class CustomerFreezeApi(APIView):
    parser_classes = [JSONParser]
    unfreeze = False

    @extend_schema(request=_ReasonInput, responses={200: OpenApiResponse(description="客户(遮蔽显示)")})
    def post(self, request, customer_id: int):
        customer = customer_get_visible(user=request.user, customer_id=customer_id)
        data = _ReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        customer = customer_freeze(actor=request.user, customer=customer, reason=data.validated_data["reason"], unfreeze=self.unfreeze)
        return Response(customer_view(user=request.user, customer=customer))


class CustomerUnfreezeApi(CustomerFreezeApi):
    unfreeze = True
