"""The reference interpreter: each op against Python's own operators, and whole units
run by the exit protocol of backend/base.py."""
import array
import math
import operator
import struct

import numpy
import pytest
from hypothesis import given, settings, strategies as st

from metajit.backend.base import get_backend
from metajit.backend.reference import (SEMANTICS, IterationLimit, ReferenceUnit, compile_unit,
                                       evaluate)
from metajit.tracer.ir import INT64_MAX, INT64_MIN, OPS, SizeDescr, fits_int64, intmask
from metajit.tracer.text import parse_trace

# --- single ops against Python -------------------------------------------------------

EDGES = [INT64_MIN, INT64_MIN + 1, INT64_MAX, INT64_MAX - 1, -1, 0, 1, 2, -2, 7, -7,
         2**31, -2**31, 2**32, 2**62, -2**62]
INTS = st.integers(INT64_MIN, INT64_MAX) | st.sampled_from(EDGES) | st.booleans()
NONZERO = INTS.filter(lambda b: b != 0)
SHIFTS = st.integers(0, 70) | st.sampled_from([0, 1, 62, 63, 64, 65, 127])
FLOAT_EDGES = [0.0, -0.0, math.inf, -math.inf, math.nan, 1.0, -1.0, 0.1, 1e308, -1e308,
               5e-324, 2.0**63, -2.0**63, 2.0**63 - 1024, 9.5, -9.5]
FLOATS = st.floats() | st.sampled_from(FLOAT_EDGES)
NONZERO_FLOATS = FLOATS.filter(lambda b: b != 0.0)


def checked(fn):
    """Python's exact result, or OverflowError when it leaves 64 bits."""
    def reference(*args):
        result = fn(*args)
        if not fits_int64(result):
            raise OverflowError
        return result
    return reference


def wrapped(fn):
    return lambda *args: intmask(fn(*args))


def unsigned(a):
    return a % 2**64


def mod_ovf(a, b):
    if a == INT64_MIN and b == -1:     # the pair that traps in native code: one rule with //
        raise OverflowError
    return a % b


def float_to_int(f):
    try:
        return checked(int)(f)
    except ValueError:                 # int(nan)
        raise OverflowError from None


II, I, FF, F = (INTS, INTS), (INTS,), (FLOATS, FLOATS), (FLOATS,)

# op -> (argument strategies, what Python computes)
REFERENCE = {
    "int_add": (II, wrapped(operator.add)),
    "int_sub": (II, wrapped(operator.sub)),
    "int_mul": (II, wrapped(operator.mul)),
    "int_and": (II, operator.and_),
    "int_or": (II, operator.or_),
    "int_xor": (II, operator.xor),
    "int_lshift": ((INTS, SHIFTS), wrapped(operator.lshift)),
    "int_rshift": ((INTS, SHIFTS), operator.rshift),
    "uint_rshift": ((INTS, SHIFTS), lambda a, b: intmask(unsigned(a) >> b)),
    "int_neg": (I, wrapped(operator.neg)),
    "int_invert": (I, operator.invert),
    "int_add_ovf": (II, checked(operator.add)),
    "int_sub_ovf": (II, checked(operator.sub)),
    "int_mul_ovf": (II, checked(operator.mul)),
    "int_lshift_ovf": ((INTS, SHIFTS), checked(operator.lshift)),
    "int_neg_ovf": (I, checked(operator.neg)),
    "int_abs_ovf": (I, checked(abs)),
    "int_floordiv_ovf": ((INTS, NONZERO), checked(operator.floordiv)),
    "int_mod_ovf": ((INTS, NONZERO), mod_ovf),
    "int_lt": (II, operator.lt),
    "int_le": (II, operator.le),
    "int_eq": (II, operator.eq),
    "int_ne": (II, operator.ne),
    "int_gt": (II, operator.gt),
    "int_ge": (II, operator.ge),
    "uint_lt": (II, lambda a, b: unsigned(a) < unsigned(b)),
    "uint_ge": (II, lambda a, b: unsigned(a) >= unsigned(b)),
    "int_is_true": (I, bool),
    "int_is_zero": (I, operator.not_),
    "int_to_bool": (I, bool),
    "float_add": (FF, operator.add),
    "float_sub": (FF, operator.sub),
    "float_mul": (FF, operator.mul),
    "float_truediv": ((FLOATS, NONZERO_FLOATS), operator.truediv),
    "float_floordiv": ((FLOATS, NONZERO_FLOATS), operator.floordiv),
    "float_mod": ((FLOATS, NONZERO_FLOATS), operator.mod),
    "float_neg": (F, operator.neg),
    "float_abs": (F, abs),
    "float_lt": (FF, operator.lt),
    "float_le": (FF, operator.le),
    "float_eq": (FF, operator.eq),
    "float_ne": (FF, operator.ne),
    "float_gt": (FF, operator.gt),
    "float_ge": (FF, operator.ge),
    "float_is_true": (F, bool),
    "cast_int_to_float": (I, float),
    "cast_float_to_int_ovf": (F, float_to_int),
}


def same(got, expected) -> bool:
    if type(got) is not type(expected):
        return False
    if isinstance(expected, float):
        if math.isnan(expected):
            return math.isnan(got)
        return struct.pack("<d", got) == struct.pack("<d", expected)
    return got == expected


def test_reference_table_covers_every_numeric_op():
    numeric = {n for n in OPS if n.startswith(("int_", "uint_", "float_", "cast_"))}
    assert numeric == set(REFERENCE)


def test_every_op_has_semantics():
    assert set(SEMANTICS) == set(OPS)


@pytest.mark.parametrize("opname", sorted(REFERENCE))
@settings(deadline=None, max_examples=60)
@given(data=st.data())
def test_op_matches_python(opname, data):
    strategies, reference = REFERENCE[opname]
    args = [data.draw(s, label=f"arg{n}") for n, s in enumerate(strategies)]
    try:
        expected = reference(*args)
    except OverflowError:
        with pytest.raises(OverflowError):
            evaluate(opname, *args)
        return
    got = evaluate(opname, *args)
    assert same(got, expected), (opname, args, got, expected)


@pytest.mark.parametrize("opname, args, expected", [
    # shifts by 63 and 64
    ("int_lshift", (1, 63), INT64_MIN), ("int_lshift", (1, 64), 0), ("int_lshift", (-1, 64), 0),
    ("int_lshift", (3, 62), INT64_MIN + 2**62),
    ("int_rshift", (INT64_MIN, 63), -1), ("int_rshift", (-1, 64), -1),
    ("int_rshift", (INT64_MAX, 64), 0), ("int_rshift", (-5, 1), -3),
    ("uint_rshift", (-1, 63), 1), ("uint_rshift", (-1, 64), 0), ("uint_rshift", (-1, 0), -1),
    ("uint_rshift", (INT64_MIN, 1), 2**62),
    ("int_lshift_ovf", (-1, 63), INT64_MIN), ("int_lshift_ovf", (0, 200), 0),
    ("int_lshift_ovf", (1, 62), 2**62),
    # floor division and modulo of negatives
    ("int_floordiv_ovf", (-7, 2), -4), ("int_floordiv_ovf", (7, -2), -4),
    ("int_floordiv_ovf", (-7, -2), 3), ("int_mod_ovf", (-7, 2), 1), ("int_mod_ovf", (7, -2), -1),
    ("int_mod_ovf", (-7, -2), -1), ("int_floordiv_ovf", (INT64_MIN, 1), INT64_MIN),
    ("int_mod_ovf", (INT64_MIN, 2), 0), ("int_floordiv_ovf", (INT64_MIN, 2), -2**62),
    # wrapping at the edges
    ("int_add", (INT64_MAX, 1), INT64_MIN), ("int_neg", (INT64_MIN,), INT64_MIN),
    ("int_mul", (INT64_MIN, -1), INT64_MIN), ("int_sub", (INT64_MIN, 1), INT64_MAX),
    ("uint_lt", (1, -1), True), ("uint_ge", (INT64_MIN, INT64_MAX), True),
    # floats, and casts at 64 bits
    ("float_floordiv", (1.0, 0.1), 9.0), ("float_mod", (-1.0, 3.0), 2.0),
    ("float_mod", (1.0, -3.0), -2.0), ("float_truediv", (1.0, 0.0), math.inf),
    ("float_truediv", (1.0, -0.0), -math.inf), ("float_truediv", (-2.0, 0.0), -math.inf),
    ("cast_float_to_int_ovf", (-2.0**63,), INT64_MIN), ("cast_float_to_int_ovf", (-1.9,), -1),
    ("cast_float_to_int_ovf", (-0.0,), 0), ("cast_int_to_float", (INT64_MAX,), 2.0**63),
])
def test_edges(opname, args, expected):
    assert same(evaluate(opname, *args), expected)


@pytest.mark.parametrize("opname, args", [
    ("int_floordiv_ovf", (INT64_MIN, -1)), ("int_mod_ovf", (INT64_MIN, -1)),
    ("int_add_ovf", (INT64_MAX, 1)), ("int_sub_ovf", (INT64_MIN, 1)),
    ("int_mul_ovf", (2**32, 2**31)), ("int_neg_ovf", (INT64_MIN,)), ("int_abs_ovf", (INT64_MIN,)),
    ("int_lshift_ovf", (1, 63)), ("int_lshift_ovf", (1, 64)), ("int_lshift_ovf", (-1, 10**6)),
    ("cast_float_to_int_ovf", (math.nan,)), ("cast_float_to_int_ovf", (math.inf,)),
    ("cast_float_to_int_ovf", (-math.inf,)), ("cast_float_to_int_ovf", (2.0**63,)),
    ("unbox_int_ovf", (2**63,)), ("unbox_int_ovf", (INT64_MIN - 1,)),
])
def test_overflow_edges(opname, args):
    with pytest.raises(OverflowError):
        evaluate(opname, *args)


def test_truediv_by_zero_is_ieee():
    assert math.isnan(evaluate("float_truediv", 0.0, 0.0))
    assert math.isnan(evaluate("float_truediv", math.nan, -0.0))
    assert evaluate("float_truediv", -math.inf, -0.0) == math.inf


def test_bool_class_is_preserved():
    assert evaluate("int_and", True, False) is False
    assert evaluate("int_or", True, False) is True
    assert evaluate("int_xor", True, True) is False
    assert evaluate("int_and", True, 3) == 1 and type(evaluate("int_and", True, 3)) is int
    result = evaluate("int_add", True, True)
    assert result == 2 and type(result) is int
    result = evaluate("int_add_ovf", True, True)
    assert result == 2 and type(result) is int
    assert evaluate("int_invert", True) == -2
    assert evaluate("int_to_bool", 5) is True and evaluate("int_lt", 1, 2) is True
    assert evaluate("unbox_int_ovf", True) is True
    assert evaluate("box_bool", 1) is True
    assert type(evaluate("box_int", True)) is int
    assert evaluate("same_as_i", False) is False


def test_guards_evaluate_to_whether_they_pass():
    assert evaluate("guard_value", 1.0, 1.0) and not evaluate("guard_value", -0.0, 0.0)
    assert evaluate("guard_value", math.nan, math.nan)
    key = object()
    assert evaluate("guard_value", key, key) and not evaluate("guard_value", [], [])
    assert evaluate("guard_class", True, bool) and not evaluate("guard_class", True, int)
    assert evaluate("guard_true", 3) and evaluate("guard_false", 0)
    assert evaluate("guard_isnull", None) and not evaluate("guard_nonnull", None)
    with pytest.raises(ValueError, match="depends on the state of a run"):
        evaluate("guard_no_overflow")


def test_calls_reraise_in_evaluate():
    assert evaluate("call_i", len, "abc") == 3
    with pytest.raises(ZeroDivisionError):
        evaluate("call_n", lambda: 1 // 0)


# --- units ---------------------------------------------------------------------------

LOOP = """
[i0, i1]
label(i0, i1, descr=loop)
i2 = int_add(i0, 1)
i3 = int_lt(i2, i1)
guard_true(i3) [@portal#0: i2, i1]
jump(i2, i1, descr=loop)
"""


def test_get_backend_finds_the_reference_backend():
    unit = get_backend("reference")(parse_trace(LOOP))
    assert isinstance(unit, ReferenceUnit) and unit.backend_name == "reference"


def test_loop_counts_to_n_and_exits_at_its_guard():
    trace = parse_trace(LOOP)
    unit = compile_unit(trace)
    result = unit.run([0, 10])
    assert result.guard is trace.ops[3]
    assert result.values == [10, 10] and result.iterations == 9
    assert result.exc is None and result.target is None
    assert unit.run([0, 1]).iterations == 0
    assert unit.run([True, 3]).values == [3, 3]


BRIDGE = """
[i0, i1]
i2 = int_lt(i1, 20)
guard_true(i2) [@portal#1: i0, i1]
i3 = int_add(i1, 10)
jump(i0, i3, descr=loop)
"""


def test_an_attached_bridge_runs_instead_of_exiting():
    trace = parse_trace(LOOP)
    bridge = parse_trace(BRIDGE, trace.objects)
    unit = compile_unit(trace)
    unit.attach_bridge(trace.ops[3], bridge)
    result = unit.run([0, 5])
    # the loop exits at 5, 15 and 25; the bridge raises the limit twice, then fails
    assert result.guard is bridge.ops[1]
    assert result.values == [25, 25]
    assert result.iterations == 24


def test_jump_to_a_foreign_label_exits_until_a_bridge_brings_that_label():
    trace = parse_trace("""
        [i0]
        label(i0, descr=outer)
        i1 = int_gt(i0, 0)
        guard_true(i1) [@portal#0: i0]
        i2 = int_sub(i0, 1)
        jump(i2, descr=inner)
    """)
    unit = compile_unit(trace)
    result = unit.run([3])
    assert result.guard is None and result.target is trace.objects["inner"]
    assert result.values == [2] and result.iterations == 0
    bridge = parse_trace("[i0]\nlabel(i0, descr=inner)\ni1 = int_add(i0, 100)\n"
                         "finish(i1, descr=done)\n", trace.objects)
    unit.attach_bridge(trace.ops[2], bridge)
    result = unit.run([3])
    assert result.target is bridge.objects["done"] and result.values == [102]
    assert result.iterations == 1
    result = unit.run([0])            # the guard fails into the bridge
    assert result.values == [100] and result.iterations == 0


def lookup(mapping, key):
    return mapping[key]


CALL = """
[p0, p1]
p2 = call_r(ConstPtr(lookup), p0, p1, descr=lookup_call)
guard_no_exception() [@portal#2: p0, p1]
finish(p2, descr=done)
"""


def test_a_raising_call_exits_at_guard_no_exception_with_the_exception():
    trace = parse_trace(CALL, {"lookup": lookup})
    unit = compile_unit(trace)
    result = unit.run([{"a": 1}, "a"])
    assert result.guard is None and result.values == [1]
    assert result.target is trace.objects["done"]
    mapping = {}
    result = unit.run([mapping, "b"])
    assert result.guard is trace.ops[1]
    assert result.values[0] is mapping and result.values[1] == "b"
    assert type(result.exc) is KeyError and result.exc.args == ("b",)


def test_a_bridge_after_guard_no_exception_sees_the_pending_exception():
    trace = parse_trace(CALL, {"lookup": lookup})
    bridge = parse_trace("[p0, p1]\np2 = guard_exception(ConstPtr(KeyError)) [@portal#3: p0]\n"
                         "finish(p2, descr=handled)\n", {"KeyError": KeyError})
    unit = compile_unit(trace)
    unit.attach_bridge(trace.ops[1], bridge)
    result = unit.run([{}, "k"])
    assert result.target is bridge.objects["handled"]
    assert type(result.values[0]) is KeyError
    result = unit.run([[], "k"])          # TypeError: the bridge's guard fails
    assert result.guard is bridge.ops[0] and type(result.exc) is TypeError


def test_guard_exception_checks_the_exact_class():
    trace = parse_trace("""
        [p0, p1]
        p2 = call_r(ConstPtr(lookup), p0, p1, descr=lookup_call)
        p3 = guard_exception(ConstPtr(KeyError)) [@portal#2: p0]
        finish(p3, descr=caught)
    """, {"lookup": lookup, "KeyError": KeyError})
    unit = compile_unit(trace)
    caught = unit.run([{}, "x"])
    assert type(caught.values[0]) is KeyError and caught.guard is None
    no_exception = unit.run([{"x": 1}, "x"])
    assert no_exception.guard is trace.ops[1] and no_exception.exc is None
    other = unit.run([[], "x"])
    assert other.guard is trace.ops[1] and type(other.exc) is TypeError


def test_an_exception_with_no_guard_after_it_propagates():
    def boom(x):
        raise ValueError(x)

    trace = parse_trace("[p0]\ncall_n(ConstPtr(boom), p0, descr=c)\nfinish(descr=done)\n",
                        {"boom": boom})
    with pytest.raises(ValueError, match="42"):
        compile_unit(trace).run([42])


def test_overflow_guards():
    trace = parse_trace("""
        [i0]
        i1 = int_add_ovf(i0, 1)
        guard_no_overflow() [@portal#0: i0]
        i2 = int_mul_ovf(i1, 2)
        guard_overflow() [@portal#1: i1]
        finish(i2, descr=big)
    """)
    unit = compile_unit(trace)
    assert unit.run([INT64_MAX]).guard is trace.ops[1]
    assert unit.run([INT64_MAX]).values == [INT64_MAX]
    small = unit.run([5])
    assert small.guard is trace.ops[3] and small.values == [6]
    assert unit.run([2**62]).values == [(2**62 + 1) * 2]


def test_guard_not_invalidated_follows_the_unit_flag():
    trace = parse_trace("[i0]\nguard_not_invalidated() [@portal#0: i0]\nfinish(i0, descr=done)\n")
    unit = compile_unit(trace)
    assert unit.run([1]).guard is None
    unit.invalidated = True
    result = unit.run([1])
    assert result.guard is trace.ops[0] and result.values == [1]


def test_finish_after_heap_ops_and_virtual_failargs():
    class Point:
        pass

    trace = parse_trace("""
        [p0, i1]
        p2 = new_with_vtable(descr=Point)
        setfield(p2, p0, descr=Point.x)
        p3 = getfield(p2, descr=Point.x)
        guard_class(p2, ConstPtr(PointCls)) [@portal#0: p0]
        i4 = ptr_eq(p3, p0)
        guard_true(i4) [@portal#1: v0, i1] {v0 = new(Point, x=p3, y=i1)}
        i5 = int_sub(i1, 1)
        guard_true(i5) [@portal#2: v0, i5, p2] {v0 = new(Point, y=i5)}
        finish(p2, p3, descr=done)
    """, {"Point": SizeDescr(Point), "PointCls": Point})
    unit = compile_unit(trace)
    marker = object()
    done = unit.run([marker, 5])
    assert type(done.values[0]) is Point and done.values[0].x is marker
    assert done.values[1] is marker
    exited = unit.run([marker, 1])
    assert exited.guard is trace.ops[7]
    # failargs: the virtual's field i5, then p2 (i5 is not repeated)
    assert exited.values[0] == 0 and type(exited.values[1]) is Point
    assert len(exited.values) == 2


@pytest.mark.parametrize("make, kind, expected", [
    (lambda: bytearray(b"\x05\x07\x09"), "i", 7),
    (lambda: array.array("q", [5, -7, 9]), "i", -7),
    (lambda: numpy.array([5, 7, 9], dtype=numpy.int64), "i", 7),
    (lambda: [5, True, 9], "r", True),
    (lambda: array.array("d", [0.5, 1.5, 2.5]), "f", 1.5),
    (lambda: numpy.array([0.5, -0.0, 2.5]), "f", -0.0),
])
def test_array_ops_on_python_sequences(make, kind, expected):
    seq = make()
    letter = {"i": "i", "f": "f", "r": "p"}[kind]
    trace = parse_trace(f"""
        [p0, i1]
        {letter}2 = getarrayitem_{kind}(p0, i1, descr=items)
        setarrayitem_{kind}(p0, 0, {letter}2, descr=items)
        i3 = arraylen(p0, descr=items)
        finish({letter}2, i3, descr=done)
    """)
    result = compile_unit(trace).run([seq, 1])
    value, length = result.values
    assert same(value, expected) and length == 3 and type(length) is int
    assert same(evaluate(f"getarrayitem_{kind}", seq, 0, descr=trace.objects["items"]),
                expected)


def test_max_iterations_stops_an_endless_loop():
    trace = parse_trace("[i0]\nlabel(i0, descr=l)\ni1 = int_add(i0, 1)\njump(i1, descr=l)\n")
    unit = compile_unit(trace)
    unit.max_iterations = 50
    with pytest.raises(IterationLimit):
        unit.run([0])
