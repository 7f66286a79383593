"""The recorder: appends operations to a trace, folding constants as it goes.

The meta-interpreter executes the interpreter concretely and tells the recorder
what each step did: the op name, its argument values (Consts or Boxes) and the
concrete result it computed.  A pure operation whose arguments are all constants
is not recorded at all: its concrete result becomes a Const.  (A ``can_overflow``
op folds only when the result fits, which the caller checks.)
"""
from __future__ import annotations

from typing import Any

from metajit.tracer.ir import (OPS, Box, Const, Descr, Flag, Op, Snapshot, Trace, Value,
                               fits_int64)


class TraceTooLong(Exception):
    pass


class Recorder:
    def __init__(self, name: str = "trace", limit: int = 6000):
        self.trace = Trace([], [], name)
        self.limit = limit

    @property
    def ops(self) -> list[Op]:
        return self.trace.ops

    def input(self, kind: str, pyclass: type | None = None) -> Box:
        box = Box(kind, pyclass)
        self.trace.inputargs.append(box)
        return box

    def record(self, name: str, args: list[Value], descr: Descr | None = None,
               concrete: Any = None, pyclass: type | None = None) -> Value | None:
        """Record ``name(*args)``; returns its result (a Box, or a Const when folded)."""
        spec = OPS[name]
        if spec.has(Flag.PURE) and not spec.has(Flag.CALL) and spec.result != "v" \
                and all(a.is_const() for a in args):
            if spec.result != "i" or (isinstance(concrete, int) and fits_int64(concrete)):
                return Const(spec.result, concrete)
        result = None
        if spec.result != "v":
            if pyclass is None and spec.result == "i":
                pyclass = bool if type(concrete) is bool else int
            result = Box(spec.result, pyclass)
        self._append(Op(name, list(args), descr, result))
        return result

    def guard(self, name: str, args: list[Value], snapshot: Snapshot) -> Op:
        op = Op(name, list(args), None, None, snapshot)
        self._append(op)
        return op

    def _append(self, op: Op) -> None:
        if len(self.trace.ops) >= self.limit:
            raise TraceTooLong(f"trace too long (trace_limit={self.limit})")
        self.trace.ops.append(op)
