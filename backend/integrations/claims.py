"""理赔数据 from the claims system: `POST /api/integrations/claims/`, idempotent like the opening
(an Idempotency-Key per request; without one, by the claim number), scoped like it (the client reaches the policies of its own
org unit's subtree; any other policy reads as unknown). The claim rules are
`backend.policies.claims`; the customer's segments and alerts are refreshed in the same
transaction, so a third claim raises 多次理赔 at once rather than the next night."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from backend.common.exceptions import Forbidden, ValidationFailed
from backend.integrations.models import ApiClient, Scope
from backend.integrations.services import clean_key, idempotent_call
from backend.policies.claims import CLAIM_FIELDS, claim_clean, claim_record, claim_view
from backend.segments.services import customer_segment_refresh

# A claims system holds `claims`; an underwriting system that may open customers (`open`) may
# report the claims on its own policies too.
CLAIM_SCOPES = (Scope.CLAIMS, Scope.OPEN)


def claim_report_automatic(*, client: ApiClient, idempotency_key: str | None, payload) -> tuple[int, dict]:
    """Returns (HTTP status, body): 201 a new claim, 200 the claim system's update of one we hold,
    the stored answer again for a repeated key and body. A refused claim (400) stores nothing."""
    if not any(scope in (client.scopes or []) for scope in CLAIM_SCOPES):
        raise Forbidden(_("该接口客户端没有“%(scope)s”权限") % {"scope": Scope.CLAIMS}, code="scope_missing")
    if not isinstance(payload, dict):
        raise ValidationFailed.field("non_field_errors", _("请求体须为 JSON 对象"))
    payload = {k: v for k, v in payload.items() if k in CLAIM_FIELDS}
    claim_clean(payload, scope=client.org_unit)  # refuse before the key is taken

    def answer() -> tuple[int, dict]:
        claim, created = claim_record(actor=client.service_user, source=client.name, scope=client.org_unit, data=payload)
        customer_segment_refresh(claim.customer)
        return (201 if created else 200), {"created": created, "claim": claim_view(claim)}

    if idempotency_key is None:
        # Without a key the claim number is the natural one: the same claim again updates the one
        # held (200, nothing doubled).
        with transaction.atomic():
            return answer()
    return idempotent_call(client, clean_key(idempotency_key), payload, answer)
