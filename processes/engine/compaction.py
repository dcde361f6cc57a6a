"""Task-tree compaction: after every step, keep only the live part of the tree.

SpiffWorkflow keeps every task it ever ran in one tree. Loops make it deep, and every step scans
it: cost grows with history, searches stop at depth 1,000 and recursive helpers overflow. After a
step we re-root the tree (rules measured on nine models and proven by the differential test):

* keep the root, every unfinished task and everything below it, and up to 3 ancestors of each
  unfinished task;
* while a parallel, inclusive or End join is waiting, keep every finished task of that join's spec
  with its parent (the join counts arrivals through them); for the End join, fold the data of older
  finished branch ends into the newest and drop the older ones;
* when the workflow has completed, keep the completed End task and its parent (the end event);
* hang each kept task under its nearest kept ancestor (iterative pre-order walk), drop the rest,
  and drop subprocesses whose owning task is gone.

The plan is checked before anything changes (root first, every kept task reachable exactly once,
every unfinished task kept, depth small); if a check fails the tree stays as it was and a warning
is logged. History leaves the tree: the audit trail is the history.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from SpiffWorkflow.bpmn.specs.control import _EndJoin
from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

log = logging.getLogger(__name__)

ANCESTORS = 3
_UNFINISHED = TaskState.NOT_FINISHED_MASK
_FINISHED = TaskState.FINISHED_MASK


@dataclass
class _Plan:
    workflow: object
    order: list = field(default_factory=list)  # kept task ids, pre-order
    parent: dict = field(default_factory=dict)
    children: dict = field(default_factory=dict)
    fold: tuple | None = None  # (newest End task, older End tasks) whose parents' data is folded


class CompactionError(Exception):
    pass


def compact(top) -> bool:
    """Compact ``top`` (a BpmnWorkflow) and its subprocesses in place. False if left uncompacted."""
    try:
        plans = [_plan(wf) for wf in (top, *top.subprocesses.values())]
    except Exception as exc:  # never corrupt state: keep the whole tree and say so
        log.warning(
            "task tree left uncompacted (%s: %s): workflow %s", type(exc).__name__, exc, top.spec.name
        )
        return False
    for plan in plans:
        _apply(plan, top)
    _drop_orphan_subprocesses(top)
    return True


def _plan(wf) -> _Plan:
    tasks = wf.tasks
    root = wf.task_tree
    if root is None or root.id not in tasks:
        raise CompactionError("root task missing")
    unfinished = [t for t in tasks.values() if t._state & _UNFINISHED]
    keep = {root.id}

    stack = [t.id for t in unfinished]  # unfinished tasks and everything below them
    while stack:
        tid = stack.pop()
        if tid not in keep:
            keep.add(tid)
            stack.extend(tasks[tid]._children if tid in tasks else ())
    for task in unfinished:  # up to 3 ancestors of each
        parent, hops = task._parent, 0
        while parent is not None and hops < ANCESTORS:
            keep.add(parent)
            parent = tasks[parent]._parent if parent in tasks else None
            hops += 1

    _keep_join_records(tasks, unfinished, keep)

    plan = _Plan(wf)
    waiting_joins = {
        t.task_spec
        for t in unfinished
        if t._state == TaskState.WAITING and isinstance(t.task_spec, UnstructuredJoin)
    }
    ends = []
    for task in tasks.values():
        if not task._state & _FINISHED:
            continue
        if isinstance(task.task_spec, _EndJoin):
            if task.task_spec in waiting_joins or (task._state == TaskState.COMPLETED and wf.completed):
                ends.append(task)
        elif task.task_spec in waiting_joins:
            keep.update(t for t in (task.id, task._parent) if t is not None)
    if ends:
        ends.sort(key=lambda t: t.last_state_change)
        newest = ends[-1]
        keep.update(t for t in (newest.id, newest._parent) if t is not None)
        older = [t for t in ends[:-1] if t.id not in keep]
        if older and newest.parent is not None:
            plan.fold = (newest, older)

    _walk(plan, tasks, root, keep)
    _check(plan, keep, unfinished, wf)
    return plan


def _keep_join_records(tasks: dict, unfinished: list, keep: set) -> None:
    """Keep what a live parallel or inclusive join reads when a token arrives.

    SpiffWorkflow's join decides from the tree: an input counts as arrived when a finished task of
    the join's spec hangs under a completed task of that input (the record a first arrival leaves),
    or when walking up from the join's predicted next round meets a task of that input. A loop
    whose return flow enters the join itself therefore fires it on the returning token, through
    the records of the round before. Compaction must keep those records, or the join waits for
    ever. For every join in the tree (a loop may come back to it, and the next round's join task
    may not be predicted yet), a bounded number of tasks:

    * above each unfinished task, the nearest ancestor of each of the join's inputs;
    * per input, the newest finished task of the join's spec under a completed task of that input,
      with its parent, unless a task of that input is itself still to come (then the input will
      arrive afresh, and an old record would fire the join early, which raw 3.2 does).
    """
    live_joins = {
        t.task_spec
        for t in tasks.values()
        if isinstance(t.task_spec, UnstructuredJoin) and not isinstance(t.task_spec, _EndJoin)
    }
    if not live_joins:
        return
    inputs = {spec for join in live_joins for spec in join.inputs}
    for task in unfinished:
        wanted = set(inputs)
        parent_id = task._parent
        while parent_id is not None and wanted:
            parent = tasks.get(parent_id)
            if parent is None:
                break
            if parent.task_spec in wanted:
                keep.add(parent_id)
                wanted.discard(parent.task_spec)
            parent_id = parent._parent
    pending = {t.task_spec for t in unfinished}
    newest: dict = {}
    for task in tasks.values():
        if not task._state & _FINISHED or task.task_spec not in live_joins:
            continue
        parent = tasks.get(task._parent) if task._parent is not None else None
        if parent is None or parent._state != TaskState.COMPLETED:
            continue
        if parent.task_spec not in task.task_spec.inputs or parent.task_spec in pending:
            continue
        slot = (task.task_spec, parent.task_spec)
        if slot not in newest or task.last_state_change > newest[slot].last_state_change:
            newest[slot] = task
    for task in newest.values():
        keep.update((task.id, task._parent))


def _walk(plan: _Plan, tasks: dict, root, keep: set) -> None:
    """Iterative pre-order walk hanging each kept task under its nearest kept ancestor."""
    plan.children = {tid: [] for tid in keep}
    seen = set()
    stack = [(root.id, None)]
    while stack:
        tid, ancestor = stack.pop()
        task = tasks.get(tid)
        if task is None:
            raise CompactionError(f"child {tid} missing from the task table")
        if tid in seen:
            raise CompactionError(f"task {tid} reached twice")
        seen.add(tid)
        if tid in keep:
            plan.order.append(tid)
            if ancestor is not None:
                plan.parent[tid] = ancestor
                plan.children[ancestor].append(tid)
            ancestor = tid
        stack.extend((child, ancestor) for child in reversed(task._children))


def _check(plan: _Plan, keep: set, unfinished: list, wf) -> None:
    if len(plan.order) != len(keep) or set(plan.order) != keep:
        raise CompactionError("kept tasks not all reachable from the root")
    if any(t.id not in keep for t in unfinished):
        raise CompactionError("an unfinished task would be dropped")
    depth = {plan.order[0]: 0}
    for tid in plan.order[1:]:
        parent = plan.parent.get(tid)
        if parent not in depth:
            raise CompactionError(f"parent of {tid} not kept before it")
        depth[tid] = depth[parent] + 1
    limit = 4 * len(wf.spec.task_specs) + 16
    if max(depth.values()) > limit:
        raise CompactionError(f"compacted tree still {max(depth.values())} deep (limit {limit})")


def _apply(plan: _Plan, top) -> None:
    wf = plan.workflow
    tasks = wf.tasks
    if plan.fold is not None:
        newest, older = plan.fold
        folded = {}
        for task in older:
            if task.parent is not None:
                DeepMerge.merge(folded, task.parent.data)
        DeepMerge.merge(folded, newest.parent.data)
        newest.parent.data = folded
    for tid in plan.order:
        task = tasks[tid]
        task._parent = plan.parent.get(tid)
        task._children = plan.children[tid]
    kept = {tid: tasks[tid] for tid in plan.order}
    for tid in tasks.keys() - kept.keys():
        top.event_manager.tasks.pop(tid, None)
    wf.tasks = kept
    if wf.last_task is not None and wf.last_task.id not in kept:
        wf.last_task = None


def _drop_orphan_subprocesses(top) -> None:
    alive = set(top.tasks)
    live = {}
    changed = True
    while changed:
        changed = False
        for owner, sp in top.subprocesses.items():
            if owner not in live and owner in alive:
                live[owner] = sp
                alive.update(sp.tasks)
                changed = True
    for owner in list(top.subprocesses):
        if owner not in live:
            for tid in top.subprocesses.pop(owner).tasks:
                top.event_manager.tasks.pop(tid, None)
