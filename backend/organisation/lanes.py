"""Lane name → role at an org unit relative to the case's org unit (docs/ARCHITECTURE.md, "Access").

`LANES` holds the lanes of the org chart every process may use; a process type declares the
lanes only it uses (`ProcessType.lanes`), registered here through `lane_register`.

A BPMN lane names who does the work: `city_reviewer` is "a reviewer at the city branch that
owns the case", `province_reviewer` "a reviewer at its parent province", `collector` the
person who submitted the case.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.organisation.models import OrgLevel, OrgUnit, Role

PARENT = "parent"  # the level above the case's org unit (head office stays itself)


@dataclass(frozen=True)
class LaneRule:
    role: str
    level: str | None  # org level to walk up to; None = the case's own org unit; PARENT
    submitter: bool = False  # the task goes to the case's submitter personally
    approval: bool = False  # an approval step: four eyes applies
    # A task data key naming the user the task goes to (e.g. the handler a hand-over assigned).
    assignee_key: str | None = None
    # A task data path ("a.b") naming the org unit id whose role holders are candidates
    # (multi-instance opinion requests to several org units).
    org_unit_key: str | None = None


# The org chart's own lanes: no process type is named here.
LANES: dict[str, LaneRule] = {
    "collector": LaneRule(role=Role.COLLECTOR, level=None, submitter=True),
    "officer": LaneRule(role=Role.OFFICER, level=None),
    "city_officer": LaneRule(role=Role.OFFICER, level=OrgLevel.CITY),
    "city_reviewer": LaneRule(role=Role.REVIEWER, level=OrgLevel.CITY, approval=True),
    "province_reviewer": LaneRule(role=Role.REVIEWER, level=OrgLevel.PROVINCE, approval=True),
    "head_office_reviewer": LaneRule(role=Role.REVIEWER, level=OrgLevel.HEAD_OFFICE, approval=True),
    "process_owner": LaneRule(role=Role.PROCESS_OWNER, level=OrgLevel.HEAD_OFFICE),
}


# Lanes declared by process types (registered at startup from each app's AppConfig.ready()).
_DECLARED: dict[str, LaneRule] = {}


class UnknownLane(LookupError):
    pass


def lane_register(name: str, rule: LaneRule) -> None:
    """A lane a process type brings. Two types may declare the same lane with the same rule."""
    existing = LANES.get(name) or _DECLARED.get(name)
    if existing is not None and existing != rule:
        raise ValueError(f"lane {name!r} is already declared with another rule")
    _DECLARED[name] = rule


def lanes_known() -> dict[str, LaneRule]:
    """Every lane a diagram may use: the org chart's and those the process types declare."""
    return {**LANES, **_DECLARED}


def lane_rule(lane: str) -> LaneRule:
    rule = LANES.get(lane) or _DECLARED.get(lane)
    if rule is None:
        raise UnknownLane(lane)
    return rule


def _data_path(data: dict | None, path: str):
    value = data or {}
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def lane_org_unit(lane: str, case_org_unit: OrgUnit, data: dict | None = None) -> OrgUnit:
    """The org unit whose role holders are candidates for a task in this lane.

    Walks up from the case's org unit to the lane's level; a case owned above that level
    (a province case in a city lane) stays at its own unit.
    """
    rule = lane_rule(lane)
    if rule.org_unit_key:
        unit_id = _data_path(data, rule.org_unit_key)
        unit = OrgUnit.objects.filter(pk=unit_id).first() if isinstance(unit_id, int) else None
        if unit is not None:
            return unit
    if rule.level is None:
        return case_org_unit
    if rule.level == PARENT:
        return case_org_unit.parent or case_org_unit
    return case_org_unit.ancestor_at(rule.level) or case_org_unit


def lane_assignee_id(lane: str, data: dict | None) -> int | None:
    rule = lane_rule(lane)
    value = _data_path(data, rule.assignee_key) if rule.assignee_key else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None
