"""The Python-source backend: every op, loops, exits, bridges, large units.

Traces are built with ``TraceBuilder`` (a few lines of ir calls per trace); once
``tracer.text`` and ``backend.reference`` exist, random traces are also run on
both backends and must exit identically.
"""
from __future__ import annotations

import math
import traceback

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metajit.backend.base import ExitResult
from metajit.backend.pysource import MAX_INLINE_DEPTH, PySourceUnit, compile_unit
from metajit.tracer.ir import (
    INT64_MAX, INT64_MIN, OPS, ArrayDescr, Box, CallDescr, Const, ExitDescr, FieldDescr, Flag,
    FrameSnapshot, GreenKeyDescr, Op, SizeDescr, Snapshot, TargetDescr, Trace, failargs,
)

NAN = float("nan")
INF = float("inf")


class _Code:
    name = "portal"


class TraceBuilder:
    """Builds a trace op by op.  Python ints, floats and other objects given as
    arguments become Consts; a guard's snapshot holds ``live`` (default: the
    trace's inputs)."""

    def __init__(self, kinds: str = "i", name: str = "loop0", label: bool = True,
                 inputs: list[Box] | None = None):
        self.inputs = inputs if inputs is not None else [
            Box(k, name=f"{'p' if k == 'r' else k}{n}") for n, k in enumerate(kinds)]
        self.target = TargetDescr(name)
        self.name = name
        self.ops: list[Op] = []
        if label:
            self.ops.append(Op("label", list(self.inputs), self.target))

    @staticmethod
    def value(v):
        if isinstance(v, (Box, Const)):
            return v
        if type(v) in (int, bool):
            return Const("i", v)
        if type(v) is float:
            return Const("f", v)
        return Const("r", v)

    def op(self, name: str, *args, descr=None, live=None, kind: str | None = None):
        spec = OPS[name]
        args = [self.value(a) for a in args]
        result_kind = kind or spec.result
        result = Box(result_kind) if result_kind != "v" else None
        snapshot = None
        if spec.has(Flag.GUARD):
            frames = [FrameSnapshot(_Code(), len(self.ops),
                                    list(self.inputs if live is None else live))]
            snapshot = Snapshot(frames)
        op = Op(name, args, descr, result, snapshot)
        self.ops.append(op)
        if op.is_guard() or result is None:
            return op
        return result

    def label(self, *args, name: str) -> TargetDescr:
        descr = TargetDescr(name)
        self.ops.append(Op("label", list(args), descr))
        return descr

    def jump(self, *args, target: TargetDescr | None = None) -> Op:
        op = Op("jump", [self.value(a) for a in args], target or self.target)
        self.ops.append(op)
        return op

    def finish(self, *args, reason: str = "return") -> ExitDescr:
        descr = ExitDescr(reason)
        self.ops.append(Op("finish", [self.value(a) for a in args], descr))
        return descr

    def trace(self) -> Trace:
        return Trace(self.inputs, self.ops, self.name)


def bridge_for(guard: Op, name: str = "bridge") -> TraceBuilder:
    """A builder whose inputs match the guard's failargs, with no label."""
    inputs = [Box(b.kind, name=f"{'p' if b.kind == 'r' else b.kind}{n}b")
              for n, b in enumerate(failargs(guard))]
    return TraceBuilder(name=name, label=False, inputs=inputs)


class CheckedUnit:
    """A pysource unit with the reference backend's unit for the same trace run
    alongside (when backend.reference exists): every run must exit alike.  Only
    for traces whose runs have no side effects (each run happens twice)."""

    def __init__(self, trace: Trace):
        self.unit = compile_unit(trace)
        try:
            from metajit.backend import reference
        except ImportError:
            self.reference = None
        else:
            self.reference = reference.compile_unit(trace)

    def __getattr__(self, name):
        return getattr(self.unit, name)

    @property
    def invalidated(self):
        return self.unit.invalidated

    @invalidated.setter
    def invalidated(self, value):
        self.unit.invalidated = value
        if self.reference is not None:
            self.reference.invalidated = value

    def attach_bridge(self, guard: Op, bridge: Trace):
        self.unit.attach_bridge(guard, bridge)
        if self.reference is not None:
            self.reference.attach_bridge(guard, bridge)

    def run(self, inputs: list) -> ExitResult:
        try:
            out = self.unit.run(list(inputs))
        except Exception as e:
            if self.reference is not None:
                with pytest.raises(type(e)):
                    self.reference.run(list(inputs))
            raise
        if self.reference is not None:
            assert_same_exit(out, self.reference.run(list(inputs)))
        return out


def checked_unit(trace: Trace) -> CheckedUnit:
    return CheckedUnit(trace)


def same_value(a, b) -> bool:
    """Equal with the same Python class; floats by bit pattern (nan, -0.0)."""
    if type(a) is not type(b):
        return False
    if type(a) is float:
        return a == b and math.copysign(1, a) == math.copysign(1, b) or (a != a and b != b)
    if isinstance(a, BaseException):     # raised twice, once per backend
        return a.args == b.args
    return a == b if type(a) in (int, bool, str) else a is b


# --- every op in the table --------------------------------------------------------

OVF = "overflow"
COVERED: set[str] = {"label", "jump", "finish"}   # by every loop test below


def covers(*names):
    def mark(test):
        COVERED.update(names)
        return test
    return mark


class Thing:
    def __init__(self, x=0):
        self.x = x


# op name -> [(inputs, expected)]: the expected result (value and class), OVF when
# the guard_no_overflow after it fails; for guards, whether the guard passes.
VALUE_CASES = {
    "int_add": [((1, 2), 3), ((INT64_MAX, 1), INT64_MIN), ((True, True), 2)],
    "int_sub": [((1, 2), -1), ((INT64_MIN, 1), INT64_MAX)],
    "int_mul": [((3, -4), -12), ((1 << 32, 1 << 32), 0), ((INT64_MAX, 2), -2)],
    "int_and": [((12, 10), 8), ((True, True), True), ((-1, 5), 5)],
    "int_or": [((12, 10), 14), ((False, True), True)],
    "int_xor": [((12, 10), 6), ((True, True), False)],
    "int_lshift": [((3, 1), 6), ((1, 63), INT64_MIN), ((5, 64), 0), ((-1, 100), 0)],
    "int_rshift": [((-8, 1), -4), ((-1, 64), -1), ((5, 64), 0), ((INT64_MIN, 63), -1)],
    "uint_rshift": [((-1, 1), INT64_MAX), ((-1, 0), -1), ((-1, 64), 0), ((-8, 60), 15)],
    "int_neg": [((5,), -5), ((INT64_MIN,), INT64_MIN)],
    "int_invert": [((0,), -1), ((True,), -2)],
    "int_add_ovf": [((1, 2), 3), ((INT64_MAX, 1), OVF), ((INT64_MIN, -1), OVF)],
    "int_sub_ovf": [((1, 2), -1), ((INT64_MIN, 1), OVF), ((INT64_MAX, -1), OVF)],
    "int_mul_ovf": [((1 << 31, 1 << 31), 1 << 62), ((1 << 32, 1 << 31), OVF),
                    ((-1 << 32, 1 << 31), INT64_MIN)],
    "int_lshift_ovf": [((1, 62), 1 << 62), ((1, 63), OVF), ((-1, 63), INT64_MIN),
                       ((0, 200), 0), ((3, 1000), OVF)],
    "int_neg_ovf": [((5,), -5), ((INT64_MIN,), OVF)],
    "int_abs_ovf": [((-5,), 5), ((INT64_MIN,), OVF), ((True,), 1)],
    "int_floordiv_ovf": [((-7, 2), -4), ((7, -2), -4), ((INT64_MIN, -1), OVF),
                         ((INT64_MIN, 1), INT64_MIN)],
    "int_mod_ovf": [((-7, 2), 1), ((7, -2), -1), ((INT64_MIN, -1), OVF),
                    ((INT64_MIN, 2), 0)],
    "int_lt": [((1, 2), True), ((2, 1), False)],
    "int_le": [((2, 2), True), ((3, 2), False)],
    "int_eq": [((2, 2), True), ((True, 1), True), ((3, 2), False)],
    "int_ne": [((2, 2), False), ((3, 2), True)],
    "int_gt": [((3, 2), True), ((2, 2), False)],
    "int_ge": [((2, 2), True), ((1, 2), False)],
    "uint_lt": [((1, -1), True), ((-1, 1), False), ((INT64_MAX, INT64_MIN), True)],
    "uint_ge": [((-1, 1), True), ((1, -1), False)],
    "int_is_true": [((0,), False), ((-7,), True)],
    "int_is_zero": [((0,), True), ((7,), False)],
    "int_to_bool": [((2,), True), ((0,), False)],
    "float_add": [((0.1, 0.2), 0.30000000000000004), ((INF, -INF), NAN)],
    "float_sub": [((0.0, 0.0), 0.0), ((-0.0, 0.0), -0.0)],
    "float_mul": [((-2.0, 0.0), -0.0), ((1e308, 10.0), INF)],
    "float_truediv": [((1.0, 3.0), 1.0 / 3.0), ((1.0, -INF), -0.0), ((-2.0, 0.0), -INF),
                      ((1.0, -0.0), -INF), ((0.0, 0.0), NAN)],
    "float_floordiv": [((1.0, 0.1), 9.0), ((-7.5, 2.0), -4.0)],
    "float_mod": [((-1.0, 3.0), 2.0), ((1.0, 0.1), 1.0 % 0.1), ((-0.0, 1.0), 0.0)],
    "float_neg": [((0.0,), -0.0), ((-2.5,), 2.5)],
    "float_abs": [((-0.0,), 0.0), ((-2.5,), 2.5)],
    "float_lt": [((1.0, 2.0), True), ((NAN, 2.0), False)],
    "float_le": [((2.0, 2.0), True), ((NAN, NAN), False)],
    "float_eq": [((0.0, -0.0), True), ((NAN, NAN), False)],
    "float_ne": [((NAN, NAN), True), ((1.0, 1.0), False)],
    "float_gt": [((3.0, 2.0), True), ((2.0, NAN), False)],
    "float_ge": [((2.0, 2.0), True), ((NAN, 1.0), False)],
    "float_is_true": [((0.0,), False), ((-0.0,), False), ((NAN,), True)],
    "cast_int_to_float": [((3,), 3.0), ((INT64_MAX,), 9.223372036854776e18)],
    "cast_float_to_int_ovf": [((3.9,), 3), ((-3.9,), -3), ((NAN,), OVF), ((INF,), OVF),
                              ((-INF,), OVF), ((9.3e18,), OVF),
                              ((-9223372036854775808.0,), INT64_MIN),
                              ((9223372036854775808.0,), OVF)],
    "box_int": [((5,), 5)],
    "box_bool": [((1,), True), ((0,), False)],
    "box_float": [((2.5,), 2.5)],
    "unbox_int_ovf": [((5,), 5), ((1 << 64,), OVF), ((INT64_MIN,), INT64_MIN)],
    "unbox_float": [((2.5,), 2.5)],
    "ptr_eq": [(("a", "a"), True), ((None, 0), False)],
    "ptr_ne": [(("a", "a"), False), ((None, 0), True)],
    "same_as_i": [((True,), True), ((7,), 7)],
    "same_as_f": [((-0.0,), -0.0)],
    "same_as_r": [(("s",), "s")],
    "strlen": [(("abc",), 3), (("",), 0)],
    "guard_true": [((1,), True), ((0,), False), ((True,), True)],
    "guard_false": [((0,), True), ((5,), False)],
    "guard_nonnull": [((Thing(),), True), ((None,), False)],
    "guard_isnull": [((None,), True), ((0,), False)],
}
COVERED.update(VALUE_CASES)
COVERED.add("guard_no_overflow")    # after each *_ovf op in VALUE_CASES


def run_single(name, inputs):
    """Run ``name`` on inputs: returns its result, OVF, or whether a guard passed."""
    spec = OPS[name]
    kinds = "".join(spec.args)
    b = TraceBuilder(kinds)
    res = b.op(name, *b.inputs)
    if spec.has(Flag.CAN_OVERFLOW):
        ovf_guard = b.op("guard_no_overflow")
    if spec.result != "v" and not spec.has(Flag.GUARD):
        b.finish(res)
    else:
        b.finish()
    out = compile_unit(b.trace()).run(list(inputs))
    if spec.has(Flag.GUARD):
        assert out.guard in (None, res)
        return out.guard is None
    if spec.has(Flag.CAN_OVERFLOW) and out.guard is ovf_guard:
        assert out.values == list(inputs)
        return OVF
    return out.values[0]


@pytest.mark.parametrize("name,inputs,expected",
                         [(n, i, e) for n, cases in VALUE_CASES.items() for i, e in cases])
def test_op_values(name, inputs, expected):
    got = run_single(name, inputs)
    assert same_value(got, expected), (name, inputs, got, expected)


@covers("guard_overflow")
def test_guard_overflow_passes_only_on_overflow():
    for inputs, overflowed in (((INT64_MAX, 1), True), ((1, 1), False)):
        b = TraceBuilder("ii")
        r = b.op("int_add_ovf", *b.inputs)
        g = b.op("guard_overflow")
        b.finish(r)
        out = checked_unit(b.trace()).run(list(inputs))
        assert out.guard is (None if overflowed else g)
        if overflowed:
            assert out.values == [INT64_MAX + 1]


@covers("guard_value", "guard_class")
def test_guard_value_and_class():
    b = TraceBuilder("irf")
    thing = Thing()
    gi = b.op("guard_value", b.inputs[0], 7)
    gr = b.op("guard_value", b.inputs[1], thing)
    gf = b.op("guard_value", b.inputs[2], 2.5)
    gc = b.op("guard_class", b.inputs[1], Thing)
    b.finish()
    unit = checked_unit(b.trace())
    assert unit.run([7, thing, 2.5]).guard is None
    assert unit.run([8, thing, 2.5]).guard is gi
    assert unit.run([7, Thing(), 2.5]).guard is gr
    assert unit.run([7, thing, 2.0]).guard is gf
    b2 = TraceBuilder("r")
    gc2 = b2.op("guard_class", b2.inputs[0], Thing)
    b2.finish()
    unit2 = checked_unit(b2.trace())
    assert unit2.run([Thing()]).guard is None
    assert unit2.run([type("Sub", (Thing,), {})()]).guard is gc2
    assert gc is not None


@covers("getfield", "setfield", "new_with_vtable")
def test_fields_and_allocation():
    b = TraceBuilder("r")
    x = FieldDescr(Thing, "x")
    v = b.op("getfield", b.inputs[0], descr=x)
    new = b.op("new_with_vtable", descr=SizeDescr(Thing))
    b.op("setfield", new, v, descr=x)
    b.op("setfield", b.inputs[0], 99, descr=x)
    b.finish(new)
    t = Thing(41)
    out = compile_unit(b.trace()).run([t])
    assert type(out.values[0]) is Thing and out.values[0].x == 41 and t.x == 99


def test_field_name_that_is_not_an_identifier():
    b = TraceBuilder("r")
    odd = FieldDescr(Thing, "odd-name")
    b.op("setfield", b.inputs[0], 5, descr=odd)
    v = b.op("getfield", b.inputs[0], descr=odd)
    b.finish(v)
    t = Thing()
    assert compile_unit(b.trace()).run([t]).values == [5]
    assert getattr(t, "odd-name") == 5


@covers("getarrayitem_i", "getarrayitem_f", "getarrayitem_r", "setarrayitem_i",
        "setarrayitem_f", "setarrayitem_r", "arraylen")
def test_arrays():
    import array
    b = TraceBuilder("rrri")
    buf, floats, items, idx = b.inputs
    bd, fd, ld = ArrayDescr("bytearray", "i"), ArrayDescr("array:d", "f"), ArrayDescr("list", "r")
    vi = b.op("getarrayitem_i", buf, idx, descr=bd)
    vf = b.op("getarrayitem_f", floats, idx, descr=fd)
    vr = b.op("getarrayitem_r", items, idx, descr=ld)
    b.op("setarrayitem_i", buf, 0, vi, descr=bd)
    b.op("setarrayitem_f", floats, 0, vf, descr=fd)
    b.op("setarrayitem_r", items, 0, vr, descr=ld)
    n = b.op("arraylen", items, descr=ld)
    b.finish(vi, vf, vr, n)
    ba, fa, li = bytearray(b"\x01\x02\x03"), array.array("d", [0.5, 1.5]), ["a", "b", "c"]
    out = compile_unit(b.trace()).run([ba, fa, li, 1])
    assert out.values == [2, 1.5, "b", 3]
    assert ba == bytearray(b"\x02\x02\x03") and list(fa) == [1.5, 1.5] and li == ["b", "b", "c"]


def test_array_items_come_back_as_python_ints_and_floats():
    """List items of an int subclass, numpy scalars: read as the plain Python
    int or float, as the reference reads them."""
    import enum
    np = pytest.importorskip("numpy")

    class Color(enum.IntEnum):
        RED = 3

    cases = [
        ("getarrayitem_i", ArrayDescr("list", "i"), [Color.RED, True], [3, True]),
        ("getarrayitem_i", ArrayDescr("numpy:int64", "i"), np.array([7, -2]), [7, -2]),
        ("getarrayitem_f", ArrayDescr("numpy:float64", "f"), np.array([0.5, 2.0]), [0.5, 2.0]),
        ("getarrayitem_f", ArrayDescr("list", "f"), [1.5, 2], [1.5, 2.0]),
    ]
    for name, descr, seq, expected in cases:
        b = TraceBuilder("ri")
        v = b.op(name, *b.inputs, descr=descr)
        b.finish(v)
        unit = checked_unit(b.trace())
        for index, item in enumerate(expected):
            got = unit.run([seq, index]).values[0]
            assert same_value(got, item), (name, descr, got, item)


def _interrupt():
    raise KeyboardInterrupt


def test_base_exceptions_are_never_carried():
    """KeyboardInterrupt from a residual call propagates, guard or not."""
    b = TraceBuilder("")
    b.op("call_n", _interrupt, descr=CallDescr("interrupt", result="v"))
    b.op("guard_no_exception")
    b.finish()
    with pytest.raises(KeyboardInterrupt):
        compile_unit(b.trace()).run([])


@covers("call_i", "call_f", "call_r", "call_n", "call_pure_i", "call_pure_f",
        "call_pure_r")
@pytest.mark.parametrize("name,func,args,expected", [
    ("call_i", lambda a, b: a * b, (6, 7), 42),
    ("call_f", lambda a: a / 2, (3.0,), 1.5),
    ("call_r", lambda a, b: (a, b), ("x", None), ("x", None)),
    ("call_pure_i", abs, (-3,), 3),
    ("call_pure_f", math.sqrt, (2.25,), 1.5),
    ("call_pure_r", str, (12,), "12"),
])
def test_calls(name, func, args, expected):
    b = TraceBuilder("")
    res = b.op(name, func, *args, descr=CallDescr(name, can_raise=False))
    b.finish(res)
    assert compile_unit(b.trace()).run([]).values == [expected]


def test_call_n_has_side_effect():
    seen = []
    b = TraceBuilder("i")
    b.op("call_n", seen.append, b.inputs[0], descr=CallDescr("append", result="v"))
    b.op("guard_no_exception")
    b.finish()
    out = compile_unit(b.trace()).run([5])
    assert out.guard is None and seen == [5]


# --- exceptions --------------------------------------------------------------------

def _maybe_raise(x):
    if x < 0:
        raise ValueError(x)
    if x == 0:
        raise KeyError(x)
    return x * 2


@covers("guard_no_exception")
def test_guard_no_exception_fails_with_the_exception():
    b = TraceBuilder("i")
    r = b.op("call_i", _maybe_raise, b.inputs[0], descr=CallDescr("maybe_raise"))
    g = b.op("guard_no_exception", live=[b.inputs[0]])
    b.finish(r)
    unit = checked_unit(b.trace())
    assert unit.run([4]) == ExitResult(None, [8], target=b.ops[-1].descr)
    out = unit.run([-3])
    assert out.guard is g and out.values == [-3]
    assert type(out.exc) is ValueError and out.exc.args == (-3,)


@covers("guard_exception")
def test_guard_exception_catches_exact_class():
    b = TraceBuilder("i")
    b.op("call_i", _maybe_raise, b.inputs[0], descr=CallDescr("maybe_raise"))
    g = b.op("guard_exception", ValueError, live=[b.inputs[0]])
    b.finish(g.result)
    unit = checked_unit(b.trace())
    out = unit.run([-1])
    assert out.guard is None and type(out.values[0]) is ValueError
    out = unit.run([0])            # another class: fails, carrying it
    assert out.guard is g and type(out.exc) is KeyError and out.values == [0]
    out = unit.run([5])            # no exception at all: fails with none
    assert out.guard is g and out.exc is None


def test_exception_from_unguarded_call_propagates():
    b = TraceBuilder("i")
    b.op("call_i", _maybe_raise, b.inputs[0], descr=CallDescr("maybe_raise"))
    b.finish()
    with pytest.raises(ValueError):
        checked_unit(b.trace()).run([-1])


def test_traceback_shows_generated_source():
    b = TraceBuilder("r")
    b.op("getfield", b.inputs[0], descr=FieldDescr(Thing, "missing"))
    b.finish()
    unit = compile_unit(b.trace())
    with pytest.raises(AttributeError) as info:
        unit.run([Thing()])
    text = "".join(traceback.format_exception(info.value))
    assert "p0.missing" in text and unit.function.__name__ in text
    assert unit.function.__name__ == "loop_loop0"
    assert "def loop_loop0(p0):" in unit.source


# --- loops -------------------------------------------------------------------------

def counting_loop():
    """label(i0, i1); i2 = i0 + 1 (ovf); guard i2 < i1; jump(i2, i1)"""
    b = TraceBuilder("ii")
    i0, i1 = b.inputs
    i2 = b.op("int_add_ovf", i0, 1)
    ovf = b.op("guard_no_overflow", live=[i0, i1])
    lt = b.op("int_lt", i2, i1)
    exit_guard = b.op("guard_true", lt, live=[i2, i1])
    b.jump(i2, i1)
    return b, ovf, exit_guard


def test_counting_loop_exits_at_its_guard():
    b, ovf, exit_guard = counting_loop()
    unit = checked_unit(b.trace())
    assert isinstance(unit.unit, PySourceUnit) and unit.backend_name == "python"
    out = unit.run([0, 1000])
    assert out == ExitResult(exit_guard, [1000, 1000], None, None, 999)
    out = unit.run([INT64_MAX, INT64_MAX])
    assert out == ExitResult(ovf, [INT64_MAX, INT64_MAX], None, None, 0)


@covers("debug_merge_point")
def test_preamble_label_and_body_label():
    """A peeled loop: the jump goes to the second label; falling into it is no
    iteration."""
    b = TraceBuilder("ii")
    i0, i1 = b.inputs
    b.op("debug_merge_point", descr=GreenKeyDescr("pc=3\nnewline"))
    i2 = b.op("int_mul", i1, 3)
    body = b.label(i0, i2, name="body")
    i3 = b.op("int_add", i0, i2)
    g = b.op("guard_true", b.op("int_lt", i3, 100), live=[i3, i2])
    b.jump(i3, i2, target=body)
    unit = checked_unit(b.trace())
    out = unit.run([0, 2])
    assert out == ExitResult(g, [102, 6], None, None, 16)


def test_finish_and_foreign_jump():
    other = TargetDescr("other_loop")
    b = TraceBuilder("i")
    g = b.op("guard_true", b.op("int_gt", b.inputs[0], 0))
    b.jump(b.inputs[0], 1.5, None, target=other)
    unit = checked_unit(b.trace())
    out = unit.run([3])
    assert out == ExitResult(None, [3, 1.5, None], None, other, 0)
    assert unit.run([0]).guard is g


@covers("guard_not_invalidated")
def test_guard_not_invalidated_reads_the_unit_flag():
    b, _, _ = counting_loop()
    b.ops.insert(1, Op("guard_not_invalidated", [], None, None,
                       Snapshot([FrameSnapshot(_Code(), 0, list(b.inputs))])))
    g = b.ops[1]
    unit = checked_unit(b.trace())
    assert unit.run([0, 10]).iterations == 9
    unit.invalidated = True
    assert unit.run([0, 10]) == ExitResult(g, [0, 10], None, None, 0)


def test_object_constants_pass_through_the_constant_table():
    class Weird:
        def __repr__(self):
            return "<not python>"
    w = Weird()
    b = TraceBuilder("r")
    eq = b.op("ptr_eq", b.inputs[0], w)
    big = 1 << 70
    b.finish(eq, w, NAN, -INF, -0.0, True, -5, Const("r", big), Const("i", -big))
    out = checked_unit(b.trace()).run([w])
    assert out.values[:2] == [True, w] and math.isnan(out.values[2])
    assert same_value(out.values[3], -INF) and same_value(out.values[4], -0.0)
    assert same_value(out.values[5], True) and out.values[6] == -5
    assert out.values[7] is big and out.values[8] == -big


def test_guard_on_a_wrapped_result_sees_the_wrapped_value():
    """2**32 * 2**32 wraps to 0: guard_true on it fails even right after it."""
    b = TraceBuilder("ii")
    g = b.op("guard_true", b.op("int_mul", *b.inputs))
    b.finish()
    unit = checked_unit(b.trace())
    assert unit.run([1 << 32, 1 << 32]).guard is g
    assert unit.run([1 << 32, 3]).guard is None


def test_parallel_moves_at_jump():
    """jump(i1, i0) swaps: the moves must not clobber each other."""
    b = TraceBuilder("iii")
    i0, i1, n = b.inputs
    n2 = b.op("int_sub", n, 1)
    g = b.op("guard_true", b.op("int_gt", n2, 0), live=[i0, i1, n2])
    b.jump(i1, i0, n2)
    unit = checked_unit(b.trace())
    assert unit.run([1, 2, 3]) == ExitResult(g, [1, 2, 0], None, None, 2)
    assert unit.run([1, 2, 4]) == ExitResult(g, [2, 1, 0], None, None, 3)


# --- bridges -----------------------------------------------------------------------

def test_bridge_jumping_back_keeps_later_failures_in_compiled_code():
    """Loop: count i up to n, guard i is even; the bridge for odd i adds 1 more
    and jumps back to the loop."""
    b = TraceBuilder("ii")
    i0, n = b.inputs
    i1 = b.op("int_add", i0, 1)
    cond = b.op("int_lt", i1, n)
    done = b.op("guard_true", cond, live=[i1, n])
    odd = b.op("int_and", i1, 1)
    even_guard = b.op("guard_false", odd, live=[i1, n])
    b.jump(i1, n)
    unit = checked_unit(b.trace())
    assert unit.run([0, 100]).guard is even_guard
    source_before = unit.source

    br = bridge_for(even_guard)
    j0, jn = br.inputs
    j1 = br.op("int_add", j0, 10)
    br.jump(j1, jn, target=b.target)
    unit.attach_bridge(even_guard, br.trace())
    assert unit.source != source_before
    out = unit.run([0, 100])
    # i: 0 -> 1 (odd: +10 -> 11) -> 12 -> 13 (+10 -> 23) ... each odd costs one jump
    assert out.guard is done and out.values[0] >= 100
    i, its = 0, 0
    while True:
        i += 1
        if not i < 100:
            break
        if i & 1:
            i += 10
        its += 1
    assert out.values == [i, 100] and out.iterations == its


def test_bridge_on_a_bridge_guard_and_bridge_finish():
    b = TraceBuilder("i")
    i0 = b.inputs[0]
    g1 = b.op("guard_true", b.op("int_lt", i0, 10), live=[i0])
    b.jump(b.op("int_add", i0, 1))
    unit = checked_unit(b.trace())
    assert unit.run([0]) == ExitResult(g1, [10], None, None, 10)

    br1 = bridge_for(g1, "bridge1")
    g2 = br1.op("guard_true", br1.op("int_lt", br1.inputs[0], 20), live=br1.inputs)
    br1.jump(br1.op("int_add", br1.inputs[0], 2), target=b.target)
    unit.attach_bridge(g1, br1.trace())
    assert unit.run([0]) == ExitResult(g2, [20], None, None, 15)

    br2 = bridge_for(g2, "bridge2")
    reason = br2.finish(br2.op("int_mul", br2.inputs[0], 3))
    unit.attach_bridge(g2, br2.trace())
    assert unit.run([0]) == ExitResult(None, [60], None, reason, 15)


def test_bridge_with_its_own_loop_label():
    b = TraceBuilder("i")
    i0 = b.inputs[0]
    g = b.op("guard_true", b.op("int_lt", i0, 5), live=[i0])
    b.jump(b.op("int_add", i0, 1))
    unit = checked_unit(b.trace())
    br = bridge_for(g)
    x0 = br.inputs[0]
    inner = br.label(x0, name="bridge_loop")
    x1 = br.op("int_add", x0, 100)
    g2 = br.op("guard_true", br.op("int_lt", x1, 1000), live=[x1])
    br.jump(x1, target=inner)
    unit.attach_bridge(g, br.trace())
    out = unit.run([0])
    assert out.guard is g2 and out.values == [1005] and out.iterations == 5 + 9


def test_deep_bridge_chain_beyond_inline_depth():
    """A chain of bridges each on the previous one's guard, deeper than the
    inline limit: the deep ones become states of their own."""
    depth = MAX_INLINE_DEPTH * 3
    b = TraceBuilder("i")
    guard = b.op("guard_true", b.op("int_lt", b.inputs[0], 1), live=b.inputs)
    b.jump(b.op("int_add", b.inputs[0], 1))
    unit = checked_unit(b.trace())
    for k in range(1, depth + 1):
        br = bridge_for(guard, f"bridge{k}")
        nxt = br.op("guard_true", br.op("int_lt", br.inputs[0], k + 1), live=br.inputs)
        br.jump(br.op("int_add", br.inputs[0], 1), target=b.target)
        unit.attach_bridge(guard, br.trace())
        guard = nxt
    out = unit.run([0])
    assert out.guard is guard and out.values == [depth + 1] and out.iterations == depth + 1
    assert "_state = " in unit.source


def test_bridge_chain_deeper_than_the_recursion_limit():
    import sys
    # at Python's default limit, whatever an imported interpreter raised it to
    saved = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        _bridge_chain(1500)
    finally:
        sys.setrecursionlimit(saved)


def _bridge_chain(depth: int) -> None:
    b = TraceBuilder("i")
    guard = b.op("guard_true", b.op("int_lt", b.inputs[0], 1), live=b.inputs)
    b.jump(b.op("int_add", b.inputs[0], 1))
    unit = compile_unit(b.trace())
    for k in range(1, depth + 1):
        br = bridge_for(guard, f"bridge{k}")
        nxt = br.op("guard_true", br.op("int_lt", br.inputs[0], k + 1), live=br.inputs)
        br.jump(br.op("int_add", br.inputs[0], 1), target=b.target)
        unit.bridges[id(guard)] = br.trace()
        guard = nxt
    unit.changed()
    assert unit.run([0]) == ExitResult(guard, [depth + 1], None, None, depth + 1)


def test_bridge_inputs_must_match_failargs():
    b, _, exit_guard = counting_loop()
    unit = compile_unit(b.trace())
    br = TraceBuilder("i", label=False)
    br.finish()
    with pytest.raises(ValueError, match="failargs"):
        unit.attach_bridge(exit_guard, br.trace())


# --- large units -------------------------------------------------------------------

def test_unit_with_thousands_of_guards_and_hundreds_of_states():
    """3000 guards in the loop, 300 bridges that each start with their own label
    and loop there before jumping back: 301 states behind a bounded dispatch."""
    nguards = 3000
    b = TraceBuilder("ii")
    i0, n = b.inputs
    guards = []
    for k in range(nguards):
        guards.append(b.op("guard_true", b.op("int_ne", i0, k * 7 + 1), live=[i0, n]))
    g_end = b.op("guard_true", b.op("int_lt", i0, n), live=[i0, n])
    b.jump(b.op("int_add", i0, 1), n)
    unit = checked_unit(b.trace())
    bridge_guards = {}
    for k in range(0, nguards, 10):
        br = bridge_for(guards[k], f"bridge{k}")
        x, xn = br.inputs
        lab = br.label(x, xn, name=f"bridge_label{k}")
        x2 = br.op("int_add", x, 1)
        bridge_guards[k] = br.op("guard_true", br.op("int_lt", x2, k * 7 + 4), live=[x2, xn])
        br.jump(x2, xn, target=lab)
        # attached without regenerating 300 times: the last attach_bridge does it
        for backend_unit in (unit.unit, unit.reference):
            if backend_unit is not None:
                backend_unit.bridges[id(guards[k])] = br.trace()
    last = nguards - 10
    rejoin = bridge_for(bridge_guards[last], "rejoin")
    rejoin.jump(*rejoin.inputs, target=b.target)
    unit.attach_bridge(bridge_guards[last], rejoin.trace())
    assert unit.source.count("while True:") == 1 + 1 + 300
    # 0 -> 1 == 7*0+1: bridge 0 loops 1 -> 2 -> 3 and exits at 4.
    assert unit.run([0, 400]) == ExitResult(bridge_guards[0], [4, 400], None, None, 3)
    # bridge 2990 loops 20931 -> 20934, rejoins the loop, which runs on to
    # 20938 == 7*2991+1 (a guard without bridge).
    start = last * 7 + 1
    assert unit.run([start, 21000]) == ExitResult(guards[2991], [20938, 21000], None, None, 7)
    assert unit.run([20995, 21000]) == ExitResult(g_end, [21000, 21000], None, None, 5)


def test_straight_trace_of_20000_ops():
    b = TraceBuilder("i")
    x = b.inputs[0]
    for k in range(20000 // 2):
        x = b.op("int_add", x, k)
        x = b.op("int_xor", x, 0x5A5A)
    b.finish(x)
    unit = checked_unit(b.trace())
    expected = 3
    for k in range(20000 // 2):
        expected = (expected + k) ^ 0x5A5A
    assert unit.run([3]).values == [expected]


# --- the table, fully covered ------------------------------------------------------

def test_every_op_in_the_table_is_tested():
    """Every op of OPS has a value case or a test marked ``@covers`` (both are
    registered when this module is imported)."""
    missing = sorted(set(OPS) - COVERED)
    assert not missing, f"ops without a pysource test: {missing}"


# --- the text form -------------------------------------------------------------------

def parse(text: str, namespace: dict | None = None) -> Trace:
    from metajit.tracer.text import parse_trace
    return parse_trace(text, namespace)


def test_counting_loop_from_text():
    trace = parse("""
        [i0, i1]
        label(i0, i1, descr=loop0)
        i2 = int_add_ovf(i0, 1)
        guard_no_overflow() [@portal#3: i0, i1]
        i3 = int_lt(i2, i1)
        guard_true(i3) [@portal#5: i2, i1]
        jump(i2, i1, descr=loop0)
    """)
    unit = checked_unit(trace)
    assert unit.run([0, 5]) == ExitResult(trace.ops[4], [5, 5], None, None, 4)
    # the comparison feeds only its guard: no local for it
    assert "if not (i2 < i1): return (1, _iters, i2, i1)" in unit.source


def test_bridge_of_an_exception_guard_sees_the_exception():
    """The bridge of a failing guard_no_exception starts with the exception
    pending: its guard_exception takes it."""
    loop = parse("""
        [i0]
        label(i0, descr=loop0)
        i1 = call_i(ConstPtr(maybe_raise), i0, descr=maybe_raise_call)
        guard_no_exception() [@portal#1 exc: i0]
        i2 = int_sub(i0, 1)
        jump(i2, descr=loop0)
    """, {"maybe_raise": _maybe_raise, "maybe_raise_call": CallDescr("maybe_raise")})
    unit = checked_unit(loop)
    out = unit.run([3])
    assert out.guard is loop.ops[2] and type(out.exc) is KeyError and out.iterations == 3
    bridge = parse("""
        [i0]
        p1 = guard_exception(ConstPtr(KeyError)) [@portal#1 exc: i0]
        finish(p1, i0, descr=done)
    """, {"KeyError": KeyError, "done": ExitDescr("return")})
    unit.attach_bridge(loop.ops[2], bridge)
    out = unit.run([3])
    assert out.guard is None and type(out.values[0]) is KeyError and out.values[1:] == [0]
    out = unit.run([-2])           # a ValueError: the bridge's guard fails with it
    assert out.guard is bridge.ops[0] and type(out.exc) is ValueError
    assert out.values == [-2] and out.iterations == 0


# --- differential: the reference backend is the oracle --------------------------------

INT_EDGES = [0, 1, -1, 2, 63, 64, INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1,
             1 << 31, 1 << 32, -(1 << 32), 3, -7]
FLOAT_EDGES = [0.0, -0.0, 1.0, -1.5, 0.1, NAN, INF, -INF, 1e308, 5e-324,
               9.2e18, -9.3e18, 2.0 ** 63, -(2.0 ** 63)]
INT_BINARY = ["int_add", "int_sub", "int_mul", "int_and", "int_or", "int_xor", "int_lt",
              "int_le", "int_eq", "int_ne", "int_gt", "int_ge", "uint_lt", "uint_ge",
              "int_add_ovf", "int_sub_ovf", "int_mul_ovf"]
INT_SHIFTS = ["int_lshift", "int_rshift", "uint_rshift", "int_lshift_ovf"]
INT_DIVISIONS = ["int_floordiv_ovf", "int_mod_ovf"]
INT_UNARY = ["int_neg", "int_invert", "int_neg_ovf", "int_abs_ovf", "int_is_true",
             "int_is_zero", "int_to_bool", "same_as_i"]
FLOAT_BINARY = ["float_add", "float_sub", "float_mul", "float_lt", "float_le", "float_eq",
                "float_ne", "float_gt", "float_ge"]
FLOAT_DIVISIONS = ["float_truediv", "float_floordiv", "float_mod"]
FLOAT_UNARY = ["float_neg", "float_abs", "same_as_f"]
CASTS = ["float_is_true", "cast_int_to_float", "cast_float_to_int_ovf"]
GUARDS = ["guard_true", "guard_false"]

int_values = st.one_of(st.sampled_from(INT_EDGES), st.booleans(),
                       st.integers(INT64_MIN, INT64_MAX), st.integers(-100, 100))
float_values = st.one_of(st.sampled_from(FLOAT_EDGES), st.floats())


def _random_ops(draw, b: TraceBuilder, ints: list, floats: list, keep: list) -> list[Op]:
    """Append random int/float ops to ``b``; ``ints`` and ``floats`` (the values
    to draw arguments from) grow; guards keep those and ``keep`` alive.  Every ovf
    op has its guard_no_overflow, every division a guard that the divisor is not
    zero, every shift count is masked to 0..127.  Returns the guards."""
    guards = []

    def live():
        return ints + floats + keep

    def an_int():
        return draw(st.one_of(st.sampled_from(ints), st.sampled_from(INT_EDGES)))

    def a_float():
        if not floats or draw(st.integers(0, 4)) == 0:
            return draw(st.sampled_from(FLOAT_EDGES))
        return draw(st.sampled_from(floats))

    for _ in range(draw(st.integers(1, 12))):
        family = draw(st.sampled_from(["ib", "sh", "div", "iu", "fb", "fdiv", "fu", "cast",
                                       "guard", "value"]))
        if family in ("fb", "fdiv", "fu") and not floats:
            family = "ib"
        if family == "ib":
            name, args = draw(st.sampled_from(INT_BINARY)), [an_int(), an_int()]
        elif family == "sh":
            count = b.op("int_and", an_int(), 127)
            name, args = draw(st.sampled_from(INT_SHIFTS)), [an_int(), count]
        elif family == "div":
            divisor = draw(st.sampled_from(ints))
            guards.append(b.op("guard_true", b.op("int_ne", divisor, 0), live=live()))
            name, args = draw(st.sampled_from(INT_DIVISIONS)), [an_int(), divisor]
        elif family == "iu":
            name, args = draw(st.sampled_from(INT_UNARY)), [an_int()]
        elif family == "fb":
            name, args = draw(st.sampled_from(FLOAT_BINARY)), [a_float(), a_float()]
        elif family == "fdiv":
            divisor = draw(st.sampled_from(floats))
            guards.append(b.op("guard_true", b.op("float_ne", divisor, 0.0), live=live()))
            name, args = draw(st.sampled_from(FLOAT_DIVISIONS)), [a_float(), divisor]
        elif family == "fu":
            name, args = draw(st.sampled_from(FLOAT_UNARY)), [a_float()]
        elif family == "cast":
            name = draw(st.sampled_from(CASTS))
            args = [an_int() if name == "cast_int_to_float" else a_float()]
        elif family == "value":
            if floats and draw(st.booleans()):
                x, c = draw(st.sampled_from(floats)), draw(st.sampled_from(FLOAT_EDGES))
            else:
                x, c = draw(st.sampled_from(ints)), draw(st.sampled_from(INT_EDGES))
            guards.append(b.op("guard_value", x, c, live=live()))
            continue
        else:
            guards.append(b.op(draw(st.sampled_from(GUARDS)), draw(st.sampled_from(ints)),
                               live=live()))
            continue
        before = live()
        result = b.op(name, *args)
        if OPS[name].has(Flag.CAN_OVERFLOW):
            guards.append(b.op("guard_no_overflow", live=before))
        (floats if OPS[name].result == "f" else ints).append(result)
    return guards


@st.composite
def random_units(draw):
    """A random trace (straight-line, or a loop counting down its last input),
    up to two random bridges (the second maybe on a guard of the first) that
    finish, and inputs."""
    nint, nfloat = draw(st.integers(1, 3)), draw(st.integers(0, 2))
    loop = draw(st.booleans())
    b = TraceBuilder("i" * nint + "f" * nfloat + ("i" if loop else ""))
    ints, floats = list(b.inputs[:nint]), list(b.inputs[nint:nint + nfloat])
    keep = [b.inputs[-1]] if loop else []
    guards = _random_ops(draw, b, ints, floats, keep)
    if loop:
        c2 = b.op("int_sub", keep[0], 1)
        guards.append(b.op("guard_true", b.op("int_gt", c2, 0), live=ints + floats + [c2]))
        b.jump(*[draw(st.sampled_from(ints)) for _ in range(nint)],
               *[draw(st.sampled_from(floats)) for _ in range(nfloat)], c2)
    else:
        b.finish(*ints, *floats)
    bridges = []
    for n in range(draw(st.integers(0, 2)) if guards else 0):
        guard = draw(st.sampled_from(guards))
        if any(g is guard for g, _ in bridges):
            break
        br = bridge_for(guard, f"bridge{n}")
        bints = [x for x in br.inputs if x.kind == "i"]
        bfloats = [x for x in br.inputs if x.kind == "f"]
        if not bints:
            bints.append(br.op("same_as_i", 0))
        new_guards = _random_ops(draw, br, bints, bfloats, [])
        br.finish(*bints, *bfloats)
        bridges.append((guard, br.trace()))
        guards = guards + new_guards
    inputs = [draw(int_values) for _ in range(nint)] + [draw(float_values) for _ in range(nfloat)]
    if loop:
        inputs.append(draw(st.integers(1, 4)))
    return b.trace(), bridges, inputs


def _outcome(unit, inputs):
    try:
        return unit.run(list(inputs))
    except Exception as e:   # both backends must raise alike
        return type(e)


def assert_same_exit(got, expected):
    if isinstance(expected, type):
        assert got is expected
        return
    assert got.guard is expected.guard
    assert got.target is expected.target
    assert got.iterations == expected.iterations
    assert type(got.exc) is type(expected.exc)
    assert len(got.values) == len(expected.values)
    for g, e in zip(got.values, expected.values):
        assert same_value(g, e), (got.values, expected.values)


@settings(deadline=None, max_examples=150)
@given(random_units())
def test_random_traces_agree_with_the_reference(case):
    reference = pytest.importorskip("metajit.backend.reference")
    from hypothesis import note
    from metajit.tracer.text import format_trace
    trace, bridges, inputs = case
    note(format_trace(trace))
    for _, bridge in bridges:
        note(format_trace(bridge))
    note(repr(inputs))
    ours, theirs = compile_unit(trace), reference.compile_unit(trace)
    for guard, bridge in bridges:
        ours.attach_bridge(guard, bridge)
        theirs.attach_bridge(guard, bridge)
    assert_same_exit(_outcome(ours, inputs), _outcome(theirs, inputs))


def test_every_op_evaluates_like_the_reference():
    """The VALUE_CASES above, checked against reference.evaluate as well."""
    reference = pytest.importorskip("metajit.backend.reference")
    for name, cases in VALUE_CASES.items():
        if OPS[name].has(Flag.GUARD):
            continue
        for inputs, expected in cases:
            if expected is OVF:
                with pytest.raises(OverflowError):
                    reference.evaluate(name, *inputs)
            else:
                ref = reference.evaluate(name, *inputs)
                assert same_value(ref, expected), (name, inputs, ref, expected)


def test_no_wrap_code_where_the_optimiser_proved_the_result_fits():
    from metajit.tracer.opt.base import OptContext
    from metajit.tracer.opt.intbounds import IntBoundsPass
    from metajit.tracer.text import parse_trace
    text = ("[i0]\n"
            "label(i0, descr=start)\n"
            "i1 = int_and(i0, 255)\n"
            "i2 = int_sub(i1, 1)\n"        # in [-1, 254]: cannot wrap
            "i3 = int_sub(i0, 1)\n"        # i0 - 1 may leave 64 bits
            "finish(i2, i3, descr=done)\n")
    trace = parse_trace(text)
    IntBoundsPass().run(trace, OptContext())
    unit = compile_unit(trace)
    lines = [line.strip() for line in unit.source.splitlines()]
    wrapped = [line for line in lines if line.startswith("if ") and "0xFFFFFFFFFFFFFFFF" in line]
    assert len(wrapped) == 1 and wrapped[0].startswith("if i3 "), unit.source
    assert unit.run([0]).values == [-1, -1]
    assert unit.run([-(1 << 63)]).values == [-1, (1 << 63) - 1]
