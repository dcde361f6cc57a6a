"""联系记录 and the customer file's timeline and static part (seed 002 客户档案)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api.schema import paginated
from backend.customers.contacts import (
    customer_contact_list,
    customer_contact_record,
    customer_contact_row,
)
from backend.customers.models import ContactChannel, ContactKind, IncomeBand
from backend.customers.profile import customer_profile_update
from backend.customers.selectors import customer_get_visible, customer_view
from backend.customers.timeline import TIMELINE_LIMIT, customer_timeline


class ContactOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    channel = serializers.CharField()
    channel_label = serializers.CharField()
    summary = serializers.CharField()
    outcome = serializers.CharField(allow_blank=True)
    next_step_at = serializers.CharField(allow_null=True)
    recorded_by = serializers.CharField()
    recorded_by_name = serializers.CharField()
    created_at = serializers.CharField()


class CustomerContactListCreateApi(APIView):
    """GET: the customer's contacts, newest first, paginated. POST: record one contact (201);
    bad fields are a 400 per field and nothing is written; a customer out of scope is a 404."""

    class InputSerializer(serializers.Serializer):
        # Documentation of the body: the service checks every field (customers/contacts.py).
        kind = serializers.ChoiceField(choices=ContactKind.choices)
        channel = serializers.ChoiceField(choices=ContactChannel.choices)
        summary = serializers.CharField(max_length=2000)
        outcome = serializers.CharField(max_length=500, required=False)
        next_step_at = serializers.DateTimeField(required=False, help_text="ISO 8601, in the future")

    @extend_schema(responses={200: paginated("ContactPage", ContactOutputSerializer(many=True))})
    def get(self, request, customer_id: int):
        customer = customer_get_visible(user=request.user, customer_id=customer_id)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(customer_contact_list(customer=customer), request, view=self)
        return paginator.get_paginated_response([customer_contact_row(c) for c in page])

    @extend_schema(request=InputSerializer, responses={201: ContactOutputSerializer})
    def post(self, request, customer_id: int):
        data = request.data if hasattr(request.data, "get") else {}
        contact = customer_contact_record(actor=request.user, customer_id=customer_id, data=data)
        return Response(customer_contact_row(contact), status=201)


class CustomerTimelineApi(APIView):
    """客户档案动态: contacts, field changes, status events and complaints, newest first, the
    newest TIMELINE_LIMIT (100) entries; personal values masked by the privacy policy."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, customer_id: int):
        customer = customer_get_visible(user=request.user, customer_id=customer_id)
        return Response({"limit": TIMELINE_LIMIT, "results": customer_timeline(user=request.user, customer=customer)})


class CustomerProfileApi(APIView):
    """客户档案静态要素: change any of occupation, employer, income_band, family_members,
    preferences (collector or officer in scope; history and audit); answers the customer."""

    class InputSerializer(serializers.Serializer):
        occupation = serializers.CharField(max_length=100, required=False, allow_blank=True)
        employer = serializers.CharField(max_length=200, required=False, allow_blank=True)
        income_band = serializers.ChoiceField(choices=IncomeBand.choices, required=False, allow_blank=True)
        family_members = serializers.CharField(max_length=500, required=False, allow_blank=True)
        preferences = serializers.CharField(max_length=300, required=False, allow_blank=True)
        reason = serializers.CharField(max_length=500, required=False, allow_blank=True)

    @extend_schema(request=InputSerializer, responses={200: OpenApiTypes.OBJECT})
    def post(self, request, customer_id: int):
        data = request.data if hasattr(request.data, "get") else {}
        customer = customer_profile_update(actor=request.user, customer_id=customer_id, data=data)
        return Response(customer_view(user=request.user, customer=customer))
