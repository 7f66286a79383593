"""A peeled loop whose preamble runs on the Python backend and whose body runs natively.

The optimiser peels a loop into a preamble (its first iteration, where the invariant
work stays: field reads of real objects, their class guards) and a body::

    label(I, T0); preamble ops; jump(J, T1)
    label(B, T1); body ops;     jump(K, T1)

When the preamble holds ops native code cannot run but the body does not,
``split_peeled`` cuts the trace in two:

- the preamble, ``label(I, T0); preamble ops; jump(J + V, T1)``, for the
  Python-source backend: T1 is no label of its unit, so its jump is an exit that
  hands over the body label's values and ``V``, every preamble value the body uses
  (in its ops, its guards' snapshots, the stores delayed to its exits), which
  ``close_body_label`` made arguments of the body's label;
- the body, ``label(B + V, T1); body ops; jump(K + V, T1)``, entered with those
  values (fresh input boxes: the label names the preamble's boxes), for native code.

Both keep the very ops of the trace, so a guard is one object whichever part runs
it: bridges attach to it by identity, and resume reads its snapshot and failargs.
``PythonPreambleUnit`` runs the two parts one after the other.
"""
from __future__ import annotations

from metajit.backend.base import CompiledUnit, ExitResult, passes_invalidation
from metajit.backend.native import COUNTERS, NativeUnit
from metajit.tracer.ir import Box, Op, Trace
from metajit.tracer.opt.body_entry import close_body_label


def split_peeled(trace: Trace) -> tuple[Trace, Trace] | None:
    """(preamble, body) of a peeled loop (see the module docstring); None for a
    trace of another shape."""
    ops = trace.ops
    labels = [k for k, op in enumerate(ops) if op.name == "label"]
    if len(labels) != 2 or labels[0] != 0:
        return None
    k = labels[1]
    label, entry, end = ops[k], ops[k - 1], ops[-1]
    target = label.descr
    if entry.name != "jump" or entry.descr is not target or end.name != "jump" \
            or end.descr is not target or k + 1 >= len(ops):
        return None
    close_body_label(trace)       # the body's label takes all it uses of the preamble
    preamble = Trace(trace.inputargs, ops[:k], f"{trace.name}.preamble")
    body = Trace([_input_for(b) for b in label.args], ops[k:], f"{trace.name}.body")
    for part in (preamble, body):
        part.names, part.objects = trace.names, trace.objects
    return preamble, body


def _resolve(value):
    return value.find() if isinstance(value, Box) else value


def _input_for(box: Box) -> Box:
    """A fresh input box of the body, of the class of the value it enters with."""
    value = _resolve(box)
    return Box(box.kind, (value if isinstance(value, Box) else box).pyclass)


class PythonPreambleUnit(CompiledUnit):
    """A peeled loop as two units: its preamble on the Python-source backend, its body
    natively (a NativeUnit, which raises Ineligible when native code cannot run
    it).  ``bridges`` (id(guard) -> trace, in the order they were attached) are
    those of a unit compiled before; each guard's bridge goes to the part that runs
    the guard.  ``preamble_reason`` says why the whole trace is not native."""
    backend_name = "native"

    def __init__(self, trace: Trace, preamble: Trace, body: Trace,
                 bridges: dict | None = None, preamble_reason: str | None = None):
        from metajit.backend.pysource import PySourceUnit
        super().__init__(trace)
        self.preamble_reason = preamble_reason
        self.start = trace.ops[0].descr
        self.body_target = body.ops[0].descr
        self._preamble_guards = {id(op) for op in preamble.ops if op.is_guard()}
        preamble_bridges, body_bridges = {}, {}
        for gid, bridge in (bridges or {}).items():
            self.bridges[gid] = bridge
            if gid in self._preamble_guards:
                preamble_bridges[gid] = bridge
                self._own_guards(bridge)
            else:
                body_bridges[gid] = bridge
        self.body = NativeUnit(body, bridges=body_bridges)
        self.preamble = PySourceUnit(preamble)
        if preamble_bridges:
            self.preamble.bridges.update(preamble_bridges)
            self.preamble.changed()
        COUNTERS["python_preambles"] += 1

    invalidated = passes_invalidation("preamble", "body")

    def run(self, inputs: list) -> ExitResult:
        return self._run(inputs, None)

    def enter(self, target, inputs: list) -> ExitResult:
        if target is not self.body_target:
            raise ValueError(f"{target.describe()} is no label this unit can be entered at")
        return self._run(None, inputs)

    def _run(self, inputs: list | None, at_body: list | None) -> ExitResult:
        """From the preamble with ``inputs``, or from the body's label with
        ``at_body``."""
        iterations = 0
        while True:
            if at_body is None:
                res = self.preamble.run(inputs)
                iterations += res.iterations
                if res.target is not self.body_target:
                    res.iterations = iterations
                    return res
                at_body = res.values
                iterations += 1
            res = self.body.run(at_body)
            iterations += res.iterations
            while res.target is self.body_target:
                # a bridge that the body ran on Python entered the body again
                res = self.body.run(res.values)
                iterations += res.iterations + 1
            if res.target is not self.start:
                res.iterations = iterations
                return res
            # a bridge of the body jumped to the loop's start: run the preamble again
            iterations += 1
            inputs, at_body = res.values, None

    def attach_bridge(self, guard: Op, bridge: Trace) -> None:
        self.bridges[id(guard)] = bridge
        if id(guard) in self._preamble_guards:
            self.preamble.attach_bridge(guard, bridge)
            self._own_guards(bridge)
        else:
            self.body.attach_bridge(guard, bridge)

    def _own_guards(self, bridge: Trace) -> None:
        """The guards of a bridge of the preamble are the preamble unit's too."""
        self._preamble_guards.update(id(op) for op in bridge.ops if op.is_guard())

    def bridge_runs_on(self, guard: Op) -> str:
        if id(guard) in self._preamble_guards:
            return "python"
        return self.body.bridge_runs_on(guard)

    @property
    def bridge_reason(self) -> dict:
        """id(guard) -> why its bridge does not run natively."""
        reasons = dict(self.body.bridge_reason)
        reasons.update((gid, "a bridge of a preamble that runs on Python")
                       for gid in self.bridges if gid in self._preamble_guards)
        return reasons

    def __repr__(self):
        return f"<PythonPreambleUnit {self.trace.name}: {self.preamble!r}, {self.body!r}>"
