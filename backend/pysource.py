"""The Python-source backend: a compiled unit as one generated Python function.

A unit is a loop trace and every bridge attached to it.  The whole unit becomes a
single function, a ``while True`` state machine:

- every label (the loop's ``ops[0]``, a label inside the loop, a label inside a
  bridge) starts a *state*; each state's code sits in its own inner
  ``while True``, so a jump back to the state's own label is a plain
  ``continue`` with no dispatch, and a jump to another state of the unit sets
  ``_state`` and ``break``\\ s out to the dispatch;
- the dispatch is a binary search over the state numbers (nested ``if
  _state < k``), never an ``if/elif`` chain, whose length CPython's compiler
  cannot take beyond a few thousand branches;
- a guard without a bridge fails by ``return (exit_number, iterations, live...)``,
  the live values being exactly ``failargs(guard)`` (preceded by the pending
  exception for the exception guards); ``run()`` turns that into an ExitResult;
- a guard with a bridge continues into the bridge's code inline, up to
  ``MAX_INLINE_DEPTH`` bridges deep (deeper bridges start a state of their own, so
  that the nesting of blocks stays bounded); the bridge's inputargs simply name
  the guard's failargs, so entering a bridge moves no value;
- ``finish`` and a ``jump`` to a label outside the unit return an exit too.

Values live in Python locals; arithmetic is written inline with Python's own
operators, so results have Python's classes (``bool & bool`` is a bool).  Wrapping
ops wrap to 64 bits only when the result leaves 64 bits (one comparison), and not
at all where the optimiser proved that it cannot (``Op.fits``).
``*_ovf`` ops compute Python's exact result; the ``guard_no_overflow`` after them is
a range check of that result.  Object constants, classes and callables reach the
function through its globals (the constant table), never through ``repr``.

Attaching a bridge regenerates and recompiles the function (a few milliseconds),
so bridges never grow the Python stack.  ``unit.source`` is the current source; it
is registered with ``linecache`` so that tracebacks through compiled code show it.
"""
from __future__ import annotations

import builtins
import dataclasses
import itertools
import keyword
import linecache
import math
import re
import struct

from metajit.backend.base import CompiledUnit, ExitResult
from metajit.tracer.ir import (
    INT64_MAX, INT64_MIN, OPS, Box, Const, Flag, Op, Trace, failargs,
)

MAX_INLINE_DEPTH = 4     # bridges inlined into their guard's code at most this deep

_MIN = str(INT64_MIN)
_MAX = str(INT64_MAX)
_MASK = "0xFFFFFFFFFFFFFFFF"
_FITS = f"{_MIN} <= {{0}} <= {_MAX}"
# Python's int(f) fits 64 bits exactly when -2**63 <= f < 2**63 (false for nan).
_FLOAT_FITS = "-9223372036854775808.0 <= {0} < 9223372036854775808.0"

# Pure ops written as one Python expression of their arguments.
EXPRESSIONS = {
    "int_add": "{0} + {1}",
    "int_sub": "{0} - {1}",
    "int_mul": "{0} * {1}",
    "int_and": "{0} & {1}",
    "int_or": "{0} | {1}",
    "int_xor": "{0} ^ {1}",
    "int_lshift": "({0} << {1} if {1} < 64 else 0)",
    "int_rshift": "{0} >> {1}",
    "uint_rshift": f"({{0}} & {_MASK}) >> {{1}}",
    "int_neg": "-{0}",
    "int_invert": "~{0}",
    "int_add_ovf": "{0} + {1}",
    "int_sub_ovf": "{0} - {1}",
    "int_mul_ovf": "{0} * {1}",
    "int_lshift_ovf": "({0} << {1} if {1} < 64 or not {0} else None)",
    "int_neg_ovf": "-{0}",
    "int_abs_ovf": "abs({0})",
    "int_floordiv_ovf": "{0} // {1}",
    "int_mod_ovf": "{0} % {1}",
    "int_lt": "{0} < {1}",
    "int_le": "{0} <= {1}",
    "int_eq": "{0} == {1}",
    "int_ne": "{0} != {1}",
    "int_gt": "{0} > {1}",
    "int_ge": "{0} >= {1}",
    "uint_lt": f"({{0}} & {_MASK}) < ({{1}} & {_MASK})",
    "uint_ge": f"({{0}} & {_MASK}) >= ({{1}} & {_MASK})",
    "int_is_true": "{0} != 0",
    "int_is_zero": "{0} == 0",
    "int_to_bool": "{0} != 0",
    "float_add": "{0} + {1}",
    "float_sub": "{0} - {1}",
    "float_mul": "{0} * {1}",
    "float_truediv": "({0} / {1} if {1} else _truediv_by_zero({0}, {1}))",
    "float_floordiv": "{0} // {1}",
    "float_mod": "{0} % {1}",
    "float_neg": "-{0}",
    "float_abs": "abs({0})",
    "float_lt": "{0} < {1}",
    "float_le": "{0} <= {1}",
    "float_eq": "{0} == {1}",
    "float_ne": "{0} != {1}",
    "float_gt": "{0} > {1}",
    "float_ge": "{0} >= {1}",
    "float_is_true": "{0} != 0.0",
    "cast_int_to_float": "float({0})",
    "cast_float_to_int_ovf": f"(int({{0}}) if {_FLOAT_FITS} else _float_to_int_overflow({{0}}))",
    "box_int": "int({0})",
    "box_bool": "bool({0})",
    "box_float": "float({0})",
    "unbox_int_ovf": "{0}",
    "unbox_float": "{0}",
    "ptr_eq": "{0} is {1}",
    "ptr_ne": "{0} is not {1}",
    "same_as_i": "{0}",
    "same_as_f": "{0}",
    "same_as_r": "{0}",
    "strlen": "len({0})",
    "arraylen": "len({0})",
    "getarrayitem_r": "{0}[{1}]",
}

# Wrapping ops whose Python result may leave 64 bits: wrapped after the fact.
WRAPPING = frozenset({"int_add", "int_sub", "int_mul", "int_lshift", "uint_rshift",
                      "int_neg"})

# Ops whose result only feeds a following guard_true/guard_false may be written
# into the guard's condition (no local): side-effect free and cheap to read.
# (Not a wrapping op: its truth may change when it wraps, 2**32 * 2**32 -> 0.)
_FOLDABLE = frozenset(n for n in EXPRESSIONS
                      if n.startswith(("int_", "uint_", "float_", "ptr_"))
                      and OPS[n].result == "i" and not OPS[n].has(Flag.CAN_OVERFLOW)
                      and n not in WRAPPING)

_EXC_GUARDS = frozenset({"guard_no_exception", "guard_exception"})
_RESERVED = frozenset(dir(builtins)) | frozenset(keyword.kwlist)
_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_KIND_LETTER = {"i": "i", "f": "f", "r": "p"}


def _float_to_int_overflow(value: float) -> int:
    """The result of cast_float_to_int_ovf when it overflows: Python's int for a
    finite float (outside 64 bits), 0 for nan and inf, as the reference gives; the
    guard_no_overflow after it tests the float, and fails either way."""
    return int(value) if math.isfinite(value) else 0


def _truediv_by_zero(a: float, b: float) -> float:
    """IEEE's answer for a / ±0.0 (the reference's), where Python raises."""
    if a != a or a == 0.0:
        return math.nan
    return math.copysign(math.inf, math.copysign(1.0, a) * math.copysign(1.0, b))


def _float_bits(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def _item_int(item) -> int:
    """An array item that is not a plain int or bool (a numpy scalar, an int
    subclass) as a Python int."""
    to_python = getattr(item, "item", None)
    return to_python() if to_python is not None else int(item)


# Names the generated code may use besides builtins and its constant table.
_HELPERS = {
    "_float_to_int_overflow": _float_to_int_overflow,
    "_truediv_by_zero": _truediv_by_zero,
    "_float_bits": _float_bits,
    "_copysign": math.copysign,
    "_item_int": _item_int,
}


@dataclasses.dataclass
class _Exit:
    guard: Op | None
    target: object = None
    carries_exc: bool = False


@dataclasses.dataclass(eq=False)
class _Segment:
    """Straight-line ops of one trace: from a label (or a bridge's start) to a
    final op, or to the next label (``falls_into``)."""
    ops: list
    label: Op | None
    depth: int                 # bridges inlined around this code (0 for states)
    state: int | None = None   # None: inlined at its guard
    falls_into: Op | None = None
    after_exc_guard: bool = False   # a bridge's first segment, on an exception guard


class PySourceUnit(CompiledUnit):
    """A loop and its bridges as one generated Python function."""
    backend_name = "python"

    _serial = itertools.count()

    def __init__(self, trace: Trace):
        super().__init__(trace)
        self.invalidated = False   # set True: every guard_not_invalidated fails
        self.source = ""
        self.function = None
        self.filename = None
        self._exits: list[_Exit] = []
        self._serial_number = next(PySourceUnit._serial)
        self._version = 0
        self._build()

    def changed(self) -> None:
        self._build()

    def _build(self) -> None:
        generator = _Generator(self.trace, self.bridges)
        source, namespace, exits, funcname = generator.generate()
        # the states that start at the labels of the trace after its first
        self._entries = {id(op.descr): generator.label_state[id(op.descr)]
                         for op in self.trace.ops[1:] if op.name == "label"}
        self._no_inputs = [None] * len(self.trace.inputargs)
        self._version += 1
        filename = f"<metajit {funcname} #{self._serial_number}.{self._version}>"
        namespace["__builtins__"] = builtins
        namespace["_unit"] = self
        namespace.update(_HELPERS)
        code = compile(source, filename, "exec")
        exec(code, namespace)
        if self.filename is not None:
            linecache.cache.pop(self.filename, None)
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        self.filename = filename
        self.source = source
        self.function = namespace[funcname]
        self._exits = exits

    def run(self, inputs: list) -> ExitResult:
        return self._result(self.function(*inputs))

    def enter(self, target, inputs: list) -> ExitResult:
        state = self._entries.get(id(target))
        if state is None:
            raise ValueError(f"{target.describe()} is no label of the unit's trace")
        return self._result(self.function(*self._no_inputs, state, inputs))

    def _result(self, out: tuple) -> ExitResult:
        exit = self._exits[out[0]]
        if exit.guard is None:
            return ExitResult(None, list(out[2:]), None, exit.target, out[1])
        if exit.carries_exc:
            return ExitResult(exit.guard, list(out[3:]), out[2], None, out[1])
        return ExitResult(exit.guard, list(out[2:]), None, None, out[1])

    def __repr__(self):
        return f"<PySourceUnit {self.filename}>"


def compile_unit(trace: Trace) -> PySourceUnit:
    return PySourceUnit(trace)


class _Generator:
    """Writes the source of one unit.  Used once per (re)generation."""

    def __init__(self, trace: Trace, bridges: dict):
        self.trace = trace
        self.bridges = bridges
        self.lines: list[str] = []
        self.names: dict[int, str] = {}       # id(box) -> local name
        self.used_names: set[str] = set()
        self.counter = itertools.count()
        self.namespace: dict[str, object] = {}
        self.const_names: dict[int, str] = {}
        self.exits: list[_Exit] = []
        self.states: list[_Segment] = []
        self.label_state: dict[int, int] = {}   # id(TargetDescr) -> state
        self.bridge_entry: dict[int, _Segment] = {}   # id(guard) -> bridge's first segment
        self.uses: dict[int, int] = {}

    # --- layout ------------------------------------------------------------------

    def generate(self):
        trace = self.trace
        if not trace.ops or trace.ops[0].name != "label":
            raise ValueError(f"trace {trace.name!r}: a unit's trace must start with a label")
        self._layout()
        self._count_uses()
        funcname = _identifier(f"loop_{trace.ops[0].descr.name if trace.ops[0].descr else trace.name}")
        entry_label = trace.ops[0]
        params = [self._name(box) for box in trace.inputargs]
        self.used_names.add(funcname)
        enterable = any(op.name == "label" for op in trace.ops[1:]) and len(self.states) > 1
        self._line(0, f"def {funcname}({', '.join(params + ['*_enter'] * enterable)}):")
        self._line(1, f'"""{_docstring(trace)}"""')
        self._moves(1, list(zip(entry_label.args, params)))
        self._line(1, "_iters = 0")
        if len(self.states) == 1:
            self._line(1, "while True:")
            self._segment(2, self.states[0])
        else:
            self._line(1, "_state = 0")
            self._enter_at_labels(1)
            self._line(1, "while True:")
            self._dispatch(2, 0, len(self.states))
        return "\n".join(self.lines) + "\n", self.namespace, self.exits, funcname

    def _enter_at_labels(self, indent: int) -> None:
        """``f(*inputs, state, values)`` starts at a later label of the trace (see
        ``PySourceUnit.enter``): its state, its args bound to ``values``."""
        labels = [op for op in self.trace.ops[1:] if op.name == "label"]
        if not labels:
            return
        self._line(indent, "if _enter:")
        self._line(indent + 1, "_state, _values = _enter")
        for n, label in enumerate(labels):
            state = self.label_state[id(label.descr)]
            self._line(indent + 1, f"{'if' if n == 0 else 'elif'} _state == {state}:")
            # a label arg the optimiser made a constant takes no value (as in _moves)
            names = [self._name(a) if isinstance(a, Box) and isinstance(a.find(), Box) else "_"
                     for a in label.args]
            if names:
                self._line(indent + 2, f"{', '.join(names)}, = _values")
            else:
                self._line(indent + 2, "pass")

    def _layout(self):
        """Split the loop and every bridge reachable from it into segments, give
        the states their numbers and decide which bridges are inlined."""
        work = [(None, self.trace, 0)]     # (guard, bridge, inline depth or None)
        while work:
            guard, trace, depth = work.pop()
            entry = self._add_trace(trace, depth, work)
            if guard is not None:
                entry.after_exc_guard = guard.name in _EXC_GUARDS and entry.label is None
                self.bridge_entry[id(guard)] = entry

    def _add_trace(self, trace: Trace, depth: int | None, work: list) -> _Segment:
        """Lay out a trace's segments; ``depth`` is the inline depth of its first
        segment, None when it must be a state.  The bridges attached to its
        guards go on ``work``.  Returns the first segment."""
        chunks: list[tuple[Op | None, list]] = [(None, [])]
        for op in trace.ops:
            if op.name == "label":
                chunks.append((op, []))
            else:
                chunks[-1][1].append(op)
        if not chunks[0][1]:
            chunks.pop(0)
        segments = []
        for i, (label, ops) in enumerate(chunks):
            if not ops or ops[-1].name not in ("jump", "finish"):
                if i + 1 < len(chunks):
                    falls_into = chunks[i + 1][0]
                else:
                    raise ValueError(f"trace {trace.name!r} does not end with jump or finish")
            else:
                falls_into = None
            inline = label is None and depth is not None
            seg = _Segment(ops, label, depth if inline else 0, falls_into=falls_into)
            if not inline:
                seg.state = len(self.states)
                self.states.append(seg)
            if label is not None and label.descr is not None:
                descr = label.descr
                if id(descr) in self.label_state:
                    raise ValueError(f"label {descr.describe()} appears twice in one unit")
                self.label_state[id(descr)] = seg.state
            segments.append(seg)
        for seg in segments:
            for op in seg.ops:
                bridge = self.bridges.get(id(op)) if op.is_guard() else None
                if bridge is None:
                    continue
                live = failargs(op)
                if len(live) != len(bridge.inputargs):
                    raise ValueError(f"bridge {bridge.name!r} takes {len(bridge.inputargs)} "
                                     f"inputs, its guard {op.name} has {len(live)} failargs")
                for box, value in zip(bridge.inputargs, live):
                    self.names[id(box)] = self._name(value)
                inline_depth = seg.depth + 1 if seg.depth < MAX_INLINE_DEPTH else None
                work.append((op, bridge, inline_depth))
        return segments[0]

    def _count_uses(self):
        uses = self.uses
        segments = {id(seg): seg for seg in self.states}
        segments.update((id(seg), seg) for seg in self.bridge_entry.values())
        for seg in segments.values():
            for op in seg.ops:
                for a in op.args:
                    if isinstance(a, Box):
                        key = id(a.find())
                        uses[key] = uses.get(key, 0) + 1
                if op.is_guard():
                    for box in failargs(op):
                        uses[id(box)] = uses.get(id(box), 0) + 1

    # --- names and constants -------------------------------------------------------

    def _name(self, value) -> str:
        if isinstance(value, Const):
            return self._literal(value)
        if isinstance(value, Box):
            value = value.find()
            if isinstance(value, Const):
                return self._literal(value)
        key = id(value)
        name = self.names.get(key)
        if name is None:
            name = value.name
            if (not isinstance(name, str) or not _IDENT.match(name)
                    or name in _RESERVED or name in self.used_names):
                letter = _KIND_LETTER.get(value.kind, "v")
                name = f"{letter}{next(self.counter)}"
                while name in self.used_names:
                    name = f"{letter}{next(self.counter)}"
            self.used_names.add(name)
            self.names[key] = name
        return name

    def _literal(self, const: Const) -> str:
        v = const.value
        t = type(v)
        if v is None or v is True or v is False:
            return repr(v)
        if const.kind == "r":      # identity matters: the very object
            return self._constant(v)
        if t is int and -(1 << 64) < v < (1 << 64):
            return repr(v) if v >= 0 else f"({v!r})"
        if t is float and math.isfinite(v):
            return repr(v) if math.copysign(1.0, v) > 0 else f"({v!r})"
        return self._constant(v)

    def _constant(self, obj, hint: str | None = None) -> str:
        key = id(obj)
        name = self.const_names.get(key)
        if name is None:
            if hint is None:
                hint = getattr(obj, "__name__", None) or type(obj).__name__
            base = "_k" + str(len(self.const_names)) + "_" + _identifier(str(hint))[:30]
            name = base
            self.const_names[key] = name
            self.namespace[name] = obj
        return name

    # --- emission --------------------------------------------------------------------

    def _line(self, indent: int, text: str):
        self.lines.append("    " * indent + text)

    def _dispatch(self, indent: int, lo: int, hi: int):
        if hi - lo == 1:
            self._line(indent, f"# state {lo}: {_describe_state(self.states[lo])}")
            self._line(indent, "while True:")
            self._segment(indent + 1, self.states[lo])
            return
        mid = (lo + hi) // 2
        self._line(indent, f"if _state < {mid}:")
        self._dispatch(indent + 1, lo, mid)
        self._line(indent, "else:")
        self._dispatch(indent + 1, mid, hi)

    def _segment(self, indent: int, seg: _Segment, state: int | None = None):
        """Emit a segment's ops.  ``state`` is the state whose inner loop the code
        sits in (the segment's own for a state)."""
        if seg.state is not None:
            state = seg.state
        ops = seg.ops
        last_ovf: Op | None = None
        # a bridge of an exception guard starts with that exception pending
        exc_pending = seg.after_exc_guard
        if exc_pending and (not ops or ops[0].name not in _EXC_GUARDS):
            self._line(indent, "if _exc is not None: raise _exc")
            exc_pending = False
        n = len(ops)
        i = 0
        while i < n:
            op = ops[i]
            name = op.name
            nxt = ops[i + 1] if i + 1 < n else None
            if name in EXPRESSIONS:
                args = [self._name(a) for a in op.args]
                expr = EXPRESSIONS[name].format(*args)
                if (name in _FOLDABLE and nxt is not None
                        and nxt.name in ("guard_true", "guard_false")
                        and op.result is not None and self.uses.get(id(op.result), 0) == 1
                        and _same(nxt.args[0], op.result)):
                    self._guard(indent, nxt, f"not ({expr})" if nxt.name == "guard_true"
                                else f"{expr}", state)
                    i += 2
                    continue
                res = self._name(op.result)
                self._line(indent, f"{res} = {expr}")
                if name in WRAPPING and not op.fits:
                    self._line(indent, f"if {self._overflow_test(op)}: "
                                       f"{res} = (({res} + {-INT64_MIN}) & {_MASK}) - {-INT64_MIN}")
                if op.spec.has(Flag.CAN_OVERFLOW):
                    last_ovf = op
            elif name in ("guard_no_overflow", "guard_overflow"):
                overflowed = self._overflow_test(last_ovf)
                if name == "guard_no_overflow":
                    self._guard(indent, op, overflowed, state)
                else:
                    self._guard(indent, op, f"not ({overflowed})", state)
            elif op.spec.has(Flag.GUARD):
                exc_var = "_exc" if exc_pending else "None"
                self._guard(indent, op, self._guard_fails(op, exc_var), state,
                            exc=exc_var if name in _EXC_GUARDS else None)
                if name == "guard_exception":
                    self._line(indent, f"{self._name(op.result)} = {exc_var}")
                exc_pending = False
            elif name == "getarrayitem_i" or name == "getarrayitem_f":
                self._getarrayitem(indent, op)
            elif op.spec.has(Flag.CALL):
                # any call may raise, whatever its descr says: the exception
                # is caught when an exception guard is there to look at it
                wrap = nxt is not None and nxt.name in _EXC_GUARDS
                self._call(indent, op, wrap)
                exc_pending = wrap
            elif name == "getfield" or name == "setfield":
                attr = op.descr.name
                obj = self._name(op.args[0])
                if attr.isascii() and attr.isidentifier() and not keyword.iskeyword(attr):
                    target = f"{obj}.{attr}"
                    if name == "getfield":
                        self._line(indent, f"{self._name(op.result)} = {target}")
                    else:
                        self._line(indent, f"{target} = {self._name(op.args[1])}")
                else:
                    attrname = self._constant(attr, "attr")
                    if name == "getfield":
                        self._line(indent, f"{self._name(op.result)} = getattr({obj}, {attrname})")
                    else:
                        self._line(indent, f"setattr({obj}, {attrname}, {self._name(op.args[1])})")
            elif name.startswith("setarrayitem_"):
                a, idx, v = (self._name(x) for x in op.args)
                self._line(indent, f"{a}[{idx}] = {v}")
            elif name == "new_with_vtable":
                cls = self._constant(op.descr.cls)
                self._line(indent, f"{self._name(op.result)} = {cls}.__new__({cls})")
            elif name == "debug_merge_point":
                text = op.descr.describe() if op.descr is not None else ""
                self._line(indent, f"# debug_merge_point {_comment(text)}")
            elif name == "jump":
                self._jump(indent, op, state)
                return
            elif name == "finish":
                values = ", ".join(["_iters"] + [self._name(a) for a in op.args])
                number = self._exit(_Exit(None, op.descr))
                self._line(indent, f"return ({number}, {values})")
                return
            else:
                raise NotImplementedError(f"pysource backend: no lowering for {name}")
            i += 1
        target = self.label_state[id(seg.falls_into.descr)]
        self._line(indent, f"_state = {target}")
        self._line(indent, "break")

    def _getarrayitem(self, indent: int, op: Op):
        """Items of bytearrays and arrays are Python ints and floats already; other
        storage (lists, numpy arrays) may hold int subclasses or numpy scalars,
        converted as the reference does."""
        seq, index = (self._name(a) for a in op.args)
        res = self._name(op.result)
        storage = getattr(op.descr, "storage", "")
        self._line(indent, f"{res} = {seq}[{index}]")
        plain = storage == "bytearray" or storage.startswith("array:")
        if op.name == "getarrayitem_i" and not plain:
            self._line(indent, f"if type({res}) is not int and type({res}) is not bool: "
                               f"{res} = _item_int({res})")
        elif op.name == "getarrayitem_f" and not (plain and storage[-1:] in "fd"):
            self._line(indent, f"if type({res}) is not float: {res} = float({res})")

    def _overflow_test(self, ovf: Op | None) -> str:
        """The Python condition that is true when the Python result of ``ovf``
        (an ``*_ovf`` op, or a wrapping op before it wraps) left 64 bits."""
        if ovf is None:
            return "False"
        res = self._name(ovf.result)
        name = ovf.name.removesuffix("_ovf")
        if name in ("int_mod", "int_floordiv"):
            # the one pair that traps in native code; for // it is also the one
            # result outside 64 bits, for % (which gives 0) the rule is the same
            a, b = (self._name(x) for x in ovf.args)
            return f"{b} == -1 and {a} == {_MIN}"
        if name == "cast_float_to_int":
            return f"not ({_FLOAT_FITS.format(self._name(ovf.args[0]))})"
        if name == "int_lshift":
            return f"{res} is None or not ({_FITS.format(res)})"
        if name in ("int_add", "int_sub"):
            a, b = ovf.args
            # adding a known non-negative constant can only overflow upwards, ...
            sign = None
            if isinstance(b, Const) and type(b.value) in (int, bool):
                sign = b.value >= 0
            elif name == "int_add" and isinstance(a, Const) and type(a.value) in (int, bool):
                sign = a.value >= 0
            if sign is not None:
                if name == "int_sub" and isinstance(b, Const):
                    sign = not sign
                return f"{res} > {_MAX}" if sign else f"{res} < {_MIN}"
        return f"not ({_FITS.format(res)})"

    def _guard_fails(self, op: Op, exc_var: str) -> str:
        """The Python condition under which guard ``op`` fails."""
        name = op.name
        args = [self._name(a) for a in op.args]
        if name == "guard_true":
            return f"not {args[0]}"
        if name == "guard_false":
            return args[0]
        if name == "guard_value":
            return self._value_differs(op.args[0], op.args[1], args[0], args[1])
        if name == "guard_class":
            return f"type({args[0]}) is not {args[1]}"
        if name == "guard_nonnull":
            return f"{args[0]} is None"
        if name == "guard_isnull":
            return f"{args[0]} is not None"
        if name == "guard_no_exception":
            return f"{exc_var} is not None"
        if name == "guard_exception":
            return f"type({exc_var}) is not {args[0]}"
        if name == "guard_not_invalidated":
            return "_unit.invalidated"
        raise NotImplementedError(f"pysource backend: no lowering for {name}")

    def _value_differs(self, value, expected, x: str, c: str) -> str:
        """guard_value compares ints by value, references by identity and floats
        by bit pattern (so -0.0 is not 0.0 and a nan can match)."""
        kind = value.kind
        if kind == "r":
            return f"{x} is not {c}"
        if kind != "f":
            return f"{x} != {c}"
        if isinstance(expected, Const) and type(expected.value) is float:
            v = expected.value
            if v != 0.0 and math.isfinite(v):    # equal means same bits
                return f"{x} != {c}"
            if v == 0.0:
                return f"{x} != 0.0 or _copysign(1.0, {x}) != {math.copysign(1.0, v)}"
        return f"_float_bits({x}) != _float_bits({c})"

    def _guard(self, indent: int, op: Op, fails: str, state: int | None,
               exc: str | None = None):
        bridge = self.bridge_entry.get(id(op))
        if bridge is None:
            live = [self._name(b) for b in failargs(op)]
            number = self._exit(_Exit(op, carries_exc=exc is not None))
            values = ", ".join(["_iters"] + ([exc] if exc is not None else []) + live)
            self._line(indent, f"if {fails}: return ({number}, {values})")
        elif bridge.state is None:
            self._line(indent, f"if {fails}:")
            if exc == "None":      # the bridge sees no pending exception
                self._line(indent + 1, "_exc = None")
            self._line(indent + 1, f"# bridge {_comment(self.bridges[id(op)].name)}")
            self._segment(indent + 1, bridge, state)
        else:
            self._line(indent, f"if {fails}:")
            if exc == "None":
                self._line(indent + 1, "_exc = None")
            elif exc is not None and bridge.label is not None:
                # only an exception guard may see a pending exception
                self._line(indent + 1, "if _exc is not None: raise _exc")
            self._line(indent + 1, f"_state = {bridge.state}")
            self._line(indent + 1, "break")

    def _call(self, indent: int, op: Op, wrap: bool):
        args = [self._name(a) for a in op.args]
        call = f"{args[0]}({', '.join(args[1:])})"
        res = self._name(op.result) if op.result is not None else None
        stmt = f"{res} = {call}" if res is not None else call
        if not wrap:
            self._line(indent, stmt)
            return
        self._line(indent, "try:")
        self._line(indent + 1, stmt)
        self._line(indent, "except Exception as _e:")
        self._line(indent + 1, "_exc = _e")
        if res is not None:
            self._line(indent + 1, f"{res} = None")
        self._line(indent, "else:")
        self._line(indent + 1, "_exc = None")

    def _jump(self, indent: int, op: Op, state: int | None):
        target = self.label_state.get(id(op.descr))
        if target is None:
            values = ", ".join(["_iters"] + [self._name(a) for a in op.args])
            number = self._exit(_Exit(None, op.descr))
            self._line(indent, f"return ({number}, {values})")
            return
        label = self.states[target].label
        if len(label.args) != len(op.args):
            raise ValueError(f"jump to {op.descr.describe()} passes {len(op.args)} values, "
                             f"the label takes {len(label.args)}")
        self._moves(indent, list(zip(label.args, (self._name(a) for a in op.args))))
        self._line(indent, "_iters += 1")
        if target == state:
            self._line(indent, "continue")
        else:
            self._line(indent, f"_state = {target}")
            self._line(indent, "break")

    def _moves(self, indent: int, moves: list):
        """Assign the label args ``dst`` from the source expressions all at once
        (a parallel move).  A label arg the optimiser made constant takes none."""
        pending = []
        for dst, src in moves:
            if isinstance(dst, Box) and isinstance(dst.find(), Box):
                dst = self._name(dst)
                if dst != src:
                    pending.append((dst, src))
        while pending:
            sources = {s for _, s in pending}
            ready = [(d, s) for d, s in pending if d not in sources]
            if not ready:   # only cycles left: one tuple assignment
                self._line(indent, f"{', '.join(d for d, _ in pending)} = "
                                   f"{', '.join(s for _, s in pending)}")
                return
            for d, s in ready:
                self._line(indent, f"{d} = {s}")
            done = {d for d, _ in ready}
            pending = [(d, s) for d, s in pending if d not in done]

    def _exit(self, exit: _Exit) -> int:
        self.exits.append(exit)
        return len(self.exits) - 1


def _same(a, b) -> bool:
    if isinstance(a, Box):
        a = a.find()
    return a is b


def _identifier(text: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_]", "_", text)
    return name if not name[:1].isdigit() else "_" + name


def _comment(text: str) -> str:
    return repr(str(text))[1:-1]


def _docstring(trace: Trace) -> str:
    return _comment(f"metajit unit for trace {trace.name!r}").replace('"', "'")


def _describe_state(seg: _Segment) -> str:
    if seg.label is not None and seg.label.descr is not None:
        return "label " + _comment(seg.label.descr.describe())
    return "bridge entry"
