"""退回, 撤回, 撤销, 委派, 加签/减签 through the API: one view per use case."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api.views.tasks import TaskOutputSerializer
from tasks.flow import (
    case_cancel,
    case_withdraw,
    task_delegate,
    task_return,
    task_return_targets,
    task_signer_add,
    task_signer_decide,
    task_signer_remove,
)
from tasks.selectors import task_get_visible

ReturnTargetOutput = inline_serializer(
    "ReturnTarget",
    {"task_id": serializers.IntegerField(), "step": serializers.CharField(), "name": serializers.CharField(), "completed_by": serializers.CharField(allow_null=True), "completed_at": serializers.DateTimeField()},
)
SignerOutput = inline_serializer(
    "TaskSignerOutput",
    {"id": serializers.IntegerField(), "user": serializers.CharField(), "position": serializers.CharField(), "status": serializers.CharField(), "reason": serializers.CharField(), "comment": serializers.CharField()},
)


def _signer(s) -> dict:
    return {"id": s.pk, "user": s.user.username, "position": s.position, "status": s.status, "reason": s.reason, "comment": s.comment}


def _str_field(**kw):
    return serializers.CharField(required=False, allow_blank=True, default="", **kw)


class TaskReturnTargetsApi(APIView):
    @extend_schema(responses={200: ReturnTargetOutput})
    def get(self, request, task_id: int):
        task = task_get_visible(user=request.user, task_id=task_id)
        rows = task_return_targets(task=task)
        return Response([
            {"task_id": t.pk, "step": t.step, "name": t.name, "completed_by": t.completed_by.username if t.completed_by_id else None, "completed_at": t.completed_at}
            for t in rows
        ])


class TaskReturnApi(APIView):
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        target = serializers.JSONField(required=False, default=None, help_text="要退回到的已办任务编号(见 return-targets)")
        reason = _str_field()

    @extend_schema(request=InputSerializer, responses={200: TaskOutputSerializer})
    def post(self, request, task_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        task = task_return(actor=request.user, task_id=task_id, target_task_id=data.validated_data["target"], reason=data.validated_data["reason"])
        return Response(TaskOutputSerializer(task).data)


class TaskDelegateApi(APIView):
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        to = _str_field(help_text="被委派人的用户名")
        reason = _str_field()

    @extend_schema(request=InputSerializer, responses={200: TaskOutputSerializer})
    def post(self, request, task_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        task = task_delegate(actor=request.user, task_id=task_id, to_username=data.validated_data["to"], reason=data.validated_data["reason"])
        return Response(TaskOutputSerializer(task).data)


class TaskSignersApi(APIView):
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        user = _str_field(help_text="加签人的用户名")
        position = _str_field(help_text="before 前加签 / after 后加签")
        reason = _str_field()

    @extend_schema(responses={200: SignerOutput})
    def get(self, request, task_id: int):
        task = task_get_visible(user=request.user, task_id=task_id)
        return Response([_signer(s) for s in task.signers.select_related("user")])

    @extend_schema(request=InputSerializer, responses={201: SignerOutput})
    def post(self, request, task_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        signer = task_signer_add(actor=request.user, task_id=task_id, username=data.validated_data["user"], position=data.validated_data["position"], reason=data.validated_data["reason"])
        return Response(_signer(signer), status=status.HTTP_201_CREATED)


class TaskSignerRemoveApi(APIView):
    @extend_schema(request=None, responses={200: SignerOutput})
    def post(self, request, task_id: int, signer_id: int):
        return Response(_signer(task_signer_remove(actor=request.user, task_id=task_id, signer_id=signer_id)))


class TaskSignApi(APIView):
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        decision = _str_field(help_text="approve 同意 / reject 不同意")
        comment = _str_field()

    @extend_schema(request=InputSerializer, responses={200: SignerOutput})
    def post(self, request, task_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        signer = task_signer_decide(actor=request.user, task_id=task_id, decision=data.validated_data["decision"], comment=data.validated_data["comment"])
        return Response(_signer(signer))


class CaseWithdrawApi(APIView):
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        reason = _str_field()

    @extend_schema(request=InputSerializer, responses={200: inline_serializer("WithdrawOut", {"status": serializers.CharField(), "task_id": serializers.IntegerField(allow_null=True), "step": serializers.CharField(allow_null=True)})})
    def post(self, request, instance_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(case_withdraw(actor=request.user, instance_id=instance_id, reason=data.validated_data["reason"]))


class CaseCancelApi(APIView):
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        reason = _str_field()

    @extend_schema(request=InputSerializer, responses={200: inline_serializer("CancelOut", {"id": serializers.IntegerField(), "status": serializers.CharField()})})
    def post(self, request, instance_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        instance = case_cancel(actor=request.user, instance_id=instance_id, reason=data.validated_data["reason"])
        return Response({"id": instance.pk, "status": instance.status})
