"""Random BPMN diagrams for the differential test: compositions of user tasks, sequences, exclusive
choices, parallel splits and joins, loops (back to an exclusive merge, or back into a parallel
join), interrupting boundary timers, embedded sub-processes and multi-instance tasks.

Every exclusive gateway reads one boolean, ``c_<gateway id>``; the driver of a run supplies them
all with each completion, so the same seed takes the same path in both engines. A gateway's
default flow always leads forward (out of a loop), so a run that sets every flag to False ends.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from xml.sax.saxutils import quoteattr

TIMER = '"PT5H"'


@dataclass
class Block:
    entry: str
    exit: str


@dataclass
class Diagram:
    process_id: str
    elements: list[str] = field(default_factory=list)
    flows: list[tuple[str, str, str, str | None]] = field(default_factory=list)  # id, src, dst, cond
    defaults: dict[str, str] = field(default_factory=dict)  # gateway → default flow id
    gateways: list[str] = field(default_factory=list)  # condition flags c_<gateway>
    shapes: set[str] = field(default_factory=set)
    _n: int = 0

    def new(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n}"

    def flow(self, src: str, dst: str, cond: str | None = None) -> str:
        fid = self.new("f")
        self.flows.append((fid, src, dst, cond))
        return fid


class Generator:
    def __init__(self, seed: int, max_depth: int = 3):
        self.rng = random.Random(seed)
        self.max_depth = max_depth
        self.d = Diagram(process_id=f"gen_{seed}")
        self.has_mi = False

    # --- blocks ---------------------------------------------------------------------------
    def block(self, depth: int = 0, in_loop: bool = False) -> Block:
        kinds = ["task", "task", "seq", "xor", "par", "loop", "loop_join", "sub", "mi", "timer"]
        if depth >= self.max_depth:
            kinds = ["task", "task", "mi", "timer"]
        if in_loop:  # raw 3.2 itself stalls on a loop through a join inside another loop
            kinds = [k for k in kinds if k != "loop_join"]
        kind = self.rng.choice(kinds)
        return getattr(self, f"_{kind}")(depth + 1, in_loop)

    def _user_task(self, extra: str = "") -> str:
        tid = self.d.new("t")
        self.d.elements.append(f'<bpmn:userTask id="{tid}" name="{tid}">{extra}</bpmn:userTask>')
        return tid

    def _task(self, depth, in_loop) -> Block:
        tid = self._user_task()
        return Block(tid, tid)

    def _timer(self, depth, in_loop) -> Block:
        self.d.shapes.add("boundary_timer")
        tid = self._user_task()
        bid, esc, merge = self.d.new("timer"), self._user_task(), self.d.new("merge")
        self.d.elements.append(
            f'<bpmn:boundaryEvent id="{bid}" cancelActivity="true" attachedToRef="{tid}">'
            f"<bpmn:timerEventDefinition><bpmn:timeDuration>{TIMER}</bpmn:timeDuration>"
            "</bpmn:timerEventDefinition></bpmn:boundaryEvent>"
        )
        self.d.elements.append(f'<bpmn:exclusiveGateway id="{merge}"/>')
        self.d.flow(tid, merge)
        self.d.flow(bid, esc)
        self.d.flow(esc, merge)
        return Block(tid, merge)

    def _mi(self, depth, in_loop) -> Block:
        # SpiffWorkflow names the item variables by their ids: one multi-instance task a diagram.
        # Its output list must not exist yet when it starts: not inside a loop either.
        if in_loop or "multi_instance" in self.d.shapes or self.has_mi:
            return self._task(depth, in_loop)
        self.has_mi = True
        self.d.shapes.add("multi_instance")
        sequential = "true" if self.rng.random() < 0.5 else "false"
        tid = self._user_task(
            f'<bpmn:multiInstanceLoopCharacteristics isSequential="{sequential}">'
            "<bpmn:loopDataInputRef>items</bpmn:loopDataInputRef>"
            "<bpmn:loopDataOutputRef>results</bpmn:loopDataOutputRef>"
            '<bpmn:inputDataItem id="item" name="item"/>'
            '<bpmn:outputDataItem id="result" name="result"/>'
            "</bpmn:multiInstanceLoopCharacteristics>"
        )
        return Block(tid, tid)

    def _seq(self, depth, in_loop) -> Block:
        first, second = self.block(depth, in_loop), self.block(depth, in_loop)
        self.d.flow(first.exit, second.entry)
        return Block(first.entry, second.exit)

    def _gateway(self, kind: str, prefix: str) -> str:
        gid = self.d.new(prefix)
        self.d.elements.append(f'<bpmn:{kind} id="{gid}"/>')
        return gid

    def _xor(self, depth, in_loop) -> Block:
        self.d.shapes.add("exclusive")
        split, merge = self._gateway("exclusiveGateway", "x"), self._gateway("exclusiveGateway", "xm")
        self.d.gateways.append(split)
        yes, no = self.block(depth, in_loop), self.block(depth, in_loop)
        self.d.flow(split, yes.entry, f"c_{split}")
        self.d.defaults[split] = self.d.flow(split, no.entry)
        self.d.flow(yes.exit, merge)
        self.d.flow(no.exit, merge)
        return Block(split, merge)

    def _par(self, depth, in_loop) -> Block:
        self.d.shapes.add("parallel")
        split, join = self._gateway("parallelGateway", "p"), self._gateway("parallelGateway", "pj")
        # Three branches inside a loop crash raw 3.2 (AttributeError); two are enough there.
        for _ in range(2 if in_loop else self.rng.choice((2, 3))):
            branch = self.block(depth, in_loop)
            self.d.flow(split, branch.entry)
            self.d.flow(branch.exit, join)
        return Block(split, join)

    def _loop(self, depth, in_loop) -> Block:
        self.d.shapes.add("loop")
        merge, again = self._gateway("exclusiveGateway", "lm"), self._gateway("exclusiveGateway", "l")
        self.d.gateways.append(again)
        body = self.block(depth, True)
        self.d.flow(merge, body.entry)
        self.d.flow(body.exit, again)
        self.d.flow(again, merge, f"c_{again}")
        out = self._gateway("exclusiveGateway", "lo")
        self.d.defaults[again] = self.d.flow(again, out)
        return Block(merge, out)

    def _loop_join(self, depth, in_loop) -> Block:
        """A parallel split whose join also takes the loop's return flow (the shape that stalled)."""
        self.d.shapes.add("loop_through_join")
        split, join = self._gateway("parallelGateway", "p"), self._gateway("parallelGateway", "pj")
        for _ in range(2):
            branch = self._task(depth, True)
            self.d.flow(split, branch.entry)
            self.d.flow(branch.exit, join)
        body = self.block(self.max_depth, True)  # raw 3.2 stalls on a parallel split in there
        again = self._gateway("exclusiveGateway", "l")
        self.d.gateways.append(again)
        self.d.flow(join, body.entry)
        self.d.flow(body.exit, again)
        self.d.flow(again, join, f"c_{again}")
        out = self._gateway("exclusiveGateway", "lo")
        self.d.defaults[again] = self.d.flow(again, out)
        return Block(split, out)

    def _sub(self, depth, in_loop) -> Block:
        self.d.shapes.add("sub_process")
        outer = self.d
        inner = Diagram(process_id=outer.process_id, _n=outer._n)
        self.d = inner
        body = self.block(depth, in_loop)
        start, end = inner.new("ss"), inner.new("se")
        inner.elements.append(f'<bpmn:startEvent id="{start}"/>')
        inner.elements.append(f'<bpmn:endEvent id="{end}"/>')
        inner.flow(start, body.entry)
        inner.flow(body.exit, end)
        self.d = outer
        outer._n = inner._n
        outer.gateways += inner.gateways
        outer.shapes |= inner.shapes
        sid = outer.new("sub")
        outer.elements.append(
            f'<bpmn:subProcess id="{sid}" name="{sid}">{render_body(inner)}</bpmn:subProcess>'
        )
        return Block(sid, sid)

    # --- the whole diagram ----------------------------------------------------------------
    def diagram(self) -> tuple[bytes, Diagram]:
        body = self.block()
        d = self.d
        d.elements.append('<bpmn:startEvent id="start"/>')
        d.elements.append('<bpmn:endEvent id="end"/>')
        d.flow("start", body.entry)
        d.flow(body.exit, "end")
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            'id="definitions" targetNamespace="http://custflow.example/generated">'
            f'<bpmn:process id="{d.process_id}" isExecutable="true">{render_body(d)}</bpmn:process>'
            "</bpmn:definitions>"
        )
        return xml.encode(), d


def render_body(d: Diagram) -> str:
    incoming: dict[str, list[str]] = {}
    outgoing: dict[str, list[str]] = {}
    for fid, src, dst, _ in d.flows:
        outgoing.setdefault(src, []).append(fid)
        incoming.setdefault(dst, []).append(fid)
    parts = []
    for element in d.elements:
        eid = element.split('id="', 1)[1].split('"', 1)[0]
        links = "".join(f"<bpmn:incoming>{f}</bpmn:incoming>" for f in incoming.get(eid, ()))
        links += "".join(f"<bpmn:outgoing>{f}</bpmn:outgoing>" for f in outgoing.get(eid, ()))
        if eid in d.defaults:
            element = element.replace(f'id="{eid}"', f'id="{eid}" default="{d.defaults[eid]}"', 1)
        head, sep, tail = element.partition(">")
        if head.endswith("/"):
            tag = head.split()[0][1:]
            element = f"{head[:-1]}>{links}</{tag}>"
        else:
            element = f"{head}{sep}{links}{tail}"
        parts.append(element)
    for fid, src, dst, cond in d.flows:
        body = f"<bpmn:conditionExpression>{cond}</bpmn:conditionExpression>" if cond else ""
        parts.append(
            f"<bpmn:sequenceFlow id={quoteattr(fid)} sourceRef={quoteattr(src)} "
            f"targetRef={quoteattr(dst)}>{body}</bpmn:sequenceFlow>"
        )
    return "".join(parts)
