"""Process owners' drafts: saved freely, published only with a second owner's approval.

draft (saved any number of times, problems recorded at each save)
  → pending (publish requested: the draft must have no problems)
  → published (another process owner approved: an immutable ProcessVersion is deployed)
  or → rejected (back to editable: any save makes it a draft again).
The approver is neither the requester nor the last editor (four eyes, docs/SECURITY.md §5).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.audit import audit_event_record
from backend.common.exceptions import Conflict, Forbidden, NotFound, ValidationFailed
from backend.organisation.lanes import lanes_known
from backend.organisation.models import OrgLevel, Role
from forms.editing import form_definition_parse
from forms.registry import form_exists, form_from_raw, form_get, form_key_valid, form_keys, form_raw
from processes.bpmnlint import bpmnlint_problems
from processes.diff import diagram_diff
from processes.engine import Problem
from processes.models import DraftStatus, ProcessDefinition, ProcessDraft, ProcessVersion, VersionSource
from processes.problem_text import problems_for_owner
from processes.registry import operation_get, operation_names
from processes.services import (
    _require_process_owner,
    _require_process_reader,
    content_sha256,
    diagram_check,
    process_version_deploy,
)

_KEY_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def _draft_lock(draft_id: int) -> ProcessDraft:
    draft = ProcessDraft.objects.select_for_update().filter(pk=draft_id).first()
    if draft is None:
        raise NotFound(_("草稿不存在"), code="draft_not_found")
    return draft


def _xml_bytes(xml: Any) -> bytes:
    if isinstance(xml, str):
        xml = xml.encode("utf-8", errors="replace")
    if not isinstance(xml, bytes):
        raise ValidationFailed.field("bpmn_xml", _("请提供 BPMN XML 文本"), code="invalid_diagram")
    if b"\x00" in xml:  # never XML, and PostgreSQL text cannot hold it
        raise ValidationFailed.field("bpmn_xml", _("文件包含空字符(NUL),不是 BPMN XML"), code="invalid_diagram")
    return xml


def _problems_for(key: str, data: bytes) -> list[dict]:
    diagram, problems = diagram_check(data, f"{key}.bpmn")
    problems = problems_for_owner(problems)  # the engine's English (and exception texts) never reach the owner
    if diagram is not None:
        problems.extend(bpmnlint_problems(data))
    if diagram is not None and diagram.process_key != key:
        # A diagram whose process id differs from the draft's key would deploy as another process.
        problems.append(
            Problem(_("流程标识须为“%(key)s”(图中为“%(found)s”)") % {"key": key, "found": diagram.process_key}, diagram.process_key)
        )
    return [asdict(p) for p in problems]


def draft_errors(draft: ProcessDraft) -> list[dict]:
    return [p for p in draft.problems if p.get("severity", "error") == "error"]


@transaction.atomic
def process_draft_create(*, actor, key: str, bpmn_xml: Any = None) -> ProcessDraft:
    """A new draft of process `key`: the given XML, else a copy of the latest version."""
    _require_process_owner(actor)
    key = (key or "").strip() if isinstance(key, str) else ""
    if not key or len(key) > 100 or not set(key) <= _KEY_CHARS:
        raise ValidationFailed.field("key", _("流程标识只能由字母、数字、下划线和连字符组成(最多 100 个字符)"))
    base = ProcessVersion.objects.filter(definition__key=key).order_by("-version").first()
    if bpmn_xml is None or bpmn_xml == "":
        if base is None:
            raise ValidationFailed.field("bpmn_xml", _("流程“%(key)s”尚无版本,请提供 BPMN XML") % {"key": key})
        data = base.bpmn_xml.encode("utf-8")
    else:
        data = _xml_bytes(bpmn_xml)
    problems = _problems_for(key, data)
    draft = ProcessDraft.objects.create(
        key=key,
        bpmn_xml=data.decode("utf-8", errors="replace"),
        problems=problems,
        # Forms edited in earlier drafts stay with the diagram in the next one.
        forms=dict((base.metadata or {}).get("forms") or {}) if base else {},
        base_version=base,
        created_by=actor,
        updated_by=actor,
    )
    audit_event_record(actor=actor, action="process.draft_created", obj=draft, data={"key": key, "problems": len(problems), "base_version": base.version if base else None})
    return draft


@transaction.atomic
def process_draft_save(*, actor, draft_id: int, bpmn_xml: Any, row_version: int | None = None) -> ProcessDraft:
    """Save the diagram as it is, problems and all; the problems are returned for display."""
    _require_process_owner(actor)
    draft = _draft_lock(draft_id)
    if draft.status == DraftStatus.PUBLISHED:
        raise Conflict(_("草稿已发布,不能再修改;请新建草稿"), code="draft_published")
    if row_version is not None and row_version != draft.row_version:
        raise Conflict(_("草稿已被他人修改,请刷新后重试"), code="stale_draft")
    data = _xml_bytes(bpmn_xml)
    draft.problems = _problems_for(draft.key, data)
    draft.bpmn_xml = data.decode("utf-8", errors="replace")
    previous = draft.status
    # Any edit withdraws a pending publish request: the approver must see what is published.
    draft.status = DraftStatus.DRAFT
    draft.requested_by, draft.requested_at = None, None
    draft.updated_by = actor
    draft.row_version += 1
    draft.save(update_fields=["problems", "bpmn_xml", "status", "requested_by", "requested_at", "updated_by", "row_version", "updated_at"])
    audit_event_record(
        actor=actor,
        action="process.draft_saved",
        obj=draft,
        data={"key": draft.key, "problems": len(draft.problems), "previous_status": previous, "row_version": draft.row_version},
    )
    return draft


@transaction.atomic
def process_draft_publish_request(*, actor, draft_id: int) -> ProcessDraft:
    _require_process_owner(actor)
    draft = _draft_lock(draft_id)
    if draft.status not in (DraftStatus.DRAFT, DraftStatus.REJECTED):
        raise Conflict(_("草稿当前状态不能申请发布"), code="draft_not_editable")
    errors = draft_errors(draft)
    if errors:
        raise ValidationFailed(
            _("流程图还有 %(n)d 个问题,修正后才能申请发布") % {"n": len(errors)},
            field_errors={"bpmn_xml": [_problem_text(p) for p in errors]},
            code="invalid_diagram",
            extra={"problems": errors},
        )
    draft.status = DraftStatus.PENDING
    draft.requested_by, draft.requested_at = actor, timezone.now()
    draft.decided_by, draft.decided_at, draft.decision_comment = None, None, ""
    draft.save(update_fields=["status", "requested_by", "requested_at", "decided_by", "decided_at", "decision_comment", "updated_at"])
    audit_event_record(actor=actor, action="process.publish_requested", obj=draft, data={"key": draft.key})
    return draft


def draft_content_sha256(draft: ProcessDraft) -> str:
    """What an approver reviews: the draft's XML and its edited forms, hashed as the version
    they would publish is hashed (the XML's SHA-256 alone when no form was edited)."""
    return content_sha256(draft.bpmn_xml.encode("utf-8"), draft.forms or None)


def _sha256_checked(value: Any) -> str:
    text = value.strip().lower() if isinstance(value, str) else ""
    if not text:
        raise ValidationFailed.field("content_sha256", _("请提供所审阅草稿内容的 SHA-256"), code="content_sha256_required")
    if len(text) != 64 or not set(text) <= set("0123456789abcdef"):
        raise ValidationFailed.field("content_sha256", _("SHA-256 须为 64 位十六进制数"), code="invalid_content_sha256")
    return text


def _check_second_owner(actor, draft: ProcessDraft) -> None:
    if draft.status != DraftStatus.PENDING:
        raise Conflict(_("该草稿没有待审批的发布申请"), code="draft_not_pending")
    if actor.pk in (draft.requested_by_id, draft.updated_by_id):
        raise Forbidden(_("发布须由另一位流程管理员审批(申请人或最后修改人不能审批)"), code="four_eyes")


@transaction.atomic
def process_draft_approve(*, actor, draft_id: int, content_sha256: Any = None, comment: str = "") -> ProcessVersion:
    """The second owner approves what he reviewed: `content_sha256` is the hash of the draft
    content shown to him (`draft_content_sha256`); anything saved since makes it stale (409 with
    the current hash), so an approval never publishes text its approver did not see."""
    _require_process_owner(actor)
    reviewed = _sha256_checked(content_sha256)
    draft = _draft_lock(draft_id)
    _check_second_owner(actor, draft)
    current = draft_content_sha256(draft)
    if reviewed != current:
        raise Conflict(
            _("草稿内容已在您审阅后变更,请重新审阅后再批准"),
            code="stale_draft_content",
            extra={"content_sha256": current},
        )
    # Raises DiagramInvalid (400) when something the diagram depends on changed since the
    # request (a form removed, an operation unregistered); the draft stays pending.
    version, created = process_version_deploy(
        data=draft.bpmn_xml.encode("utf-8"),
        filename=f"{draft.key}.bpmn",
        actor=draft.requested_by,
        source=VersionSource.MODELER,
        forms=draft.forms or None,
    )
    draft.status = DraftStatus.PUBLISHED
    draft.decided_by, draft.decided_at = actor, timezone.now()
    draft.decision_comment = (comment or "")[:500]
    draft.published_version = version
    draft.save(update_fields=["status", "decided_by", "decided_at", "decision_comment", "published_version", "updated_at"])
    audit_event_record(
        actor=actor,
        action="process.publish_approved",
        obj=draft,
        data={
            "key": draft.key,
            "version": version.version,
            "hash": version.content_hash,
            "content_sha256": current,
            "created": created,
            "requested_by": draft.requested_by_id,
        },
    )
    return version


@transaction.atomic
def process_draft_reject(*, actor, draft_id: int, comment: str) -> ProcessDraft:
    _require_process_owner(actor)
    comment = (comment or "").strip() if isinstance(comment, str) else ""
    if not comment:
        raise ValidationFailed.field("comment", _("请填写驳回理由"))
    draft = _draft_lock(draft_id)
    _check_second_owner(actor, draft)
    draft.status = DraftStatus.REJECTED
    draft.decided_by, draft.decided_at, draft.decision_comment = actor, timezone.now(), comment[:500]
    draft.save(update_fields=["status", "decided_by", "decided_at", "decision_comment", "updated_at"])
    audit_event_record(actor=actor, action="process.publish_rejected", obj=draft, data={"key": draft.key, "comment": comment[:500]})
    return draft


# ---- forms edited with the diagram ----------------------------------------------------------

MAX_DRAFT_FORMS = 50


def _form_key_checked(form_key: Any) -> str:
    if not form_key_valid(form_key) or not form_exists(form_key):
        raise NotFound(_("表单“%(key)s”不存在") % {"key": str(form_key)[:200]}, code="unknown_form")
    return form_key


def draft_form_raw(draft: ProcessDraft, form_key: str) -> dict:
    """The draft's definition of `form_key`: its own edit, else the base version's, else the file's."""

    form_key = _form_key_checked(form_key)
    if form_key in (draft.forms or {}):
        return draft.forms[form_key]
    base_forms = (draft.base_version.metadata.get("forms") or {}) if draft.base_version_id else {}
    return base_forms.get(form_key) or form_raw(form_key)


def process_draft_form_get(*, actor, draft_id: int, form_key: str) -> dict:
    draft = process_draft_get(actor=actor, draft_id=draft_id)
    raw = draft_form_raw(draft, form_key)
    return {"draft": draft.pk, "form_key": form_key, "definition": raw, "edited": form_key in (draft.forms or {}), "row_version": draft.row_version}


def process_draft_form_preview(*, actor, definition: Any, form_key: str = "preview"):
    """The checked definition as a FormDefinition, for rendering (raises 400 with messages)."""

    _require_process_reader(actor)  # renders only; saving needs a process owner
    return form_from_raw(form_key, form_definition_parse(definition))


@transaction.atomic
def process_draft_form_save(*, actor, draft_id: int, form_key: str, definition: Any, row_version: int | None = None) -> ProcessDraft:
    """Store the edited form with the draft; checked first, nothing saved when it is invalid."""

    _require_process_owner(actor)
    form_key = _form_key_checked(form_key)
    raw = form_definition_parse(definition)
    draft = _draft_lock(draft_id)
    if draft.status == DraftStatus.PUBLISHED:
        raise Conflict(_("草稿已发布,不能再修改;请新建草稿"), code="draft_published")
    if row_version is not None and row_version != draft.row_version:
        raise Conflict(_("草稿已被他人修改,请刷新后重试"), code="stale_draft")
    forms = dict(draft.forms or {})
    if form_key not in forms and len(forms) >= MAX_DRAFT_FORMS:
        raise ValidationFailed.field("form_key", _("一个草稿最多修改 %(n)d 个表单") % {"n": MAX_DRAFT_FORMS})
    forms[form_key] = raw
    draft.forms = forms
    previous = draft.status
    draft.status = DraftStatus.DRAFT  # like any edit, withdraws a pending publish request
    draft.requested_by, draft.requested_at = None, None
    draft.updated_by = actor
    draft.row_version += 1
    draft.save(update_fields=["forms", "status", "requested_by", "requested_at", "updated_by", "row_version", "updated_at"])
    audit_event_record(
        actor=actor,
        action="process.draft_form_saved",
        obj=draft,
        data={"key": draft.key, "form": form_key, "previous_status": previous, "row_version": draft.row_version},
    )
    return draft


def _problem_text(problem: dict) -> str:
    return f"[{problem['element']}] {problem['message']}" if problem.get("element") else problem["message"]


# ---- reads ----------------------------------------------------------------------------------


def process_draft_get(*, actor, draft_id: int) -> ProcessDraft:
    _require_process_reader(actor)
    draft = ProcessDraft.objects.filter(pk=draft_id).select_related("created_by", "updated_by", "requested_by", "decided_by", "published_version").first()
    if draft is None:
        raise NotFound(_("草稿不存在"), code="draft_not_found")
    return draft


def key_is_valid(key) -> bool:
    """Process keys are identifiers: anything else (NUL bytes included) finds nothing."""
    return isinstance(key, str) and 0 < len(key) <= 100 and set(key) <= _KEY_CHARS


def process_draft_list(*, actor, key: str | None = None):
    _require_process_reader(actor)
    qs = ProcessDraft.objects.select_related("updated_by", "requested_by", "published_version").defer("bpmn_xml")
    if key is None:
        return qs
    return qs.filter(key=key) if key_is_valid(key) else qs.none()


def process_versions(*, actor, key: str):
    _require_process_reader(actor)
    if not key_is_valid(key):
        raise NotFound(_("流程“%(key)s”未部署") % {"key": ""}, code="unknown_process")
    definition = ProcessDefinition.objects.filter(key=key).first()
    if definition is None:
        raise NotFound(_("流程“%(key)s”未部署") % {"key": key}, code="unknown_process")
    return definition.versions.defer("spec").select_related("created_by").order_by("-version")


def process_version_get(*, actor, key: str, version: int) -> ProcessVersion:
    _require_process_reader(actor)
    if not key_is_valid(key) or not -(2**31) < version < 2**31:
        raise NotFound(_("流程“%(key)s”没有版本 %(version)s") % {"key": "", "version": version}, code="unknown_version")
    found = ProcessVersion.objects.filter(definition__key=key, version=version).defer("spec").select_related("definition").first()
    if found is None:
        raise NotFound(_("流程“%(key)s”没有版本 %(version)s") % {"key": key, "version": version}, code="unknown_version")
    return found


def process_version_diff(*, actor, key: str, old: int, new: int) -> dict:
    a, b = process_version_get(actor=actor, key=key, version=old), process_version_get(actor=actor, key=key, version=new)
    return {"key": key, "old": a.version, "new": b.version, **diagram_diff(a.bpmn_xml, b.bpmn_xml)}


def modeler_catalog(*, actor) -> dict:
    """What the modeler's properties panel offers for our extensions."""

    _require_process_reader(actor)
    roles, levels = dict(Role.choices), dict(OrgLevel.choices)
    lanes = [
        {
            "name": name,
            "role": rule.role,
            "label": str(roles.get(rule.role, rule.role)),
            "level": rule.level or "",
            "level_label": str(levels.get(rule.level, _("案件所在机构"))) if rule.level else str(_("案件所在机构")),
            "submitter": rule.submitter,
        }
        for name, rule in sorted(lanes_known().items())
    ]
    forms = [{"key": key, "title": form_get(key).title} for key in form_keys()]
    operations = [{"name": name, "description": operation_get(name).description} for name in operation_names()]
    deadlines = [{"name": name, "value": value} for name, value in sorted(settings.CUSTFLOW["DEADLINES"].items())]
    return {"lanes": lanes, "forms": forms, "operations": operations, "deadlines": deadlines}
