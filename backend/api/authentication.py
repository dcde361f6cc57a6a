"""API authentication.

- People: `Authorization: Token <token>`, a django-rest-knox token (`backend.accounts`): stored
  hashed, idle and absolute expiry, dead on sign-out and on any password change.
- Upstream systems: `Authorization: Bearer <client token>` (their own rotate/revoke lifecycle).
"""

from __future__ import annotations

from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework import authentication, exceptions

from backend.accounts.services import auth_token_revoke
from backend.integrations.clients import api_client_authenticate


class UserTokenAuthentication(KnoxTokenAuthentication):
    def authenticate_credentials(self, token: bytes):
        try:
            token.decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("令牌无效或已过期")) from None
        return super().authenticate_credentials(token)

    def validate_user(self, auth_token):
        user, auth_token = super().validate_user(auth_token)
        if not constant_time_compare(auth_token.password_mac, user.get_session_auth_hash()):
            # The password changed since the token was issued (by whatever path): dead.
            auth_token_revoke(token=auth_token)
            raise exceptions.AuthenticationFailed(_("令牌无效或已过期"))
        return user, auth_token


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
