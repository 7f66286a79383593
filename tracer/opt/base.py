"""What every pass builds on.

A trace is the linear SSA op list of ``tracer.ir``; replacing a value is one call,
``replace(box, value)``, which sets the box's union-find ``forwarded`` link, so
that every later use (snapshots included, through ``Box.find``) sees the new value.

``ForwardPass`` walks the ops once, front to back, with every argument already
resolved through ``find``: a method ``optimize_<OPNAME>(op)`` (lower-case op name)
handles the ops it cares about and calls ``emit(op)`` to keep one; ops without a
method are kept as they are.  Removing an op is not emitting it; an op whose
result is removed must ``replace`` that result first.
"""
from __future__ import annotations

import collections
from typing import Any, Callable

from metajit.tracer.ir import Box, Const, Op, Trace, Value


def resolve(value: Value) -> Value:
    return value.find() if isinstance(value, Box) else value


def store_may_wait(op: Op) -> bool:
    """A ``setfield``/``setarrayitem_*`` the heap pass may delay: not one whose
    effect the trace tests at once (a quasi-immutable field invalidates code,
    ``__class__`` changes guard_class), nor one into an immutable array.  A
    buffer's item may wait: the recorder guarded the value's range before the
    store, so writing it back later cannot fail."""
    if op.name == "setfield":
        return not op.descr.quasi_immutable and op.descr.name != "__class__"
    return op.name.startswith("setarrayitem") and not op.descr.immutable


class OptContext:
    """What the pipeline hands every pass: the rule counters (shown by ``--stats``),
    and a dump callback (``--dump`` writes the trace after each pass)."""

    def __init__(self, rule_counts: collections.Counter | None = None,
                 dump: Callable[[Trace, str], None] | None = None):
        self.rule_counts = rule_counts if rule_counts is not None else collections.Counter()
        self.dump = dump
        # what the loop driver (unroll.py) tells the passes about the current round
        self.loop_state: dict[str, Any] = {}

    def count(self, rule: str, times: int = 1) -> None:
        self.rule_counts[rule] += times


class Pass:
    """A named rewrite of a trace.  Subclasses implement ``run``."""
    name = "?"

    def run(self, trace: Trace, ctx: OptContext) -> None:
        raise NotImplementedError


class ForwardPass(Pass):
    def run(self, trace: Trace, ctx: OptContext) -> None:
        self.trace = trace
        self.ctx = ctx
        self.out: list[Op] = []
        self.setup()
        for op in trace.ops:
            op.args = [resolve(a) for a in op.args]
            handler = getattr(self, "optimize_" + op.name, None)
            if handler is None:
                self.default(op)
            else:
                handler(op)
        self.finish()
        trace.ops = self.out

    def setup(self) -> None:
        """Called before the walk."""

    def finish(self) -> None:
        """Called after the walk, before the new op list replaces the old."""

    def default(self, op: Op) -> None:
        self.emit(op)

    def emit(self, op: Op) -> None:
        self.out.append(op)

    def replace(self, box: Box, value: Value) -> None:
        """From now on ``box`` stands for ``value`` (everywhere, snapshots included)."""
        value = resolve(value)
        if value is not box:
            box.forwarded = value


BOX_OPS = ("box_int", "box_bool", "box_float")


def boxing_op(value: Value) -> Op | None:
    """The ``box_int``/``box_bool``/``box_float`` op that made ``value``, if one did."""
    value = resolve(value)
    op = value.op if isinstance(value, Box) else None
    return op if op is not None and op.name in BOX_OPS else None


def const_value(value: Value) -> Any:
    """The Python value of a Const (after forwarding), else None."""
    value = resolve(value)
    return value.value if isinstance(value, Const) else None


def is_const(value: Value) -> bool:
    return isinstance(resolve(value), Const)
