"""Bridges enter a peeled loop's body: the body's label takes every preamble value
the body uses (close_body_label), and a bridge that jumps to the loop's start gets
its own copy of the preamble, optimised with what the bridge knows (enter_body)."""
import copy
import re

import pytest
from hypothesis import given

from metajit.tracer.ir import ArrayDescr, Box, Op, TargetDescr, Trace
from metajit.tracer.opt.base import OptContext
from metajit.tracer.opt.body_entry import (close_body_label, enter_body, preamble_guards,
                                           preamble_length)
from metajit.tracer.opt.pipeline import optimize
from metajit.tracer.text import format_trace, parse_trace
from tracegen import clone_trace, run_to_completion, traces_with_inputs

BYTES = ArrayDescr("bytearray", "i")


A = bytearray       # the tape's class, which the loop guards


LOOP = """\
[p0, i1]
label(p0, i1, descr=loop)
guard_class(p0, ConstPtr(A)) [@code#0: p0, i1]
i2 = arraylen(p0, descr=bytes)
i3 = int_lt(i1, i2)
guard_true(i3) [@code#0: p0, i1]
i4 = int_ge(i1, 0)
guard_true(i4) [@code#0: p0, i1]
i5 = getarrayitem_i(p0, i1, descr=bytes)
i6 = int_sub(i5, 1)
i7 = int_and(i6, 255)
setarrayitem_i(p0, i1, i7, descr=bytes)
guard_true(i7) [@code#1: p0, i1]
jump(p0, i1, descr=loop)
"""
NAMES = {"bytes": BYTES, "A": A}


def closed_loop():
    trace = parse_trace(LOOP, NAMES)
    optimize(trace, "all", OptContext())
    return trace


def body_of(trace) -> list[str]:
    """The body's lines, snapshots included."""
    text = format_trace(trace).splitlines()
    start = max(i for i, line in enumerate(text) if line.startswith("label("))
    return text[start:]


def test_the_body_label_takes_the_preamble_values_the_body_uses():
    trace = closed_loop()
    before = body_of(trace)
    # the body's guard would store into p0 at i1, the preamble's values, which
    # its label does not take
    assert any("p0" in op for op in before[1:]), before
    assert close_body_label(trace) == 2
    after = body_of(trace)
    label, jump = after[0], after[-1]
    assert not any(re.search(r"\b(p0|i1)\b", op) for op in after), after
    args = label[len("label("):].split(", ")[:-1]
    # the new arguments are passed back unchanged; the cell's value changes
    assert jump == f"jump(i12, {', '.join(args[1:])}, descr=loop.body)", after
    entry = [line for line in format_trace(trace).splitlines()
             if line.startswith("jump(") and "loop.body" in line][0]
    assert entry.endswith("p0, i1, descr=loop.body)"), entry
    assert preamble_length(trace) is not None
    assert close_body_label(trace) == 0        # closed already


def test_an_unclosed_body_cannot_be_entered():
    trace = closed_loop()
    assert preamble_length(trace) is None
    assert enter_body(bridge_to(trace), trace, 1000) is None


def bridge_to(loop, *known_class_of_p0):
    p, i = Box("r"), Box("i")
    ops = []
    if known_class_of_p0:
        from metajit.tracer.ir import Const
        ops.append(Op("guard_class", [p, Const("r", A)], None, None,
                      copy.copy(loop.ops[1].snapshot.map_entries(lambda v: p if v.kind == "r" else i))))
    ops.append(Op("jump", [p, i], loop.ops[0].descr))
    return Trace([p, i], ops, "bridge")


def test_a_bridge_enters_the_body_through_its_own_copy_of_the_preamble():
    loop = closed_loop()
    close_body_label(loop)
    bridge = bridge_to(loop, True)
    guards = enter_body(bridge, loop, 1000)
    assert guards is not None and len(guards) == len(preamble_guards(loop))
    assert all(g not in loop.ops for g in guards)
    ctx = OptContext()
    optimize(bridge, "all", ctx)
    text = format_trace(bridge)
    assert text.rstrip().endswith("descr=loop.body)"), text
    # the bridge knew p0's class: the copy's class guard went
    assert text.count("guard_class") == 1, text
    assert bridge.ops[-1].descr is loop.ops[-1].descr


def test_what_a_bridge_does_not_enter():
    loop = closed_loop()
    close_body_label(loop)
    assert enter_body(bridge_to(loop), loop, preamble_length(loop) - 1) is None
    other = bridge_to(loop)
    other.ops[-1].descr = TargetDescr("elsewhere")
    assert enter_body(other, loop, 1000) is None
    finish = Trace([Box("i")], [Op("finish", [])], "ends")
    assert enter_body(finish, loop, 1000) is None
    unpeeled = parse_trace(LOOP, NAMES)
    assert enter_body(bridge_to(unpeeled), unpeeled, 1000) is None


@given(case=traces_with_inputs())
def test_a_loop_entered_through_a_bridge_means_what_the_loop_means(case):
    """The loop optimised and closed, entered by a bridge that jumps to its start,
    its copy of the preamble optimised as a bridge: runs to the same completion as
    the original loop from the same inputs."""
    trace, inputs = case
    loop = clone_trace(trace)
    optimize(loop, "all")
    close_body_label(loop)
    entry = [Box(b.kind, b.pyclass) for b in trace.inputargs]
    bridge = Trace(entry, [Op("jump", list(entry), loop.ops[0].descr)], "bridge")
    if enter_body(bridge, loop, 10**6) is None:
        assert preamble_length(loop) is None      # no peeled loop
        return
    optimize(bridge, "all")
    start = TargetDescr("entered")
    labels = [k for k, op in enumerate(loop.ops) if op.name == "label"]
    composite = Trace(entry, [Op("label", list(entry), start)] + bridge.ops
                      + loop.ops[labels[-1]:], "entered")
    expected = run_to_completion(trace, trace, copy.deepcopy(inputs))
    got = run_to_completion(trace, composite, copy.deepcopy(inputs))
    assert got == expected, format_trace(composite)


# --- end to end: a guest program whose bridges enter the body --------------------------

@pytest.mark.parametrize("backend", ["python", "native"])
def test_bridges_of_a_guest_loop_enter_its_body(jit, backend):
    """mandelbrot.lua's inner loop exits through a guard whose bridges go round to
    the loop's start: they enter the body, and the program prints what it prints
    with the JIT off; with ``bridge_preamble_limit=0`` they go through the preamble."""
    from lua_support import run_ours
    if backend == "native":
        from metajit.backend.base import native_available
        if not native_available():
            pytest.skip("llvmlite and numba are not installed")
    jit(enabled=False)
    plain = run_ours("mandelbrot.lua", [], b"")
    outputs = {}
    for limit in (0, 400):
        stats = jit(backend=backend, bridge_preamble_limit=limit)
        outputs[limit] = run_ours("mandelbrot.lua", [], b"")
        entered = stats.rule_counts["body_entry.bridge_enters_body"]
        assert (entered >= 1) == (limit > 0), stats.summary()
        assert stats.bridges >= 1 and stats.compiled_iterations >= 1000, stats.summary()
        if backend == "native":
            assert stats.backend_counts["native"] >= 1, stats.summary()
    assert outputs[0] == outputs[400] == plain


@pytest.mark.parametrize("backend", ["reference", "python", "native"])
def test_a_unit_entered_at_the_body_label_runs_the_body(backend):
    """``unit.enter(T1, values)`` starts at the body's label: entered with what
    the preamble's jump passes (its first decrement done, in memory too), the
    unit ends as a run from the start does, one jump sooner."""
    from metajit.backend.base import get_backend, native_available
    if backend == "native" and not native_available():
        pytest.skip("llvmlite and numba are not installed")
    loop = closed_loop()
    close_body_label(loop)
    body_label = [op for op in loop.ops if op.name == "label"][-1]
    assert len(body_label.args) == 3          # the cell's value, the tape, the index
    compile_unit = get_backend(backend, cache_dir="off")
    outcomes = []
    for enter in (False, True):
        tape = A([7, 4 if enter else 5, 7])
        unit = compile_unit(loop)
        res = unit.enter(body_label.descr, [4, tape, 1]) if enter else unit.run([tape, 1])
        # the cell's last store waits in the failing guard's snapshot
        values = ["tape" if v is tape else v for v in res.values]
        outcomes.append((res.guard, values, bytes(tape), res.iterations))
    (ran_guard, *ran), (entered_guard, *entered) = outcomes
    assert ran_guard is entered_guard is not None and ran_guard in loop.ops
    assert ran[:2] == entered[:2] and 0 in ran[0] and ran[1] == bytes([7, 4, 7]), outcomes
    # the run's first decrement was the preamble's, and its jump into the body an iteration
    assert ran[2] == entered[2] + 1, outcomes


@pytest.mark.parametrize("backend", ["python", "reference",
                                     pytest.param("native", marks=pytest.mark.slow)])
def test_loops_and_bridges_enter_the_bodies_of_other_loops(jit, backend):
    """table.b's loops follow one another: loops and bridges that end where another
    loop starts enter its body (the units entered at their body's label), and the
    program prints what it prints with the JIT off."""
    import pathlib
    from test_jit_bf import run_bf
    if backend == "native":
        from metajit.backend.base import native_available
        if not native_available():
            pytest.skip("llvmlite and numba are not installed")
    source = (pathlib.Path(__file__).parent.parent / "examples/bf/programs/table.b").read_text()
    jit(enabled=False)
    plain = run_bf(source)
    stats = jit(backend=backend, threshold=7, bridge_threshold=3, cache_dir="off")
    assert run_bf(source) == plain
    assert stats.rule_counts["body_entry.loop_enters_body"] >= 1, stats.summary()
    assert stats.rule_counts["body_entry.bridge_enters_body"] >= 1, stats.summary()
    assert stats.compiled_iterations >= 10_000, stats.summary()
