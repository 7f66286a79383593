"""Dead code elimination: ops whose only effect is a result nobody uses go.

What it proves: an op that has no side effect, cannot fail and cannot raise, and
whose result is used by no op that stays, changes nothing when it is removed.  A
result is used when it is an argument of a later op that stays, an entry of a
kept guard's snapshot (virtuals' fields included: resume reads it), or an argument
of ``label``/``jump``/``finish``.  One backward walk decides it: walking from the
end, the uses of an op are all seen before the op itself, so a chain of dead ops
(``i2 = int_add(i1, 1)`` whose only user is dead) goes in the same walk.

What may be removed: pure ops (``int_add``, ``ptr_eq`` ...) and loads
(``getfield``, ``getarrayitem_*``, ``arraylen``: they read, never write; the
guards that made them safe stay where they are).

What it may not touch: guards, ops with side effects (stores, allocations, I/O),
calls (``call_r`` ..., and ``call_pure_*``, which may raise into the
``guard_no_exception`` after them), checked ops (``int_add_ovf`` ...: their
``guard_no_overflow`` reads whether they overflowed, so they stay while it does),
markers (``debug_merge_point``, ``label``) and the ends of the trace.
"""
from __future__ import annotations

from metajit.tracer.ir import Box, Flag, Op, failargs
from metajit.tracer.opt.base import Pass, resolve

_NEVER_REMOVED = (Flag.GUARD | Flag.SIDE_EFFECT | Flag.CAN_RAISE | Flag.CAN_OVERFLOW
                  | Flag.CALL | Flag.FINAL)


def removable(op: Op) -> bool:
    """Whether ``op`` may go when its result is unused."""
    spec = op.spec
    return op.result is not None and bool(spec.flags & (Flag.PURE | Flag.LOAD)) \
        and not spec.flags & _NEVER_REMOVED


class DCEPass(Pass):
    name = "dce"

    def run(self, trace, ctx) -> None:
        live: set[Box] = set()
        kept: list[Op] = []
        for op in reversed(trace.ops):
            if removable(op) and op.result not in live:
                ctx.count("dce")
                continue
            kept.append(op)
            for arg in op.args:
                arg = resolve(arg)
                if isinstance(arg, Box):
                    live.add(arg)
            if op.is_guard():
                live.update(failargs(op))
        kept.reverse()
        trace.ops = kept


def register() -> None:
    from metajit.tracer.opt.pipeline import register_pass   # pipeline imports this module
    register_pass("dce", DCEPass)
