"""Printable documents. Each takes plain, already-masked, JSON-able data from its caller.

Only the keys listed here reach a template: anything else in the input (an unmasked value
the caller forgot to drop, say) is never printed.
"""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from pdfs.qr import qr_data_uri
from pdfs.rendering import htmls_to_pdf, render_pdf

__all__ = [
    "CARD_FIELDS",
    "card_context",
    "change_request_context",
    "document_header",
    "endorsement_context",
    "render_change_request",
    "render_collection_card",
    "render_endorsement_form",
    "render_opening_form",
]

EMPTY = "—"
# The seal (38 × 18 mm) holds three lines of its org unit's name at 9pt (33 characters), four
# at 7pt; tests/pdfs/test_form_layout.py measures it.
SEAL_CHARS = 30
SEAL_LONG_CHARS = 42

# (key in card["customer"], label, spans the full row)
CARD_FIELDS: tuple[tuple[str, Any, bool], ...] = (
    ("name", _("客户名称"), False),
    ("id", _("客户编号"), False),
    ("customer_type_label", _("客户类型"), False),
    ("info_level_label", _("信息程度"), False),
    ("id_type_label", _("证件类型"), False),
    ("id_number", _("证件号码"), False),
    ("birth_date", _("出生日期"), False),
    ("id_valid_until", _("证件有效期至"), False),
    ("phone", _("联系电话"), False),
    ("email", _("电子邮箱"), False),
    ("status_label", _("客户状态"), False),
    ("legal_rep_name", _("法定代表人"), False),
    ("legal_rep_id_number", _("法定代表人证件号码"), False),
    ("contact_person", _("联系人"), False),
    ("address", _("联系地址"), True),
    ("collected_by", _("采集人"), False),
    ("created_at", _("采集时间"), False),
)


def _text(value: Any) -> str:
    if value is None:
        return EMPTY
    text = str(value).strip()
    return text or EMPTY


# Fields that belong to one customer type only: an individual's form never shows the corporate
# ones (empty), a corporate form never shows a birth date.
CORPORATE_ONLY = frozenset({"legal_rep_name", "legal_rep_id_number", "contact_person"})
INDIVIDUAL_ONLY = frozenset({"birth_date", "id_valid_until"})  # a licence records no validity


def _customer_fields(customer: dict[str, Any]) -> list[tuple[str, Any, bool]]:
    kind = customer.get("customer_type")
    if kind == "corporate":
        skip = INDIVIDUAL_ONLY
    elif kind == "individual":
        skip = CORPORATE_ONLY
    else:  # type unknown: the corporate fields only when the caller gave them
        skip = frozenset(key for key in CORPORATE_ONLY if key not in customer)
    return [field for field in CARD_FIELDS if field[0] not in skip]


def _field_rows(customer: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """Group the fields into table rows: two label/value pairs per row, or one full-width."""
    rows: list[list[dict[str, Any]]] = []
    pending: list[dict[str, Any]] = []
    for key, label, wide in _customer_fields(customer):
        value = customer.get(key)
        if key == "id_valid_until" and value == "long_term":
            value = _("长期")
        cell = {"label": label, "value": _text(value), "wide": wide}
        if wide:
            if pending:
                rows.append(pending)
                pending = []
            rows.append([cell])
            continue
        pending.append(cell)
        if len(pending) == 2:
            rows.append(pending)
            pending = []
    if pending:
        rows.append(pending)
    return rows


def _signer(name: Any, at: Any) -> dict[str, str]:
    """Who signs a line of the closing block (printed beside the blank) and the day they acted."""
    return {"name": str(name or "").strip(), "date": str(at or "").strip()[:10]}


def _marks(doc: dict[str, Any]) -> dict[str, Any]:
    """The seal (issuing org unit) and, on a reprint, its 副本 number."""
    try:
        copy_number = max(int(doc.get("copy_number") or 0), 0)
    except (TypeError, ValueError):
        copy_number = 0
    seal_org = _text(doc.get("org_unit"))
    if len(seal_org) > SEAL_LONG_CHARS:  # the full name prints above the title; the seal holds 3 short lines
        seal_org = seal_org[: SEAL_LONG_CHARS - 1] + "…"
    return {"seal_org": seal_org, "seal_long": len(seal_org) > SEAL_CHARS, "copy_number": copy_number}


def document_header(doc: dict[str, Any]) -> dict[str, Any]:
    """What every printed form carries in its header and closing block: seal and copy mark,
    document id, content hash, the verification QR code, who printed it, when and where."""
    sha256 = str(doc.get("sha256") or "")
    verify_url = str(doc.get("verify_url") or "")
    return {
        **_marks(doc),
        "document_id": _text(doc.get("document_id")),
        "sha256": sha256,
        "sha256_short": sha256[:16],
        "qr_src": qr_data_uri(f"{verify_url}?sha256={sha256}"),
        "printed_at": _text(doc.get("printed_at")),
        "printed_by": _text(doc.get("printed_by")),
        "org_unit": _text(doc.get("org_unit")),
    }


def card_context(card: dict[str, Any]) -> dict[str, Any]:
    """The template context of the collection card, built from the whitelisted keys only."""
    customer = card.get("customer") or {}
    return {
        **document_header(card),
        "customer_name": _text(customer.get("name")),
        "rows": _field_rows(customer),
        "flags": [_text(flag) for flag in card.get("flags") or []],
        "signers": [_signer(customer.get("collected_by"), customer.get("created_at")), _signer(None, None), _signer(customer.get("name"), None)],
        "trail": [
            {key: _text(step.get(key)) for key in ("at", "actor", "action", "comment")}
            for step in card.get("trail") or []
        ],
    }


def collection_card_html(card: dict[str, Any]) -> str:
    return render_to_string("pdfs/collection_card.html", card_context(card))


def render_collection_cards(cards: list[dict[str, Any]]) -> bytes:
    """Many collection cards as one PDF (batch print), each with its own page numbers."""
    return htmls_to_pdf([collection_card_html(card) for card in cards])


def render_collection_card(card: dict[str, Any]) -> bytes:
    """客户信息资料采集卡 (customer information collection card) as PDF bytes."""
    return render_pdf("pdfs/collection_card.html", card_context(card))


def change_request_context(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        **document_header(doc),
        "case_id": _text(doc.get("case_id")),
        "customer_id": _text(doc.get("customer_id")),
        "customer_name": _text(doc.get("customer_name")),
        "scope_label": _text(doc.get("scope_label")),
        "status_label": _text(doc.get("status_label")),
        "reason": _text(doc.get("reason")),
        "requested_by": _text(doc.get("requested_by")),
        "requested_at": _text(doc.get("requested_at")),
        "decided_by": _text(doc.get("decided_by")),
        "signers": [_signer(doc.get("requested_by"), doc.get("requested_at")), _signer(doc.get("decided_by"), None), _signer(doc.get("customer_name"), None)],
        "changes": [{key: _text(c.get(key)) for key in ("label", "old", "new")} for c in doc.get("changes") or []],
        "trail": [{key: _text(step.get(key)) for key in ("at", "actor", "action", "comment")} for step in doc.get("trail") or []],
    }


def render_change_request(doc: dict[str, Any]) -> bytes:
    """客户信息变更申请表 (customer information change request) as PDF bytes."""
    return render_pdf("pdfs/change_request.html", change_request_context(doc))


# ---- 批改申请书 (endorsement form) ----------------------------------------------------------

ENDORSEMENT_FIELDS: tuple[tuple[str, Any], ...] = (
    ("endorsement_id", _("批改申请号")),
    ("status_label", _("状态")),
    ("policy_number", _("保单号")),
    ("product", _("险种")),
    ("policyholder", _("投保人")),
    ("insured", _("被保险人")),
    ("scope_label", _("变更类别")),
    ("requested_by", _("申请人")),
    ("created_at", _("申请时间")),
    ("decided_by", _("审核人")),
)
BENEFICIARY_KEYS = ("name", "id_type_label", "id_number", "relationship_label", "share")


def _changes(rows: Any) -> list[dict[str, str]]:
    return [{key: _text(row.get(key)) for key in ("label", "old", "new")} for row in rows or []]


def endorsement_context(form: dict[str, Any]) -> dict[str, Any]:
    """The template context of the endorsement form, built from the whitelisted keys only."""
    case = form.get("endorsement") or {}
    pairs = [{"label": label, "value": _text(case.get(key))} for key, label in ENDORSEMENT_FIELDS]
    beneficiaries = form.get("beneficiaries") or None
    return {
        **document_header(form),
        "rows": [pairs[i : i + 2] for i in range(0, len(pairs), 2)],
        "reason": _text(case.get("reason")),
        "decision_comment": _text(case.get("decision_comment")),
        "signers": [
            _signer(case.get("policyholder"), None),
            _signer(case.get("requested_by"), case.get("created_at")),
            _signer(case.get("decided_by"), None),
        ],
        "customer_parts": [
            {
                "role_label": _text(part.get("role_label")),
                "name": _text(part.get("name")),
                "changes": _changes(part.get("changes")),
            }
            for part in form.get("customer_parts") or []
        ],
        "policy_changes": _changes(form.get("policy_changes")),
        "beneficiaries": {
            side: [
                {key: _text(row.get(key)) for key in BENEFICIARY_KEYS}
                for row in beneficiaries.get(side) or []
            ]
            for side in ("old", "new")
        }
        if isinstance(beneficiaries, dict)
        else None,
        "flags": [_text(flag) for flag in form.get("flags") or []],
        "trail": [
            {key: _text(step.get(key)) for key in ("at", "actor", "action", "comment")}
            for step in form.get("trail") or []
        ],
    }


def render_endorsement_form(data: dict[str, Any]) -> bytes:
    """批改申请书 (endorsement form) as PDF bytes: the customer parts and the policy part of one
    endorsement, old → new, with its trail and a verification QR code."""
    return render_pdf("pdfs/endorsement_form.html", endorsement_context(data))


# ---- report tables (SLA reports and their monthly archive) ---------------------------------


def report_table_context(table: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": _text(table.get("title")),
        "subtitle": _text(table.get("subtitle")),
        "generated_at": _text(table.get("generated_at")),
        "headers": [_text(h) for h in table.get("headers") or []],
        "rows": [["" if c is None else str(c) for c in row] for row in table.get("rows") or []],
    }


def render_report_table(table: dict[str, Any]) -> bytes:
    """A titled table (landscape A4) of plain cells: headers and rows of text or numbers."""
    return render_pdf("pdfs/report_table.html", report_table_context(table))


# ---- 开户申请表 (individual and corporate account-opening forms) -------------------------------

CHECK_ROWS: tuple[tuple[str, Any], ...] = (
    ("A", _("A 证件未重复开户")),
    ("B", _("B 证件号码符合规则")),
    ("C", _("C 已附扫描件")),
    ("D", _("D 联系电话未与他人或业务员共用")),
    ("blacklist", _("黑名单核查")),
)


REVIEW_KEYS = ("step", "reviewer", "outcome", "comment", "at")


def opening_form_context(form: dict[str, Any]) -> dict[str, Any]:
    """The opening form's template context, from whitelisted keys only: the application, the
    customer as collected (masked by the caller), checks A–D and the trail."""
    customer = form.get("customer") or {}
    checks = form.get("checks") or {}
    reviews = [r for r in form.get("reviews") or [] if isinstance(r, dict)]
    last_review = reviews[-1] if reviews else {}
    application = [
        {"label": label, "value": _text(form.get(key))}
        for key, label in (
            ("opening_id", _("申请编号")),
            ("info_level_label", _("信息程度")),
            ("submitted_by", _("采集人")),
            ("submitted_at", _("提交时间")),
            ("status_label", _("办理状态")),
            ("closed_at", _("办结时间")),
        )
    ]
    return {
        **document_header(form),
        "title": _text(form.get("title")),
        "application": [application[i : i + 2] for i in range(0, len(application), 2)],
        "rows": _field_rows(customer),
        "checks": [
            {"label": label, "result": _text(checks.get(key))}
            for key, label in CHECK_ROWS
            if checks.get(key) is not None
        ],
        "flags": [_text(flag) for flag in form.get("flags") or []],
        # The reviewers' opinions, one row per review step; the closing reason (return, reject,
        # withdraw) when there is one. Nothing to say prints nothing rather than "—".
        "reviews": [{key: _text(r.get(key)) for key in REVIEW_KEYS} for r in reviews],
        "decision_comment": str(form.get("decision_comment") or "").strip(),
        "signers": [
            _signer(form.get("submitted_by"), form.get("submitted_at")),
            _signer(last_review.get("reviewer"), last_review.get("at")),
            _signer(None, None),
        ],
        "trail": [{key: _text(step.get(key)) for key in ("at", "actor", "action", "comment")} for step in form.get("trail") or []],
    }


def render_opening_form(form: dict[str, Any]) -> bytes:
    """个人/法人客户开户申请表 as PDF bytes."""
    return render_pdf("pdfs/opening_form.html", opening_form_context(form))
