from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api.schema import paginated
from backend.api.views.tasks import TaskOutputSerializer
from tasks.actions import task_copy, task_remind, task_transfer
from tasks.bulk import tasks_bulk
from tasks.comments import case_timeline, task_comment_add, task_comments
from tasks.notifications import notification_list, notification_unread_count, notifications_mark_read
from tasks.substitution import substitution_cancel, substitution_create, substitutions_of
from tasks.tabs import cases_started


class TaskTransferApi(APIView):
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        to = serializers.CharField(required=False, allow_blank=True, default="", help_text="接收人的用户名")
        reason = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(request=InputSerializer, responses={200: TaskOutputSerializer})
    def post(self, request, task_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        task = task_transfer(actor=request.user, task_id=task_id, to_username=data.validated_data["to"], reason=data.validated_data["reason"])
        return Response(TaskOutputSerializer(task).data)


class TaskRemindApi(APIView):
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        message = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(request=InputSerializer, responses={200: inline_serializer("RemindOut", {"reminded": serializers.ListField(child=serializers.CharField())})})
    def post(self, request, task_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response({"reminded": task_remind(actor=request.user, task_id=task_id, message=data.validated_data["message"])})


class NotificationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    message = serializers.CharField()
    task_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


class NotificationListApi(APIView):
    @extend_schema(responses={200: paginated("NotificationPage", NotificationOutputSerializer(many=True), unread=serializers.IntegerField())})
    def get(self, request):
        unread_only = request.query_params.get("unread") in {"1", "true", "yes"}
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(notification_list(user=request.user, unread_only=unread_only), request, view=self)
        response = paginator.get_paginated_response(NotificationOutputSerializer(page, many=True).data)
        response.data["unread"] = notification_unread_count(user=request.user)
        return response


_READ_OUT = inline_serializer("ReadOut", {"marked": serializers.IntegerField()})


class NotificationReadApi(APIView):
    @extend_schema(request=None, responses={200: _READ_OUT})
    def post(self, request, notification_id: int | None = None):
        return Response({"marked": notifications_mark_read(user=request.user, notification_id=notification_id)})


class NotificationReadAllApi(NotificationReadApi):
    @extend_schema(operation_id="notifications_read_all", request=None, responses={200: _READ_OUT})
    def post(self, request):
        return super().post(request)


class TaskCopyApi(APIView):
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        to = serializers.JSONField(required=False, default=list, help_text="用户名列表")
        note = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(request=InputSerializer, responses={200: inline_serializer("CopyOut", {"copied_to": serializers.ListField(child=serializers.CharField())})})
    def post(self, request, task_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response({"copied_to": task_copy(actor=request.user, task_id=task_id, to_usernames=data.validated_data["to"], note=data.validated_data["note"])})


class MyCaseOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    process = serializers.CharField(source="version.definition.key")
    process_name = serializers.CharField(source="version.definition.name")
    status = serializers.CharField()
    org_unit = serializers.CharField(source="org_unit.code")
    case_type = serializers.CharField(source="subject_type")
    case_id = serializers.IntegerField(source="subject_id", allow_null=True)
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    end_event = serializers.CharField()
    current = serializers.SerializerMethodField()

    def get_current(self, instance) -> list[dict]:
        return [
            {"task_id": t.pk, "step": t.step, "name": t.name, "org_unit": t.org_unit.code, "assignee": t.assignee.username if t.assignee_id else None, "due_at": t.due_at}
            for t in instance.open_tasks
        ]


class MyCasesApi(APIView):
    @extend_schema(responses={200: paginated("MyCasePage", MyCaseOutputSerializer(many=True))})
    def get(self, request):
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(cases_started(user=request.user), request, view=self)
        return paginator.get_paginated_response(MyCaseOutputSerializer(page, many=True).data)


class TaskBulkApi(APIView):
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        action = serializers.CharField(required=False, allow_blank=True, default="")
        task_ids = serializers.JSONField(required=False, default=list)
        data = serializers.JSONField(required=False, default=dict)

    @extend_schema(request=InputSerializer, responses={200: inline_serializer("BulkOut", {"succeeded": serializers.IntegerField(), "failed": serializers.IntegerField(), "results": serializers.ListField(child=serializers.DictField())})})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        results = tasks_bulk(actor=request.user, **data.validated_data)
        ok = sum(1 for r in results if r["ok"])
        return Response({"succeeded": ok, "failed": len(results) - ok, "results": results})


class CommentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    task_id = serializers.IntegerField()
    step = serializers.CharField(source="task.step")
    author = serializers.CharField(source="author.username")
    body = serializers.CharField()
    created_at = serializers.DateTimeField()


class TaskCommentsApi(APIView):
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        body = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)

    @extend_schema(responses={200: CommentOutputSerializer(many=True)})
    def get(self, request, task_id: int):
        return Response(CommentOutputSerializer(task_comments(user=request.user, task_id=task_id), many=True).data)

    @extend_schema(request=InputSerializer, responses={201: CommentOutputSerializer})
    def post(self, request, task_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = task_comment_add(actor=request.user, task_id=task_id, body=data.validated_data["body"])
        return Response(CommentOutputSerializer(comment).data, status=201)


class TaskTimelineApi(APIView):
    @extend_schema(responses={200: inline_serializer("TimelineOut", {"events": serializers.ListField(child=serializers.DictField())})})
    def get(self, request, task_id: int):
        return Response({"events": case_timeline(user=request.user, task_id=task_id)})


class SubstitutionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    user = serializers.CharField(source="user.username")
    substitute = serializers.CharField(source="substitute.username")
    start_at = serializers.DateTimeField()
    end_at = serializers.DateTimeField()
    reason = serializers.CharField()
    cancelled_at = serializers.DateTimeField(allow_null=True)


class SubstitutionListCreateApi(APIView):
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        substitute = serializers.CharField(required=False, allow_blank=True, default="")
        start_at = serializers.CharField(required=False, allow_blank=True, default="")
        end_at = serializers.CharField(required=False, allow_blank=True, default="")
        reason = serializers.CharField(required=False, allow_blank=True, default="")
        move_open = serializers.BooleanField(required=False, default=False)

    @extend_schema(responses={200: SubstitutionOutputSerializer(many=True)})
    def get(self, request):
        return Response(SubstitutionOutputSerializer(substitutions_of(user=request.user), many=True).data)

    @extend_schema(request=InputSerializer, responses={201: SubstitutionOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        record = substitution_create(actor=request.user, substitute_username=v["substitute"], start_at=v["start_at"], end_at=v["end_at"], reason=v["reason"], move_open=v["move_open"])
        return Response(SubstitutionOutputSerializer(record).data, status=201)


class SubstitutionCancelApi(APIView):
    @extend_schema(request=None, responses={200: SubstitutionOutputSerializer})
    def post(self, request, substitution_id: int):
        return Response(SubstitutionOutputSerializer(substitution_cancel(actor=request.user, substitution_id=substitution_id)).data)
