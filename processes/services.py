from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common import clock
from backend.common.audit import audit_batch, audit_event_record
from backend.common.exceptions import Forbidden, NotFound, ValidationFailed
from backend.organisation.models import OrgUnit, Role
from backend.organisation.selectors import user_org_unit_for_role, user_roles
from forms.registry import FormDefinition, form_exists, form_from_raw, form_get
from forms.validation import control_character_fields
from processes import runtime
from processes.engine import DiagramError, Problem, parse_diagram
from processes.incidents import incident_open, incidents_resolve_passed
from processes.lint import diagram_lint
from processes.models import (
    InstanceStatus,
    ProcessDefinition,
    ProcessInstance,
    ProcessVersion,
    Timer,
    TimerStatus,
    VersionSource,
)
from processes.registry import TEST_SUBJECT
from processes.types import process_type_diagrams

logger = logging.getLogger(__name__)

BPMN_DIR = Path(settings.BASE_DIR) / "bpmn"


class DiagramInvalid(ValidationFailed):
    default_code = "invalid_diagram"

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(
            _("流程图校验未通过,共 %(n)d 个问题") % {"n": len(problems)},
            field_errors={"file": [p.message if not p.element else f"[{p.element}] {p.message}" for p in problems]},
            extra={"problems": [asdict(p) for p in problems]},
        )


def diagram_check(data: bytes, filename: str):
    """Parse + sandbox compile + domain lint without raising: (diagram or None, problems).

    Problems with severity "warning" do not block a deployment."""
    if not data:
        return None, [Problem(_("文件为空"))]
    limit = settings.CUSTFLOW["MAX_DIAGRAM_BYTES"]
    if len(data) > limit:
        return None, [Problem(_("文件过大(上限 %(kb)d KB)") % {"kb": limit // 1024})]
    try:
        data.decode("utf-8")  # versions store the XML as text
    except UnicodeDecodeError:
        return None, [Problem(_("流程图文件须为 UTF-8 编码"))]
    try:
        diagram = parse_diagram(data, filename)
    except DiagramError as exc:
        return None, list(exc.problems)
    return diagram, diagram_lint(diagram)


def diagram_problems(data: bytes, filename: str) -> list[dict]:
    return [asdict(p) for p in diagram_check(data, filename)[1]]


def diagram_validate(data: bytes, filename: str):
    """Parse + sandbox compile + domain lint. Returns the Diagram or raises DiagramInvalid."""
    diagram, problems = diagram_check(data, filename)
    errors = [p for p in problems if p.severity == "error"]
    if errors or diagram is None:
        raise DiagramInvalid(errors)
    return diagram


def content_sha256(data: bytes, forms: dict | None = None) -> str:
    """The content hash of a diagram and the forms edited with it: the SHA-256 of the XML bytes
    alone when there are no edited forms (a version's `content_hash`, a draft's `content_sha256`)."""
    digest = hashlib.sha256(data)
    if forms:
        digest.update(b"\x00forms\x00" + json.dumps(forms, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()


@transaction.atomic
def process_version_deploy(
    *, data: bytes, filename: str, actor: Any = None, source: str = VersionSource.UPLOAD, forms: dict | None = None
) -> tuple[ProcessVersion, bool]:
    """Deploy a diagram as an immutable version keyed by its content hash.

    Returns (version, created). The same bytes deploy once: a second upload returns the
    existing version. `forms` ({form key: definition}, edited in a draft) are stored with the
    version and count in its hash; without them the hash is the diagram's alone, as before.
    """
    diagram = diagram_validate(data, filename)
    content_hash = content_sha256(data, forms)
    definition, _created = ProcessDefinition.objects.get_or_create(key=diagram.process_key, defaults={"name": diagram.name or diagram.process_key})
    definition = ProcessDefinition.objects.select_for_update().get(pk=definition.pk)
    existing = ProcessVersion.objects.filter(definition=definition, content_hash=content_hash).first()
    if existing is not None:
        return existing, False
    if diagram.name and definition.name != diagram.name:
        definition.name = diagram.name
        definition.save(update_fields=["name"])
    number = (definition.versions.aggregate(m=Max("version"))["m"] or 0) + 1
    try:
        with transaction.atomic():
            version = ProcessVersion.objects.create(
                definition=definition,
                version=number,
                content_hash=content_hash,
                filename=filename[:255],
                bpmn_xml=data.decode("utf-8"),
                spec=diagram.spec,
                metadata={
                    "user_tasks": diagram.user_tasks,
                    "service_tasks": diagram.service_tasks,
                    "timers": diagram.timers,
                    "lanes": diagram.lanes,
                    **({"forms": forms} if forms else {}),
                },
                source=source,
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
    except IntegrityError:
        return ProcessVersion.objects.get(definition=definition, content_hash=content_hash), False
    audit_event_record(actor=actor, action="process.deployed", obj=version, data={"key": definition.key, "version": number, "hash": content_hash})
    return version, True


def instance_form(instance_id: int | None, key: str) -> FormDefinition | None:
    """The form `key` as the instance's version stored it (edited in the draft it was published
    from), else the file's; None when neither exists. Running cases keep their version's forms."""
    stored = None
    if instance_id is not None:
        metadata = ProcessVersion.objects.filter(instances__pk=instance_id).values_list("metadata", flat=True).first()
        stored = ((metadata or {}).get("forms") or {}).get(key)
    if isinstance(stored, dict):
        return form_from_raw(key, stored)
    return form_get(key) if form_exists(key) else None


def shipped_diagrams() -> list[Path]:
    """The diagrams the registered process types ship, plus any other file in bpmn/."""
    return sorted({*BPMN_DIR.glob("**/*.bpmn"), *process_type_diagrams()})


def shipped_processes_deploy() -> list[ProcessVersion]:
    return [process_version_deploy(data=p.read_bytes(), filename=p.name, source=VersionSource.SHIPPED)[0] for p in shipped_diagrams()]


def process_version_latest(key: str) -> ProcessVersion:
    version = ProcessVersion.objects.filter(definition__key=key).order_by("-version").first()
    if version is None:
        # First use on a fresh database: deploy what ships in bpmn/.
        shipped_processes_deploy()
        version = ProcessVersion.objects.filter(definition__key=key).order_by("-version").first()
    if version is None:
        raise NotFound(_("流程“%(key)s”未部署") % {"key": key}, code="unknown_process")
    return version


@transaction.atomic
def process_instance_start(
    *, actor: Any, key: str, org_unit: Any, data: dict, subject_type: str = "", subject_id: int | None = None
) -> ProcessInstance:
    version = process_version_latest(key)
    instance = ProcessInstance.objects.create(
        version=version,
        org_unit=org_unit,
        started_by=actor if getattr(actor, "is_authenticated", False) else None,
        subject_type=subject_type,
        subject_id=subject_id,
    )
    audit_event_record(actor=actor, action="process.started", obj=instance, org_unit=org_unit, process_instance_id=instance.pk, data={"key": key, "version": version.version})
    runtime.instance_start(instance=instance, data=data, actor=actor)
    return instance


# ---- timers ----------------------------------------------------------------------------------


def timers_due(*, now: datetime, limit: int) -> list[int]:
    return list(
        Timer.objects.filter(status=TimerStatus.PENDING, due_at__lte=now).order_by("due_at", "id").values_list("id", flat=True)[:limit]
    )


def timer_fire(*, timer_id: int, now: datetime) -> int:
    """Fire one due timer exactly once. Lock order: instance, then timer and task rows.

    A busy instance (another step holds its lock) is skipped with SKIP LOCKED and retried by
    the next sweep; a timer already fired or cancelled is skipped. Returns how many engine
    timers fired in this step (other timers of the instance due by then fire with it).
    """
    with transaction.atomic(), audit_batch():
        instance_id = Timer.objects.filter(pk=timer_id, status=TimerStatus.PENDING).values_list("instance_id", flat=True).first()
        if instance_id is None:
            return 0
        instance = runtime.instance_lock(instance_id, skip_locked=True)
        if instance is None or instance.status != InstanceStatus.RUNNING:
            return 0
        return _timer_fire_locked(instance=instance, timer_id=timer_id, now=now)


def timer_fire_next(*, now: datetime, exclude: set[int], picked: list[int]) -> int | None:
    """Fire the earliest due timer whose instance no other step holds; None when there is none.

    One statement finds the timer and locks its instance (`FOR UPDATE OF … SKIP LOCKED`), so
    concurrent sweepers each take the next free instance instead of reading the same rows and
    tripping over each other's locks. `picked` receives the timer's id before it fires (so a
    sweep can leave out a timer whose instance fails); `exclude` lists such timers.
    """
    with transaction.atomic(), audit_batch():
        timer = (
            Timer.objects.filter(status=TimerStatus.PENDING, due_at__lte=now, instance__status=InstanceStatus.RUNNING)
            .exclude(pk__in=exclude)
            .select_related("instance")
            .only("id", "instance__id")
            .order_by("due_at", "id")
            .select_for_update(skip_locked=True, of=("instance",))
            .first()
        )
        if timer is None:
            return None
        picked.append(timer.pk)
        instance = runtime.instance_lock(timer.instance_id)  # already ours: loads it with its relations
        return _timer_fire_locked(instance=instance, timer_id=timer.pk, now=now)


def _timer_fire_locked(*, instance, timer_id: int, now: datetime) -> int:
    timer = Timer.objects.select_for_update().filter(pk=timer_id, status=TimerStatus.PENDING).first()
    if timer is None:
        return 0
    at = max(now, timer.due_at)
    with clock.running_at(at):  # the step's rows and trail carry its time (docs/ARCHITECTURE.md, "Time")
        return _timer_fire_at(instance=instance, timer=timer, at=at)


def _timer_fire_at(*, instance, timer, at: datetime) -> int:
    result = runtime.instance_fire_timers(instance=instance, at=at)
    timer.refresh_from_db(fields=["status"])
    if timer.status == TimerStatus.PENDING:
        # The engine no longer waits on it (its task moved on): it will never fire.
        timer.status = TimerStatus.CANCELLED
        timer.save(update_fields=["status"])
    incidents_resolve_passed(instance=instance, how="timer step succeeded")
    audit_event_record(
        actor=None,
        action="timer.fired",
        obj=instance,
        org_unit=instance.org_unit,
        process_instance_id=instance.pk,
        data={"timer": timer.spec, "due_at": timer.due_at.isoformat(), "at": at.isoformat(), "fired": result.fired},
    )
    return len(result.fired)


def step_failure_record(*, instance_id: int, error: runtime.ProcessRunError) -> None:
    """A user's step of the instance failed in the diagram and was rolled back: an incident says
    why. Inside a caller's transaction the incident stands or falls with it."""
    if transaction.get_connection().needs_rollback:
        return
    element = str((error.extra or {}).get("element") or "")
    incident = incident_open(instance_id=instance_id, source="step", message=error.message, element=element)
    error.extra = {**(error.extra or {}), "instance": instance_id, "incident": incident.pk}


def incidents_resolve(*, instance_id: int) -> int:
    """Close the instance's open incidents it has moved past (kept for callers by id)."""
    instance = ProcessInstance.objects.filter(pk=instance_id).first()
    return incidents_resolve_passed(instance=instance) if instance is not None else 0


# ---- process owners -------------------------------------------------------------------------


def _require_process_owner(actor):
    unit = user_org_unit_for_role(actor, Role.PROCESS_OWNER)
    if unit is None and not getattr(actor, "is_superuser", False):
        raise Forbidden(_("只有流程管理员可以执行此操作"), code="not_process_owner")
    return unit


# Who may read diagrams (definitions, versions, drafts, diffs, XML): process owners and
# compliance; a user of a case sees only his own case's picture (tasks/case_diagram.py).
DIAGRAM_READER_ROLES = ("process_owner", "compliance")


def user_reads_diagrams(actor) -> bool:
    if not getattr(actor, "is_authenticated", False):
        return False
    return bool(getattr(actor, "is_superuser", False) or user_roles(actor) & set(DIAGRAM_READER_ROLES))


def _require_process_reader(actor) -> None:
    if not user_reads_diagrams(actor):
        raise Forbidden(_("只有流程管理员和合规人员可以查看流程图"), code="not_process_reader")


def process_definition_list(*, actor) -> list[ProcessVersion]:
    """The latest version of every deployed process (readers of diagrams only)."""
    _require_process_reader(actor)
    latest = []
    for definition in ProcessDefinition.objects.order_by("key"):
        version = definition.versions.defer("spec", "bpmn_xml").order_by("-version").first()
        if version is not None:
            latest.append(version)
    return latest


def process_definition_upload(*, actor, data: bytes, filename: str) -> tuple[ProcessVersion, bool]:
    _require_process_owner(actor)
    if not settings.CUSTFLOW["DIRECT_DEPLOY"]:
        # Four eyes: a version is published only through a draft that another owner approves.

        raise Forbidden(_("流程图须通过草稿申请发布,并由另一位流程管理员批准"), code="publish_through_draft")
    if not filename.lower().endswith((".bpmn", ".xml")):
        raise ValidationFailed.field("file", _("请上传 .bpmn 文件"), code="invalid_diagram")
    return process_version_deploy(data=data, filename=filename, actor=actor, source=VersionSource.UPLOAD)


def process_test_instance_start(*, actor, key: str, data: Any) -> ProcessInstance:
    unit = _require_process_owner(actor)
    if not isinstance(key, str) or not key.strip():
        raise ValidationFailed.field("process", _("请指定流程标识"))
    if not isinstance(data, dict):
        raise ValidationFailed.field("data", _("启动数据必须是 JSON 对象"))
    if control_character_fields(data):
        raise ValidationFailed.field("data", _("启动数据不能包含控制字符"))
    if not ProcessDefinition.objects.filter(key=key).exists() and key not in {p.stem for p in shipped_diagrams()}:
        raise ValidationFailed.field("process", _("流程“%(key)s”未部署") % {"key": key}, code="unknown_process")
    if unit is None:
        unit = OrgUnit.objects.filter(parent__isnull=True).first()
        if unit is None:
            raise ValidationFailed.field("process", _("尚未建立机构树"))
    try:
        return process_instance_start(actor=actor, key=key, org_unit=unit, data=data, subject_type=TEST_SUBJECT, subject_id=None)
    except runtime.ProcessRunError as exc:
        if not transaction.get_connection().needs_rollback:
            _failed_test_start_record(actor=actor, key=key, org_unit=unit, error=exc)
        raise


def _failed_test_start_record(*, actor, key: str, org_unit, error: runtime.ProcessRunError) -> ProcessInstance:
    """The test start failed in the diagram (its transaction rolled back): keep a FAILED instance
    with an incident that says why, so the owner finds it among the test instances."""
    with transaction.atomic():
        version = process_version_latest(key)
        instance = ProcessInstance.objects.create(
            version=version,
            org_unit=org_unit,
            started_by=actor if getattr(actor, "is_authenticated", False) else None,
            subject_type=TEST_SUBJECT,
            status=InstanceStatus.FAILED,
            completed_at=timezone.now(),
        )
        audit_event_record(
            actor=actor,
            action="process.start_failed",
            obj=instance,
            org_unit=org_unit,
            process_instance_id=instance.pk,
            data={"key": key, "version": version.version, "message": error.message[:500]},
        )
        element = str((error.extra or {}).get("element") or "")
        incident = incident_open(instance_id=instance.pk, source="start", message=error.message, element=element)
    error.extra = {**(error.extra or {}), "instance": instance.pk, "incident": incident.pk}
    logger.warning("test instance %s of %s failed to start: %s", instance.pk, key, error.message)
    return instance
