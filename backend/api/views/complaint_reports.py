"""客户投诉分析表 (figures, the cases behind a figure, XLSX / signed PDF), 溯源整改 (root cause,
corrective actions) and the four complaint forms as signed PDFs."""

from django.http import HttpResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api.schema import paginated
from backend.api.views.printing import PrintApi, PrintInputSerializer
from backend.common.exceptions import NotFound
from backend.complaints.analysis import (
    DIMENSIONS,
    METRICS,
    Drill,
    analysis_cases,
    analysis_cases_weight,
    complaint_analysis,
    drill_clean,
    month_parse,
)
from backend.complaints.corrective import (
    complaint_root_cause_set,
    corrective_action_close,
    corrective_action_create,
    corrective_actions_of,
)
from backend.complaints.exports import XLSX_CONTENT_TYPE, complaint_analysis_xlsx_download
from backend.complaints.printing import complaint_analysis_print, complaint_form_print
from backend.organisation import privacy

MONTH = OpenApiParameter(
    "month", str, description="YYYY-MM (received in that Asia/Shanghai month; default: this month)"
)


def _drill_links(month: str, dimension: str = "", value: str = "") -> dict[str, str]:
    base = reverse("api-complaint-analysis-cases")
    return {
        m: f"{base}?{urlencode(Drill(month=month_parse(month), dimension=dimension, value=value, metric=m).as_params())}"
        for m in METRICS
    }


class ComplaintAnalysisApi(APIView):
    """The month's figures: totals and rows per category, channel, org unit, product and root
    cause; each figure links to the cases behind it (`cases`)."""

    @extend_schema(parameters=[MONTH], responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        report = complaint_analysis(user=request.user, month=month_parse(request.query_params.get("month")))
        report["cases"] = _drill_links(report["month"])
        for dim in DIMENSIONS:
            for row in report["dimensions"][dim]:
                row["cases"] = _drill_links(report["month"], dim, row["value"])
        return Response(report)


class _AnyFormat(DefaultContentNegotiation):
    """`?format=` names the export file type here, not a DRF renderer."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class AnalysisPrintInputSerializer(PrintInputSerializer):
    month = serializers.CharField(required=False, allow_blank=True, default="")
    format = serializers.CharField(required=False, allow_blank=True, default="pdf")


class ComplaintAnalysisExportApi(PrintApi):
    """The analysis table: `GET ?format=xlsx` downloads the workbook; the signed PDF is a
    printed document, so it is a `POST` (format=pdf, month; a reprint of the same month and
    scope needs `reason`). A GET for the PDF is 405 and prints nothing."""

    content_negotiation_class = _AnyFormat
    input_serializer = AnalysisPrintInputSerializer

    def print_form(self, request, reason):
        data = self.input_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        if (data.validated_data["format"] or "pdf") != "pdf":
            raise NotFound("不支持的导出格式", code="export_format_not_found")
        month = month_parse(data.validated_data["month"] or request.query_params.get("month"))
        pdf, document = complaint_analysis_print(actor=request.user, month=month, reason=reason)
        return pdf, document, f"complaint-analysis-{month.label}.pdf"

    @extend_schema(
        request=AnalysisPrintInputSerializer, responses={(200, "application/pdf"): OpenApiTypes.BINARY}
    )
    def post(self, request, **kwargs):
        return super().post(request, **kwargs)

    @extend_schema(
        parameters=[MONTH, OpenApiParameter("format", str, enum=["xlsx"])],
        responses={(200, XLSX_CONTENT_TYPE): OpenApiTypes.BINARY},
    )
    def get(self, request):
        fmt = request.query_params.get("format", "")
        month = month_parse(request.query_params.get("month"))
        if fmt == "pdf":
            raise MethodNotAllowed("GET", detail=_("签章 PDF 是一次打印，请使用 POST。"))
        if fmt != "xlsx":
            raise NotFound("不支持的导出格式", code="export_format_not_found")
        content, filename = complaint_analysis_xlsx_download(user=request.user, month=month)
        response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class ComplaintAnalysisReprintApi(PrintApi):
    """POST month + reason: a copy of the month's signed analysis PDF."""

    reprint = True
    input_serializer = AnalysisPrintInputSerializer
    print_form = ComplaintAnalysisExportApi.print_form


class AnalysisCaseSerializer(privacy.PrivateFieldsMixin, serializers.Serializer):
    """A drill-down row: a list row, so personal fields are masked (the privacy policy)."""

    id = serializers.IntegerField()
    number = serializers.CharField()
    received_at = serializers.DateTimeField()
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    channel = serializers.CharField()
    category = serializers.CharField()
    product = serializers.CharField()
    root_cause = serializers.CharField()
    org_unit = serializers.CharField(source="org_unit.name")
    received_org_unit = serializers.CharField(source="received_org_unit.name")
    complainant_name = serializers.CharField()
    complainant_phone = serializers.CharField()
    limit_days = serializers.IntegerField()
    on_time = serializers.BooleanField(allow_null=True)
    major = serializers.BooleanField()
    weight = serializers.IntegerField()


class ComplaintAnalysisCasesApi(APIView):
    """The complaints behind one figure (`dimension` + `value` + `metric`); `figure` is what
    the list adds up to (the number of cases, or their weights for merges and actions)."""

    @extend_schema(
        parameters=[
            MONTH,
            OpenApiParameter("dimension", str, enum=list(DIMENSIONS)),
            OpenApiParameter("value", str, description='a dimension value; "__none__" for blank'),
            OpenApiParameter("metric", str, enum=list(METRICS)),
        ],
        responses={200: paginated("AnalysisCasePage", AnalysisCaseSerializer(many=True), figure=serializers.JSONField())},
    )
    def get(self, request):
        drill = drill_clean(params=request.query_params)
        cases = analysis_cases(
            user=request.user,
            month=drill.month,
            dimension=drill.dimension,
            value=drill.value,
            metric=drill.metric,
        )
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(cases, request, view=self)
        response = paginator.get_paginated_response(AnalysisCaseSerializer(page, many=True).data)
        response.data["figure"] = analysis_cases_weight(cases)
        return response


class ComplaintRootCauseApi(APIView):
    parser_classes = [JSONParser, FormParser]

    class InputSerializer(serializers.Serializer):
        root_cause = serializers.CharField(required=False, allow_blank=True, default="")
        note = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        root_cause = serializers.CharField()
        root_cause_label = serializers.CharField(source="get_root_cause_display")
        root_cause_note = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request, complaint_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        complaint = complaint_root_cause_set(
            actor=request.user, complaint_id=complaint_id, **data.validated_data
        )
        return Response(self.OutputSerializer(complaint).data)


class CorrectiveActionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    complaint_id = serializers.IntegerField()
    root_cause = serializers.CharField()
    root_cause_label = serializers.CharField(source="get_root_cause_display")
    description = serializers.CharField()
    owner_org_unit = serializers.IntegerField(source="owner_org_unit_id")
    owner_org_unit_name = serializers.CharField(source="owner_org_unit.name")
    due_date = serializers.DateField()
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    created_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    closing_note = serializers.CharField()


class ComplaintCorrectiveActionsApi(APIView):
    parser_classes = [JSONParser, FormParser]

    class InputSerializer(serializers.Serializer):
        owner_org_unit = serializers.CharField(required=False, allow_blank=True, default="")
        due_date = serializers.CharField(required=False, allow_blank=True, default="")
        description = serializers.CharField(required=False, allow_blank=True, default="")
        root_cause = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(responses={200: CorrectiveActionSerializer(many=True)})
    def get(self, request, complaint_id: int):
        actions = corrective_actions_of(user=request.user, complaint_id=complaint_id)
        return Response(CorrectiveActionSerializer(actions, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: CorrectiveActionSerializer})
    def post(self, request, complaint_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        action = corrective_action_create(
            actor=request.user,
            complaint_id=complaint_id,
            owner_org_unit_id=values["owner_org_unit"],
            due_date=values["due_date"],
            description=values["description"],
            root_cause=values["root_cause"],
        )
        return Response(CorrectiveActionSerializer(action).data, status=201)


class CorrectiveActionCloseApi(APIView):
    parser_classes = [JSONParser, FormParser]

    class InputSerializer(serializers.Serializer):
        note = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(request=InputSerializer, responses={200: CorrectiveActionSerializer})
    def post(self, request, action_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        action = corrective_action_close(
            actor=request.user, action_id=action_id, note=data.validated_data["note"]
        )
        return Response(CorrectiveActionSerializer(action).data)


class ComplaintFormPdfApi(PrintApi):
    """登记表 / 核实表 / 移交表 / 处理表 (form: register, verify, handover, handle)."""

    def print_form(self, request, reason, complaint_id: int, form: str):
        pdf, document = complaint_form_print(
            actor=request.user, complaint_id=complaint_id, form=form, reason=reason
        )
        return pdf, document, f"complaint-{complaint_id}-{form}.pdf"
