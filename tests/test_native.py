"""The native backend: every lowering against the reference, random traces, exact
Python semantics at the edges (overflow, shifts, division, floats, bounds), exits,
ticks, bridges, and the Brainfuck VM on native code."""
from __future__ import annotations

import copy
import math

import pytest
from hypothesis import given, note, settings

pytest.importorskip("llvmlite")
pytest.importorskip("numba")

from metajit.backend import lowering, native  # noqa: E402
from metajit.backend.base import ExitResult, get_backend  # noqa: E402
from metajit.backend.reference import compile_unit as reference_unit  # noqa: E402
from metajit.tracer.ir import (INT64_MAX, INT64_MIN, OPS, ArrayDescr, CallDescr,  # noqa: E402
                               FieldDescr, Flag, TargetDescr)
from metajit.tracer.text import format_trace  # noqa: E402

from test_pysource import (OVF, VALUE_CASES, TraceBuilder, assert_same_exit,  # noqa: E402
                           bridge_for, counting_loop, random_units, same_value)
from tracegen import canonical, traces_with_inputs  # noqa: E402

NAN = float("nan")
INF = float("inf")
BYTES = ArrayDescr("bytearray", "i")


class Thing:
    pass


def both(trace):
    """The native unit and the reference unit of one trace."""
    return native.compile_unit(trace), reference_unit(trace)


def outcome(unit, inputs):
    try:
        return unit.run(list(inputs))
    except Exception as exc:     # both backends must raise alike
        return type(exc)


# --- the op table and the lowerings ------------------------------------------------

def test_every_op_is_lowered_or_ineligible_with_a_reason():
    lowered = set(lowering.LOWERINGS) | set(lowering.CONTROL)
    ineligible = set(lowering.INELIGIBLE)
    assert lowered.isdisjoint(ineligible)
    assert lowered | ineligible == set(OPS), sorted(set(OPS) ^ (lowered | ineligible))
    assert all(lowering.INELIGIBLE.values())


def _single(name):
    spec = OPS[name]
    b = TraceBuilder("".join(spec.args))
    res = b.op(name, *b.inputs)
    ovf = b.op("guard_no_overflow") if spec.has(Flag.CAN_OVERFLOW) else None
    if spec.result != "v" and not spec.has(Flag.GUARD):
        b.finish(res)
    else:
        b.finish()
    return b.trace(), res, ovf


NATIVE_CASES = [(n, i, e) for n, cases in VALUE_CASES.items() for i, e in cases
                if n not in lowering.INELIGIBLE]


@pytest.mark.parametrize("name,inputs,expected", NATIVE_CASES)
def test_op_values(name, inputs, expected):
    trace, res, ovf = _single(name)
    unit = native.compile_unit(trace)
    assert unit.backend_name == "native"
    out = unit.run(list(inputs))
    assert_same_exit(out, reference_unit(trace).run(list(inputs)))
    if OPS[name].has(Flag.GUARD):
        assert (out.guard is None) is expected
    elif expected is OVF:
        assert out.guard is ovf
        assert all(same_value(g, e) for g, e in zip(out.values, inputs))
    else:
        assert same_value(out.values[0], expected), (name, inputs, out.values, expected)


@pytest.mark.parametrize("name", sorted(lowering.INELIGIBLE))
def test_ineligible_ops_say_why(name):
    trace = _single(name)[0]
    reason = native.eligible(trace)
    assert reason == lowering.INELIGIBLE[name]
    with pytest.raises(native.Ineligible):
        native.compile_unit(trace)
    if OPS[name].descr is None:       # the Python backend needs the descr
        unit = native.compile_unit_or_python(trace)
        assert unit.backend_name == "python" and unit.native_reason == reason


def test_get_backend_native():
    assert get_backend("native") is native.compile_unit_or_python


# --- Python semantics at the edges ---------------------------------------------------

EDGES = [
    # overflow: the guard fails, never a wrong value
    ("int_add_ovf", (INT64_MAX, 1)), ("int_sub_ovf", (INT64_MIN, 1)),
    ("int_mul_ovf", (1 << 32, 1 << 32)), ("int_mul_ovf", (-1, INT64_MIN)),
    ("int_neg_ovf", (INT64_MIN,)), ("int_abs_ovf", (INT64_MIN,)),
    ("int_lshift_ovf", (1, 63)), ("int_lshift_ovf", (0, 1000)), ("int_lshift_ovf", (5, 64)),
    ("int_lshift_ovf", (1, -1)),
    # shifts of 64 or more take Python's value; negative counts raise ValueError
    ("int_lshift", (5, 64)), ("int_lshift", (5, 1 << 40)), ("int_rshift", (-5, 64)),
    ("int_rshift", (5, 200)), ("uint_rshift", (-1, 64)), ("int_lshift", (1, -1)),
    ("int_rshift", (1, -3)), ("uint_rshift", (1, -64)),
    # division: zero raises ZeroDivisionError, INT64_MIN / -1 overflows (no SIGFPE)
    ("int_floordiv_ovf", (7, 0)), ("int_mod_ovf", (7, 0)),
    ("int_floordiv_ovf", (INT64_MIN, -1)), ("int_mod_ovf", (INT64_MIN, -1)),
    ("int_floordiv_ovf", (-7, 2)), ("int_mod_ovf", (7, -2)), ("int_mod_ovf", (-7, -2)),
    ("int_floordiv_ovf", (INT64_MIN, 2)), ("int_mod_ovf", (INT64_MAX, INT64_MIN)),
    # floats: CPython's floor division and modulo, zero divisors raise
    ("float_floordiv", (1.0, 0.1)), ("float_mod", (1.0, 0.1)), ("float_floordiv", (-1.0, 0.1)),
    ("float_mod", (-0.0, 3.0)), ("float_mod", (0.0, -3.0)), ("float_floordiv", (-0.0, 3.0)),
    ("float_floordiv", (1.0, INF)), ("float_floordiv", (-1.0, INF)), ("float_mod", (-1.0, INF)),
    ("float_floordiv", (INF, 2.0)), ("float_mod", (NAN, 2.0)), ("float_floordiv", (5e-324, -1.0)),
    ("float_floordiv", (1.0, 0.0)), ("float_mod", (1.0, -0.0)),
    ("float_truediv", (1.0, 0.0)), ("float_truediv", (-1.0, -0.0)),
    # float to int: range and nan checked before fptosi
    ("cast_float_to_int_ovf", (NAN,)), ("cast_float_to_int_ovf", (-INF,)),
    ("cast_float_to_int_ovf", (9.3e18,)), ("cast_float_to_int_ovf", (-9223372036854775808.0,)),
    ("cast_float_to_int_ovf", (9223372036854775807.0,)), ("cast_float_to_int_ovf", (-0.999,)),
    # nan compares false except !=
    ("float_lt", (NAN, NAN)), ("float_ne", (NAN, 1.0)), ("float_eq", (NAN, NAN)),
    ("float_is_true", (NAN,)), ("float_ge", (INF, NAN)),
]


@pytest.mark.parametrize("name,inputs", EDGES)
def test_edges_agree_with_the_reference(name, inputs):
    trace = _single(name)[0]
    ours, theirs = both(trace)
    got, expected = outcome(ours, inputs), outcome(theirs, inputs)
    assert_same_exit(got, expected)


def test_guard_value_of_floats_compares_bits():
    b = TraceBuilder("f")
    g = b.op("guard_value", b.inputs[0], -0.0)
    b.finish()
    unit = native.compile_unit(b.trace())
    assert unit.run([-0.0]).guard is None
    assert unit.run([0.0]).guard is g
    b = TraceBuilder("f")
    g = b.op("guard_value", b.inputs[0], NAN)
    b.finish()
    unit = native.compile_unit(b.trace())
    assert unit.run([NAN]).guard is None and unit.run([1.0]).guard is g


def test_references_are_carried_by_identity():
    thing, other = Thing(), Thing()
    b = TraceBuilder("rrr")
    p0, p1, p2 = b.inputs
    eq = b.op("ptr_eq", p0, p1)
    g_class = b.op("guard_class", p0, Thing)
    g_value = b.op("guard_value", p2, thing, live=[p0, p1, p2, eq])
    g_null = b.op("guard_nonnull", p1)
    b.finish(eq, p0, p1, p2, None)
    ours, theirs = both(b.trace())
    for inputs in ([thing, thing, thing], [thing, other, thing], [thing, None, thing],
                   [other, other, other], [1, 1, thing], [thing, thing, None]):
        got = ours.run(list(inputs))
        assert_same_exit(got, theirs.run(list(inputs)))
        for value, expected in zip(got.values, theirs.run(list(inputs)).values):
            assert value is expected or same_value(value, expected)
    assert {g_class, g_value, g_null}


def test_boxed_values_leave_as_new_objects():
    b = TraceBuilder("if")
    pi = b.op("box_int", b.inputs[0])
    pb = b.op("box_bool", b.inputs[0])
    pf = b.op("box_float", b.inputs[1])
    b.finish(pi, pb, pf)
    out = native.compile_unit(b.trace()).run([3, 2.5])
    assert [type(v) for v in out.values] == [int, bool, float]
    assert out.values == [3, True, 2.5]


def test_boxed_values_used_natively_are_ineligible():
    b = TraceBuilder("i")
    p = b.op("box_int", b.inputs[0])
    b.op("guard_nonnull", p)
    b.finish()
    assert native.eligible(b.trace()) == "a boxed value used by guard_nonnull"


def test_bool_class_survives_exits():
    b = TraceBuilder("ii")
    lt = b.op("int_lt", *b.inputs)
    both_ = b.op("int_and", lt, lt, kind="i")
    both_.pyclass = bool
    g = b.op("guard_true", b.inputs[0], live=[lt, both_])
    b.finish(lt, both_, True, 7)
    unit = native.compile_unit(b.trace())
    out = unit.run([1, 2])
    assert out.values == [True, True, True, 7] and type(out.values[0]) is bool
    out = unit.run([0, 2])
    assert out.guard is g and [type(v) for v in out.values] == [bool, bool]


# --- buffers -------------------------------------------------------------------------

def _tape_loop(step: int):
    """label(tape, pos); tape[pos] += 1 (mod 256) with no bounds guard of its own;
    pos += step; jump: walks off either end unless native code checks bounds."""
    b = TraceBuilder("ri")
    tape, pos = b.inputs
    v = b.op("getarrayitem_i", tape, pos, descr=BYTES)
    w = b.op("int_and", b.op("int_add", v, 1), 255)
    b.op("setarrayitem_i", tape, pos, w, descr=BYTES)
    b.jump(tape, b.op("int_add", pos, step))
    return b.trace()


@pytest.mark.parametrize("step,start", [(1, 0), (-1, 5), (1 << 20, 0), (-(1 << 40), 3)])
def test_buffers_are_never_accessed_out_of_bounds(step, start):
    ours, theirs = both(_tape_loop(step))
    tape, twin = bytearray(8), bytearray(8)
    with pytest.raises(IndexError):
        theirs.run([twin, start])
    with pytest.raises(IndexError):
        ours.run([tape, start])
    assert tape == twin       # the writes before the error happened alike


def test_store_out_of_byte_range_raises_like_python():
    b = TraceBuilder("rii")
    b.op("setarrayitem_i", *b.inputs, descr=BYTES)
    b.finish()
    ours, theirs = both(b.trace())
    for value in (256, -1, 255, 0):
        assert outcome(ours, [bytearray(2), 1, value]) == outcome(theirs, [bytearray(2), 1, value]) \
            or ours.run([bytearray(2), 1, value]).guard is None


def test_buffer_length_and_negative_indexes():
    b = TraceBuilder("ri")
    n = b.op("arraylen", b.inputs[0], descr=BYTES)
    v = b.op("getarrayitem_i", b.inputs[0], b.inputs[1], descr=BYTES)
    b.finish(n, v)
    unit = native.compile_unit(b.trace())
    data = bytearray(b"\x01\x02\x03")
    assert unit.run([data, -1]).values == [3, 3]
    assert unit.run([data, 0]).values == [3, 1]
    with pytest.raises(IndexError):
        unit.run([data, -4])
    with pytest.raises(IndexError):
        unit.run([bytearray(), 0])


def test_list_storage_is_ineligible():
    b = TraceBuilder("ri")
    b.op("getarrayitem_i", *b.inputs, descr=ArrayDescr("list", "i"))
    b.finish()
    assert native.eligible(b.trace()) == "list storage"


# --- loops, exits, ticks ---------------------------------------------------------------

def test_counting_loop_and_its_exits():
    b, ovf, exit_guard = counting_loop()
    unit = native.compile_unit(b.trace())
    assert unit.run([0, 1000]) == ExitResult(exit_guard, [1000, 1000], None, None, 999)
    assert unit.run([INT64_MAX, INT64_MAX]) == ExitResult(ovf, [INT64_MAX, INT64_MAX],
                                                          None, None, 0)


def test_long_loops_leave_at_ticks_and_count_every_iteration():
    b, _, exit_guard = counting_loop()
    unit = native.compile_unit(b.trace())
    n = 3 * lowering.TICK_INTERVAL + 17
    out = unit.run([0, n])
    assert out == ExitResult(exit_guard, [n, n], None, None, n - 1)
    assert unit.ticks == 3


def test_peeled_loop_keeps_preamble_values_across_ticks():
    """The body label takes one value; the body reads two from the preamble.  A
    tick re-enters at the body label with all three."""
    b = TraceBuilder("ii")
    i0, i1 = b.inputs
    i2 = b.op("int_add", b.op("int_rshift", i1, 62), 1)    # 1
    i3 = b.op("int_add", i1, 1)
    body = b.label(i0, name="body")
    i4 = b.op("int_add", i0, i2)
    g = b.op("guard_true", b.op("int_lt", i4, i3), live=[i4, i2, i3])
    b.jump(i4, target=body)
    ours, theirs = both(b.trace())
    n = 5 * lowering.TICK_INTERVAL
    assert_same_exit(ours.run([0, n]), theirs.run([0, n]))
    assert ours.ticks >= 1 and ours.run([0, n]).guard is g


def test_finish_and_foreign_jump():
    other = TargetDescr("other_loop")
    b = TraceBuilder("i")
    g = b.op("guard_true", b.op("int_gt", b.inputs[0], 0))
    b.jump(b.inputs[0], 1.5, None, target=other)
    unit = native.compile_unit(b.trace())
    assert unit.run([3]) == ExitResult(None, [3, 1.5, None], None, other, 0)
    assert unit.run([0]).guard is g


def test_guard_not_invalidated_reads_the_unit_flag():
    b = TraceBuilder("i")
    g = b.op("guard_not_invalidated")
    b.finish(b.inputs[0])
    unit = native.compile_unit(b.trace())
    assert unit.run([1]).guard is None
    unit.invalidated = True
    assert unit.run([1]).guard is g


# --- bridges ---------------------------------------------------------------------------

def _loop_with_exit_guard():
    """i += 1 while i < 10, then a guard i != 20 fails; bridges go on from there."""
    b = TraceBuilder("i")
    i1 = b.op("int_add", b.inputs[0], 1)
    g = b.op("guard_true", b.op("int_lt", i1, 10), live=[i1])
    b.jump(i1)
    return b, g


def _loop_and_bridge():
    """The loop above, natively and on the reference, with a bridge on its exit
    guard that adds 5 and jumps back until 100 (then its own guard fails)."""
    b, g = _loop_with_exit_guard()
    unit = native.compile_unit(b.trace())
    br = bridge_for(g)
    x = br.op("int_add", br.inputs[0], 5)
    g2 = br.op("guard_true", br.op("int_lt", x, 100), live=[x])
    br.jump(x, target=b.target)
    unit.attach_bridge(g, br.trace())
    ref = reference_unit(b.trace())
    ref.attach_bridge(g, br.trace())
    return unit, ref, g, g2


def test_bridges_are_inlined_and_recompiled():
    unit, ref, g, g2 = _loop_and_bridge()
    assert unit.compiles == 2 and not unit.python_bridges
    out = unit.run([0])
    assert_same_exit(out, ref.run([0]))
    assert out.guard is g2


def test_bridges_beyond_the_recompile_limit_run_on_python(monkeypatch):
    monkeypatch.setattr(native, "MAX_RECOMPILES", 0)
    unit, ref, g, g2 = _loop_and_bridge()
    assert unit.compiles == 1 and id(g) in unit.python_bridges
    out = unit.run([0])
    assert_same_exit(out, ref.run([0]))
    assert out.guard is g2 and unit.python_runs >= 1
    # a bridge on the bridge's guard goes to the Python unit of that bridge
    br2 = bridge_for(g2)
    br2.finish(br2.inputs[0], reason="done")
    unit.attach_bridge(g2, br2.trace())
    ref.attach_bridge(g2, br2.trace())
    assert_same_exit(unit.run([0]), ref.run([0]))


def test_ineligible_bridge_runs_on_python():
    b, g = _loop_with_exit_guard()
    unit = native.compile_unit(b.trace())
    holder = Thing()
    holder.x = 42
    br = bridge_for(g)
    p = br.op("getfield", holder, descr=FieldDescr(Thing, "x"), kind="r")
    br.finish(br.inputs[0], p)
    unit.attach_bridge(g, br.trace())
    out = unit.run([0])
    assert out.guard is None and out.values == [10, 42]
    assert unit.python_runs == 1 and unit.bridge_runs_on(g) == "python"
    assert unit.bridge_reason[id(g)] == "field access (getfield)"


# --- residual calls: leave, call, re-enter ---------------------------------------------------

def _halve(x):
    if x < 0:
        raise ValueError(x)
    if x == 7:
        return True          # a bool where the trace has an int
    if x == 9:
        return 1 << 70       # no 64-bit value
    return x // 2


def _call_loop():
    """label(i0, i1); i2 = call_i(halve, i0); guard_no_exception; i3 = i1 + i2;
    i4 = i0 - 1; guard i4 > 0; jump(i4, i3)"""
    b = TraceBuilder("ii")
    i0, i1 = b.inputs
    i2 = b.op("call_i", _halve, i0, descr=CallDescr("halve", result="i"))
    g_exc = b.op("guard_no_exception", live=[i0, i1, i2])
    i3 = b.op("int_add", i1, i2)
    i4 = b.op("int_sub", i0, 1)
    g_end = b.op("guard_true", b.op("int_gt", i4, 0), live=[i4, i3])
    b.jump(i4, i3)
    return b.trace(), g_exc, g_end


@pytest.mark.parametrize("start", [6, 5, 0])
def test_calls_leave_and_reenter(start):
    trace, g_exc, g_end = _call_loop()
    ours, theirs = both(trace)
    before = native.COUNTERS["calls"]
    got = ours.run([start, 0])
    assert_same_exit(got, theirs.run([start, 0]))
    assert native.COUNTERS["calls"] == before + max(start, 1)
    assert got.guard is g_end


@pytest.mark.parametrize("start", [10, 12])
def test_call_result_outside_64_bits_leaves_at_the_guard(start):
    """halve(9) is 2**70: the run leaves at the guard after the call, whose
    snapshot resumes there with the big int (where the reference, computing in
    Python ints, would carry it on)."""
    trace, g_exc, g_end = _call_loop()
    got = native.compile_unit(trace).run([start, 0])
    assert got.guard is g_exc and got.exc is None
    assert got.values[0] == 9 and got.values[2] == 1 << 70 and got.iterations == start - 9


def test_a_raising_call_fails_its_exception_guard():
    trace, g_exc, _ = _call_loop()
    ours, theirs = both(trace)
    out = ours.run([-3, 0])
    assert_same_exit(out, theirs.run([-3, 0]))
    assert out.guard is g_exc and type(out.exc) is ValueError and out.values == [-3, 0, None]


def test_bool_result_where_the_trace_has_an_int_leaves_at_the_guard():
    trace, g_exc, _ = _call_loop()
    out = native.compile_unit(trace).run([8, 0])
    assert out.guard is g_exc and out.values == [7, 4, True] and type(out.values[2]) is bool


def test_call_results_need_an_exception_guard():
    b = TraceBuilder("i")
    r = b.op("call_i", _halve, b.inputs[0], descr=CallDescr("halve", result="i"))
    b.finish(r)
    assert native.eligible(b.trace()) == "a call result without guard_no_exception after the call"


def test_objects_from_calls_unbox_natively():
    """call_r returns an object: guard_class and unbox_int_ovf read what the run
    glue wrote beside it; an int outside 64 bits overflows."""
    b = TraceBuilder("i")
    p = b.op("call_r", lambda x: x * 3, b.inputs[0], descr=CallDescr("triple"))
    b.op("guard_no_exception", live=[b.inputs[0]])
    g_cls = b.op("guard_class", p, int, live=[p])
    i = b.op("unbox_int_ovf", p)
    ovf = b.op("guard_no_overflow", live=[p])
    b.finish(i, p)
    ours, theirs = both(b.trace())
    for x in (5, 1 << 62, 1.5):
        assert_same_exit(ours.run([x]) if type(x) is int else ours.run([x]),
                         theirs.run([x]))
    assert ours.run([1 << 62]).guard is ovf
    assert ours.run([1.5]).guard is g_cls


# --- random traces -------------------------------------------------------------------------

@settings(deadline=None, max_examples=60)
@given(random_units())
def test_random_units_agree_with_the_reference(case):
    trace, bridges, inputs = case
    note(format_trace(trace))
    note(repr(inputs))
    # ints and bools mix at the labels of these traces: such a unit is not native
    # (its exits could not give each value its class) and runs on Python
    ours, theirs = native.compile_unit_or_python(trace), reference_unit(trace)
    note(ours.backend_name)
    for guard, bridge in bridges:
        ours.attach_bridge(guard, bridge)
        theirs.attach_bridge(guard, bridge)
    assert_same_exit(outcome(ours, inputs), outcome(theirs, inputs))


def _check_loop(case):
    trace, inputs = case
    assert native.eligible(trace) is None, native.eligible(trace)
    ours, theirs = both(trace)
    mine, yours = copy.deepcopy(inputs), copy.deepcopy(inputs)
    got, expected = outcome(ours, mine), outcome(theirs, yours)
    if isinstance(expected, type):
        assert got is expected
    else:
        assert (got.guard, got.target, got.iterations) == \
            (expected.guard, expected.target, expected.iterations)
        memo_a, memo_b = {}, {}
        canonical(mine, memo_a)
        canonical(yours, memo_b)
        assert canonical(got.values, memo_a) == canonical(expected.values, memo_b)
    assert canonical(mine, {}) == canonical(yours, {})


@settings(deadline=None, max_examples=80)
@given(traces_with_inputs(native_only=True))
def test_generated_loops_agree_with_the_reference(case):
    _check_loop(case)


@pytest.mark.slow
@settings(deadline=None, max_examples=1500, derandomize=False)
@given(traces_with_inputs(native_only=True))
def test_generated_loops_agree_with_the_reference_deep(case):
    _check_loop(case)


def test_field_descr_is_not_lowered():
    b = TraceBuilder("r")
    b.op("getfield", b.inputs[0], descr=FieldDescr(Thing, "x"))
    b.finish()
    assert "getfield" in native.eligible(b.trace())


def test_nan_inputs_and_outputs_round_trip():
    b = TraceBuilder("f")
    b.finish(b.inputs[0], b.op("float_add", b.inputs[0], 1.0))
    out = native.compile_unit(b.trace()).run([NAN])
    assert all(math.isnan(v) for v in out.values)


# --- signals ---------------------------------------------------------------------------

class Alarm(Exception):
    pass


def test_a_signal_handler_runs_while_a_native_loop_spins():
    """A loop that would run for years leaves at a tick: the SIGALRM handler runs
    and its exception propagates out of the unit."""
    import signal
    import time
    b, _, _ = counting_loop()
    unit = native.compile_unit(b.trace())

    def on_alarm(signum, frame):
        raise Alarm

    previous = signal.signal(signal.SIGALRM, on_alarm)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        t0 = time.perf_counter()
        with pytest.raises(Alarm):
            unit.run([0, INT64_MAX])
        assert time.perf_counter() - t0 < 5
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert unit.ticks >= 1


# --- the Brainfuck VM on native code ------------------------------------------------------

from test_jit_bf import PROGRAMS, run_bf  # noqa: E402


@pytest.mark.parametrize("backend", ["native", "auto"])
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_bf_programs_on_native_code(jit, name, backend):
    source, data = PROGRAMS[name]
    jit(enabled=False)
    expected = run_bf(source, data)
    stats = jit(backend=backend, threshold=3, bridge_threshold=2, strict=1,
                native_threshold=0)
    got = run_bf(source, data)
    assert got == expected
    summary = stats.summary()
    assert stats.compiled_entries >= 1 and stats.compiled_iterations >= 1, summary
    assert stats.backend_counts["native"] >= 1, summary
    assert not stats.native_ineligible, dict(stats.native_ineligible)
    if backend == "auto":
        assert native.COUNTERS["promotions"] >= 1


def test_hostile_tape_walks_stay_in_bounds(jit):
    """Walking far right grows the tape (a residual call between native runs);
    walking left of cell 0 is the guest's error, reported as without the JIT."""
    jit(enabled=False)
    hop = ">" * 100
    # carries a counter 40 hops of 100 cells to the right: the 8-cell tape grows
    right = "+" * 40 + "[[" + hop + "+" + "<" * 100 + "-]" + hop + "-]" + "+" * 65 + "."
    left = "++++++++++[>+<-]>[<<+>>-]"
    expected = [run_bf(right), run_bf(left)]
    stats = jit(backend="native", threshold=2, bridge_threshold=2)
    assert [run_bf(right), run_bf(left)] == expected
    assert expected[1].endswith(b">")
    assert stats.backend_counts["native"] >= 1


def test_interrupting_a_native_loop(tmp_path):
    """``+[]`` spins in native code; SIGINT stops it with the clean message."""
    import json
    from test_cli import interrupt_spinning_loop
    stats_path = tmp_path / "stats.json"
    options = ["--backend", "native", "--param", "threshold=2", "--stats-json",
               str(stats_path)]
    # numba's import and the compile take a second or two, then it spins
    assert interrupt_spinning_loop(tmp_path, options, 3.0) == (130, "interrupted\n")
    stats = json.loads(stats_path.read_text())
    assert stats["backend_counts"].get("native", 0) >= 1
    assert stats["native"]["ticks"] >= 1


def test_tiered_unit_moves_to_native_code_with_its_bridges():
    unit_ref = _loop_and_bridge()
    ref, g = unit_ref[1], unit_ref[2]
    b, g_loop = _loop_with_exit_guard()
    changes = []
    tiered = native.TieredUnit(b.trace(), threshold=12)    # a run: 9 iterations and its entry
    tiered.on_backend_change = lambda old, new, reason: changes.append((old, new, reason))
    br = bridge_for(g_loop)
    x = br.op("int_add", br.inputs[0], 5)
    br.op("guard_true", br.op("int_lt", x, 100), live=[x])
    br.jump(x, target=b.target)
    tiered.attach_bridge(g_loop, br.trace())
    outs = [tiered.run([0]) for _ in range(4)]
    assert changes == [("python", "native", None)] and tiered.backend_name == "native"
    assert isinstance(tiered.current, native.NativeUnit)
    assert tiered.current.bridge_runs_on(g_loop) == "native"
    expected = ref.run([0])          # the same loop and bridge, on the reference
    assert all((o.values, o.iterations) == (expected.values, expected.iterations)
               for o in outs)
    assert g is not None


def test_tiered_unit_stays_on_python_when_native_code_cannot_run_it():
    b = TraceBuilder("r")
    b.op("getfield", b.inputs[0], descr=FieldDescr(Thing, "x"))
    b.finish()
    changes = []
    tiered = native.TieredUnit(b.trace(), threshold=0)
    tiered.on_backend_change = lambda old, new, reason: changes.append((old, new, reason))
    thing = Thing()
    thing.x = 1
    tiered.run([thing])
    tiered.run([thing])
    assert changes == [("python", "python", "field access (getfield)")]
    assert tiered.backend_name == "python"


def test_hot_units_are_compiled_again_at_o2(monkeypatch):
    monkeypatch.setattr(native, "FULL_AFTER", 3)
    b, ovf, exit_guard = counting_loop()
    unit = native.compile_unit(b.trace())
    first = unit.address
    outs = [unit.run([0, 100]) for _ in range(4)]
    assert unit.level == "full" and unit.address != first and unit.compiles == 2
    assert all(o == ExitResult(exit_guard, [100, 100], None, None, 99) for o in outs)


def test_a_call_may_enter_the_unit_again():
    """The callee runs the same unit (a guest call through the portal) and a bridge
    attaches meanwhile: the outer run goes on with the code it started with."""
    holder = {}

    def recurse(x):
        if x <= 2:
            return x
        unit = holder["unit"]
        if "bridge" in holder and id(holder["guard"]) not in unit.bridges:
            unit.attach_bridge(holder["guard"], holder["bridge"])
        return unit.run([x - 2, 0]).values[1]

    b = TraceBuilder("ii")
    i0, i1 = b.inputs
    i2 = b.op("call_i", recurse, i0, descr=CallDescr("recurse", result="i"))
    b.op("guard_no_exception", live=[i0, i1, i2])
    i3 = b.op("int_add", i1, i2)
    i4 = b.op("int_sub", i0, 1)
    g_end = b.op("guard_true", b.op("int_gt", i4, 0), live=[i4, i3])
    b.jump(i4, i3)
    trace = b.trace()
    br = bridge_for(g_end)
    br.finish(br.inputs[0], br.op("int_add", br.inputs[1], 1000))
    results = []
    for make in (reference_unit, native.compile_unit):
        holder.clear()
        holder["unit"] = make(trace)
        holder["guard"], holder["bridge"] = g_end, br.trace()
        results.append(holder["unit"].run([9, 0]))
    assert_same_exit(results[1], results[0])
    assert results[1].guard is None          # the bridge attached during the run


# --- loops that jump to each other ------------------------------------------------------------

def _follow(units: dict, descr, inputs):
    """Run compiled loops as the warm state does: a jump to another loop's label
    enters that loop's unit (counting the jump as an iteration)."""
    iterations = 0
    while True:
        res = units[id(descr)].run(list(inputs))
        iterations += res.iterations
        if res.guard is not None or id(res.target) not in units:
            return res, iterations
        descr, inputs = res.target, res.values
        iterations += 1


def test_loops_that_jump_to_each_other_share_one_native_unit():
    """Loop A counts i up and jumps to loop B every time; B adds i to a sum and
    jumps back to A: compiled after B, A takes B into its own code."""
    import types
    a, bl = TraceBuilder("ii", name="A"), TraceBuilder("ii", name="B")
    i, total = a.inputs
    i1 = a.op("int_add", i, 1)
    g_a = a.op("guard_true", a.op("int_lt", i1, 50000), live=[i1, total])
    a.jump(i1, total, target=bl.target)
    j, t = bl.inputs
    t1 = bl.op("int_add_ovf", t, j)
    bl.op("guard_no_overflow", live=[j, t])
    bl.jump(j, t1, target=a.target)
    results = []
    def hot_unit(trace):
        return native.NativeUnit(trace, level="full")

    for make in (reference_unit, hot_unit):
        a.target.owner = None            # A is not compiled yet
        unit_b = make(bl.trace())
        bl.target.owner = types.SimpleNamespace(unit=unit_b)
        unit_a = make(a.trace())
        a.target.owner = types.SimpleNamespace(unit=unit_a)
        units = {id(a.target): unit_a, id(bl.target): unit_b}
        results.append(_follow(units, a.target, [0, 0]))
    (ref, ref_iterations), (got, got_iterations) = results
    assert (got.guard, got.values, got_iterations) == (ref.guard, ref.values, ref_iterations)
    assert got.guard is g_a and got.values == [50000, sum(range(1, 50000))]
    assert [t.name for t in unit_a.layout.connected] == ["B"]
    assert got.iterations == got_iterations      # one native run did it all


# --- the persistent code cache -------------------------------------------------------------------

def _run_cached(tmp_path, cache, name):
    import json
    import subprocess
    import sys
    from test_cli import ROOT
    from test_jit_bf import PROGRAMS as programs
    program = tmp_path / "squares.b"
    program.write_text(programs["squares"][0])
    stats_path = tmp_path / f"{name}.json"
    result = subprocess.run([sys.executable, "-m", "metajit", "run", "--backend", "native",
                             "--param", "threshold=3", "--param", f"cache_dir={cache}",
                             "--stats-json", str(stats_path), str(program)],
                            cwd=ROOT, capture_output=True, timeout=300)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout, json.loads(stats_path.read_text())


def test_a_second_process_compiles_nothing_and_corrupt_entries_recompile(tmp_path):
    cache = tmp_path / "cache"
    first_out, first = _run_cached(tmp_path, cache, "first")
    second_out, second = _run_cached(tmp_path, cache, "second")
    assert first_out == second_out == run_bf(PROGRAMS["squares"][0])
    assert first["native"]["cache_misses"] >= 1 and first["native"]["cache_stores"] >= 1
    assert second["native"]["cache_hits"] == first["native"]["cache_misses"]
    assert "cache_misses" not in second["native"]
    assert second["backend_counts"] == first["backend_counts"]
    # every entry damaged: each is rejected, recompiled and stored again
    entries = sorted(cache.rglob("*.o"))
    assert entries
    for path in entries:
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    (cache / "junk").mkdir()
    third_out, third = _run_cached(tmp_path, cache, "third")
    assert third_out == first_out
    assert third["native"]["cache_rejected"] == len(entries)
    assert "cache_hits" not in third["native"]
    assert third["native"]["cache_stores"] == len(entries)


def test_stats_report_each_native_compile(jit):
    """The stats give every native compile's time, with its median and maximum."""
    from metajit.interp.stats import get_stats
    source, data = PROGRAMS["nested"]
    stats = jit(backend="native", threshold=3, bridge_threshold=2)
    run_bf(source, data)
    counters = get_stats().as_json()["native"]
    times = counters["unit_compile_ms"]
    assert len(times) == counters["compiles"] >= 1, counters
    assert counters["compile_ms_max"] == max(times) > 0
    assert min(times) <= counters["compile_ms_median"] <= max(times)
    assert "native:" in stats.summary() and "compiles, median" in stats.summary()
