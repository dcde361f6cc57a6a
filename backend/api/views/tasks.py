from functools import partial
from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api.schema import paginated
from backend.common.exceptions import ValidationFailed
from backend.common.pagination import KnownCountPaginator
from forms.registry import form_get
from processes.services import instance_form
from tasks.cases import case_view_for
from tasks.inbox import SORTS, inbox_rows_attach
from tasks.models import HumanTask
from tasks.selectors import sla_state, task_get_visible, task_inbox_counts
from tasks.services import task_claim, task_complete, task_unclaim
from tasks.tabs import task_filter, task_inbox_listing, task_tab


class TaskOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    step = serializers.CharField()
    process = serializers.CharField(source="process_key")
    process_name = serializers.CharField()
    case_type = serializers.CharField()
    case_id = serializers.IntegerField(allow_null=True)
    customer_id = serializers.IntegerField(allow_null=True)
    org_unit = serializers.CharField(source="org_unit.code")
    org_unit_name = serializers.CharField(source="org_unit.name")
    role = serializers.CharField()
    assignee = serializers.SerializerMethodField()
    status = serializers.CharField()
    due_at = serializers.DateTimeField(allow_null=True)
    sla = serializers.SerializerMethodField()
    flags = serializers.ListField(child=serializers.CharField())
    form = serializers.CharField(source="form_key")
    created_at = serializers.DateTimeField()

    def get_assignee(self, task: HumanTask) -> str | None:
        return task.assignee.username if task.assignee_id else None

    def get_sla(self, task: HumanTask) -> str:
        return sla_state(task)


class TaskListItemSerializer(TaskOutputSerializer):
    """A list row also says whose case it is (tasks/inbox.py): the customer's name masked."""

    case_number = serializers.CharField(source="case_row.number")
    customer = serializers.CharField(source="case_row.customer", help_text="客户姓名（已脱敏）")
    branch = serializers.CharField(source="case_row.branch")
    submitter = serializers.CharField(source="case_row.submitter")


class InboxPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def case_view(user, task: HumanTask) -> dict[str, Any] | None:
    return case_view_for(user=user, case_type=task.case_type, case_id=task.case_id)


class TaskListApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("tab", str, enum=["todo", "done", "cc"], description="待办(默认)/已办/抄送我的"),
            OpenApiParameter("process", str), OpenApiParameter("step", str), OpenApiParameter("org_unit", str),
            OpenApiParameter("flag", str), OpenApiParameter("due_before", str), OpenApiParameter("due_after", str),
            OpenApiParameter("q", str, description="业务编号、客户姓名（全名或开头）或任务名称，至多 100 字"),
            OpenApiParameter("sort", str, enum=list(SORTS), description="待办的排序：到期时间（默认，超时在前）、收到时间（最新在前）、优先级"),
        ],
        responses={200: paginated("TaskPage", TaskListItemSerializer(many=True), counts=serializers.DictField(child=serializers.IntegerField()))},
    )
    def get(self, request):
        paginator = InboxPagination()
        tab = request.query_params.get("tab", "todo")
        tasks = task_filter(task_tab(user=request.user, tab=tab), request.query_params)
        counts = task_inbox_counts(user=request.user)
        sort = request.query_params.get("sort") or "due"
        if sort not in SORTS:
            raise ValidationFailed.field("sort", "可选: " + ", ".join(SORTS))
        if tab == "todo":
            # The 待办 page is read arm by arm in the sort's order (P4, tasks/selectors.py);
            # unfiltered, it is exactly what `counts["total"]` counted: no second COUNT.
            tasks, known = task_inbox_listing(user=request.user, sort=sort, filters=request.query_params, counts=counts)
            if known is not None:
                paginator.django_paginator_class = partial(KnownCountPaginator, known_count=known)
        page = inbox_rows_attach(list(paginator.paginate_queryset(tasks, request, view=self)))
        response = paginator.get_paginated_response(TaskListItemSerializer(page, many=True).data)
        response.data["counts"] = counts
        return response


class TaskDetailApi(APIView):
    @extend_schema(responses={200: TaskOutputSerializer})
    def get(self, request, task_id: int):
        task = task_get_visible(user=request.user, task_id=task_id)
        data = TaskOutputSerializer(task).data
        form = instance_form(task.instance_id, task.form_key) or form_get(task.form_key)
        data["form_schema"] = {"title": form.title, "schema": form.schema, "ui": form.ui}
        data["case"] = case_view(request.user, task)
        return Response(data)


class TaskClaimApi(APIView):
    @extend_schema(request=None, responses={200: TaskOutputSerializer})
    def post(self, request, task_id: int):
        task = task_claim(actor=request.user, task_id=task_id)
        return Response(TaskOutputSerializer(task).data)


class TaskUnclaimApi(APIView):
    @extend_schema(request=None, responses={200: TaskOutputSerializer})
    def post(self, request, task_id: int):
        task = task_unclaim(actor=request.user, task_id=task_id)
        return Response(TaskOutputSerializer(task).data)


class TaskCompleteApi(APIView):
    parser_classes = [JSONParser]

    @extend_schema(
        request=inline_serializer("TaskCompleteInput", {"decision": serializers.CharField(required=False), "comment": serializers.CharField(required=False)}),
        responses={200: TaskOutputSerializer, 400: OpenApiResponse(description="表单数据无效"), 409: OpenApiResponse(description="任务已处理")},
    )
    def post(self, request, task_id: int):
        task = task_complete(actor=request.user, task_id=task_id, data=request.data)
        return Response(TaskOutputSerializer(task).data)
