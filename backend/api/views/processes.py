from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.common.exceptions import ValidationFailed
from processes.services import process_definition_list, process_definition_upload, process_test_instance_start
from tasks.models import HumanTask, TaskStatus


class VersionOutputSerializer(serializers.Serializer):
    key = serializers.CharField(source="definition.key")
    name = serializers.CharField(source="definition.name")
    version = serializers.IntegerField()
    content_hash = serializers.CharField()
    source = serializers.CharField()
    created_at = serializers.DateTimeField()


class ProcessDefinitionListCreateApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(responses={200: VersionOutputSerializer(many=True)})
    def get(self, request):
        return Response(VersionOutputSerializer(process_definition_list(actor=request.user), many=True).data)

    @extend_schema(
        request={"multipart/form-data": inline_serializer("DiagramUpload", {"file": serializers.FileField()})},
        responses={201: VersionOutputSerializer},
    )
    def post(self, request):
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationFailed.field("file", "请上传 BPMN 文件")
        version, created = process_definition_upload(actor=request.user, data=upload.read(), filename=upload.name or "diagram.bpmn")
        # Versions are keyed by content hash: the same bytes again answer with the existing
        # version ("created": false) — still 201, the contract upstream tools rely on.
        body = VersionOutputSerializer(version).data
        body["created"] = created
        return Response(body, status=status.HTTP_201_CREATED)


class ProcessInstanceCreateApi(APIView):
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        process = serializers.CharField(max_length=100)
        data = serializers.JSONField(required=False, default=dict)

    @extend_schema(request=InputSerializer, responses={201: inline_serializer("InstanceOut", {"id": serializers.IntegerField(), "status": serializers.CharField()})})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        instance = process_test_instance_start(actor=request.user, key=data.validated_data["process"], data=data.validated_data["data"])
        ready = HumanTask.objects.filter(instance=instance, status=TaskStatus.READY).values("id", "step", "name", "lane")
        return Response(
            {
                "id": instance.pk,
                "process": instance.version.definition.key,
                "version": instance.version.version,
                "status": instance.status,
                "end_event": instance.end_event or None,
                "ready_tasks": list(ready),
            },
            status=status.HTTP_201_CREATED,
        )
