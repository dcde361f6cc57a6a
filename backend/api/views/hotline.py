"""热线坐席台 through the API: the 360° view of a caller's customer, and logging a call with its
hand-off (complaint, change request, claim report). Looking the caller up is the recorded
look-up of POST /api/customers/search/."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.customers.selectors import customer_get_visible
from backend.hotline.selectors import (
    call_view,
    hotline_call_get,
    hotline_calls_visible,
    hotline_customer_view,
    hotline_desk_check,
)
from backend.hotline.services import (
    AMENDMENT_FIELDS,
    CALL_FIELDS,
    CLAIM_FIELDS,
    COMPLAINT_FIELDS,
    PROSPECT_FIELDS,
    hotline_call_log,
)

# Shapes only: the service checks every value (400 at the field) and the customer's scope (404).
CallInput = type(
    "HotlineCallInput",
    (serializers.Serializer,),
    {
        name: serializers.JSONField(required=False, default=None, allow_null=True)
        for name in dict.fromkeys((*CALL_FIELDS, *COMPLAINT_FIELDS, *AMENDMENT_FIELDS, *CLAIM_FIELDS, *PROSPECT_FIELDS, "not_duplicate"))
    },
)


class HotlineCallListCreateApi(APIView):
    parser_classes = [JSONParser]

    @extend_schema(responses={200: dict})
    def get(self, request):
        hotline_desk_check(request.user)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(hotline_calls_visible(user=request.user).order_by("-id"), request, view=self)
        return paginator.get_paginated_response([call_view(c) for c in page])

    @extend_schema(request=CallInput, responses={201: dict})
    def post(self, request):
        data = CallInput(data=request.data)
        data.is_valid(raise_exception=True)
        call = hotline_call_log(actor=request.user, data={k: v for k, v in data.validated_data.items() if v is not None})
        return Response(call_view(call), status=status.HTTP_201_CREATED)


class HotlineCallApi(APIView):
    @extend_schema(responses={200: dict})
    def get(self, request, call_id: int):
        hotline_desk_check(request.user)
        return Response(call_view(hotline_call_get(user=request.user, call_id=call_id)))


class HotlineCustomerApi(APIView):
    @extend_schema(responses={200: dict})
    def get(self, request, customer_id: int):
        hotline_desk_check(request.user)
        customer = customer_get_visible(user=request.user, customer_id=customer_id)
        return Response(hotline_customer_view(user=request.user, customer=customer))
