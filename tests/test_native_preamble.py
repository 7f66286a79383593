"""Peeled loops whose preamble reads objects (Python) and whose body is native: the
split unit exits exactly as the Python-source backend's unit of the whole trace,
with bridges on either part, and a portal over a frame object runs its loop's body
in native code."""
from __future__ import annotations

import dataclasses

import pytest

pytest.importorskip("llvmlite")
pytest.importorskip("numba")

from metajit.backend import native  # noqa: E402
from metajit.backend.native_preamble import PythonPreambleUnit, split_peeled  # noqa: E402
from metajit.backend.pysource import compile_unit as python_unit  # noqa: E402
from metajit.tracer.ir import FieldDescr  # noqa: E402
from metajit.tracer.text import format_trace, parse_trace  # noqa: E402

from test_pysource import assert_same_exit  # noqa: E402


class Frame:
    def __init__(self, limit):
        self.limit = limit


NAMES = {"Frame": Frame, "int": int, "Frame.limit": FieldDescr(Frame, "limit")}

# i counts up to frame.limit; r is carried unchanged (the bridges count rounds in it)
PEELED = """\
[p0, i1, i2]
label(p0, i1, i2, descr=loop)
guard_class(p0, ConstPtr(Frame)) [@code#0: p0, i1, i2]
p3 = getfield(p0, descr=Frame.limit)
guard_class(p3, ConstPtr(int)) [@code#1: p0, i1, i2]
i4 = unbox_int_ovf(p3)
guard_no_overflow() [@code#1: p0, i1, i2]
guard_not_invalidated() [@code#1: p0, i1, i2]
i5 = int_add(i1, 1)
i6 = int_lt(i5, i4)
guard_true(i6) [@code#2: p0, i5, i2]
jump(i5, descr=loop.body)
label(i7, descr=loop.body)
guard_not_invalidated() [@code#1: p0, i7, i2] store(p0, Frame.limit=p3)
i8 = int_add({step}, 1)
i9 = int_lt(i8, i4)
guard_true(i9) [@code#2: p0, i8, i2] store(p0, Frame.limit=p3)
jump(i8, descr=loop.body)
"""


def peeled(step: str = "i7"):
    """The trace, and its guards by name: the preamble's, then the body's."""
    trace = parse_trace(PEELED.format(step=step), dict(NAMES))
    guards = [op for op in trace.ops if op.is_guard()]
    return trace, guards


def bridge(trace, text: str):
    return parse_trace(text, trace.objects)


def rounds_bridge(trace, rounds: int):
    """A bridge of the body's last guard: counts a round in r and goes back ten,
    to the loop's start, until round ``rounds``."""
    return bridge(trace, f"""\
[p0, i1, i2, p3]
i4 = int_add(i2, 1)
i5 = int_lt(i4, {rounds})
guard_true(i5) [@code#3: p0, i1, i4]
i6 = int_sub(i1, 10)
jump(p0, i6, i4, descr=loop)
""")


def first_guard(trace):
    return next(op for op in trace.ops if op.is_guard())


def units(trace, bridges=()):
    """The split unit and the Python-source unit of one trace, the same bridges
    attached to both."""
    ours, theirs = native.native_unit(trace), python_unit(trace)
    for guard, br in bridges:
        ours.attach_bridge(guard, br)
        theirs.attach_bridge(guard, br)
    return ours, theirs


def run_both(ours, theirs, limit, i=0, r=0, frame_class=Frame):
    """Each unit runs on a frame of its own (a bridge may write to it); a frame in
    the exit's values stands for its limit."""
    got = ours.run([frame_class(limit), i, r])
    expected = theirs.run([frame_class(limit), i, r])
    assert_same_exit(_frames_by_limit(got), _frames_by_limit(expected))
    return got


def _frames_by_limit(res):
    return dataclasses.replace(res, values=[v.limit if type(v) is Frame else v
                                            for v in res.values])


# --- splitting ----------------------------------------------------------------------------

def test_the_body_takes_the_preamble_values_it_uses():
    trace, guards = peeled()
    preamble, body = split_peeled(trace)
    # the body label's value, then the invariants in order of first use: p0, i2
    # and p3 in a snapshot (p3 in a delayed store), then i4 in an op
    assert format_trace(preamble).splitlines()[-1] == "jump(i5, p0, i2, p3, i4, descr=loop.body)"
    text = format_trace(body).splitlines()
    assert text[0] == "[i0, p1, i2, p3, i4]"
    assert text[1] == "label(i5, p6, i7, p8, i9, descr=loop.body)"
    assert text[-1] == "jump(i10, p6, i7, p8, i9, descr=loop.body)"
    # the parts share the trace's guards: bridges and resume find them
    assert [op for op in preamble.ops if op.is_guard()] == guards[:5]
    assert [op for op in body.ops if op.is_guard()] == guards[5:]
    assert native.eligible(trace) == "field access (getfield)"
    assert native.eligible(body) is None


def test_traces_that_are_not_peeled_loops_are_not_split():
    trace, _ = peeled()
    assert split_peeled(parse_trace(PEELED.split("label(i7")[0].replace(
        "descr=loop.body", "descr=loop"), dict(NAMES))) is None
    # the body must close on its own label
    assert split_peeled(parse_trace(PEELED.format(step="i7").replace(
        "jump(i8, descr=loop.body)", "jump(p0, i8, i2, descr=loop)"), dict(NAMES))) is None
    assert split_peeled(trace) is not None


# --- runs: the same exits as the Python backend ----------------------------------------------

@pytest.mark.parametrize("limit,i", [
    (100, 0),          # the body's guard_true fails at the end
    (5000, 10),
    (1, 0),            # the preamble's guard_true fails
    (2, 0),            # the body's guard fails on its first iteration
    ("ten", 0),        # guard_class of the field's value fails
    (1 << 70, 0),      # unboxing overflows
])
def test_split_unit_exits_as_the_python_backend(limit, i):
    trace, _ = peeled()
    ours, theirs = units(trace)
    assert isinstance(ours, PythonPreambleUnit) and ours.backend_name == "native"
    run_both(ours, theirs, limit, i)


def test_a_guard_class_of_the_frame_fails_in_the_preamble():
    trace, guards = peeled()
    ours, theirs = units(trace)
    assert run_both(ours, theirs, 10, frame_class=lambda limit: limit).guard is guards[0]


def test_the_body_runs_natively_and_counts_iterations():
    trace, guards = peeled()
    ours, theirs = units(trace)
    out = run_both(ours, theirs, 3000)
    assert out.guard is guards[-1] and out.iterations == 2999
    assert ours.body.entries == 1


def test_a_native_bridge_of_a_body_guard_jumps_back_to_the_loop():
    """r, which the bridge counts, is carried unchanged by the body (an invariant
    of the preamble)."""
    trace, guards = peeled()
    br = rounds_bridge(trace, 5)
    ours, theirs = units(trace, [(guards[-1], br)])
    assert ours.bridge_runs_on(guards[-1]) == "native"
    out = run_both(ours, theirs, 50)
    assert out.guard is first_guard(br) and out.values[2] == 5


def test_a_python_bridge_of_a_body_guard_writes_the_field_and_loops():
    """The bridge raises the limit (setfield: on Python); the preamble reads the
    new limit when the loop starts again."""
    trace, guards = peeled()
    br = bridge(trace, """\
[p0, i1, i2, p3]
i4 = int_lt(i1, 500)
guard_true(i4) [@code#3: p0, i1, i2]
i5 = int_add(i1, 100)
p6 = box_int(i5)
setfield(p0, p6, descr=Frame.limit)
jump(p0, i1, i2, descr=loop)
""")
    ours, theirs = units(trace, [(guards[-1], br)])
    assert ours.bridge_runs_on(guards[-1]) == "python"
    assert ours.bridge_reason[id(guards[-1])] == "field access (setfield)"
    out = run_both(ours, theirs, 50)
    assert out.guard is first_guard(br) and out.values[1] == out.values[0].limit == 550


def test_a_bridge_of_a_preamble_guard_runs_with_the_preamble():
    trace, guards = peeled()
    br = bridge(trace, """\
[p0, i1, i2]
finish(i1, i2, descr=done)
""")
    ours, theirs = units(trace, [(guards[1], br)])       # guard_class of the field
    assert ours.bridge_runs_on(guards[1]) == "python"
    out = run_both(ours, theirs, "ten", 7, 3)
    assert out.guard is None and out.values == [7, 3]
    run_both(ours, theirs, 100)


def test_invalidation_reaches_both_parts():
    trace, guards = peeled()
    ours, theirs = units(trace)
    ours.invalidated = theirs.invalidated = True
    assert ours.preamble.invalidated and ours.body.invalidated
    assert run_both(ours, theirs, 100).guard is guards[3]


def test_values_boxed_in_the_preamble_enter_the_body_as_objects():
    """A float the preamble boxed is an object the body is given, not a value the
    body would box on the way out."""
    text = PEELED.format(step="i7").replace(
        "i5 = int_add(i1, 1)\n",
        "f20 = cast_int_to_float(i4)\np21 = box_float(f20)\ni5 = int_add(i1, 1)\n").replace(
        "guard_true(i9) [@code#2: p0, i8, i2]", "guard_true(i9) [@code#2: p0, i8, i2, p21]")
    trace = parse_trace(text, dict(NAMES))
    ours, theirs = units(trace)
    assert isinstance(ours, PythonPreambleUnit)
    assert run_both(ours, theirs, 30).values[3] == 30.0


# --- which backend -----------------------------------------------------------------------------

def test_the_body_reason_counts_when_the_body_is_not_native_either():
    trace, _ = peeled()
    text = PEELED.format(step="i7").replace(
        "i8 = int_add(i7, 1)", "p10 = getfield(p0, descr=Frame.limit)\ni8 = int_add(i7, 1)")
    unit = native.compile_unit_or_python(parse_trace(text, dict(NAMES)))
    assert unit.backend_name == "python" and unit.native_reason == "field access (getfield)"
    before = native.COUNTERS["python_preambles"]
    unit = native.compile_unit_or_python(trace)
    assert unit.backend_name == "native" and native.COUNTERS["python_preambles"] == before + 1


def test_tiered_unit_moves_to_a_split_unit_with_its_bridges():
    trace, guards = peeled()
    body_bridge = rounds_bridge(trace, 3)
    preamble_bridge = bridge(trace, "[p0, i1, i2]\nfinish(i1, descr=done)\n")
    changes = []
    tiered = native.TieredUnit(trace, threshold=1)
    tiered.on_backend_change = lambda old, new, reason: changes.append((old, new, reason))
    theirs = python_unit(trace)
    for guard, br in [(guards[-1], body_bridge), (guards[1], preamble_bridge)]:
        tiered.attach_bridge(guard, br)
        theirs.attach_bridge(guard, br)
    outs = [run_both(tiered, theirs, limit) for limit in (40, 40, "x", 40)]
    assert changes == [("python", "native", None)]
    assert isinstance(tiered.current, PythonPreambleUnit)
    assert tiered.bridge_runs_on(guards[-1]) == "native"
    assert tiered.bridge_runs_on(guards[1]) == "python"
    assert outs[-1].guard is first_guard(body_bridge)


def test_identical_bodies_share_code_and_different_bodies_do_not():
    """Native code is keyed by the body's code alone: another preamble with the
    same body shares its function, another body gets its own."""
    trace, _ = peeled()
    same_body = parse_trace(PEELED.format(step="i7").replace(
        "guard_class(p0, ConstPtr(Frame)) [@code#0: p0, i1, i2]\n", ""), dict(NAMES))
    other_body = parse_trace(PEELED.format(step="i7").replace(
        "i8 = int_add(i7, 1)", "i8 = int_add(i7, 2)"), dict(NAMES))
    a, b, c = (native.native_unit(t) for t in (trace, same_body, other_body))
    assert a.body.address == b.body.address != c.body.address
    assert run_both(c, python_unit(other_body), 101).values[1] == 101


# --- a portal over a frame object -----------------------------------------------------------

from jitprogs import frames  # noqa: E402

LIMITS = [50, 3000, 10, 4000, 7, 2000]


def split_units(driver) -> list:
    out = []
    for cell in driver.state.cells.values():
        for loop in (cell.loops or {}).values():
            unit = getattr(loop.unit, "current", loop.unit)     # a tiered unit's
            if isinstance(unit, PythonPreambleUnit):
                out.append(unit)
    return out


@pytest.mark.parametrize("backend", ["native", "auto"])
def test_a_loop_over_frame_fields_runs_its_body_natively(jit, backend):
    jit(enabled=False)
    expected = frames.run_frames(LIMITS)
    stats = jit(backend=backend, threshold=3, bridge_threshold=2, native_threshold=0)
    assert frames.run_frames(LIMITS) == expected
    summary = stats.summary()
    assert stats.backend_counts["native"] >= 1, summary
    assert native.COUNTERS["python_preambles"] >= 1, summary
    units = split_units(frames.limit_driver)
    assert units and sum(u.body.entries for u in units) >= 1, summary
    assert stats.compiled_iterations > 1000, summary
