"""The reference trace interpreter: runs any trace op by op.  The oracle.

Slow and obvious on purpose: every other backend, and every pass, is checked
against it.  ``SEMANTICS`` gives each op of ``tracer.ir.OPS`` one function
``(state, op, args) -> result``: ``args`` are the Python values of the op's
arguments, ``op`` the Op (for its descriptor, and for the kinds of
``guard_value``), ``state`` the run's overflow flag, pending exception and unit.

Semantics are Python's own:

- ints are Python ints or bools, and a result has the class Python gives it
  (``True & False`` is ``False``, ``True + True`` is ``2``); wrapping ops wrap to
  signed 64 bits; shifts by 64 or more give 0 (``int_lshift``, ``uint_rshift``) or
  the sign (``int_rshift``).
- a ``can_overflow`` op computes Python's exact result and sets the overflow flag
  when it leaves 64 bits, for ``guard_no_overflow`` (or ``guard_overflow``) to read.
  ``int_floordiv_ovf`` and ``int_mod_ovf`` flag the pair ``INT64_MIN, -1`` (the
  divisions that trap in native code; Python's ``INT64_MIN % -1`` is 0 and fits,
  but the checked form is one rule for both); ``cast_float_to_int_ovf`` flags nan,
  inf and results outside 64 bits (its result is then 0: nothing may read it);
  ``int_lshift_ovf`` does not compute the value of an overflowing shift by 64 or
  more (None).
- floats are Python floats; ``float_truediv`` by zero gives IEEE's inf or nan
  (the recorder guards it, but the passes may meet it); ``float_floordiv`` and
  ``float_mod`` by zero raise ZeroDivisionError as in Python.
- a call's ``Exception`` becomes pending; the op run next must be
  ``guard_no_exception`` or ``guard_exception`` (in an attached bridge too, when the
  guard failed into one), else the exception is re-raised.  ``BaseException``\\ s
  that are not ``Exception``\\ s (KeyboardInterrupt) always propagate.
"""
from __future__ import annotations

import math
import struct

from metajit.backend.base import CompiledUnit, ExitResult
from metajit.tracer.ir import (INT64_MIN, OPS, Box, Const, Flag, Op, Trace, failargs,
                               fits_int64, intmask)

MASK64 = (1 << 64) - 1
EXCEPTION_GUARDS = frozenset({"guard_no_exception", "guard_exception"})


class _Fail:
    def __repr__(self):
        return "FAIL"


FAIL = _Fail()   # what a guard's semantic function returns when the guard fails


class TraceError(Exception):
    """The trace cannot run: a box read before it is defined, a bridge that does not
    fit its guard, running off the end of a trace."""


class IterationLimit(Exception):
    """``unit.max_iterations`` jumps were taken without leaving the unit."""


class RunState:
    """What ops share during one run besides box values."""
    __slots__ = ("unit", "overflow", "exc")

    def __init__(self, unit: "ReferenceUnit | None" = None):
        self.unit = unit
        self.overflow = False      # set by every can_overflow op
        self.exc = None            # the pending exception of the last call


# --- how the semantic functions are built ----------------------------------------

def _pure(fn):
    """An op whose result depends on its argument values only."""
    return lambda state, op, args: fn(*args)


def _checked(fn):
    """``fn`` returns (Python's exact result, whether the op overflows)."""
    def sem(state, op, args):
        result, state.overflow = fn(*args)
        return result
    return sem


def _fits(value: int):
    return value, not fits_int64(value)


def _with_descr(fn):
    """A heap op: ``fn(descr, *args)``."""
    return lambda state, op, args: fn(op.descr, *args)


def _guard(passes):
    """A guard on its argument values: ``passes(*args)`` is true when it holds."""
    return lambda state, op, args: None if passes(*args) else FAIL


def _state_guard(passes):
    """A guard on the run's state: ``passes(state)``."""
    return lambda state, op, args: None if passes(state) else FAIL


def _unsigned(a: int) -> int:
    return a & MASK64


def _float_bits(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def _truediv(a: float, b: float) -> float:
    if b != 0.0:
        return a / b
    if a != a or a == 0.0:
        return math.nan
    return math.copysign(math.inf, math.copysign(1.0, a) * math.copysign(1.0, b))


def _float_to_int(f: float):
    if math.isnan(f) or math.isinf(f):
        return 0, True
    return _fits(int(f))


def _lshift_ovf(a: int, b: int):
    if a and b >= 64:
        return None, True
    return _fits(a << b)


def _as_int(item):
    """An array item as a Python int or bool (numpy scalars have ``item()``)."""
    if type(item) is int or type(item) is bool:
        return item
    to_python = getattr(item, "item", None)
    return to_python() if to_python is not None else int(item)


def _setitem(descr, seq, index, value):
    seq[index] = value


def _call(state, op, args):
    function = args[0]
    try:
        return function(*args[1:])
    except Exception as exc:     # noqa: BLE001 - every Python exception is the guest's
        state.exc = exc
        return None


def _guard_value(state, op, args):
    x, c = args
    kind = op.args[0].kind
    if kind == "f":
        same = _float_bits(x) == _float_bits(c)
    elif kind == "r":
        same = x is c
    else:
        same = x == c
    return None if same else FAIL


def _guard_exception(state, op, args):
    exc = state.exc
    if exc is None or type(exc) is not args[0]:
        return FAIL
    state.exc = None
    return exc


def _nothing(state, op, args):
    return None


def _control(state, op, args):
    raise AssertionError(f"{op.name} is control flow: the unit's run loop does it")


SEMANTICS = {
    # integers, wrapping
    "int_add": _pure(lambda a, b: intmask(a + b)),
    "int_sub": _pure(lambda a, b: intmask(a - b)),
    "int_mul": _pure(lambda a, b: intmask(a * b)),
    "int_and": _pure(lambda a, b: a & b),
    "int_or": _pure(lambda a, b: a | b),
    "int_xor": _pure(lambda a, b: a ^ b),
    "int_lshift": _pure(lambda a, b: intmask(a << b) if b < 64 else 0),
    "int_rshift": _pure(lambda a, b: a >> min(b, 63)),
    "uint_rshift": _pure(lambda a, b: intmask(_unsigned(a) >> b) if b < 64 else 0),
    "int_neg": _pure(lambda a: intmask(-a)),
    "int_invert": _pure(lambda a: ~a),
    # integers, checked
    "int_add_ovf": _checked(lambda a, b: _fits(a + b)),
    "int_sub_ovf": _checked(lambda a, b: _fits(a - b)),
    "int_mul_ovf": _checked(lambda a, b: _fits(a * b)),
    "int_lshift_ovf": _checked(_lshift_ovf),
    "int_neg_ovf": _checked(lambda a: _fits(-a)),
    "int_abs_ovf": _checked(lambda a: _fits(abs(a))),
    "int_floordiv_ovf": _checked(lambda a, b: (a // b, a == INT64_MIN and b == -1)),
    "int_mod_ovf": _checked(lambda a, b: (a % b, a == INT64_MIN and b == -1)),
    # integer comparisons and tests
    "int_lt": _pure(lambda a, b: a < b),
    "int_le": _pure(lambda a, b: a <= b),
    "int_eq": _pure(lambda a, b: a == b),
    "int_ne": _pure(lambda a, b: a != b),
    "int_gt": _pure(lambda a, b: a > b),
    "int_ge": _pure(lambda a, b: a >= b),
    "uint_lt": _pure(lambda a, b: _unsigned(a) < _unsigned(b)),
    "uint_ge": _pure(lambda a, b: _unsigned(a) >= _unsigned(b)),
    "int_is_true": _pure(lambda a: a != 0),
    "int_is_zero": _pure(lambda a: a == 0),
    "int_to_bool": _pure(bool),
    # floats
    "float_add": _pure(lambda a, b: a + b),
    "float_sub": _pure(lambda a, b: a - b),
    "float_mul": _pure(lambda a, b: a * b),
    "float_truediv": _pure(_truediv),
    "float_floordiv": _pure(lambda a, b: a // b),
    "float_mod": _pure(lambda a, b: a % b),
    "float_neg": _pure(lambda a: -a),
    "float_abs": _pure(abs),
    "float_lt": _pure(lambda a, b: a < b),
    "float_le": _pure(lambda a, b: a <= b),
    "float_eq": _pure(lambda a, b: a == b),
    "float_ne": _pure(lambda a, b: a != b),
    "float_gt": _pure(lambda a, b: a > b),
    "float_ge": _pure(lambda a, b: a >= b),
    "float_is_true": _pure(lambda a: a != 0.0),
    # casts and boxes
    "cast_int_to_float": _pure(float),
    "cast_float_to_int_ovf": _checked(_float_to_int),
    "box_int": _pure(int),
    "box_bool": _pure(bool),
    "box_float": _pure(float),
    "unbox_int_ovf": _checked(lambda v: (v, not fits_int64(v))),
    "unbox_float": _pure(lambda v: v),
    # references
    "ptr_eq": _pure(lambda a, b: a is b),
    "ptr_ne": _pure(lambda a, b: a is not b),
    "same_as_i": _pure(lambda a: a),
    "same_as_f": _pure(lambda a: a),
    "same_as_r": _pure(lambda a: a),
    # heap
    "getfield": _with_descr(lambda descr, obj: getattr(obj, descr.name)),
    "setfield": _with_descr(lambda descr, obj, value: setattr(obj, descr.name, value)),
    "getarrayitem_i": _with_descr(lambda descr, seq, i: _as_int(seq[i])),
    "getarrayitem_f": _with_descr(lambda descr, seq, i: float(seq[i])),
    "getarrayitem_r": _with_descr(lambda descr, seq, i: seq[i]),
    "setarrayitem_i": _with_descr(_setitem),
    "setarrayitem_f": _with_descr(_setitem),
    "setarrayitem_r": _with_descr(_setitem),
    "arraylen": _with_descr(lambda descr, seq: len(seq)),
    "strlen": _pure(len),
    "new_with_vtable": _with_descr(lambda descr: descr.cls.__new__(descr.cls)),
    # calls
    "call_i": _call,
    "call_f": _call,
    "call_r": _call,
    "call_n": _call,
    "call_pure_i": _call,
    "call_pure_f": _call,
    "call_pure_r": _call,
    # guards
    "guard_true": _guard(lambda x: bool(x)),
    "guard_false": _guard(lambda x: not x),
    "guard_value": _guard_value,
    "guard_class": _guard(lambda x, cls: type(x) is cls),
    "guard_nonnull": _guard(lambda x: x is not None),
    "guard_isnull": _guard(lambda x: x is None),
    "guard_no_overflow": _state_guard(lambda state: not state.overflow),
    "guard_overflow": _state_guard(lambda state: state.overflow),
    "guard_no_exception": _state_guard(lambda state: state.exc is None),
    "guard_exception": _guard_exception,
    "guard_not_invalidated": _state_guard(lambda state: not state.unit.invalidated),
    # markers and control
    "debug_merge_point": _nothing,
    "label": _nothing,
    "jump": _control,
    "finish": _control,
}

# Ops whose outcome depends on a run (flags, pending exception, the unit).
_STATEFUL = frozenset({"guard_no_overflow", "guard_overflow", "guard_no_exception",
                       "guard_exception", "guard_not_invalidated", "label", "jump",
                       "finish"})


def _kind_of(value) -> str:
    if isinstance(value, int):
        return "i"
    return "f" if isinstance(value, float) else "r"


def evaluate(opname: str, *args, descr=None):
    """Run one op on Python values.  An overflowing ``_ovf`` op raises
    OverflowError; a call re-raises what the callee raised; a guard returns whether
    it passes.  Ops that depend on a run's state (the overflow and exception guards,
    ``guard_not_invalidated``, control flow) raise ValueError."""
    spec = OPS[opname]
    if opname in _STATEFUL:
        raise ValueError(f"{opname} depends on the state of a run: run a trace instead")
    kinds = [(k if k in "ifr" else _kind_of(a))
             for k, a in zip(spec.args * len(args) if spec.variadic else spec.args, args)]
    op = Op(opname, [Const(k, a) for k, a in zip(kinds, args)], descr)
    state = RunState()
    result = SEMANTICS[opname](state, op, list(args))
    if state.exc is not None:
        raise state.exc
    if state.overflow:
        raise OverflowError(f"{opname}{tuple(args)!r} leaves 64 bits")
    if spec.has(Flag.GUARD):
        return result is not FAIL
    return result


# --- units -------------------------------------------------------------------------

def _read(env: dict, value):
    if isinstance(value, Box):
        value = value.find()
    if isinstance(value, Const):
        return value.value
    try:
        return env[value]
    except KeyError:
        raise TraceError(f"{value!r} is read before it is defined") from None


def _bind(env: dict, boxes: list, values: list, what: str) -> None:
    if len(boxes) != len(values):
        raise TraceError(f"{what} takes {len(boxes)} values, got {len(values)}")
    for box, value in zip(boxes, values):
        if isinstance(box, Box):
            box = box.find()
        if isinstance(box, Box):
            env[box] = value


class ReferenceUnit(CompiledUnit):
    """Runs its trace, and the bridges attached to its guards, op by op.

    ``invalidated``: set it to make every ``guard_not_invalidated`` fail.
    ``max_iterations``: when not None, a run that takes more jumps raises
    IterationLimit (a safety net for generated traces)."""
    backend_name = "reference"

    def __init__(self, trace: Trace):
        super().__init__(trace)
        self.invalidated = False
        self.max_iterations: int | None = None
        self._labels: dict[int, tuple[list[Op], int]] = {}
        self._failargs: dict[int, list[Box]] = {}
        self.changed()

    def changed(self) -> None:
        """Index the labels of the trace and of every attached bridge."""
        self._labels = {}
        for trace in [self.trace, *self.bridges.values()]:
            for pos, op in enumerate(trace.ops):
                if op.name == "label" and op.descr is not None:
                    if id(op.descr) in self._labels:
                        raise TraceError(f"two labels with the descr {op.descr.describe()}")
                    self._labels[id(op.descr)] = (trace.ops, pos)

    def failargs_of(self, guard: Op) -> list[Box]:
        boxes = self._failargs.get(id(guard))
        if boxes is None:
            boxes = self._failargs[id(guard)] = failargs(guard)
        return boxes

    def run(self, inputs: list) -> ExitResult:
        env: dict = {}
        _bind(env, self.trace.inputargs, list(inputs), "the trace")
        return self._run(env, self.trace.ops, 0)

    def enter(self, target, inputs: list) -> ExitResult:
        where = self._labels.get(id(target))
        if where is None or where[0] is not self.trace.ops:
            raise TraceError(f"{target.describe()} is no label of the unit's trace")
        env: dict = {}
        ops, pos = where
        _bind(env, ops[pos].args, list(inputs), f"label {target.describe()}")
        return self._run(env, ops, pos + 1)

    def _run(self, env: dict, ops: list[Op], pos: int) -> ExitResult:
        state = RunState(self)
        iterations = 0
        while True:
            if pos >= len(ops):
                raise TraceError("the trace ends without a jump or finish")
            op = ops[pos]
            if state.exc is not None and op.name not in EXCEPTION_GUARDS:
                exc, state.exc = state.exc, None
                raise exc
            args = [_read(env, a) for a in op.args]
            if op.name == "finish":
                return ExitResult(None, args, target=op.descr, iterations=iterations)
            if op.name == "jump":
                where = self._labels.get(id(op.descr))
                if where is None:
                    return ExitResult(None, args, target=op.descr, iterations=iterations)
                ops, pos = where
                _bind(env, ops[pos].args, args, f"label {op.descr.describe()}")
                pos += 1
                iterations += 1
                if self.max_iterations is not None and iterations > self.max_iterations:
                    raise IterationLimit(f"more than {self.max_iterations} iterations")
                continue
            semantics = SEMANTICS.get(op.name)
            if semantics is None:
                raise TraceError(f"the reference backend has no semantics for {op.name}")
            result = semantics(state, op, args)
            if result is FAIL:
                values = [_read(env, box) for box in self.failargs_of(op)]
                exc = None
                if op.name in EXCEPTION_GUARDS:
                    exc, state.exc = state.exc, None
                bridge = self.bridges.get(id(op))
                if bridge is None:
                    return ExitResult(op, values, exc=exc, iterations=iterations)
                state.exc = exc       # still pending: the bridge's first op sees it
                _bind(env, bridge.inputargs, values, "the bridge")
                ops, pos = bridge.ops, 0
                continue
            if op.result is not None:
                env[op.result] = result
            pos += 1


def compile_unit(trace: Trace) -> ReferenceUnit:
    return ReferenceUnit(trace)
