"""Batch migration of running instances to another version of their diagram.

A dry run reports, per instance, whether it can move (every unfinished task exists in the
target with the same id and type) and what changes; nothing is saved (its transaction is rolled
back, so even engine steps the move would trigger leave no trace). A run moves each instance in
its own transaction: the spec is swapped under the stored state, engine steps run, the state is
saved with the target version, timer and task rows are re-synced, and an `InstanceMigration` row
keeps the previous version and state, so each instance can be rolled back on its own while it
has not moved on since.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.common.audit import audit_batch, audit_event_record
from backend.common.exceptions import ApplicationError, Conflict, NotFound, ValidationFailed
from processes import runtime
from processes.drafts import key_is_valid
from processes.engine import MigrationIncompatible
from processes.models import (
    InstanceMigration,
    InstanceStatus,
    MigrationOutcome,
    ProcessInstance,
    ProcessVersion,
)
from processes.services import _require_process_owner

# One request moves at most this many (1,000 take ~15 s on PostgreSQL here).
MAX_BATCH = 1_000


def _target(key: str, version: Any) -> ProcessVersion:
    try:
        number = int(version)
    except (TypeError, ValueError):
        raise ValidationFailed.field("target_version", _("请选择目标版本"))
    if not key_is_valid(key) or not 0 < number < 2**31:
        raise ValidationFailed.field("target_version", _("流程“%(key)s”没有版本 %(version)s") % {"key": "", "version": number})
    target = ProcessVersion.objects.filter(definition__key=key, version=number).defer("bpmn_xml").first()
    if target is None:
        raise ValidationFailed.field("target_version", _("流程“%(key)s”没有版本 %(version)s") % {"key": key, "version": number})
    return target


def migration_candidates(*, key: str, from_version: int) -> list[int]:
    if not key_is_valid(key) or not 0 < from_version < 2**31:
        return []
    return list(
        ProcessInstance.objects.filter(version__definition__key=key, version__version=from_version, status=InstanceStatus.RUNNING)
        .order_by("id")
        .values_list("id", flat=True)
    )


def instances_migrate(*, actor, key: str, target_version: Any, instance_ids: Any = None, from_version: Any = None, dry_run: bool = True) -> dict:
    """Dry run or run; one result per requested instance, in the order given."""
    _require_process_owner(actor)
    target = _target(key, target_version)
    if instance_ids in (None, []) and from_version not in (None, ""):
        try:
            instance_ids = migration_candidates(key=key, from_version=int(from_version))
        except (TypeError, ValueError):
            raise ValidationFailed.field("from_version", _("请选择源版本"))
    if not isinstance(instance_ids, list) or not instance_ids or not all(isinstance(i, int) and not isinstance(i, bool) for i in instance_ids):
        raise ValidationFailed.field("instances", _("请选择要迁移的流程实例"))
    if not all(0 < i < 2**63 for i in instance_ids):
        raise ValidationFailed.field("instances", _("请选择要迁移的流程实例"))
    if len(instance_ids) > MAX_BATCH:
        raise ValidationFailed.field("instances", _("一次最多迁移 %(n)d 个实例") % {"n": MAX_BATCH})
    batch = uuid.uuid4()
    results = [_one(actor=actor, instance_id=i, target=target, batch=batch, dry_run=dry_run) for i in dict.fromkeys(instance_ids)]
    summary: dict[str, int] = {}
    for r in results:
        summary[r["outcome"]] = summary.get(r["outcome"], 0) + 1
    if not dry_run:
        with transaction.atomic():
            audit_event_record(
                actor=actor,
                action="process.migration_run",
                object_type="processes.migrationbatch",
                object_id=str(batch),
                data={"key": key, "target_version": target.version, "summary": summary},
            )
    return {"batch": str(batch), "key": key, "target_version": target.version, "dry_run": dry_run, "summary": summary, "results": results}


def _one(*, actor, instance_id: int, target: ProcessVersion, batch: uuid.UUID, dry_run: bool) -> dict:
    result: dict[str, Any] = {"instance": instance_id}
    with transaction.atomic(), audit_batch():
        instance = runtime.instance_lock(instance_id)
        if instance is None:
            return {**result, "outcome": "not_found", "message": _("流程实例不存在")}
        source = instance.version
        result["from_version"] = source.version
        if source.definition_id != target.definition_id:
            return {**result, "outcome": "incompatible", "message": _("实例属于另一个流程")}
        if instance.status != InstanceStatus.RUNNING:
            return {**result, "outcome": "skipped", "message": _("实例已结束")}
        if source.pk == target.pk:
            return {**result, "outcome": "skipped", "message": _("实例已在目标版本")}
        previous_state, previous_row_version = bytes(instance.state), instance.row_version
        try:
            with transaction.atomic():
                report = runtime.instance_migrate(instance=instance, target=target, actor=actor, dry_run=dry_run)
        except MigrationIncompatible as exc:
            return {**result, "outcome": "incompatible", "missing": exc.missing, "message": _("目标版本缺少实例当前所在的步骤: %(ids)s") % {"ids": ", ".join(exc.missing)}}
        except ApplicationError as exc:
            if not dry_run:
                audit_event_record(
                    actor=actor,
                    action="process.instance_migration_failed",
                    obj=instance,
                    org_unit=instance.org_unit,
                    process_instance_id=instance.pk,
                    data={"batch": str(batch), "to_version": target.version, "error": exc.message},
                )
            return {**result, "outcome": "failed", "message": exc.message}
        result["changes"] = report
        if dry_run:
            transaction.set_rollback(True)  # engine steps the move ran leave no trace
            return {**result, "outcome": "can_move"}
        migration = InstanceMigration.objects.create(
            batch=batch,
            instance=instance,
            from_version=source,
            to_version=target,
            outcome=MigrationOutcome.MIGRATED,
            detail={**report, "row_version_after": instance.row_version},
            previous_state=previous_state,
            previous_row_version=previous_row_version,
            actor=actor,
        )
        audit_event_record(
            actor=actor,
            action="process.instance_migrated",
            obj=instance,
            org_unit=instance.org_unit,
            process_instance_id=instance.pk,
            data={"batch": str(batch), "from_version": source.version, "to_version": target.version, "migration": migration.pk, "timers": report["timers"]},
        )
        return {**result, "outcome": "migrated", "migration": migration.pk}


def instance_migration_rollback(*, actor, migration_id: int) -> InstanceMigration:
    """Put one migrated instance back on its previous version and state, if it has not moved since."""
    _require_process_owner(actor)
    with transaction.atomic(), audit_batch():
        migration = InstanceMigration.objects.select_for_update().filter(pk=migration_id).first()
        if migration is None:
            raise NotFound(_("迁移记录不存在"), code="migration_not_found")
        if migration.outcome != MigrationOutcome.MIGRATED:
            raise Conflict(_("该迁移已回滚或未执行"), code="migration_not_rollbackable")
        instance = runtime.instance_lock(migration.instance_id)
        if (
            instance is None
            or instance.version_id != migration.to_version_id
            or instance.row_version != migration.detail.get("row_version_after")
            or instance.status != InstanceStatus.RUNNING
        ):
            raise Conflict(_("实例在迁移后已继续办理,不能回滚"), code="instance_moved_on")
        runtime.instance_restore_version(instance=instance, version=migration.from_version, state=bytes(migration.previous_state), actor=actor)
        migration.outcome = MigrationOutcome.ROLLED_BACK
        migration.rolled_back_at = timezone.now()
        migration.save(update_fields=["outcome", "rolled_back_at"])
        audit_event_record(
            actor=actor,
            action="process.instance_migration_rolled_back",
            obj=instance,
            org_unit=instance.org_unit,
            process_instance_id=instance.pk,
            data={"migration": migration.pk, "version": migration.from_version.version},
        )
        return migration
