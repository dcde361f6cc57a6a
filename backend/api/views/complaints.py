"""投诉 through the API: accept, list, read, attachments, notices, the clock's actions,
withdrawal and the upper-level review. Each view makes one service call."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api.schema import paginated
from backend.complaints import services
from backend.complaints.case_views import complaint_summary, complaint_view
from backend.complaints.clock import clock_view
from backend.complaints.selectors import complaint_get, complaint_list

ComplaintOutput = inline_serializer(
    "ComplaintOutput",
    {
        "id": serializers.IntegerField(),
        "number": serializers.CharField(),
        "status": serializers.CharField(),
        "channel": serializers.CharField(),
        "category": serializers.CharField(),
        "subject": serializers.CharField(),
        "org_unit": serializers.CharField(),
        "received_at": serializers.DateTimeField(),
        "due_at": serializers.DateTimeField(allow_null=True),
        "clock": serializers.DictField(required=False),
    },
)
ClockOutput = inline_serializer("ComplaintClockOutput", {"state": serializers.CharField(), "due_at": serializers.DateTimeField(allow_null=True), "limit_days": serializers.IntegerField()})


def _dict(data) -> dict:
    """The request body as a plain dict (JSON objects and form posts alike)."""
    if hasattr(data, "dict"):
        return data.dict()
    return data if isinstance(data, dict) else {"_invalid": data}


class ComplaintListCreateApi(APIView):
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        channel = serializers.CharField(help_text="hotline / counter / letter / email / online / regulator")
        category = serializers.CharField(help_text="sales / claims / underwriting / premium / service / other")
        subject = serializers.CharField()
        description = serializers.CharField()
        complainant_name = serializers.CharField()
        complainant_phone = serializers.CharField()
        complainant_id_type = serializers.CharField(required=False)
        complainant_id_number = serializers.CharField(required=False)
        identity_verified = serializers.BooleanField(required=False)
        complainant_count = serializers.IntegerField(required=False)
        received_at = serializers.DateTimeField(required=False)
        customer_id = serializers.IntegerField(required=False)
        policy_number = serializers.CharField(required=False)
        product = serializers.CharField(required=False)
        subject_employee = serializers.CharField(required=False, help_text="被投诉员工的用户名")
        subject_agent = serializers.CharField(required=False, help_text="被投诉业务员工号")
        complainant_agent = serializers.CharField(required=False, help_text="投诉人的代理业务员工号")
        merge_into = serializers.IntegerField(required=False)
        not_duplicate = serializers.BooleanField(required=False)

    @extend_schema(
        parameters=[OpenApiParameter(n, str) for n in ("status", "channel", "category", "org_unit", "q", "major", "overdue")],
        # A page of complaint summaries (complaint_summary), not full complaints.
        responses={200: paginated("ComplaintPage", serializers.ListField(child=serializers.DictField()))},
    )
    def get(self, request):
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(complaint_list(user=request.user, params=request.query_params), request, view=self)
        return paginator.get_paginated_response([complaint_summary(c) for c in page])

    @extend_schema(request=InputSerializer, responses={201: ComplaintOutput, 200: ComplaintOutput})
    def post(self, request):
        complaint, merged = services.complaint_accept(actor=request.user, data=_dict(request.data))
        body = complaint_view(user=request.user, c=complaint, purpose="accept") | {"merged": merged}
        return Response(body, status=status.HTTP_200_OK if merged else status.HTTP_201_CREATED)


class ComplaintDetailApi(APIView):
    @extend_schema(responses={200: ComplaintOutput})
    def get(self, request, complaint_id: int):
        return Response(complaint_view(user=request.user, c=complaint_get(user=request.user, complaint_id=complaint_id)))


class ComplaintClockApi(APIView):
    @extend_schema(responses={200: ClockOutput})
    def get(self, request, complaint_id: int):
        return Response(clock_view(complaint_get(user=request.user, complaint_id=complaint_id)))


class ComplaintAttachmentApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        kind = serializers.CharField(help_text="recording / letter / other")
        file = serializers.FileField()

    @extend_schema(request=InputSerializer, responses={201: inline_serializer("ComplaintAttachmentOutput", {"id": serializers.IntegerField(), "sha256": serializers.CharField()})})
    def post(self, request, complaint_id: int):
        att = services.complaint_attachment_add(actor=request.user, complaint_id=complaint_id, upload=request.FILES.get("file"), kind=request.data.get("kind"))
        return Response({"id": att.pk, "sha256": att.sha256, "filename": att.filename, "size": att.size}, status=status.HTTP_201_CREATED)


class ComplaintNoticeApi(APIView):
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        kind = serializers.CharField(help_text="decision / extension / acceptance / review")
        channel = serializers.CharField(help_text="letter / sms / email / phone")
        sent_at = serializers.DateTimeField()
        proof = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={201: inline_serializer("ComplaintNoticeOutput", {"id": serializers.IntegerField()})})
    def post(self, request, complaint_id: int):
        notice = services.complaint_notice_add(actor=request.user, complaint_id=complaint_id, data=_dict(request.data))
        return Response({"id": notice.pk, "kind": notice.kind, "channel": notice.channel, "sent_at": notice.sent_at.isoformat()}, status=status.HTTP_201_CREATED)


class _ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField()


class _ClockActionApi(APIView):
    parser_classes = [JSONParser]
    # Not `action`: DRF and drf-spectacular read `view.action` as the name of a viewset action
    # (a function there broke the whole OpenAPI schema: /api/schema/ answered 500).
    clock_service = None

    @extend_schema(request=_ReasonSerializer, responses={200: ComplaintOutput})
    def post(self, request, complaint_id: int):
        complaint = type(self).clock_service(actor=request.user, complaint_id=complaint_id, reason=_dict(request.data).get("reason"))
        return Response(complaint_view(user=request.user, c=complaint))


class ComplaintExtendApi(_ClockActionApi):
    clock_service = staticmethod(services.complaint_extend)


class ComplaintPauseApi(_ClockActionApi):
    clock_service = staticmethod(services.complaint_pause)


class ComplaintResumeApi(_ClockActionApi):
    clock_service = staticmethod(services.complaint_resume)


class ComplaintExtensionRequestApi(APIView):
    parser_classes = [JSONParser]

    @extend_schema(request=_ReasonSerializer, responses={201: inline_serializer("ComplaintExtensionOutput", {"id": serializers.IntegerField(), "status": serializers.CharField()})})
    def post(self, request, complaint_id: int):
        ext = services.complaint_extension_request(actor=request.user, complaint_id=complaint_id, reason=_dict(request.data).get("reason"))
        return Response({"id": ext.pk, "status": ext.status, "process_instance_id": ext.process_instance_id}, status=status.HTTP_201_CREATED)


class ComplaintNewFactsApi(APIView):
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        description = serializers.CharField()
        received_at = serializers.DateTimeField(required=False)

    @extend_schema(request=InputSerializer, responses={200: ComplaintOutput})
    def post(self, request, complaint_id: int):
        complaint = services.complaint_new_facts(actor=request.user, complaint_id=complaint_id, data=_dict(request.data))
        return Response(complaint_view(user=request.user, c=complaint))


class ComplaintWithdrawApi(APIView):
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField()
        received_at = serializers.DateTimeField(required=False)

    @extend_schema(request=InputSerializer, responses={200: ComplaintOutput})
    def post(self, request, complaint_id: int):
        complaint = services.complaint_withdraw(actor=request.user, complaint_id=complaint_id, data=_dict(request.data))
        return Response(complaint_view(user=request.user, c=complaint))


class ComplaintReviewRequestApi(APIView):
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField()
        received_at = serializers.DateTimeField(required=False)

    @extend_schema(request=InputSerializer, responses={201: inline_serializer("ComplaintReviewOutput", {"id": serializers.IntegerField(), "org_unit": serializers.CharField()})})
    def post(self, request, complaint_id: int):
        review = services.complaint_review_request(actor=request.user, complaint_id=complaint_id, data=_dict(request.data))
        return Response(
            {"id": review.pk, "org_unit": review.org_unit.code, "due_at": review.due_at.isoformat(), "process_instance_id": review.process_instance_id},
            status=status.HTTP_201_CREATED,
        )
