"""Common-subexpression elimination: an op that computes again what an earlier op
computed is replaced by the earlier op's result.

What it proves: two ops with the same name, the same (resolved) arguments and the
same descriptor give the same value when their result depends on the arguments
alone.  That holds for

- pure ops (``int_add``, ``float_mul``, ``ptr_eq`` ...); commutative ones match in
  either argument order;
- checked ops (``int_add_ovf`` ...) followed by ``guard_no_overflow``: the first
  one's guard passed, so the second cannot overflow and its guard goes with it;
- elidable calls (``call_pure_*``) with the same callee and arguments (descriptors
  may differ: the callee is the first argument); the second call's
  ``guard_no_exception`` goes with it, since the first call did not raise;
- loads from immutable memory: ``getfield`` of an immutable field,
  ``arraylen``/``getarrayitem_*`` of an immutable array (a tuple).

The earlier op comes first in the linear trace, so it is defined, and its guards
passed, wherever the later one was.  That holds across a ``label`` whose arguments
are fresh boxes, as a peeled loop's body label is: the body is only entered through
its preamble, so it reuses what the preamble computed on loop-invariant values (a
way into the body that skips the preamble must recompute those values first).  A
label that rebinds a box defined above it makes everything known so far stale.

What it may not touch: loads of mutable memory (the heap pass knows when a store or
a call may have changed them), guards, side effects, calls that are not elidable,
an op followed by ``guard_overflow`` or ``guard_exception`` (there the earlier op's
value is not the one the later op would give).
"""
from __future__ import annotations

from metajit.tracer.ir import ArrayDescr, FieldDescr, Flag, Op
from metajit.tracer.opt.base import ForwardPass
from metajit.tracer.opt.fold import COMMUTATIVE, check_guard


def immutable_load(op: Op) -> bool:
    descr = op.descr
    return (isinstance(descr, FieldDescr) and descr.immutable) or \
        (isinstance(descr, ArrayDescr) and descr.immutable)


class CSEPass(ForwardPass):
    name = "cse"

    def setup(self) -> None:
        ops = self.trace.ops
        self.following = {id(a): b.name for a, b in zip(ops, ops[1:])}
        self.available: dict[tuple, object] = {}   # key -> the result computing it
        self.drop_next: str | None = None
        self.defined = set(self.trace.inputargs)

    def default(self, op: Op) -> None:
        dropped, self.drop_next = self.drop_next, None
        if op.name == dropped:
            return
        if op.name == "label" and any(a in self.defined for a in op.args):
            self.available.clear()          # a box above changes value here
        if op.result is not None:
            self.defined.add(op.result)
        keys = self.keys(op)
        if keys:
            for key in keys:
                earlier = self.available.get(key)
                if earlier is not None:
                    self.ctx.count("cse")
                    self.replace(op.result, earlier)
                    self.drop_next = check_guard(op)   # it checked nothing new
                    return
            self.available[keys[0]] = op.result
        self.emit(op)

    def keys(self, op: Op) -> list[tuple]:
        """The ways to write what ``op`` computes (two for a commutative op), or
        nothing when its value may not be reused."""
        spec = op.spec
        if op.result is None or spec.has(Flag.GUARD) or spec.has(Flag.SIDE_EFFECT):
            return []
        after = self.following.get(id(op))
        if (spec.has(Flag.CAN_OVERFLOW) and after != "guard_no_overflow") or \
                (spec.has(Flag.CAN_RAISE) and after == "guard_exception"):
            return []
        if spec.has(Flag.CALL):
            return [(op.name, *op.args)]          # the callee is args[0]
        if spec.has(Flag.LOAD) and not immutable_load(op):
            return []
        if not (spec.has(Flag.PURE) or spec.has(Flag.LOAD)):
            return []
        key = (op.name, id(op.descr), *op.args)
        if op.name in COMMUTATIVE:
            return [key, (op.name, id(op.descr), *op.args[::-1])]
        return [key]


def register() -> None:
    from metajit.tracer.opt.pipeline import register_pass   # pipeline imports this module
    register_pass("cse", CSEPass)
