"""The four complaint forms (登记表, 核实表, 移交表, 处理表) and the monthly
客户投诉分析表 as PDF. Like pdfs/documents.py: each takes plain, already-masked, JSON-able data,
and only the keys whitelisted here reach a template."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from pdfs.documents import EMPTY, _text, document_header
from pdfs.rendering import render_pdf

__all__ = [
    "COMPLAINT_FORMS",
    "analysis_table_context",
    "complaint_form_context",
    "render_analysis_table",
    "render_complaint_form",
]

# form → (template, title)
COMPLAINT_FORMS: dict[str, tuple[str, str]] = {
    "register": ("pdfs/complaint_register.html", "客户投诉登记表"),
    "verify": ("pdfs/complaint_verify.html", "客户投诉核实表"),
    "handover": ("pdfs/complaint_handover.html", "客户投诉移交表"),
    "handle": ("pdfs/complaint_handle.html", "客户投诉处理表"),
}

# (key in doc["case"], label): the case block every form starts with.
CASE_FIELDS: tuple[tuple[str, Any], ...] = (
    ("number", _("投诉编号")),
    ("status_label", _("办理状态")),
    ("complainant_name", _("投诉人")),
    ("complainant_phone", _("联系电话")),
    ("id_type", _("证件类型")),
    ("id_number", _("证件号码")),
    ("channel_label", _("投诉渠道")),
    ("received_at", _("收到投诉时间")),
    ("received_org_unit", _("受理机构")),
    ("org_unit_name", _("责任机构")),
    ("category_label", _("投诉类别")),
    ("product", _("险种")),
    ("customer_name", _("客户")),
    ("policy_number", _("保单号")),
    ("complainant_count", _("投诉人数")),
    ("major_label", _("群体投诉")),
)
DECISION_KEYS = (
    "facts",
    "basis",
    "reasons",
    "decision",
    "remedies",
    "decided_at",
    "decided_by",
    "satisfaction_label",
    "root_cause_label",
    "root_cause_note",
)
CLOCK_KEYS = (
    "state_label",
    "clock_start",
    "limit_days",
    "due_at",
    "extension_reason",
    "paused_days",
    "breached_at",
    "on_time_label",
    "closed_at",
)
LIST_KEYS = {
    "attachments": ("filename", "kind", "size", "sha256"),
    "handovers": ("at", "from_org", "to_org", "reason", "handler", "by"),
    "opinions": ("at", "org_unit", "question", "opinion", "by"),
    "notices": ("sent_at", "kind_label", "channel_label", "proof", "recorded_by"),
    "reviews": ("received_at", "org_unit", "reason", "due_at", "status_label", "decision_label", "comment"),
    "actions": ("root_cause_label", "description", "owner", "due_date", "status_label", "closing_note"),
    "trail": ("at", "actor", "action", "comment"),
}


def _list(doc: dict[str, Any], name: str) -> list[dict[str, str]]:
    rows = doc.get(name) or []
    return [{key: _text(row.get(key)) for key in LIST_KEYS[name]} for row in rows if isinstance(row, dict)]


def complaint_form_context(form: str, doc: dict[str, Any]) -> dict[str, Any]:
    """The template context of one complaint form, built from the whitelisted keys only."""
    case = doc.get("case") or {}
    pairs = [{"label": label, "value": _text(case.get(key))} for key, label in CASE_FIELDS]
    decision = doc.get("decision") or {}
    clock = doc.get("clock") or {}
    return {
        **document_header(doc),
        "title": COMPLAINT_FORMS[form][1],
        "rows": [pairs[i : i + 2] for i in range(0, len(pairs), 2)],
        "subject": _text(case.get("subject")),
        "description": _text(doc.get("description")),
        "registered_at": _text(doc.get("registered_at")),
        "identity_verified": _text(doc.get("identity_verified")),
        "verified_facts": _text(doc.get("verified_facts")),
        "decision": {key: _text(decision.get(key)) for key in DECISION_KEYS},
        "clock": {key: _text(clock.get(key)) for key in CLOCK_KEYS},
        **{name: _list(doc, name) for name in LIST_KEYS},
    }


def render_complaint_form(form: str, doc: dict[str, Any]) -> bytes:
    """One of the four complaint forms as PDF bytes (form: register, verify, handover, handle)."""
    return render_pdf(COMPLAINT_FORMS[form][0], complaint_form_context(form, doc))


def analysis_table_context(doc: dict[str, Any]) -> dict[str, Any]:
    """客户投诉分析表: a totals block and one table per dimension, plain cells only."""
    return {
        **document_header(doc),
        "title": _text(doc.get("title")),
        "month": _text(doc.get("month")),
        "scope": _text(doc.get("scope")),
        "generated_at": _text(doc.get("generated_at")),
        "totals": [
            {"label": _text(t.get("label")), "value": _text(t.get("value"))}
            for t in doc.get("totals") or []
            if isinstance(t, dict)
        ],
        "sections": [
            {
                "title": _text(s.get("title")),
                "headers": [_text(h) for h in s.get("headers") or []],
                "rows": [[EMPTY if c is None else str(c) for c in row] for row in s.get("rows") or []],
            }
            for s in doc.get("sections") or []
            if isinstance(s, dict)
        ],
    }


def render_analysis_table(doc: dict[str, Any]) -> bytes:
    return render_pdf("pdfs/complaint_analysis.html", analysis_table_context(doc))
