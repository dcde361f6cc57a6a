"""Process owners: drafts (four-eyes publishing), versions and their diffs, the modeler catalogue."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from processes.drafts import (
    draft_content_sha256,
    draft_errors,
    modeler_catalog,
    process_draft_approve,
    process_draft_create,
    process_draft_form_get,
    process_draft_form_preview,
    process_draft_form_save,
    process_draft_get,
    process_draft_list,
    process_draft_publish_request,
    process_draft_reject,
    process_draft_save,
    process_version_diff,
    process_version_get,
    process_versions,
)
from processes.instance_migrations import instance_migration_rollback, instances_migrate


class ProblemSerializer(serializers.Serializer):
    message = serializers.CharField()
    element = serializers.CharField(allow_null=True)
    line = serializers.IntegerField(allow_null=True)
    severity = serializers.CharField()


class DraftOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    status = serializers.CharField()
    row_version = serializers.IntegerField()
    problems = serializers.JSONField()
    can_request_publish = serializers.SerializerMethodField()
    base_version = serializers.IntegerField(source="base_version.version", allow_null=True, default=None)
    published_version = serializers.IntegerField(source="published_version.version", allow_null=True, default=None)
    updated_by = serializers.CharField(source="updated_by.username")
    requested_by = serializers.CharField(source="requested_by.username", allow_null=True, default=None)
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True, default=None)
    decision_comment = serializers.CharField()
    updated_at = serializers.DateTimeField()

    def get_can_request_publish(self, draft) -> bool:
        return draft.status in ("draft", "rejected") and not draft_errors(draft)


class DraftDetailOutputSerializer(DraftOutputSerializer):
    bpmn_xml = serializers.CharField()
    content_sha256 = serializers.SerializerMethodField(help_text="SHA-256 of the draft content (XML and edited forms); send it to approve")

    def get_content_sha256(self, draft) -> str:
        return draft_content_sha256(draft)


@extend_schema_serializer(component_name="DraftVersionOutput")  # processes.py has its own VersionOutput
class VersionOutputSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    content_hash = serializers.CharField()
    source = serializers.CharField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    created_at = serializers.DateTimeField()
    instances = serializers.IntegerField(source="instances.count")


class DraftListCreateApi(APIView):
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        key = serializers.CharField(max_length=100)
        bpmn_xml = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)

    @extend_schema(responses={200: DraftOutputSerializer(many=True)})
    def get(self, request):
        drafts = process_draft_list(actor=request.user, key=request.query_params.get("key") or None)[:200]
        return Response(DraftOutputSerializer(drafts, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: DraftDetailOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        draft = process_draft_create(actor=request.user, key=data.validated_data["key"], bpmn_xml=data.validated_data.get("bpmn_xml"))
        return Response(DraftDetailOutputSerializer(draft).data, status=status.HTTP_201_CREATED)


class DraftDetailApi(APIView):
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        bpmn_xml = serializers.CharField(trim_whitespace=False)
        row_version = serializers.IntegerField(required=False, min_value=0)

    @extend_schema(responses={200: DraftDetailOutputSerializer})
    def get(self, request, draft_id: int):
        return Response(DraftDetailOutputSerializer(process_draft_get(actor=request.user, draft_id=draft_id)).data)

    @extend_schema(request=InputSerializer, responses={200: DraftDetailOutputSerializer})
    def put(self, request, draft_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        draft = process_draft_save(
            actor=request.user, draft_id=draft_id, bpmn_xml=data.validated_data["bpmn_xml"], row_version=data.validated_data.get("row_version")
        )
        return Response(DraftDetailOutputSerializer(draft).data)


class DraftFormApi(APIView):
    """A form as edited with the draft (its own edit, else the file's definition)."""

    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        definition = serializers.JSONField()
        row_version = serializers.IntegerField(required=False, min_value=0)

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, draft_id: int, form_key: str):
        return Response(process_draft_form_get(actor=request.user, draft_id=draft_id, form_key=form_key))

    @extend_schema(request=InputSerializer, responses={200: OpenApiTypes.OBJECT})
    def put(self, request, draft_id: int, form_key: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        process_draft_form_save(
            actor=request.user,
            draft_id=draft_id,
            form_key=form_key,
            definition=data.validated_data["definition"],
            row_version=data.validated_data.get("row_version"),
        )
        return Response(process_draft_form_get(actor=request.user, draft_id=draft_id, form_key=form_key))


class DraftFormPreviewApi(APIView):
    """Checks a definition without saving: its fields as the task page would show them."""

    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        definition = serializers.JSONField()

    @extend_schema(request=InputSerializer, responses={200: OpenApiTypes.OBJECT})
    def post(self, request, draft_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        process_draft_get(actor=request.user, draft_id=draft_id)
        form = process_draft_form_preview(actor=request.user, definition=data.validated_data["definition"])
        return Response({"title": form.title, "fields": form.fields()})


class DraftPublishRequestApi(APIView):
    @extend_schema(request=None, responses={200: DraftOutputSerializer})
    def post(self, request, draft_id: int):
        return Response(DraftOutputSerializer(process_draft_publish_request(actor=request.user, draft_id=draft_id)).data)


class DraftApproveApi(APIView):
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        # The hash of the draft content the approver reviewed (`content_sha256` of the draft).
        content_sha256 = serializers.CharField(allow_blank=True, max_length=128)
        comment = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")

    @extend_schema(request=InputSerializer, responses={201: VersionOutputSerializer})
    def post(self, request, draft_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = process_draft_approve(
            actor=request.user, draft_id=draft_id, content_sha256=data.validated_data["content_sha256"], comment=data.validated_data["comment"]
        )
        body = VersionOutputSerializer(version).data
        body["key"] = version.definition.key
        return Response(body, status=status.HTTP_201_CREATED)


class DraftRejectApi(APIView):
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        comment = serializers.CharField(max_length=500)

    @extend_schema(request=InputSerializer, responses={200: DraftOutputSerializer})
    def post(self, request, draft_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        draft = process_draft_reject(actor=request.user, draft_id=draft_id, comment=data.validated_data["comment"])
        return Response(DraftOutputSerializer(draft).data)


class VersionListApi(APIView):
    @extend_schema(responses={200: VersionOutputSerializer(many=True)})
    def get(self, request, key: str):
        return Response(VersionOutputSerializer(process_versions(actor=request.user, key=key), many=True).data)


class VersionDetailApi(APIView):
    @extend_schema(responses={200: inline_serializer("VersionDetail", {"version": serializers.IntegerField(), "bpmn_xml": serializers.CharField()})})
    def get(self, request, key: str, version: int):
        found = process_version_get(actor=request.user, key=key, version=version)
        body = VersionOutputSerializer(found).data
        body["bpmn_xml"] = found.bpmn_xml
        return Response(body)


class VersionDiffApi(APIView):
    class QuerySerializer(serializers.Serializer):
        old = serializers.IntegerField(min_value=1)
        new = serializers.IntegerField(min_value=1)

    @extend_schema(parameters=[QuerySerializer], responses={200: OpenApiTypes.OBJECT})
    def get(self, request, key: str):
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(process_version_diff(actor=request.user, key=key, old=query.validated_data["old"], new=query.validated_data["new"]))


class ModelerCatalogApi(APIView):
    """What the properties panel offers: lanes (→ roles), forms, operations, deadline names."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return Response(modeler_catalog(actor=request.user))


class InstanceMigrationApi(APIView):
    """Dry run (default) or run of a batch migration to `target_version`."""

    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        target_version = serializers.IntegerField(min_value=1)
        instances = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=1000)
        from_version = serializers.IntegerField(min_value=1, required=False)
        dry_run = serializers.BooleanField(default=True)

    @extend_schema(request=InputSerializer, responses={200: OpenApiTypes.OBJECT})
    def post(self, request, key: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        return Response(
            instances_migrate(
                actor=request.user,
                key=key,
                target_version=v["target_version"],
                instance_ids=v.get("instances"),
                from_version=v.get("from_version"),
                dry_run=v["dry_run"],
            )
        )


class InstanceMigrationRollbackApi(APIView):
    @extend_schema(
        request=None,
        responses={200: inline_serializer("MigrationRollbackOutput", {"migration": serializers.IntegerField(), "instance": serializers.IntegerField(), "outcome": serializers.CharField()})},
    )
    def post(self, request, migration_id: int):
        migration = instance_migration_rollback(actor=request.user, migration_id=migration_id)
        return Response({"migration": migration.pk, "instance": migration.instance_id, "outcome": migration.outcome})
