"""SLA reports: figures, the tasks behind a figure, exports, a task's SLA and breach record."""

from django.http import HttpResponse
from django.urls import reverse
from django.utils.http import urlencode
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api.schema import paginated
from backend.customers.collectors import collector_stats, collector_stats_query_clean
from backend.reports.selectors import (
    drill_params,
    report_archives,
    report_query_clean,
    sla_breach_detail,
    sla_report,
    sla_report_tasks,
)
from backend.reports.services import report_archive_download, sla_report_download
from tasks.sla import task_sla_state

REPORT_PARAMETERS = [
    OpenApiParameter("from", str, description="YYYY-MM-DD (deadline date, inclusive)"),
    OpenApiParameter("to", str, description="YYYY-MM-DD (inclusive)"),
    OpenApiParameter(
        "group_by", str, description="comma list of org_level, org_unit, process, step, assignee"
    ),
    OpenApiParameter("period", str, enum=["day", "week", "month"]),
    OpenApiParameter("within", int, description="an org unit id: its subtree"),
    OpenApiParameter("org_level", str),
    OpenApiParameter("org_unit", int),
    OpenApiParameter("process", str),
    OpenApiParameter("step", str),
    OpenApiParameter("assignee", str, description='a user id, or "none"'),
]
DRILL_METRICS = ("total", "on_time", "breached", "overdue", "escalated", "breached_done", "open")


class SlaReportApi(APIView):
    """Breaches and on-time rates per group and period; each row links to its tasks."""

    @extend_schema(parameters=REPORT_PARAMETERS, responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        query = report_query_clean(user=request.user, params=request.query_params)
        report = sla_report(user=request.user, query=query)
        base = reverse("api-report-sla-tasks")
        for row in report["rows"]:
            row["tasks"] = {
                m: f"{base}?{urlencode(drill_params(query, row['key'], m))}" for m in DRILL_METRICS
            }
        return Response(report)


class SlaTaskSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    step = serializers.CharField()
    process_key = serializers.CharField()
    org_unit = serializers.CharField(source="org_unit.name")
    assignee = serializers.SerializerMethodField()
    status = serializers.CharField()
    due_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    sla_state = serializers.SerializerMethodField()

    def get_assignee(self, task) -> str | None:
        user = task.completed_by or task.assignee
        return user.username if user else None

    def get_sla_state(self, task) -> str:
        return task_sla_state(task)


class SlaReportTasksApi(APIView):
    """The tasks behind one figure: the report's filters, the row's key, `metric` and
    `period_start` (with `period`)."""

    @extend_schema(
        parameters=[
            *REPORT_PARAMETERS,
            OpenApiParameter("metric", str, enum=list(DRILL_METRICS) + ["due_soon"]),
            OpenApiParameter("period_start", str),
        ],
        responses={200: paginated("SlaTaskPage", SlaTaskSerializer(many=True))},
    )
    def get(self, request):
        query = report_query_clean(user=request.user, params=request.query_params)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            sla_report_tasks(user=request.user, query=query), request, view=self
        )
        return paginator.get_paginated_response(SlaTaskSerializer(page, many=True).data)


class SlaReportExportApi(APIView):
    @extend_schema(
        parameters=REPORT_PARAMETERS, responses={(200, "application/octet-stream"): OpenApiTypes.BINARY}
    )
    def get(self, request, fmt: str):
        query = report_query_clean(user=request.user, params=request.query_params)
        content, content_type, filename = sla_report_download(actor=request.user, query=query, fmt=fmt)
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class TaskSlaApi(APIView):
    """A task's SLA state and, if it breached, the breach record with its escalation chain."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, task_id: int):
        return Response(sla_breach_detail(user=request.user, task_id=task_id))


class ReportArchiveListApi(APIView):
    """The monthly SLA archives (PDF and XLSX) of org units in the user's report scope."""

    @extend_schema(
        responses={
            200: paginated(
                "ReportArchivePage",
                type(
                    inline_serializer(
                        "ReportArchiveOutput",
                        {
                            "id": serializers.IntegerField(),
                            "kind": serializers.CharField(),
                            "org_unit": serializers.CharField(),
                            "month": serializers.CharField(),
                            "created_at": serializers.DateTimeField(),
                        },
                    )
                )(many=True),
            )
        }
    )
    def get(self, request):
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(report_archives(user=request.user), request, view=self)
        return paginator.get_paginated_response(
            [
                {
                    "id": a.pk,
                    "kind": a.kind,
                    "org_unit": a.org_unit.code,
                    "org_unit_name": a.org_unit.name,
                    "month": f"{a.month:%Y-%m}",
                    "created_at": a.created_at.isoformat(),
                    "figures": a.figures,
                    "downloads": {fmt: f"/api/reports/archives/{a.pk}/{fmt}/" for fmt in ("pdf", "xlsx")},
                }
                for a in page
            ]
        )


class ReportArchiveFileApi(APIView):
    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request, archive_id: int, fmt: str):
        content, content_type, filename = report_archive_download(
            actor=request.user, archive_id=archive_id, fmt=fmt
        )
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class CollectorStatsApi(APIView):
    """Per-collector statistics (seed 003 §1.1.1, the collector's incentive): openings, advanced
    ones, opened, pending, rejected, withdrawn, returned and flagged, per month, branch and
    collector, within the reader's scope."""

    @extend_schema(
        parameters=[
            OpenApiParameter("month", str, description="YYYY-MM (default: this month)"),
            OpenApiParameter("from", str, description="YYYY-MM, with to (instead of month)"),
            OpenApiParameter("to", str, description="YYYY-MM"),
            OpenApiParameter("org_unit", str, description="an org unit id or code: its subtree"),
            OpenApiParameter("collector", str, description="a collector's username"),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        query = collector_stats_query_clean(user=request.user, params=request.query_params)
        return Response(collector_stats(query=query))
