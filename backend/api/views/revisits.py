"""回访与提醒 through the API: the revisits a user may read (filters `kind`, `status`), and one
revisit. Revisits are opened by the daily plan job and completed through the task API like every
step."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api.schema import paginated
from backend.common.exceptions import ValidationFailed
from backend.service.models import RevisitKind, RevisitLane, RevisitStatus
from backend.service.selectors import revisit_get, revisit_view, revisits_visible

RevisitOutput = inline_serializer(
    "RevisitOutput",
    {
        "id": serializers.IntegerField(),
        "kind": serializers.ChoiceField(choices=RevisitKind.values),
        "kind_label": serializers.CharField(),
        "period": serializers.CharField(),
        "customer_id": serializers.IntegerField(allow_null=True),
        "customer_name": serializers.CharField(help_text="masked"),
        "complaint_id": serializers.IntegerField(allow_null=True),
        "policy_id": serializers.IntegerField(allow_null=True),
        "org_unit": serializers.CharField(),
        "lane": serializers.ChoiceField(choices=RevisitLane.values),
        "manager": serializers.CharField(allow_null=True),
        "due_at": serializers.DateTimeField(),
        "status": serializers.ChoiceField(choices=RevisitStatus.values),
        "contacted": serializers.BooleanField(allow_null=True),
        "channel": serializers.CharField(allow_null=True),
        "summary": serializers.CharField(),
        "satisfaction": serializers.CharField(allow_null=True),
        "data_confirmed": serializers.BooleanField(allow_null=True),
        "next_step_at": serializers.DateTimeField(allow_null=True),
        "contact_id": serializers.IntegerField(allow_null=True),
        "completed_at": serializers.DateTimeField(allow_null=True),
        "late": serializers.BooleanField(),
        "overdue": serializers.BooleanField(),
        "process_instance_id": serializers.IntegerField(allow_null=True),
    },
)


class RevisitListApi(APIView):
    """The revisits the user makes, of the customers he serves, and of the subtrees where he reads
    them; the soonest due first."""

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, enum=RevisitKind.values),
            OpenApiParameter("status", str, enum=RevisitStatus.values),
        ],
        responses={200: paginated("RevisitPage", type(RevisitOutput)(many=True))},
    )
    def get(self, request):
        qs = revisits_visible(user=request.user)
        errors: dict[str, list[str]] = {}
        kind, status = request.query_params.get("kind", ""), request.query_params.get("status", "")
        if kind and kind not in RevisitKind.values:
            errors["kind"] = [_("未知的回访类型")]
        if status and status not in RevisitStatus.values:
            errors["status"] = [_("未知的回访状态")]
        if errors:
            raise ValidationFailed("", field_errors=errors, code="invalid_filter")
        if kind:
            qs = qs.filter(kind=kind)
        if status:
            qs = qs.filter(status=status)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(qs.order_by("due_at", "pk"), request, view=self)
        return paginator.get_paginated_response([revisit_view(r) for r in page])


class RevisitApi(APIView):
    @extend_schema(responses={200: RevisitOutput})
    def get(self, request, revisit_id: int):
        return Response(revisit_view(revisit_get(user=request.user, revisit_id=revisit_id)))
