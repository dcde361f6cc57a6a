from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from backend.common.exceptions import ApplicationError, TooManyRequests


def custom_exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        response = Response(exc.as_dict(), status=exc.status_code)
        if isinstance(exc, TooManyRequests) and "retry_after" in exc.extra:
            response["Retry-After"] = str(int(exc.extra["retry_after"]))
        return response
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("未找到")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is not None and response.status_code == status.HTTP_400_BAD_REQUEST and isinstance(response.data, list):
        response.data = {"non_field_errors": response.data}
    return response
