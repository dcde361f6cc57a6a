"""保单 and 批改: the scoped policy list, the policy page, the endorsement form and its PDF."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from backend.common.exceptions import ApplicationError
from backend.customers.models import INDIVIDUAL_ID_TYPES, IdType
from backend.policies.models import BeneficiaryRelationship, PaymentMode
from backend.policies.printing import endorsement_form_print
from backend.policies.selectors import (
    endorsement_form_parties,
    endorsement_get_visible,
    endorsement_list_for_policy,
    policy_get_visible,
    policy_list,
    policy_view,
)
from backend.policies.services import endorsement_request
from backend.web.views.base import form_errors, page_view, paginate, printed_pdf

BENEFICIARY_ROWS = 5
BENEFICIARY_FIELDS = ("customer_id", "name", "id_type", "id_number", "relationship", "share")
POLICY_FIELDS = ("payment_mode", "sum_insured", "premium")


@page_view
def policy_list_page(request: HttpRequest) -> HttpResponse:
    customer = request.GET.get("customer", "").strip()
    page = paginate(request, policy_list(user=request.user, customer_id=customer or None))
    rows = [policy_view(user=request.user, policy=p, purpose="list") for p in page.object_list]
    return render(request, "web/policy_list.html", {"page": page, "rows": rows, "customer": customer})


@page_view
def policy_detail(request: HttpRequest, policy_id: int) -> HttpResponse:
    policy = policy_get_visible(user=request.user, policy_id=policy_id)
    context = {
        "policy": policy_view(user=request.user, policy=policy),
        "endorsements": endorsement_list_for_policy(user=request.user, policy=policy),
    }
    return render(request, "web/policy_detail.html", context)


@page_view
def endorsement_form_pdf(request: HttpRequest, endorsement_id: int, reprint: bool = False) -> HttpResponse:
    endorsement = endorsement_get_visible(user=request.user, endorsement_id=endorsement_id)
    return printed_pdf(
        request,
        lambda reason: endorsement_form_print(actor=request.user, endorsement=endorsement, reason=reason),
        filename=f"endorsement-{endorsement.pk}.pdf",
        reprint=reprint,
    )


def _posted(request: HttpRequest, parties: list[dict[str, Any]]) -> dict[str, Any]:
    """The form as the service takes it: only fields the user filled in count."""
    post = request.POST
    customer_changes = {
        p["role"]: {f["name"]: post.get(f"{p['role']}.{f['name']}", "").strip() for f in p["fields"]}
        for p in parties
    }
    customer_changes = {
        role: {k: v for k, v in fields.items() if v} for role, fields in customer_changes.items()
    }
    policy_changes: dict[str, Any] = {name: post.get(name, "").strip() for name in POLICY_FIELDS}
    policy_changes = {k: v for k, v in policy_changes.items() if v}
    if post.get("change_beneficiaries"):
        rows = []
        for i in range(BENEFICIARY_ROWS):
            row = {name: post.get(f"b{i}_{name}", "").strip() for name in BENEFICIARY_FIELDS}
            if any(v for k, v in row.items() if k not in ("id_type", "relationship")):
                rows.append(row)
        policy_changes["beneficiaries"] = rows
    return {
        "customer_changes": {k: v for k, v in customer_changes.items() if v},
        "policy_changes": policy_changes,
        "reason": post.get("reason", ""),
    }


def _beneficiary_rows(
    request: HttpRequest, policy: dict[str, Any], errors: dict[str, list[str]]
) -> list[dict]:
    if request.method == "POST":
        sent = [
            {name: request.POST.get(f"b{i}_{name}", "") for name in BENEFICIARY_FIELDS}
            for i in range(BENEFICIARY_ROWS)
        ]
    else:
        # Start from the current list; a masked id number is never put back into the form.
        sent = [
            {
                **{k: b.get(k) or "" for k in BENEFICIARY_FIELDS},
                "id_number": "" if policy["masked"] else b["id_number"],
            }
            for b in policy["beneficiaries"]
        ]
        sent += [dict.fromkeys(BENEFICIARY_FIELDS, "") for _ in range(BENEFICIARY_ROWS - len(sent))]
    # Errors of a submitted list refer to its rows after empty ones were dropped.
    filled = [
        i
        for i, row in enumerate(sent)
        if any(v for k, v in row.items() if k not in ("id_type", "relationship"))
    ]
    index_of = {row: n for n, row in enumerate(filled)}
    out = []
    for i, row in enumerate(sent[:BENEFICIARY_ROWS]):
        n = index_of.get(i)
        prefix = f"beneficiaries.{n}" if n is not None else None
        row_errors = [
            m for k, v in errors.items() if prefix and (k == prefix or k.startswith(prefix + ".")) for m in v
        ]
        out.append({"index": i, "values": row, "errors": row_errors})
    return out


@page_view
def endorsement_new(request: HttpRequest, policy_id: int) -> HttpResponse:
    policy_obj = policy_get_visible(user=request.user, policy_id=policy_id)
    parties = endorsement_form_parties(user=request.user, policy=policy_obj)
    exc: ApplicationError | None = None
    if request.method == "POST":
        try:
            endorsement = endorsement_request(
                actor=request.user, policy=policy_obj, **_posted(request, parties)
            )
        except ApplicationError as error:
            exc = error
        else:
            messages.success(request, _("批改申请已提交审核,申请号 %(id)s") % {"id": endorsement.pk})
            return redirect("policy-detail", policy_id=policy_obj.pk)
    policy = policy_view(user=request.user, policy=policy_obj)
    names = [f"{p['role']}.{f['name']}" for p in parties for f in p["fields"]]
    names += [p["role"] for p in parties] + list(POLICY_FIELDS) + ["beneficiaries", "reason"]
    names += [k for k in (exc.field_errors if exc else {}) if k.startswith("beneficiaries.")]
    errs = form_errors(exc, names)
    errors = errs["errors"]
    for party in parties:
        party["errors"] = errors.get(party["role"], [])
        for field in party["fields"]:
            key = f"{party['role']}.{field['name']}"
            field.update(key=key, value=request.POST.get(key, ""), errors=errors.get(key, []))
    context = {
        "policy": policy,
        "parties": parties,
        "payment_modes": PaymentMode.choices,
        "id_types": [(t.value, t.label) for t in IdType if t.value in INDIVIDUAL_ID_TYPES],
        "relationships": BeneficiaryRelationship.choices,
        "beneficiary_rows": _beneficiary_rows(request, policy, errors),
        "values": {
            name: request.POST.get(name, "") for name in (*POLICY_FIELDS, "reason", "change_beneficiaries")
        },
        **errs,
    }
    return render(request, "web/endorsement_new.html", context, status=exc.status_code if exc else 200)
