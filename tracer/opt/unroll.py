"""Loop peeling: the loop becomes a preamble (one iteration) and a body.

``label(I, T0); ops; jump(J, T0)`` becomes::

    label(I, T0); ops; jump(J_v, T1)          # the preamble: the first iteration
    label(B, T1); ops'; jump(J_v', T1)        # the body: every later iteration

where ``ops'`` is a copy of ``ops`` (fresh boxes, snapshots copied) in which each
input that the loop carries unchanged (``J[k] is I[k]``) stays the preamble's box
and each other input is a fresh label argument.  Running the passes over the peeled
trace then lets the body use what the preamble proved about values that never
change (their classes, bounds, pure computations on them): invariant work stays in
the preamble.  Facts about mutable memory do not cross a label (the body is also
entered from its own end): passes that cache the heap forget it at every label.

Bridges and other loops keep jumping to ``T0`` (through the preamble), which is
always correct.  What this step does not do yet: export the heap cache and
virtuals across the label, and a short preamble for jumping straight into the body.
"""
from __future__ import annotations

from metajit.tracer.ir import (Box, FrameSnapshot, Op, Snapshot, TargetDescr, Trace, Value,
                               Virtual)
from metajit.tracer.opt.base import resolve


def is_peelable(trace: Trace) -> bool:
    ops = trace.ops
    return (len(ops) >= 2 and ops[0].name == "label" and ops[-1].name == "jump"
            and ops[-1].descr is ops[0].descr
            and not any(op.name == "label" for op in ops[1:]))


def peel(trace: Trace) -> bool:
    """Peel ``trace`` in place; False (and nothing changed) when it is not a loop
    that closes on its own label."""
    if not is_peelable(trace):
        return False
    label, jump = trace.ops[0], trace.ops[-1]
    inputs = [resolve(a) for a in label.args]
    carried = [resolve(a) for a in jump.args]
    mapping: dict[int, Value] = {}
    body_args: list[Box] = []
    preamble_out: list[Value] = []
    variant: list[int] = []
    for k, (inp, out) in enumerate(zip(inputs, carried)):
        if out is inp:
            mapping[id(inp)] = inp           # loop-invariant: the same box in the body
        else:
            fresh = Box(inp.kind, getattr(inp, "pyclass", None))
            mapping[id(inp)] = fresh
            body_args.append(fresh)
            preamble_out.append(out)
            variant.append(k)
    body_target = TargetDescr(f"{label.descr.name}.body", owner=label.descr.owner)
    copier = _Copier(mapping)
    body = [copier.op(op) for op in trace.ops[1:-1]]
    end = Op("jump", [copier.value(carried[k]) for k in variant], body_target)
    trace.ops = (trace.ops[:-1] + [Op("jump", preamble_out, body_target),
                                   Op("label", body_args, body_target)] + body + [end])
    return True


class _Copier:
    def __init__(self, mapping: dict[int, Value]):
        self.mapping = mapping
        self.virtuals: dict[int, Virtual] = {}

    def value(self, value: Value) -> Value:
        value = resolve(value)
        return self.mapping.get(id(value), value)

    def op(self, op: Op) -> Op:
        result = None
        if op.result is not None:
            result = Box(op.result.kind, op.result.pyclass)
            self.mapping[id(op.result)] = result
        snapshot = None
        if op.snapshot is not None:
            self.virtuals = {}
            snapshot = Snapshot([FrameSnapshot(f.code, f.pc, [self.entry(e) for e in f.values],
                                               f.exc_pending)
                                 for f in op.snapshot.frames])
        return Op(op.name, [self.value(a) for a in op.args], op.descr, result, snapshot)

    def entry(self, entry):
        if isinstance(entry, tuple):
            return (self.entry(entry[0]),) + tuple(entry[1:])
        if isinstance(entry, Virtual):
            copy = self.virtuals.get(id(entry))
            if copy is None:
                copy = self.virtuals[id(entry)] = Virtual(entry.descr)
                copy.fields = {k: self.entry(v) for k, v in entry.fields.items()}
            return copy
        return self.value(entry)


def drop_invariant_label_args(trace: Trace) -> bool:
    """After the body is optimised, a label argument that the body's jump passes back
    unchanged holds, in every iteration, what the preamble's jump gave it: replace it
    by that value and drop it from the label and both jumps.  True when one went."""
    ops = trace.ops
    if len(ops) < 3 or ops[-1].name != "jump":
        return False
    target = ops[-1].descr
    labels = [i for i, op in enumerate(ops) if op.name == "label" and op.descr is target]
    entries = [i for i, op in enumerate(ops[:-1]) if op.name == "jump" and op.descr is target]
    if len(labels) != 1 or len(entries) != 1 or entries[0] > labels[0]:
        return False
    label, entry, end = ops[labels[0]], ops[entries[0]], ops[-1]
    keep = []
    for k, arg in enumerate(label.args):
        if resolve(end.args[k]) is arg and resolve(entry.args[k]) is not arg:
            arg.forwarded = resolve(entry.args[k])
        else:
            keep.append(k)
    if len(keep) == len(label.args):
        return False
    for op in (label, entry, end):
        op.args = [op.args[k] for k in keep]
    return True
