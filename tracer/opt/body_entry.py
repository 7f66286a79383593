"""Entering a peeled loop's body from a bridge (the job of RPython's short preamble).

After peeling (unroll.py) a loop is::

    label(I, T0); preamble; jump(J, T1); label(B, T1); body; jump(B', T1)

A bridge that ends where its own loop starts jumps to ``T0``: it runs the preamble,
which knows nothing of what the bridge knew (the classes it guarded, the values it
loaded, the objects it never allocated), and forces every virtual object the bridge
passes.  Two steps let it jump to ``T1`` instead:

- ``close_body_label(trace)``, the last step of peeling: every preamble value the
  body uses (a loop-invariant input, a pure computation on one, a constant the
  preamble proved) becomes an argument of the body's label, which the preamble's
  jump passes and the body's jump passes back unchanged.  The body then depends on
  nothing but its label, so any code that reaches ``T1`` with the right values may
  enter it.
- ``enter_body(bridge, loop_trace)``, before the bridge is optimised: the bridge's
  ``jump(A, T0)`` becomes a copy of the optimised preamble with ``I`` bound to
  ``A``, ending in the preamble's ``jump(..., T1)``.  The passes then optimise the
  copy with the bridge: guards the bridge already made go, loads it already did are
  forwarded, its virtual objects stay virtual into the body's label.

Why a copy of the whole preamble rather than the slice of it that computes the
body's label (what RPython calls the short preamble): the body was optimised with
everything the preamble proved, and some of that comes from guards on values that
change from one iteration to the next.  ``guard_true(int_lt(i, n))`` on the first
iteration's ``i`` gives the invariant ``n`` a lower bound the body may rely on; a
slice that recomputes ``n`` alone would not re-establish it.  The copy runs the
very computation the preamble would have run on the same values, so everything the
body relies on holds by construction, and the passes keep only what the bridge did
not already know.  What the copy does is no extra work either: it is the iteration
the jump to ``T0`` would have run in the preamble.  Its cost is code size, so a
preamble longer than ``limit`` ops is not copied (the bridge jumps to ``T0``).
"""
from __future__ import annotations

from metajit.tracer.ir import Box, Op, Trace, Value
from metajit.tracer.opt.base import resolve
from metajit.tracer.opt.unroll import OpCopier, peeled_loop


def close_body_label(trace: Trace) -> int:
    """Make every preamble value the body of the peeled loop ``trace`` uses an
    argument of the body's label (see the module docstring).  Returns how many
    became arguments (0 also for a trace that is no peeled loop)."""
    loop = peeled_loop(trace)
    if loop is None:
        return 0
    ops = trace.ops
    body = ops[loop.label_at + 1:]
    defined = {id(resolve(a)) for a in loop.label.args}
    invariants: list[Box] = []

    def use(value: Value) -> None:
        value = resolve(value)
        if isinstance(value, Box) and id(value) not in defined:
            defined.add(id(value))
            invariants.append(value)

    for op in body:
        for a in op.args:
            use(a)
        if op.snapshot is not None:
            for value in op.snapshot.boxes():
                use(value)
        if op.result is not None:
            defined.add(id(resolve(op.result)))
    if not invariants:
        return 0
    renamed = {id(v): Box(v.kind, v.pyclass) for v in invariants}

    def rename(value: Value) -> Value:
        value = resolve(value)
        return renamed.get(id(value), value)

    for op in body:
        op.args = [rename(a) for a in op.args]
        if op.snapshot is not None:
            op.snapshot = op.snapshot.map_entries(rename)
    fresh = [renamed[id(v)] for v in invariants]
    loop.label.args = list(loop.label.args) + fresh
    loop.entry.args = list(loop.entry.args) + invariants
    loop.end.args = list(loop.end.args) + fresh      # unchanged in every iteration
    return len(invariants)


def preamble_length(loop_trace: Trace) -> int | None:
    """Ops in the preamble of the peeled, closed loop ``loop_trace`` (its label
    and its jump into the body excluded); None when the body cannot be entered
    from outside: no peeled loop, or a body that uses preamble values its label
    does not take (``close_body_label`` did not run)."""
    loop = peeled_loop(loop_trace)
    if loop is None or loop_trace.ops[0].name != "label":
        return None
    defined = {id(resolve(a)) for a in loop.label.args}
    for op in loop_trace.ops[loop.label_at + 1:]:
        values = list(op.args) + (list(op.snapshot.boxes()) if op.snapshot else [])
        for v in values:
            v = resolve(v)
            if isinstance(v, Box) and id(v) not in defined:
                return None
        if op.result is not None:
            defined.add(id(resolve(op.result)))
    return loop.entry_at - 1


def preamble_guards(loop_trace: Trace) -> list[Op]:
    """The guards of the preamble of the peeled loop ``loop_trace``."""
    loop = peeled_loop(loop_trace)
    return [] if loop is None else [op for op in loop_trace.ops[1:loop.entry_at] if op.is_guard()]


def enter_body(bridge: Trace, loop_trace: Trace, limit: int) -> list[Op] | None:
    """When ``bridge`` ends with a jump to the start of the peeled loop
    ``loop_trace`` and the preamble has at most ``limit`` ops, replace that jump
    by a copy of the preamble that ends in the jump into the body (see the module
    docstring).  Returns the guards of the copy (the passes keep or drop them,
    they make none), or None when it did nothing."""
    if not bridge.ops or bridge.ops[-1].name != "jump":
        return None
    start = loop_trace.ops[0] if loop_trace.ops else None
    jump = bridge.ops[-1]
    if start is None or start.name != "label" or jump.descr is not start.descr:
        return None
    length = preamble_length(loop_trace)
    if length is None or length > limit or len(jump.args) != len(start.args):
        return None
    mapping: dict[int, Value] = {}
    for param, arg in zip(start.args, jump.args):
        param = resolve(param)
        if isinstance(param, Box):
            mapping[id(param)] = resolve(arg)
    copier = OpCopier(mapping)
    loop = peeled_loop(loop_trace)
    copy = [copier.op(op) for op in loop_trace.ops[1:loop.entry_at + 1]]
    bridge.ops = bridge.ops[:-1] + copy
    return [op for op in copy if op.is_guard()]
