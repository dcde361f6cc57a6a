from django.http import FileResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api.authentication import ApiClientAuthentication
from backend.integrations.claims import claim_report_automatic
from backend.integrations.clients import api_client_create, api_client_revoke, api_client_rotate
from backend.integrations.imports import import_batch_create, import_result_download
from backend.integrations.selectors import (
    customer_check,
    customer_check_refuse_get,
    import_batch_get_visible,
    import_batch_view,
)
from backend.integrations.services import customer_open_automatic, integration_request_get


class ClientApi(APIView):
    authentication_classes = [ApiClientAuthentication]


class AutomaticOpeningApi(ClientApi):
    """自动开户: JSON body (customer_type, name, id_type, id_number, phone, address, email,
    legal_rep_*, contact_person, scan as base64, scan_filename) and an Idempotency-Key header."""

    parser_classes = [JSONParser]

    @extend_schema(request=dict, responses={200: dict, 201: dict, 202: dict, 422: dict})
    def post(self, request):
        code, body = customer_open_automatic(
            client=request.auth, idempotency_key=request.headers.get("Idempotency-Key"), payload=request.data
        )
        return Response(body, status=code)


class ClaimReportApi(ClientApi):
    """理赔数据: JSON body (claim_number, policy_number, occurred_on, reported_on, status,
    amount_claimed, amount_paid, cause) and an Idempotency-Key header. 201 a new claim, 200 an
    update of one held (same claim number), 400 with field messages (an unknown policy included)."""

    parser_classes = [JSONParser]

    @extend_schema(request=dict, responses={200: dict, 201: dict, 400: dict, 422: dict})
    def post(self, request):
        code, body = claim_report_automatic(
            client=request.auth, idempotency_key=request.headers.get("Idempotency-Key"), payload=request.data
        )
        return Response(body, status=code)


class CustomerCheckApi(ClientApi):
    """自动查询: POST a JSON body {"id_type", "id_number"} or {"uscc"}; a recorded look-up
    under the client's service user (hourly limit, 429 with Retry-After). A GET — identifiers
    in the URL — is a 400 pointing here. (A form body is read too.)"""

    class InputSerializer(serializers.Serializer):
        id_type = serializers.CharField(required=False)
        id_number = serializers.CharField(required=False)
        uscc = serializers.CharField(required=False)

    class OutputSerializer(serializers.Serializer):
        exists = serializers.BooleanField()
        status = serializers.CharField(allow_null=True)
        can_do_business = serializers.BooleanField()
        customer_id = serializers.IntegerField(allow_null=True)

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request):
        params = request.data
        if hasattr(params, "dict"):  # a form body (QueryDict): one value per key
            params = params.dict()
        return Response(self.OutputSerializer(customer_check(client=request.auth, params=params)).data)

    @extend_schema(deprecated=True, responses={400: dict})
    def get(self, request):
        customer_check_refuse_get(client=request.auth)


class IntegrationRequestApi(ClientApi):
    @extend_schema(responses={200: dict})
    def get(self, request, request_id: int):
        return Response(integration_request_get(client=request.auth, request_id=request_id))


class ApiClientCreateApi(APIView):
    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(required=False, allow_blank=True, default="")
        org_unit = serializers.CharField(required=False, allow_blank=True, default="")
        scopes = serializers.ListField(child=serializers.CharField(), required=False, default=list)
        callback_url = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(request=InputSerializer, responses={201: dict})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        client, token = api_client_create(
            actor=request.user,
            name=v["name"],
            org_unit_code=v["org_unit"],
            scopes=v["scopes"],
            callback_url=v["callback_url"],
        )
        return Response(
            {
                "id": client.pk,
                "name": client.name,
                "org_unit": client.org_unit.code,
                "scopes": client.scopes,
                "token": token,
                "callback_secret": client.callback_secret,
            },
            status=status.HTTP_201_CREATED,
        )


class ApiClientRotateApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(request=None, responses={200: dict})
    def post(self, request, client_id: int):
        client, token = api_client_rotate(actor=request.user, client_id=client_id)
        return Response({"id": client.pk, "token": token})


class ApiClientRevokeApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(request=None, responses={200: dict})
    def post(self, request, client_id: int):
        client = api_client_revoke(actor=request.user, client_id=client_id)
        return Response({"id": client.pk, "revoked_at": client.revoked_at.isoformat()})


class ImportCreateApi(APIView):
    parser_classes = [MultiPartParser]

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField(required=False, allow_empty_file=True)

    @extend_schema(request={"multipart/form-data": InputSerializer}, responses={202: dict})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data.get("file")
        batch = import_batch_create(actor=request.user, fileobj=upload, filename=getattr(upload, "name", ""))
        batch.refresh_from_db()
        return Response(import_batch_view(batch), status=status.HTTP_202_ACCEPTED)


class ImportDetailApi(APIView):
    @extend_schema(responses={200: dict})
    def get(self, request, batch_id: int):
        return Response(import_batch_view(import_batch_get_visible(user=request.user, batch_id=batch_id)))


class ImportResultApi(APIView):
    @extend_schema(responses={200: bytes})
    def get(self, request, batch_id: int):
        handle, filename = import_result_download(user=request.user, batch_id=batch_id)
        return FileResponse(handle, as_attachment=True, filename=filename)
