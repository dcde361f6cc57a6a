"""Upstream systems authenticate with `Authorization: Bearer <client token>`."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

from backend.integrations.clients import api_client_authenticate


class ApiClientAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("令牌格式错误"))
        client = api_client_authenticate(header[1].decode("latin-1"))
        if client is None:
            raise exceptions.AuthenticationFailed(_("令牌无效或已吊销"))
        return client.service_user, client

    def authenticate_header(self, request):
        return self.keyword
