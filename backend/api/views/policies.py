"""保单 and 批改 over the API: one view per use case, every rule in backend.policies."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api.schema import paginated
from backend.api.views.printing import PrintApi
from backend.policies.printing import endorsement_form_print
from backend.policies.selectors import (
    endorsement_get_visible,
    endorsement_view,
    policy_get_visible,
    policy_list,
    policy_view,
)
from backend.policies.services import endorsement_request, policy_create


class PartySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    id_type = serializers.CharField()
    id_number = serializers.CharField()
    phone = serializers.CharField()
    status = serializers.CharField()


class BeneficiarySerializer(serializers.Serializer):
    customer_id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    id_type = serializers.CharField()
    id_number = serializers.CharField()
    relationship = serializers.CharField()
    share = serializers.CharField()


class PolicyOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    policy_number = serializers.CharField()
    product = serializers.CharField()
    status = serializers.CharField()
    effective_date = serializers.DateField()
    term_months = serializers.IntegerField()
    sum_insured = serializers.CharField()
    premium = serializers.CharField()
    payment_mode = serializers.CharField()
    org_unit = serializers.CharField()
    version = serializers.IntegerField()
    policyholder = PartySerializer()
    insured = PartySerializer()
    beneficiaries = BeneficiarySerializer(many=True, required=False)
    masked = serializers.BooleanField()


class EndorsementCreatedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    policy_id = serializers.IntegerField()
    status = serializers.CharField()
    process_instance_id = serializers.IntegerField(allow_null=True)
    scope = serializers.CharField()
    flags = serializers.ListField(child=serializers.CharField())


class PolicyListCreateApi(APIView):
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        # Every rule (and its Chinese message) lives in the service; this only shapes input.
        policy_number = serializers.CharField(required=False, allow_blank=True, default="")
        product = serializers.CharField(required=False, allow_blank=True, default="")
        policyholder_id = serializers.CharField(required=False, allow_blank=True, default="")
        insured_id = serializers.CharField(required=False, allow_blank=True, default="")
        effective_date = serializers.CharField(required=False, allow_blank=True, default="")
        term_months = serializers.CharField(required=False, allow_blank=True, default="")
        sum_insured = serializers.CharField(required=False, allow_blank=True, default="")
        premium = serializers.CharField(required=False, allow_blank=True, default="")
        payment_mode = serializers.CharField(required=False, allow_blank=True, default="")
        beneficiaries = serializers.JSONField(required=False, default=list)

    @extend_schema(
        parameters=[OpenApiParameter("customer", int, description="投保人、被保险人或受益人的客户号")],
        responses={200: paginated("PolicyPage", PolicyOutputSerializer(many=True))},
    )
    def get(self, request):
        qs = policy_list(user=request.user, customer_id=request.query_params.get("customer"))
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(
            [policy_view(user=request.user, policy=p, purpose="list") for p in page]
        )

    @extend_schema(request=InputSerializer, responses={201: PolicyOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        policy = policy_create(actor=request.user, **data.validated_data)
        return Response(policy_view(user=request.user, policy=policy), status=status.HTTP_201_CREATED)


class PolicyDetailApi(APIView):
    @extend_schema(responses={200: PolicyOutputSerializer})
    def get(self, request, policy_id: int):
        policy = policy_get_visible(user=request.user, policy_id=policy_id)
        return Response(policy_view(user=request.user, policy=policy))


class EndorsementCreateApi(APIView):
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        customer_changes = serializers.JSONField(
            required=False, default=dict, help_text='{"policyholder"|"insured": {field: new value}}'
        )
        policy_changes = serializers.JSONField(
            required=False, default=dict, help_text="payment_mode, sum_insured, premium, beneficiaries: [...]"
        )
        reason = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)

    @extend_schema(request=InputSerializer, responses={201: EndorsementCreatedSerializer})
    def post(self, request, policy_id: int):
        policy = policy_get_visible(user=request.user, policy_id=policy_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endorsement = endorsement_request(actor=request.user, policy=policy, **data.validated_data)
        return Response(EndorsementCreatedSerializer(endorsement).data, status=status.HTTP_201_CREATED)


class EndorsementDetailApi(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, endorsement_id: int):
        endorsement = endorsement_get_visible(user=request.user, endorsement_id=endorsement_id)
        return Response(endorsement_view(user=request.user, endorsement=endorsement))


class EndorsementFormPdfApi(PrintApi):
    def print_form(self, request, reason, endorsement_id: int):
        endorsement = endorsement_get_visible(user=request.user, endorsement_id=endorsement_id)
        pdf, document = endorsement_form_print(actor=request.user, endorsement=endorsement, reason=reason)
        return pdf, document, f"endorsement-{endorsement.pk}.pdf"
