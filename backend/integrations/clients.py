"""API clients (接口客户端): create, rotate, revoke, authenticate, scope checks."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.audit import audit_event_record
from backend.common.exceptions import Forbidden, NotFound, ValidationFailed
from backend.integrations.callback_urls import callback_url_clean
from backend.integrations.models import ApiClient, Scope
from backend.organisation.models import OrgUnit, Role
from backend.organisation.services import role_assign

TOKEN_PREFIX = "cfk_"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def _clean_scopes(scopes) -> list[str]:
    scopes = sorted({str(s).strip() for s in scopes or [] if str(s).strip()})
    bad = [s for s in scopes if s not in Scope.values]
    if bad or not scopes:
        raise ValidationFailed.field(
            "scopes", _("权限范围无效,可选: %(choices)s") % {"choices": ", ".join(Scope.values)}
        )
    return scopes


def _clean_callback_url(url: str) -> str:
    # Resolved and refused when it points inside the network (callback_urls.py).
    return callback_url_clean(url)


@transaction.atomic
def api_client_create(
    *, actor, name: str, org_unit_code: str, scopes, callback_url: str = ""
) -> tuple[ApiClient, str]:
    """Create a client and its service user (collector at the org unit). Returns the client
    and the token, which is shown once and stored only as a hash."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationFailed.field("name", _("请填写名称(不超过 100 个字符)"))
    if ApiClient.objects.filter(name=name).exists():
        raise ValidationFailed.field("name", _("该名称已被使用"))
    org_unit = OrgUnit.objects.filter(code=org_unit_code).first()
    if org_unit is None:
        raise ValidationFailed.field("org_unit", _("机构不存在"))
    scopes = _clean_scopes(scopes)
    callback_url = _clean_callback_url(callback_url)
    user = get_user_model().objects.create(
        username=f"api:{name}"[:150], first_name=name[:150], is_active=True
    )
    user.set_unusable_password()
    user.save(update_fields=["password"])
    role_assign(user=user, role=Role.COLLECTOR, org_unit=org_unit, actor=actor)
    token = _new_token()
    client = ApiClient.objects.create(
        name=name,
        org_unit=org_unit,
        service_user=user,
        scopes=scopes,
        token_hash=token_hash(token),
        token_prefix=token[:12],
        callback_url=callback_url,
        callback_secret=secrets.token_hex(32),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit_event_record(
        actor=actor,
        action="api_client.created",
        obj=client,
        org_unit=org_unit,
        data={
            "name": name,
            "scopes": scopes,
            "token_prefix": client.token_prefix,
            "callback_url": callback_url,
        },
    )
    return client, token


def _client_locked(client_id) -> ApiClient:
    client = ApiClient.objects.select_for_update().filter(pk=client_id).first()
    if client is None:
        raise NotFound(_("接口客户端不存在"), code="api_client_not_found")
    return client


@transaction.atomic
def api_client_rotate(*, actor, client_id) -> tuple[ApiClient, str]:
    """A new token; the old one stops working at once."""
    client = _client_locked(client_id)
    if client.revoked_at:
        raise ValidationFailed.field("client", _("已吊销的客户端不能更换令牌"))
    token = _new_token()
    previous = client.token_prefix
    client.token_hash = token_hash(token)
    client.token_prefix = token[:12]
    client.rotated_at = timezone.now()
    client.save(update_fields=["token_hash", "token_prefix", "rotated_at"])
    audit_event_record(
        actor=actor,
        action="api_client.rotated",
        obj=client,
        org_unit=client.org_unit,
        data={"token_prefix": client.token_prefix, "previous_token_prefix": previous},
    )
    return client, token


@transaction.atomic
def api_client_revoke(*, actor, client_id) -> ApiClient:
    client = _client_locked(client_id)
    if client.revoked_at is None:
        client.revoked_at = timezone.now()
        client.save(update_fields=["revoked_at"])
        user = client.service_user
        user.is_active = False
        user.save(update_fields=["is_active"])
        audit_event_record(actor=actor, action="api_client.revoked", obj=client, org_unit=client.org_unit)
    return client


@transaction.atomic
def api_client_update(*, actor, client_id, scopes=None, callback_url: str | None = None) -> ApiClient:
    client = _client_locked(client_id)
    fields = []
    if scopes is not None:
        client.scopes = _clean_scopes(scopes)
        fields.append("scopes")
    if callback_url is not None:
        client.callback_url = _clean_callback_url(callback_url)
        fields.append("callback_url")
    if fields:
        client.save(update_fields=fields)
        audit_event_record(
            actor=actor,
            action="api_client.updated",
            obj=client,
            org_unit=client.org_unit,
            data={f: getattr(client, f) for f in fields},
        )
    return client


def api_client_authenticate(token: str) -> ApiClient | None:
    """The live client holding this token, or None (unknown, rotated away or revoked).
    Read on every request, so a revocation takes effect at once."""
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    client = (
        ApiClient.objects.select_related("service_user", "org_unit")
        .filter(token_hash=token_hash(token), revoked_at__isnull=True)
        .first()
    )
    if client is None or not client.service_user.is_active:
        return None
    return client


def api_client_require_scope(client: ApiClient, scope: str) -> None:
    if scope not in (client.scopes or []):
        raise Forbidden(_("该接口客户端没有“%(scope)s”权限") % {"scope": scope}, code="scope_missing")
