"""Look-ups are records: every search for customers by one identifier (id number, phone,
USCC) or by exact name is a `RevealEvent` of kind `lookup` plus an audit event, written in
the transaction that runs the search, and counts against a per-user hourly limit.

The value looked up is never stored in clear: the event keeps an HMAC of the normalised value
under a key derived from SECRET_KEY (`lookup_value_hash`), so compliance can answer "was this
value looked up, by whom" by hashing the value the same way.

The limit is counted on the event rows themselves, in the database, under a lock on the
user's row: it holds across web processes and machines, it cannot be raced past, and it can
never disagree with the record compliance reads.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from backend.common.audit import audit_event_record
from backend.common.exceptions import Forbidden, TooManyRequests, ValidationFailed
from backend.common.log_redaction import IDENTIFIER_RE
from backend.customers.models import Customer, RevealEvent, RevealEventKind
from backend.customers.selectors import CustomerSearch, customer_list, customer_search_clean
from backend.organisation.models import OrgUnit
from backend.organisation.selectors import user_home_org_unit
from forms.validation import control_character_fields

LOOKUP_FIELDS = ("phone", "id_number", "uscc", "name")
# Fields whose values are identifiers: never in a URL, never in a log line.
IDENTIFIER_FIELDS = ("phone", "id_number", "uscc")
DEFAULT_LIMIT_PER_HOUR = 60
WINDOW = timedelta(hours=1)
VALUE_MAX = 100
HASH_SALT = "custflow.customers.lookup"

T = TypeVar("T")


def lookup_limit_per_hour() -> int:
    return int(getattr(settings, "LOOKUP_LIMIT_PER_HOUR", DEFAULT_LIMIT_PER_HOUR))


def lookup_value_hash(value: str) -> str:
    """HMAC-SHA256 of the normalised value, keyed from SECRET_KEY (Django's salted_hmac)."""
    return salted_hmac(HASH_SALT, str(value), algorithm="sha256").hexdigest()


def _lookup_org_unit(user) -> OrgUnit:
    """The org unit the event is filed under (compliance reads it level-scoped): where the
    user works, or the root for users without a role (administrators)."""
    unit = user_home_org_unit(user) or OrgUnit.objects.order_by("path").first()
    if unit is None:  # no organisation set up yet: nothing to search, nowhere to file it
        raise Forbidden(_("尚未设置机构,不能查询"), code="no_org_unit")
    return unit


def lookup_limit_check(user, now: datetime) -> None:
    """429 once the user made `LOOKUP_LIMIT_PER_HOUR` look-ups in the last hour. Retry-After
    is the real number of seconds until the oldest of them leaves the window."""
    limit = lookup_limit_per_hour()
    recent = list(
        RevealEvent.objects.filter(kind=RevealEventKind.LOOKUP, user=user, created_at__gt=now - WINDOW)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[: max(limit, 1)]
    )
    if len(recent) < limit:
        return
    frees_at = recent[-1] + WINDOW if recent else now + WINDOW
    seconds = max(1, math.ceil((frees_at - now).total_seconds()))
    raise TooManyRequests(
        _("查询过于频繁:每小时最多查询 %(count)d 次,请于 %(at)s 后再试")
        % {"count": limit, "at": timezone.localtime(frees_at).strftime("%H:%M:%S")},
        code="lookup_rate_limited",
        extra={"retry_after": seconds},
    )


def lookup_run(
    *,
    actor,
    field: str,
    normalized_value: str,
    search: Callable[[], T],
    count: Callable[[T], int],
    org_unit: OrgUnit | None = None,
) -> T:
    """Run one look-up by identifier as a record: lock the user's row, refuse past the hourly
    limit (429, nothing written), run `search`, then write the look-up event and its audit
    event in the same transaction."""
    with transaction.atomic():
        # One look-up decision per user at a time: the count below cannot be raced past.
        get_user_model().objects.select_for_update().filter(pk=actor.pk).first()
        now = timezone.now()
        lookup_limit_check(actor, now)
        result = search()
        found = int(count(result))
        unit = org_unit or _lookup_org_unit(actor)
        event = RevealEvent.objects.create(
            kind=RevealEventKind.LOOKUP,
            user=actor,
            customer=None,
            field=field,
            reason="",
            value_hash=lookup_value_hash(normalized_value),
            result_count=found,
            org_unit=unit,
            created_at=now,
        )
        audit_event_record(
            actor=actor,
            action="lookup",
            obj=event,
            org_unit=unit,
            data={"kind": "lookup", "field": field, "result_count": found, "lookup_event": event.pk},
        )
    return result


def lookup_input_clean(field: Any, value: Any) -> tuple[str, CustomerSearch]:
    """The search body {"field", "value"}: the field one of LOOKUP_FIELDS, the value a
    non-empty string, normalised as stored (400 with field messages otherwise)."""
    if not isinstance(field, str) or field not in LOOKUP_FIELDS:
        raise ValidationFailed.field(
            "field",
            _("查询字段无效,可选: %(fields)s") % {"fields": ", ".join(LOOKUP_FIELDS)},
            code="invalid_field",
        )
    text = value if isinstance(value, str) else ""
    if control_character_fields(text):
        raise ValidationFailed.field("value", _("不能包含控制字符"), code="invalid_search")
    if not text.strip():
        raise ValidationFailed.field("value", _("请填写查询内容"), code="value_required")
    if len(text) > VALUE_MAX:
        raise ValidationFailed.field(
            "value", _("查询内容不能超过 %(max)d 个字符") % {"max": VALUE_MAX}, code="invalid_search"
        )
    try:
        search = customer_search_clean({field: text})
    except ValidationFailed as exc:
        # Report the problem on "value", the field the user typed into.
        messages = [m for msgs in exc.field_errors.values() for m in msgs] or [exc.message]
        raise ValidationFailed("", field_errors={"value": messages}, code=exc.code) from None
    return field, search


def lookup_hash_of(*, field: Any, value: Any) -> str:
    """The `value_hash` a look-up of `value` by `field` was recorded under (compliance's
    "was this value looked up"): the same normalisation, the same keyed hash."""
    field, search = lookup_input_clean(field, value)
    return lookup_value_hash(getattr(search, field))


def customer_lookup(*, actor, field: Any, value: Any) -> QuerySet[Customer]:
    """客户精确查询 as a record: the customers in the actor's scope whose `field` equals the
    normalised `value` (masked by the caller's view), after writing the look-up event."""
    field, search = lookup_input_clean(field, value)
    normalized = getattr(search, field)
    return lookup_run(
        actor=actor,
        field=field,
        normalized_value=normalized,
        search=lambda: customer_list(user=actor, search=search),
        count=lambda qs: qs.count(),
    )


SEARCH_ENDPOINT = "/api/customers/search/"


def lookup_query_refuse(params: Any, *, where: str = SEARCH_ENDPOINT) -> None:
    """Identifiers never travel in a URL (they end up in access logs, proxies, browser
    history): a listing whose query string carries an id number, phone or USCC — as its own
    key or as the free-text `q` — is a 400 pointing at the POST search (`where`)."""

    keys = [k for k in IDENTIFIER_FIELDS if str(params.get(k) or "").strip()]
    q = str(params.get("q") or "")
    if q and IDENTIFIER_RE.search(q):
        keys.append("q")
    if not keys:
        return
    message = _("证件号码、电话和统一社会信用代码不能放在网址中,请使用精确查询(%(where)s)") % {"where": where}
    raise ValidationFailed(
        message,
        field_errors={k: [message] for k in keys},
        code="use_search_endpoint",
        extra={"search_endpoint": SEARCH_ENDPOINT, "method": "POST"},
    )
