"""The native backend: a loop and the bridges attached to it as one LLVM function.

(``backend.native_layout`` lays a unit's code out and writes it; this module decides
what is eligible, compiles, and runs units.)

``eligible(trace)`` says whether native code can run a trace (None) or why not (a
reason the stats count); ``compile_unit(trace)`` builds a ``NativeUnit`` or raises
``Ineligible``; ``native_unit(trace)`` also splits a peeled loop whose preamble alone
is not eligible (``backend.native_preamble``); ``compile_unit_or_python(trace)``
falls back to the Python-source backend, the unit then carrying ``native_reason``.

A ``NativeUnit`` runs like a ``PySourceUnit`` (same ``ExitResult``\\ s, same
failargs, same classes of values): the Python side builds the run's object table
and fills the slot array (``backend.lowering`` describes both), enters the code
through the trampoline, and reads the exit back.  Leaving at a tick (every
``TICK_INTERVAL`` jumps) re-enters at once, after Python had its chance to run
signal handlers.

Bridges.  An eligible bridge is inlined into the unit's function, which is then
recompiled; after ``MAX_RECOMPILES`` recompiles (or for a bridge native code cannot
run) the bridge runs on the Python-source backend: the native code exits at its
guard and ``run()`` continues in the bridge, and back in native code when the
bridge jumps to the unit's first label.
"""
from __future__ import annotations

import collections
import time

from metajit.backend import llvm
from metajit.backend.buffers import STORAGES, UNSUPPORTED_TYPECODES, describe, is_buffer
from metajit.backend.base import CompiledUnit, ExitResult, passes_invalidation
from metajit.backend.lowering import (BOXES, CONTROL, H_INVALIDATED, H_ITERATIONS, H_STATE,
                                      INELIGIBLE, LOWERINGS, O_ADDRESS, O_CLASS, O_LENGTH,
                                      O_STORAGE, O_UNBOX_BAD, O_UNBOXED, OBJECT_STRIDE, TICK,
                                      ConstantTable, Exit)
from metajit.backend.native_layout import CallExit, Ineligible, Layout, UnitEmitter
from metajit.tracer.ir import Box, Const, Flag, Op, TargetDescr, Trace, failargs, fits_int64

MAX_RECOMPILES = 8     # recompiles of one unit for bridges; later bridges run on Python
MAX_CONNECTED = 2      # other loops a hot unit's jumps may take into its own code
FULL_AFTER = 50_000    # entries after which a unit compiled cheaply is compiled at O2

# Process-wide counters (the JIT's stats show them): entries into native units,
# native compiles and their seconds, recompiles for bridges, ticks, runs of bridges
# on Python, promotions of tiered units, code size.
COUNTERS: collections.Counter = collections.Counter()
COMPILE_SECONDS: list[float] = []    # each native compile of a unit, in order
# buffers the run glue describes (``backend.buffers``)
NATIVE_STORAGES = frozenset(STORAGES)
_ITEM_OPS = frozenset({"getarrayitem_i", "getarrayitem_f", "setarrayitem_i", "setarrayitem_f",
                       "arraylen"})


# --- eligibility ---------------------------------------------------------------------

def _op_reason(op: Op) -> str | None:
    name = op.name
    if name in INELIGIBLE:
        return INELIGIBLE[name]
    if name not in LOWERINGS and name not in CONTROL:
        return f"no native lowering for {name}"
    if name in _ITEM_OPS:
        storage = getattr(op.descr, "storage", None)
        if storage not in NATIVE_STORAGES:
            code = storage[6:] if storage and storage.startswith("array:") else None
            return UNSUPPORTED_TYPECODES.get(code) or f"{storage} storage"
    if name == "guard_value" and op.args[0].kind == "r" and not isinstance(op.args[1], Const):
        return "guard_value on two references"
    return None


def _wide_reads_reason(t: Trace) -> str | None:
    """An unsigned 64-bit item may be no int64: native code holds its bits, and
    only the guard after the read (``guard_false(uint_rshift(item, 63))``, as the
    tracer writes it) may see them before that guard has left with the item."""
    for k, op in enumerate(t.ops):
        if op.name == "getarrayitem_i" and STORAGES[op.descr.storage].may_exceed_int64:
            after = t.ops[k + 1:k + 3]
            if len(after) < 2 or after[0].name != "uint_rshift" \
                    or after[0].args[0] is not op.result or after[1].name != "guard_false" \
                    or after[1].args[0] is not after[0].result \
                    or not isinstance(after[0].args[1], Const) or after[0].args[1].value != 63:
                return f"a {op.descr.storage} item read without its int64 guard after it"
    return None


def _calls_reason(t: Trace) -> str | None:
    """A call whose result native code uses must be followed by guard_no_exception:
    when the result cannot be held natively (an int outside 64 bits, a bool where
    the trace has an int ...), the run leaves at that guard, whose snapshot
    resumes after the call with the result as Python gave it."""
    for k, op in enumerate(t.ops):
        if op.spec.has(Flag.CALL) and op.result is not None:
            after = t.ops[k + 1] if k + 1 < len(t.ops) else None
            if after is None or after.name != "guard_no_exception":
                return "a call result without guard_no_exception after the call"
    return None


def eligible(trace: Trace, bridges: dict | None = None) -> str | None:
    """None when native code can run ``trace`` (and ``bridges``, id(guard) -> trace),
    else the reason it cannot."""
    traces = [trace] + list((bridges or {}).values())
    boxed: set[int] = set()
    for t in traces:
        for op in t.ops:
            reason = _op_reason(op)
            if reason is not None:
                return reason
            if op.name in BOXES:
                boxed.add(id(op.result))
        reason = _calls_reason(t) or _wide_reads_reason(t)
        if reason is not None:
            return reason
    if boxed:
        # a boxed value has no object natively: it may only leave the unit
        labels = {id(op.descr) for t in traces for op in t.ops if op.name == "label"}
        for t in traces:
            for op in t.ops:
                if op.name == "finish" or (op.name == "jump" and id(op.descr) not in labels) \
                        or op.spec.has(Flag.CALL):
                    continue
                for a in op.args:
                    if isinstance(a, Box) and id(a.find()) in boxed:
                        return f"a boxed value used by {op.name}"
    return None


# --- units -------------------------------------------------------------------------------

class NativeUnit(CompiledUnit):
    """A loop and the bridges inlined into it, compiled to one native function."""
    backend_name = "native"

    def __init__(self, trace: Trace, bridges: dict | None = None, level: str = "cheap",
                 connect: int | None = None):
        super().__init__(trace)
        self.invalidated = False
        self.level = level
        self.connect = MAX_CONNECTED if connect is None else connect
        self.native_bridges: dict[int, Trace] = {}
        self.python_bridges: dict[int, CompiledUnit] = {}
        self.python_guard_owner: dict[int, CompiledUnit] = {}
        self.bridge_backend: dict[int, str] = {}   # id(guard) -> where its bridge runs
        self.bridge_reason: dict[int, str] = {}    # id(guard) -> why not natively
        self.compiles = 0
        self.recompiles = 0
        self.compile_seconds = 0.0
        self.ticks = 0
        self.python_runs = 0
        self.entries = 0
        self._active = 0       # runs in progress (a call may enter the unit again)
        self._pool: list = []
        self._twin = None
        self._twin_bridges = 0
        if bridges:
            self._adopt(bridges)
        else:
            self._build()

    # --- compiling ---
    def _build(self) -> None:
        import numpy as np
        reason = eligible(self.trace, self.native_bridges)
        if reason is not None:
            raise Ineligible(reason)
        t0 = time.perf_counter()
        # other loops join a unit only once it is hot (compiling them costs)
        layout = Layout(self.trace, self.native_bridges,
                         self.connect if self.level == "full" else 0)
        constants = ConstantTable()
        for t in layout.traces:
            for op in t.ops:
                for a in op.args:
                    if isinstance(a, Box):
                        a = a.find()
                    if isinstance(a, Const) and a.kind == "r":
                        constants.index(a.value)
        entry_layouts = [list(self.trace.inputargs)] + \
            [layout.live_in[id(d)] for d in layout.state_labels] + \
            list(layout.after_call.values())
        most_refs = max(sum(1 for b in values if b.kind == "r") for values in entry_layouts)
        # an object a call returns takes its call's slot in the table
        self.call_slots = {}
        for t in layout.traces:
            for op in t.ops:
                if op.name == "call_r" or op.name == "call_pure_r":
                    self.call_slots[id(op)] = len(constants.objects) + most_refs \
                        + len(self.call_slots)
        table_size = len(constants.objects) + most_refs + len(self.call_slots)
        self.first_call_slot = len(constants.objects) + most_refs
        emitter = UnitEmitter(layout, constants, table_size)
        ir_text = emitter.generate(llvm.PLACEHOLDER, entry_layouts)
        for exit in emitter.exits:
            if any(rep == "i" and cls is None for rep, cls, _ in exit.values):
                raise Ineligible("an int that is a bool on some iterations leaves the unit")
        self._enter = llvm.get_trampoline()     # built once per process, before any run
        self.address, seconds, self.compiled_by = llvm.compile_unit_ir(ir_text, self.level)
        self.ir = ir_text
        self.layout = layout
        self.exits = emitter.exits
        self.constants = constants
        self.entry_layouts = [[emitter.rep_of(b) for b in values] for values in entry_layouts]
        self.entry_classes = [[layout.classes.get(id(b)) if b.kind == "i" else None
                               for b in values] for values in entry_layouts]
        self.objects_base = emitter.objects_base
        self.values_base = emitter.values_base
        self.table_size = table_size
        width = max([len(e.values) + (len(e.call.live) if e.call else 0) for e in self.exits]
                    + [len(v) for v in entry_layouts] + [1])
        for exit in self.exits:
            if exit.call is not None and exit.call.guard is not None:
                position = {id(b): k for k, b in enumerate(exit.call.live)}
                exit.call.guard_values = [position[id(layout.resolve(b))]
                                          for b in failargs(exit.call.guard)]
        self.nslots = self.values_base + width
        self._pool = []
        self._fills = [None] * len(entry_layouts)
        self._class_index = {id(o): k for k, o in enumerate(constants.objects)
                             if isinstance(o, type)}
        # the constants never change: described once per slot array
        template = _Slots(np.zeros(self.nslots, dtype=np.int64))
        for k, obj in enumerate(constants.objects):
            self._describe(template, k, obj)
        self._template = template.array
        self._const_buffers = [k for k, o in enumerate(constants.objects) if is_buffer(o)]
        self.compiles += 1
        seconds = time.perf_counter() - t0
        self.compile_seconds += seconds
        COUNTERS["compiles"] += 1
        COUNTERS["compile_seconds"] += seconds
        COMPILE_SECONDS.append(seconds)
        self.llvm_seconds = seconds

    def _recompile(self, level: str) -> None:
        """The unit stayed hot: compile it again with LLVM's O2 pipeline (its code
        runs up to ~1.8x faster than the cheap passes')."""
        self.level = level
        self._build()
        COUNTERS["full_compiles"] += 1

    def attach_bridge(self, guard: Op, bridge: Trace) -> None:
        self.bridges[id(guard)] = bridge
        # a new bridge compiles cheaply; the unit goes to O2 again if it stays hot
        self.level = "cheap"
        self.entries = 0
        owner = self.python_guard_owner.get(id(guard))
        if owner is not None:       # a guard of a bridge that runs on Python
            owner.attach_bridge(guard, bridge)
            self._own_guards(owner, bridge)
            self.bridge_backend[id(guard)] = "python"
            return
        reason = eligible(bridge)
        if reason is None and self.recompiles >= MAX_RECOMPILES:
            reason = f"more than {MAX_RECOMPILES} recompiles of one unit"
        if reason is None and self._active:
            reason = "attached while the unit runs (entered again from a call)"
        if reason is None:
            self.native_bridges[id(guard)] = bridge
            try:
                self._build()
                self.recompiles += 1
                COUNTERS["recompiles"] += 1
                self.bridge_backend[id(guard)] = "native"
                return
            except Ineligible as exc:
                reason = exc.reason
                del self.native_bridges[id(guard)]
                self._build()
        self._python_bridge(id(guard), bridge, reason)

    def _adopt(self, bridges: dict) -> None:
        """Take over the bridges of a unit compiled before (id(guard) -> trace, in
        the order they were attached) and compile, once."""
        native_ids = []
        for gid, bridge in bridges.items():
            self.bridges[gid] = bridge
            owner = self.python_guard_owner.get(gid)
            if owner is not None:
                owner.bridges[gid] = bridge
                owner.changed()
                self._own_guards(owner, bridge)
                self.bridge_backend[gid] = "python"
                continue
            reason = eligible(bridge)
            if reason is None:
                self.native_bridges[gid] = bridge
                native_ids.append(gid)
            else:
                self._python_bridge(gid, bridge, reason)
        try:
            self._build()
        except Ineligible as exc:
            if not native_ids:
                raise
            for gid in native_ids:
                del self.native_bridges[gid]
            self._build()
            for gid in native_ids:
                self._python_bridge(gid, bridges[gid], exc.reason)
            return
        for gid in native_ids:
            self.bridge_backend[gid] = "native"

    def _python_bridge(self, gid: int, bridge: Trace, reason: str) -> None:
        from metajit.backend.pysource import compile_unit as python_unit
        start = TargetDescr(f"{bridge.name}.start")
        wrapped = Trace(bridge.inputargs, [Op("label", list(bridge.inputargs), start)]
                        + bridge.ops, bridge.name)
        wrapped.names, wrapped.objects = bridge.names, bridge.objects
        unit = python_unit(wrapped)
        self.python_bridges[gid] = unit
        self.bridge_backend[gid] = "python"
        self.bridge_reason[gid] = reason
        self._own_guards(unit, bridge)

    def _own_guards(self, unit, trace: Trace) -> None:
        for op in trace.ops:
            if op.is_guard():
                self.python_guard_owner[id(op)] = unit

    # --- running ---
    def _slots(self) -> _Slots:
        if self._pool:
            return self._pool.pop()
        return _Slots(self._template.copy())

    def _fill(self, slots: _Slots, state: int, values: list) -> list:
        """Write a state's values into ``slots``; returns the run's object table."""
        return (self._fills[state] or self._filler(state))(slots, values)

    def _filler(self, state: int):
        """Generate the function that fills ``state``'s values in (unrolled: a run
        is entered often, and every entry pays for it)."""
        reps, classes = self.entry_layouts[state], self.entry_classes[state]
        names = [f"v{k}" for k in range(len(reps))]
        lines = ["def fill(slots, values):", "    m = slots.m"]
        if names:
            lines.append(f"    {', '.join(names)}, = values")
        shared = "r" not in reps and self.table_size == len(self.constants.objects)
        # a table the run cannot extend is the constants' own list
        lines.append("    t = _constants" if shared else "    t = list(_constants)")
        refs: list[tuple[str, int]] = []
        for k, (rep, cls, name) in enumerate(zip(reps, classes, names)):
            at = self.values_base + k
            if cls is not None:
                lines.append(f"    if type({name}) is not {'bool' if cls is bool else 'int'}: "
                             f"raise _ClassMismatch")
            if rep == "f":
                lines.append(f"    slots.f[{at}] = {name}")
            elif rep != "r":
                lines.append(f"    m[{at}] = {name}")
            else:
                lines.append(f"    n = _index.get(id({name}))")
                lines.append("    if n is None:")
                for j, (other, other_at) in enumerate(refs):     # one object, one index
                    keyword = "if" if j == 0 else "elif"
                    lines.append(f"        {keyword} {name} is {other}: n = m[{other_at}]")
                indent = "        "
                if refs:
                    lines.append("        else:")
                    indent += "    "
                lines.append(f"{indent}n = len(t)")
                lines.append(f"{indent}t.append({name})")
                lines.append(f"{indent}_describe(slots, n, {name})")
                lines.append(f"    m[{at}] = n")
                refs.append((name, at))
        for n in self._const_buffers:
            lines.append(f"    _describe(slots, {n}, t[{n}])")
        if not shared:
            lines.append(f"    t.extend([None] * ({self.table_size} - len(t)))")
        lines.append(f"    m[{H_STATE}] = {state}")
        lines.append(f"    m[{H_INVALIDATED}] = 1 if _unit.invalidated else 0")
        lines.append("    return t")
        namespace = {"_constants": self.constants.objects, "_index": self.constants.indexes,
                     "_ClassMismatch": _ClassMismatch, "_describe": self._describe,
                     "_unit": self}
        exec("\n".join(lines) + "\n", namespace)
        self._fills[state] = namespace["fill"]
        return self._fills[state]

    def _describe(self, slots: _Slots, n: int, obj) -> None:
        """Write what native code may know of object ``n``: its class, its buffer,
        its value when it is an int or a float."""
        cls = type(obj)
        m = slots.m
        at = self.objects_base + OBJECT_STRIDE * n
        m[at + O_CLASS] = self._class_index.get(id(cls), -1)
        if is_buffer(obj):
            m[at + O_ADDRESS], m[at + O_LENGTH], m[at + O_STORAGE] = describe(obj)
        else:
            m[at + O_ADDRESS] = m[at + O_LENGTH] = m[at + O_STORAGE] = 0
        if (cls is int or cls is bool) and fits_int64(obj):
            m[at + O_UNBOXED] = obj
            m[at + O_UNBOX_BAD] = 0
        elif cls is float:
            slots.f[at + O_UNBOXED] = obj
            m[at + O_UNBOX_BAD] = 0
        else:
            m[at + O_UNBOXED] = 0
            m[at + O_UNBOX_BAD] = 1

    def _refresh(self, slots, table: list) -> None:
        """Buffers may have moved or changed length while Python ran."""
        for n, obj in enumerate(table):
            if is_buffer(obj):
                self._describe(slots, n, obj)
        slots.m[H_INVALIDATED] = 1 if self.invalidated else 0

    def enter(self, target, inputs: list) -> ExitResult:
        entry = self._entry(target, inputs)
        if entry is None:
            raise ValueError(f"{target.describe()} is no label this unit can be entered at "
                             f"with the label's values alone")
        state, values = entry
        return self.run(values, state, (target, inputs))

    def run(self, inputs: list, state: int = 0, entered=None) -> ExitResult:
        """Run from the start, or (``enter``) from ``state``: ``inputs`` are its
        live values, ``entered`` the label and the values it was given."""
        self.entries += 1
        COUNTERS["entries"] += 1
        if self.entries == FULL_AFTER and self.level == "cheap" and not self._active:
            self._recompile("full")
        pool = self._pool
        slots = pool.pop() if pool else _Slots(self._template.copy())
        # a residual call may enter this unit again: while a run is active the
        # unit's code, exits and slot layout must not change under it
        self._active += 1
        try:
            table = (self._fills[state] or self._filler(state))(slots, inputs)
            code = self._enter(self.address, slots.address)
            if code >= 0:       # the common case, written out: a plain exit
                exit = self.exits[code]
                if exit.call is None and exit.raises is None and (
                        exit.guard is None or id(exit.guard) not in self.python_bridges):
                    out = (exit.decode or self._decoder(exit))(slots.m, slots.f, table)
                    return ExitResult(exit.guard, out, None, exit.target, slots.m[H_ITERATIONS])
            return self._loop(slots, table, code)
        except _ClassMismatch:
            # an int where the trace has a bool (or the reverse): the classes of
            # the exits would be wrong, so this run is the Python backend's
            self.python_runs += 1
            twin = self._python_twin()
            return twin.run(inputs) if entered is None else twin.enter(*entered)
        finally:
            self._active -= 1
            pool.append(slots)

    def _python_twin(self) -> CompiledUnit:
        if self._twin is None or self._twin_bridges != len(self.bridges):
            from metajit.backend.pysource import PySourceUnit
            twin = PySourceUnit(self.trace)
            twin.bridges.update(self.bridges)
            twin.changed()
            self._twin, self._twin_bridges = twin, len(self.bridges)
        self._twin.invalidated = self.invalidated
        return self._twin

    def _loop(self, slots: _Slots, table: list, code: int) -> ExitResult:
        """Go on from exit ``code`` of a run: ticks, calls, bridges on Python."""
        index = None
        iterations = 0
        enter = self._enter
        m, f = slots.m, slots.f
        while True:
            if code is None:
                code = enter(self.address, slots.address)
            iterations += m[H_ITERATIONS]
            if code == TICK:
                self.ticks += 1
                COUNTERS["ticks"] += 1
                self._refresh(slots, table)
                code = None
                continue
            exit = self.exits[code]
            code = None
            decode = exit.decode or self._decoder(exit)
            out = decode(m, f, table)
            if exit.call is not None:
                if index is None:       # the objects the run was entered with
                    index = {id(o): k for k, o in enumerate(table[:self.first_call_slot])}
                left = self._call(exit.call, out, slots, table, index, iterations)
                if left is not None:
                    return left
                continue
            if exit.raises is not None:
                _reraise(exit.raises, out)
            if exit.guard is None:
                return ExitResult(None, out, None, exit.target, iterations)
            bridge = self.python_bridges.get(id(exit.guard))
            if bridge is None:
                return ExitResult(exit.guard, out, None, None, iterations)
            self.python_runs += 1
            COUNTERS["python_bridge_runs"] += 1
            res = bridge.run(out)
            iterations += res.iterations
            if res.guard is not None or id(res.target) not in self.layout.labels:
                res.iterations = iterations
                return res
            iterations += 1
            entry = self._entry(res.target, res.values)
            if entry is None:       # a label whose live values are more than its args
                res.iterations = iterations - 1
                return res
            table = self._fill(slots, *entry)
            index = None

    def _entry(self, descr, values: list) -> tuple[int, list] | None:
        """The state that starts at label ``descr``, and its live values (in the
        order it takes them) from the label's ``values``; None when the state
        needs values the label does not take."""
        first = self.trace.ops[0]
        if descr is first.descr and list(first.args) == list(self.trace.inputargs):
            return 0, values
        state = self.layout.state_of.get(id(descr))
        live = self.layout.live_in.get(id(descr))
        if state is None or live is None:
            return None
        by_box = {}
        for arg, value in zip(self.layout.label_op(descr).args, values):
            arg = self.layout.resolve(arg)
            if isinstance(arg, Box):
                by_box[id(arg)] = value
        if any(id(b) not in by_box for b in live):
            return None
        return state, [by_box[id(b)] for b in live]

    def _call(self, call: CallExit, args: list, slots, table: list, index: dict,
              iterations: int) -> ExitResult | None:
        """Make the call of a call exit; None: re-enter after it (slot 0 names the
        state), else how the run ends: at the guard_no_exception after the call
        when it raised, or when its result is no value native code can hold."""
        COUNTERS["calls"] += 1
        try:
            result = args[0](*args[1:])
        except Exception as exc:    # noqa: BLE001 - the guest's exception
            if call.guard is None:
                raise
            return ExitResult(call.guard, self._guard_values(call, slots, table, None), exc,
                              None, iterations)
        at = call.result_at
        if at is not None:
            box = call.result
            kind = box.kind
            slot = self.values_base + at
            if kind == "i":
                cls = self.layout.classes.get(id(box)) or box.pyclass
                if type(result) is not cls or not fits_int64(result):
                    return ExitResult(call.guard, self._guard_values(call, slots, table, result),
                                      None, None, iterations)
                slots.m[slot] = result
            elif kind == "f":
                if type(result) is not float:
                    return ExitResult(call.guard, self._guard_values(call, slots, table, result),
                                      None, None, iterations)
                slots.f[slot] = result
            else:
                n = index.get(id(result))
                if n is None:
                    n = self.call_slots[id(call.op)]
                    table[n] = result
                    self._describe(slots, n, result)
                slots.m[slot] = n
        self._refresh(slots, table)
        return None

    def _guard_values(self, call: CallExit, slots, table: list, result) -> list:
        """The failargs of the guard after a call, from the values the call exit
        saved (and the call's result)."""
        raw = slots.m
        out = []
        for k in call.guard_values:
            rep, cls, slot = call.live_reps[k]
            if rep == "result":
                out.append(result)
                continue
            value = raw[self.values_base + slot]
            if rep == "r":
                value = table[value]
            elif rep in ("f", "bf"):
                value = slots.f[self.values_base + slot]
            elif rep == "bb" or (rep == "i" and cls is bool):
                value = value != 0
            elif rep == "u":
                value &= _UINT64_MASK
            out.append(value)
        return out

    def _decoder(self, exit: Exit):
        """A function (ints, floats, table) -> the exit's values as Python objects,
        ``ints`` and ``floats`` being the slot array's two views."""
        parts = []
        consts = []
        for rep, info, slot in exit.values:
            at = None if slot is None else self.values_base + slot
            if rep == "const":
                consts.append(info)
                parts.append(f"_c[{len(consts) - 1}]")
            elif rep == "r":
                parts.append(f"t[m[{at}]]")
            elif rep in ("f", "bf"):
                parts.append(f"f[{at}]")
            elif rep == "bb" or (rep == "i" and info is bool):
                parts.append(f"m[{at}] != 0")
            elif rep == "u":
                parts.append(f"m[{at}] & {_UINT64_MASK}")
            else:
                parts.append(f"m[{at}]")
        namespace = {"_c": consts}
        exec(f"def decode(m, f, t):\n    return [{', '.join(parts)}]\n", namespace)
        exit.decode = namespace["decode"]
        return exit.decode

    def bridge_runs_on(self, guard: Op) -> str:
        return self.bridge_backend.get(id(guard), "native")

    def __repr__(self):
        return f"<NativeUnit {self.trace.name} at {self.address:#x}>"


_UINT64_MASK = (1 << 64) - 1


class _ClassMismatch(Exception):
    pass


class _Slots:
    """One slot array: the numpy array that owns the memory, int64 and float64
    views of it that Python indexes fast, and its address for the trampoline."""
    __slots__ = ("array", "m", "f", "address")

    def __init__(self, array):
        self.array = array
        raw = memoryview(array).cast("B")
        self.m = raw.cast("q")
        self.f = raw.cast("d")
        self.address = array.ctypes.data


def _reraise(op: Op, args: list) -> None:
    """A raise exit: run ``op`` in Python on the values, which raises what Python
    raises there (IndexError, ZeroDivisionError, ValueError ...)."""
    from metajit.backend.reference import RunState, SEMANTICS
    SEMANTICS[op.name](RunState(), op, args)
    raise RuntimeError(f"native code left at {op.name}{tuple(args)!r} for an error "
                       f"Python does not raise: the trace breaks its op's contract")


def compile_unit(trace: Trace) -> NativeUnit:
    """A NativeUnit for ``trace``; raises Ineligible when native code cannot run it."""
    return NativeUnit(trace)


def configure_cache(cache_dir: str) -> None:
    """The ``cache_dir`` parameter: "" the user's cache directory, "off" no cache."""
    if cache_dir == "off":
        llvm.set_cache_dir(None)
    else:
        llvm.set_cache_dir(cache_dir or llvm.default_cache_dir())


def _code_cap_reason(max_code_mb: float | None) -> str | None:
    if max_code_mb is not None and llvm.code_bytes() > max_code_mb * (1 << 20):
        return f"native code cap reached (max_code_mb={max_code_mb})"
    return None


def native_unit(trace: Trace, bridges: dict | None = None) -> CompiledUnit:
    """Native code for ``trace`` and its ``bridges``: a NativeUnit, or, for a peeled
    loop whose preamble native code cannot run but whose body it can, a
    PythonPreambleUnit.  Raises Ineligible (for a peeled loop: why not its body)."""
    reason = eligible(trace)
    if reason is None:
        try:
            return NativeUnit(trace, bridges=bridges)
        except Ineligible as exc:
            reason = exc.reason
    from metajit.backend.native_preamble import PythonPreambleUnit, split_peeled
    parts = split_peeled(trace)
    if parts is None:
        raise Ineligible(reason)
    return PythonPreambleUnit(trace, *parts, bridges=bridges, preamble_reason=reason)


def compile_unit_or_python(trace: Trace, max_code_mb: float | None = None) -> CompiledUnit:
    """Native code (``native_unit``), or a Python-source unit carrying ``native_reason``."""
    reason = _code_cap_reason(max_code_mb)
    if reason is None:
        try:
            return native_unit(trace)
        except Ineligible as exc:
            reason = exc.reason
    from metajit.backend.pysource import compile_unit as python_unit
    unit = python_unit(trace)
    unit.native_reason = reason
    return unit


class TieredUnit(CompiledUnit):
    """Runs on the Python-source backend first; once its runs there have done
    ``threshold`` iterations (each entry counting one more: entering native code
    costs more than entering Python, iterations are what it saves) the trace, with
    the bridges attached by then, is compiled natively and takes over.  A
    trace native code cannot run stays on Python (``native_reason``).
    ``on_backend_change(old, new)``, when set, hears of the switch."""

    def __init__(self, trace: Trace, threshold: int, max_code_mb: float | None = None):
        from metajit.backend.pysource import compile_unit as python_unit
        super().__init__(trace)
        self.current = python_unit(trace)
        self.backend_name = "python"
        self.threshold = threshold
        self.max_code_mb = max_code_mb
        self.iterations = 0      # on the Python backend, entries counted as one each
        self.native_reason: str | None = None
        self.on_backend_change = None

    invalidated = passes_invalidation("current")

    def run(self, inputs: list) -> ExitResult:
        if self.backend_name == "python" and self.native_reason is None:
            if self.iterations >= self.threshold:
                self._promote()
            else:
                res = self.current.run(inputs)
                self.iterations += res.iterations + 1
                return res
        return self.current.run(inputs)

    def enter(self, target, inputs: list) -> ExitResult:
        if self.backend_name == "python":
            self.iterations += 1
        return self.current.enter(target, inputs)

    def _promote(self) -> None:
        reason = _code_cap_reason(self.max_code_mb)
        if reason is None:
            try:
                unit = native_unit(self.trace, self.bridges)
            except Ineligible as exc:
                reason = exc.reason
        if reason is not None:
            self.native_reason = reason
            if self.on_backend_change is not None:
                self.on_backend_change("python", "python", reason)
            return
        unit.invalidated = self.invalidated
        self.current = unit
        self.backend_name = "native"
        COUNTERS["promotions"] += 1
        if self.on_backend_change is not None:
            self.on_backend_change("python", "native", None)

    def attach_bridge(self, guard: Op, bridge: Trace) -> None:
        self.bridges[id(guard)] = bridge
        self.current.attach_bridge(guard, bridge)

    def bridge_runs_on(self, guard: Op) -> str:
        if self.backend_name == "native":
            return self.current.bridge_runs_on(guard)
        return "python"


def tiered_compile(threshold: int, max_code_mb: float | None = None):
    """The compile function of the ``auto`` backend."""
    return lambda trace: TieredUnit(trace, threshold, max_code_mb)
