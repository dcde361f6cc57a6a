"""月度走访分析报告 through the API: the reports a user may read, and one report. The reports are
opened by the monthly job and submitted through the task API like every step."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api.schema import paginated
from backend.service.models import VisitReportStatus
from backend.service.selectors import visit_report_get, visit_report_view, visit_reports_visible

VisitReportOutput = inline_serializer(
    "VisitReportOutput",
    {
        "id": serializers.IntegerField(),
        "manager": serializers.CharField(),
        "manager_name": serializers.CharField(),
        "org_unit": serializers.CharField(),
        "month": serializers.CharField(help_text="YYYY-MM"),
        "due_at": serializers.DateTimeField(),
        "visits": serializers.IntegerField(allow_null=True),
        "customers_visited": serializers.IntegerField(allow_null=True),
        "analysis": serializers.CharField(),
        "status": serializers.ChoiceField(choices=VisitReportStatus.values),
        "submitted_at": serializers.DateTimeField(allow_null=True),
        "late": serializers.BooleanField(),
        "overdue": serializers.BooleanField(),
        "process_instance_id": serializers.IntegerField(allow_null=True),
    },
)


class VisitReportListApi(APIView):
    """His own reports, and those of the org subtrees where he reads them; the newest month first."""

    @extend_schema(responses={200: paginated("VisitReportPage", type(VisitReportOutput)(many=True))})
    def get(self, request):
        qs = visit_reports_visible(user=request.user).order_by("-month", "org_unit__path", "manager__user__username", "pk")
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response([visit_report_view(r) for r in page])


class VisitReportApi(APIView):
    @extend_schema(responses={200: VisitReportOutput})
    def get(self, request, report_id: int):
        return Response(visit_report_view(visit_report_get(user=request.user, report_id=report_id)))
