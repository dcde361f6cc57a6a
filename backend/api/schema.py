"""OpenAPI generation details (drf-spectacular).

Views declare their serializers as nested `InputSerializer` / `OutputSerializer` classes (one view
per use case), so the default component names ("Input", "Output") collide and every request
body but one was documented with the wrong schema. Nested serializers are named after their
outer class instead: `AccountOpeningCreateApi.InputSerializer` → `AccountOpeningCreateInput`.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers


class AutoSchema(BaseAutoSchema):
    def get_serializer_name(self, serializer, direction):
        cls = serializer.__class__
        outer, _, inner = cls.__qualname__.rpartition(".")
        if outer and "<locals>" not in outer:
            return outer.split(".")[-1].removesuffix("Api") + inner.removesuffix("Serializer")
        return super().get_serializer_name(serializer, direction)

    def get_operation_id(self):
        # A GET on a collection (the path does not end in an id) lists, even when its documented
        # body is a page object rather than an array: `customers_list`, not `customers_retrieve`.
        operation_id = super().get_operation_id()
        if self.method == "GET" and operation_id.endswith("_retrieve") and not self.path.rstrip("/").endswith("}"):
            return operation_id.removesuffix("_retrieve") + "_list"
        return operation_id


class ApiClientTokenScheme(OpenApiAuthenticationExtension):
    target_class = "backend.api.authentication.ApiClientAuthentication"
    name = "apiClientToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "Upstream system token (`cfk_…`)"}


def paginated(name: str, results, **extra):
    """The documented body of a `PageNumberPagination` response: count, next, previous, results
    (a `many=True` serializer) and any extra top-level keys the view adds."""

    return inline_serializer(
        name=name,
        fields={
            "count": serializers.IntegerField(),
            "next": serializers.CharField(allow_null=True),
            "previous": serializers.CharField(allow_null=True),
            "results": results,
            **extra,
        },
    )


class UserTokenScheme(OpenApiAuthenticationExtension):
    target_class = "backend.api.authentication.UserTokenAuthentication"
    name = "userToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <token>` from `POST /api/auth/token/`; expires when idle, at an absolute limit, on sign-out and on a password change",
        }
