"""How a native unit's code is laid out and written: the traces compiled into one
function (the loop, its bridges, the loops joined to it), their labels, the states
a run may start in and the values live at each (backward liveness over the unit's
blocks), the Python class of every int value, and the walk that writes the LLVM
function with ``backend.lowering``'s per-op lowerings.
"""
from __future__ import annotations

from metajit.backend.buffers import STORAGES
from metajit.backend.lowering import (BOXES, DECLARATIONS, FLOAT_DIVMOD, H_ITERATIONS,
                                      H_STATE, LOWERINGS, TICK, TICK_INTERVAL,
                                      ConstantTable, Emitter, Exit, LoweringError,
                                      llvm_type, resolve)
from metajit.tracer.ir import Box, Const, Flag, Op, Trace, failargs


class Ineligible(Exception):
    """Native code cannot run this trace; ``reason`` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


_UNSET = object()
BOOL_RESULTS = frozenset({"int_lt", "int_le", "int_eq", "int_ne", "int_gt", "int_ge",
                          "uint_lt", "uint_ge", "int_is_true", "int_is_zero", "int_to_bool",
                          "float_lt", "float_le", "float_eq", "float_ne", "float_gt",
                          "float_ge", "float_is_true", "ptr_eq", "ptr_ne"})
BOOL_PRESERVING = frozenset({"int_and", "int_or", "int_xor"})


def _result_class(op: Op, args: list):
    """Python's class for an int op's result (bool & bool is a bool, an item of a
    bool array is a bool); None when an argument's class varies, _UNSET while an
    argument is still unknown."""
    opname = op.name
    if opname == "getarrayitem_i":
        storage = STORAGES.get(getattr(op.descr, "storage", None))
        return storage.pyclass if storage is not None else int
    if opname in BOOL_RESULTS:
        return bool
    if opname in BOOL_PRESERVING or opname == "same_as_i":
        if any(a is _UNSET for a in args):
            return _UNSET
        if any(a is None for a in args):
            return None
        return bool if all(a is bool for a in args) else int
    return int


# --- layout: the traces of a unit, its labels, states and liveness ---------------------

class Layout:
    """The traces compiled into one function and what the emitter needs to know
    about them before it starts: aliases of bridge inputs, labels, the states a
    run may start in and the values live at each."""

    def __init__(self, trace: Trace, bridges: dict, connect: int = 0):
        self.trace = trace
        self.traces = [trace]
        self.bridge_of: dict[int, int] = {}   # id(guard) -> index in traces
        self.alias: dict[int, Box] = {}
        self.connected: list[Trace] = []      # other loops compiled into this unit
        work = [trace]
        while work:
            t = work.pop()
            for op in t.ops:
                if op.name == "jump" and len(self.connected) < connect:
                    other = self._connectable(op)
                    if other is not None:
                        self.connected.append(other)
                        self.traces.append(other)
                        work.append(other)
                bridge = bridges.get(id(op)) if op.is_guard() else None
                if bridge is not None:
                    live = failargs(op)
                    if len(live) != len(bridge.inputargs):
                        raise ValueError(f"bridge {bridge.name!r} takes {len(bridge.inputargs)} "
                                         f"inputs, its guard {op.name} has {len(live)} failargs")
                    for box, value in zip(bridge.inputargs, live):
                        self.alias[id(box)] = value
                    self.bridge_of[id(op)] = len(self.traces)
                    self.traces.append(bridge)
                    work.append(bridge)
        self.own_ops = {id(op) for t in self.traces for op in t.ops}
        self.labels: dict[int, tuple[int, int]] = {}   # id(descr) -> (trace, position)
        for n, t in enumerate(self.traces):
            for pos, op in enumerate(t.ops):
                if op.name == "label" and op.descr is not None:
                    if id(op.descr) in self.labels:
                        raise ValueError(f"label {op.descr.describe()} appears twice in one unit")
                    self.labels[id(op.descr)] = (n, pos)
        self.live_in = self._liveness()
        self.classes = self._int_classes()
        # states: 0 is the unit's start; then every label a jump goes to
        targets = []
        for t in self.traces:
            for op in t.ops:
                if op.name == "jump" and id(op.descr) in self.labels and op.descr not in targets:
                    targets.append(op.descr)
        self.state_of = {id(d): n + 1 for n, d in enumerate(targets)}
        self.state_labels = targets
        # then a state after each call, to re-enter once Python made the call
        self.call_states = {where: len(targets) + 1 + k
                            for k, where in enumerate(self.after_call)}
        for values in self.live_in.values():
            for box in values:
                op = self.defining_op(box)
                if op is not None and op.name == "call_r":
                    raise Ineligible("a call's object result is carried to a label")

    def resolve(self, value):
        return resolve(value, self.alias)

    def defining_op(self, box: Box) -> Op | None:
        """The op of this unit that defines ``box``; None for a value the unit is
        entered with (an input, or a value a Python preamble computed)."""
        op = box.op
        return op if op is not None and id(op) in self.own_ops else None

    def _connectable(self, jump: Op) -> Trace | None:
        """The trace of the loop ``jump`` goes to, when it can join this unit: a
        compiled loop (the jump's descr is its first label) native code can run,
        not in the unit yet, taking no boxed value."""
        unit = getattr(getattr(jump.descr, "owner", None), "unit", None)
        other = getattr(unit, "trace", None)
        if other is None or not other.ops or other.ops[0].descr is not jump.descr:
            return None
        from metajit.backend.native import eligible
        if any(op.name == "label" and op.descr is jump.descr for t in self.traces
               for op in t.ops) or eligible(other) is not None:
            return None
        for a in jump.args:
            a = self.resolve(a)
            if isinstance(a, Box) and a.op is not None and a.op.name in BOXES:
                return None
        return other

    def boxes(self, values) -> list:
        out = []
        for v in values:
            v = self.resolve(v)
            if isinstance(v, Box):
                out.append(v)
        return out

    def label_op(self, descr) -> Op:
        n, pos = self.labels[id(descr)]
        return self.traces[n].ops[pos]

    def _int_classes(self) -> dict[int, type | None]:
        """The Python class (int or bool) of every int value, from the inputs'
        classes and what each op gives, joined over the jumps to each label, to a
        fixed point; None where it varies (the exits cannot say which)."""
        classes: dict[int, type | None] = {}

        def class_of(value):
            value = self.resolve(value)
            if isinstance(value, Const):
                return type(value.value)
            return classes.get(id(value), _UNSET)

        def join(box, cls) -> bool:
            if cls is _UNSET:
                return False
            old = classes.get(id(box), _UNSET)
            new = cls if old is _UNSET or old is cls else None
            if new is not old:
                classes[id(box)] = new
                return True
            return False

        for box in self.trace.inputargs:
            if box.kind == "i":
                classes[id(box)] = box.pyclass if box.pyclass in (int, bool) else int
        changed = True
        while changed:
            changed = False
            first = self.trace.ops[0]
            moves = [zip(first.args, self.trace.inputargs)]
            for t in self.traces:
                for op in t.ops:
                    if op.name == "jump" and id(op.descr) in self.labels:
                        moves.append(zip(self.label_op(op.descr).args, op.args))
                    elif op.result is not None and op.result.kind == "i":
                        result = self.resolve(op.result)
                        if isinstance(result, Box):
                            args = [class_of(a) for a in op.args]
                            changed |= join(result, _result_class(op, args))
            for pairs in moves:
                for dst, src in pairs:
                    dst = self.resolve(dst)
                    if isinstance(dst, Box) and dst.kind == "i":
                        changed |= join(dst, class_of(src))
        return classes

    def _blocks(self):
        """(trace index, start, end) of straight code: a block starts at a trace's
        start and at each label."""
        blocks = []
        for n, t in enumerate(self.traces):
            start = 0
            for pos, op in enumerate(t.ops):
                if op.name == "label" and pos > start:
                    blocks.append((n, start, pos))
                    start = pos
                elif op.spec.has(Flag.CALL) and pos + 1 < len(t.ops):
                    blocks.append((n, start, pos + 1))     # a call exit re-enters after it
                    start = pos + 1
            blocks.append((n, start, len(t.ops)))
        return blocks

    def _liveness(self) -> dict[int, list]:
        """Backward liveness over the blocks, to a fixed point; returns for each
        label (by id of its descr) the values live there, in a stable order."""
        blocks = self._blocks()
        index_of = {(n, s): k for k, (n, s, _) in enumerate(blocks)}
        live_in: list[dict] = [dict() for _ in blocks]    # ordered sets (dicts)
        changed = True
        while changed:
            changed = False
            for k in range(len(blocks) - 1, -1, -1):
                n, start, end = blocks[k]
                ops = self.traces[n].ops
                live: dict = {}
                if end < len(ops):      # falls into the label at ``end``
                    live = dict(live_in[index_of[(n, end)]])
                for op in reversed(ops[start:end]):
                    name = op.name
                    if name == "jump":
                        live = {}
                        if id(op.descr) in self.labels:
                            tn, tpos = self.labels[id(op.descr)]
                            target = self.traces[tn].ops[tpos]
                            defined = {id(b) for b in self.boxes(target.args)}
                            live = {i: b for i, b in live_in[index_of[(tn, tpos)]].items()
                                    if i not in defined}
                        for b in self.boxes(op.args):
                            live[id(b)] = b
                        continue
                    if name == "finish":
                        live = {id(b): b for b in self.boxes(op.args)}
                        continue
                    if name == "label":
                        for b in self.boxes(op.args):
                            live[id(b)] = b
                        continue
                    if op.result is not None:
                        live.pop(id(self.resolve(op.result)), None)
                    if op.is_guard():
                        bridge = self.bridge_of.get(id(op))
                        if bridge is not None:
                            live.update(live_in[index_of[(bridge, 0)]])
                        else:
                            for b in self.boxes(failargs(op)):
                                live[id(b)] = b
                    for b in self.boxes(op.args):
                        live[id(b)] = b
                if live.keys() != live_in[k].keys():
                    live_in[k] = live
                    changed = True
        out = {}
        for descr_id, (n, pos) in self.labels.items():
            out[descr_id] = list(live_in[index_of[(n, pos)]].values())
        self.after_call = {}      # (trace, position after a call) -> values live there
        for k, (n, start, _) in enumerate(blocks):
            if start > 0 and self.traces[n].ops[start - 1].spec.has(Flag.CALL):
                self.after_call[(n, start)] = list(live_in[k].values())
        return out


# --- emission --------------------------------------------------------------------------

class CallExit:
    """A call exit: the op, the state to re-enter in, the guard_no_exception after
    it (or None), the values live after the call (their reps and slots in
    ``live_reps``; the call's own result is ``("result", None, k)``)."""

    def __init__(self, op: Op, state: int, guard: Op | None, live: list, result):
        self.op = op
        self.state = state
        self.guard = guard
        self.live = live
        self.result = result
        self.live_reps: list = []
        self.result_at = next((k for k, b in enumerate(live) if b is result), None)
        self.guard_values = None    # for each of the guard's failargs: a live index


class UnitEmitter(Emitter):
    """Walks a unit's traces and writes its function."""

    def __init__(self, layout: Layout, constants: ConstantTable, table_size: int):
        super().__init__(constants, table_size)
        self.layout = layout
        self.alias = layout.alias
        self.pending: list[int] = []       # traces (bridges) still to emit
        self.label_blocks = {d: f"label{k}" for k, d in enumerate(layout.labels)}
        self.bridge_blocks = {}
        self.where: dict[int, tuple[int, int]] = {}     # id(call op) -> (trace, position)

    def int_class(self, box: Box):
        return self.layout.classes.get(id(box), int)

    def lower_call(self, op: Op) -> None:
        """A call exit: write the values live after the call and the call's
        arguments, return; Python makes the call and re-enters after it."""
        n, pos = self.where[id(op)]
        state = self.layout.call_states.get((n, pos + 1))
        if state is None:
            raise LoweringError(f"{op.name} ends its trace")
        live = self.layout.after_call[(n, pos + 1)]
        result = self.resolve(op.result) if op.result is not None else None
        ops = self.layout.traces[n].ops
        guard = ops[pos + 1] if ops[pos + 1].name == "guard_no_exception" else None
        exit = Exit(None)
        exit.call = CallExit(op, state, guard, live, result)
        number = len(self.exits)
        self.exits.append(exit)
        for k, box in enumerate(live):
            if box is not result:
                self.store_slot(self.values_base + k, self.load(box), self.rep_of(box))
                exit.call.live_reps.append((self.rep_of(box), self.int_class(box)
                                            if self.rep_of(box) == "i" else None, k))
            else:
                exit.call.live_reps.append(("result", None, k))
        for j, arg in enumerate(op.args):
            arg = self.resolve(arg)
            if isinstance(arg, Const):
                exit.values.append(("const", arg.value, None))
                continue
            rep = self.rep_of(arg)
            exit.values.append((rep, self.int_class(arg) if rep == "i" else None,
                                len(live) + j))
            self.store_slot(self.values_base + len(live) + j, self.load(arg), rep)
        self.store_slot(H_STATE, str(state))
        self.store_slot(H_ITERATIONS, self.load_iterations())
        self.terminate(f"ret i64 {number}")
        self.lines.append(f"resume{state}:")
        self.terminated = False

    def lower_guard(self, op: Op, fails: str) -> None:
        bridge = self.layout.bridge_of.get(id(op))
        if bridge is None:
            self.fail_branch(fails, lambda: self.exit_with(Exit(op), failargs(op)))
            return
        block = self.bridge_blocks.get(bridge)
        if block is None:
            block = self.bridge_blocks[bridge] = f"bridge{bridge}"
            self.pending.append(bridge)
        self.fail_branch(fails, lambda: self.terminate(f"br label %{block}"))

    def generate(self, symbol: str, entry_layouts: list) -> str:
        layout = self.layout
        body_start = len(self.lines)
        self._emit_trace(0)
        for n, t in enumerate(layout.traces):
            if any(t is other for other in layout.connected):
                self._emit_trace(n)       # starts with its label
        while self.pending:
            n = self.pending.pop()
            self.lines.append(f"{self.bridge_blocks[n]}:")
            self.terminated = False
            self._emit_trace(n)
        body = self.lines[body_start:]
        self.lines = []
        # the entry: allocas, counters, and the dispatch on the state to start in
        self.lines.append("entry:")
        self.emit("%iterations = alloca i64")
        self.emit("%tick = alloca i64")
        allocas_at = len(self.lines)
        self.emit("store i64 0, ptr %iterations")
        self.emit(f"store i64 {TICK_INTERVAL}, ptr %tick")
        state = self.load_slot(H_STATE)
        cases = " ".join(f"i64 {k}, label %state{k}" for k in range(1, len(entry_layouts)))
        self.terminate(f"switch i64 {state}, label %state0 [{cases}]")
        for k, values in enumerate(entry_layouts):
            self.lines.append(f"state{k}:")
            self.terminated = False
            for slot, box in enumerate(values):
                raw = self.load_slot(self.values_base + slot)
                rep = self.rep_of(box)
                if rep == "f":
                    t = self.tmp()
                    self.emit(f"{t} = bitcast i64 {raw} to double")
                    raw = t
                self.store(box, raw)
            if k == 0:
                first = layout.trace.ops[0]
                self._moves(first.args, layout.trace.inputargs)
                self.terminate(f"br label %{self.label_blocks[id(first.descr)]}")
            elif k <= len(layout.state_labels):
                descr = layout.state_labels[k - 1]
                self.terminate(f"br label %{self.label_blocks[id(descr)]}")
            else:
                self.terminate(f"br label %resume{k}")
        allocas = [f"  {name} = alloca {llvm_type(self.rep_of(self.alloca_boxes[key]))}"
                   for key, name in self.allocas.items()]
        self.lines[allocas_at:allocas_at] = allocas
        text = [DECLARATIONS]
        if self.needs_divmod:
            text.append(FLOAT_DIVMOD)
        text.append(f"define i64 @{symbol}(ptr noalias %slots) {{")
        text.extend(self.lines)
        text.extend(body)
        text.append("}")
        text.append("!0 = !{!\"branch_weights\", i32 1, i32 100000}")
        return "\n".join(text) + "\n"

    def rep_of(self, box) -> str:
        box = self.resolve(box)
        if isinstance(box, Const):
            return box.kind
        rep = self.reps.get(id(box))
        if rep is None:
            rep = box.kind
            op = self.layout.defining_op(box)
            if op is not None and op.name in BOXES:
                rep = BOXES[op.name]
            self.reps[id(box)] = rep
        return rep

    def _moves(self, dsts, srcs) -> None:
        """A parallel move: every source is loaded before any store."""
        pairs = []
        for dst, src in zip(dsts, srcs):
            dst, src = self.resolve(dst), self.resolve(src)
            if isinstance(dst, Box) and dst is not src:
                pairs.append((dst, self.load(src)))
        for dst, operand in pairs:
            self.store(dst, operand)

    def _emit_trace(self, n: int) -> None:
        ops = self.layout.traces[n].ops
        for pos, op in enumerate(ops):
            if op.spec.has(Flag.CALL):
                self.where[id(op)] = (n, pos)
            name = op.name
            if name == "label":
                self.start_block(self.label_blocks[id(op.descr)])
                continue
            if self.terminated:
                self.lines.append(f"{self.block_name('dead')}:")
                self.terminated = False
            if name == "jump":
                self._jump(op)
            elif name == "finish":
                self.exit_with(Exit(None, op.descr), op.args)
            else:
                lower = LOWERINGS.get(name)
                if lower is None:
                    raise LoweringError(f"no native lowering for {name}")
                lower(self, op)
        if not self.terminated:
            raise LoweringError(f"trace {self.layout.traces[n].name!r} does not end "
                                f"with jump or finish")

    def _jump(self, op: Op) -> None:
        layout = self.layout
        if id(op.descr) not in layout.labels:
            self.exit_with(Exit(None, op.descr), op.args)
            return
        target = layout.label_op(op.descr)
        if len(target.args) != len(op.args):
            raise ValueError(f"jump to {op.descr.describe()} passes {len(op.args)} values, "
                             f"the label takes {len(target.args)}")
        self._moves(target.args, op.args)
        count = self.tmp()
        self.emit(f"{count} = load i64, ptr %iterations")
        bumped = self.op2("add", "i64", count, "1")
        self.emit(f"store i64 {bumped}, ptr %iterations")
        tick = self.tmp()
        self.emit(f"{tick} = load i64, ptr %tick")
        left = self.op2("sub", "i64", tick, "1")
        self.emit(f"store i64 {left}, ptr %tick")
        due = self.op2("icmp eq", "i64", left, "0")
        state = layout.state_of[id(op.descr)]
        live = layout.live_in[id(op.descr)]

        def tick_exit():
            for k, box in enumerate(live):
                self.store_slot(self.values_base + k, self.load(box), self.rep_of(box))
            self.store_slot(H_STATE, str(state))
            self.store_slot(H_ITERATIONS, bumped)
            self.terminate(f"ret i64 {TICK}")

        self.fail_branch(due, tick_exit)
        self.terminate(f"br label %{self.label_blocks[id(op.descr)]}")
