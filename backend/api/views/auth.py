from django.contrib.auth import authenticate, logout
from django.contrib.auth.signals import user_logged_in, user_logged_out
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.models import AuthToken
from backend.accounts.services import auth_token_issue, auth_token_revoke
from backend.common.exceptions import ValidationFailed


class TokenObtainApi(APIView):
    """Sign in: a token for `Authorization: Token <token>`. Repeated failures per username and
    per client address lock sign-in for a cool-off (django-axes): 429 with `Retry-After`."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=128, trim_whitespace=False)

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # The Django request, so django-axes counts the attempt and its middleware answers a lockout.
        user = authenticate(request._request, **data.validated_data)
        if user is None or not user.is_active:
            raise ValidationFailed("", field_errors={"non_field_errors": ["用户名或密码错误"]}, code="invalid_credentials")
        token = auth_token_issue(user=user)
        user_logged_in.send(sender=user.__class__, request=request._request, user=user)
        return Response({"token": token})


class SignOutApi(APIView):
    """Sign out: the token of this request dies (a session signing out through the API is
    flushed). 204."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        user = request.user
        if isinstance(request.auth, AuthToken):
            auth_token_revoke(token=request.auth)
            user_logged_out.send(sender=user.__class__, request=request._request, user=user)
        elif request.auth is None:
            logout(request._request)  # session: flushed, sends user_logged_out itself
        return Response(status=204)
