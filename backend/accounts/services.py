"""Sign-in tokens and passwords."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from backend.accounts.models import AuthToken
from backend.common.audit import audit_event_record
from backend.common.exceptions import ValidationFailed


@transaction.atomic
def auth_token_issue(*, user: Any) -> str:
    """A new token for `user` (returned once; only its hash is stored). It expires after the
    idle time (`REST_KNOX["TOKEN_TTL"]`, renewed on use) and at the latest after the absolute
    time (`REST_KNOX["AUTO_REFRESH_MAX_TTL"]`) from now. The user's expired tokens go."""
    AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
    _, token = AuthToken.objects.create(user=user, password_mac=user.get_session_auth_hash())
    return token


@transaction.atomic
def auth_token_revoke(*, token: AuthToken) -> None:
    AuthToken.objects.filter(pk=token.pk).delete()


@transaction.atomic
def auth_tokens_revoke_all(*, user: Any) -> int:
    deleted, _ = AuthToken.objects.filter(user=user).delete()
    return deleted


@transaction.atomic
def user_password_set(*, actor: Any, user: Any, password: str) -> None:
    """Set a password that passes `AUTH_PASSWORD_VALIDATORS` (400 with the validators' messages
    under `password` otherwise, nothing changed). Every token of the user dies here; the user's
    sessions die through Django's session auth hash (the password hash changes)."""
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ValidationFailed("", field_errors={"password": list(exc.messages)}, code="weak_password") from exc
    user.set_password(password)
    if user.pk is None:
        user.save()
    else:
        user.save(update_fields=["password"])
    revoked = auth_tokens_revoke_all(user=user)
    audit_event_record(actor=actor, action="auth.password_changed", object_type="auth.user", object_id=user.pk, data={"tokens_revoked": revoked})
