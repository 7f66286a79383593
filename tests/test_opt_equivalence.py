"""Every pass, and the default pipeline, keeps the meaning of random loops.

A generated loop (tests/tracegen.py) and a copy optimised by one pass (or by the
whole pipeline, loop peeling included) run to completion from fresh, identical
inputs: each run until a guard fails, then the original trace resumed from that
guard's snapshot to the guard where the loop ends.  Both must end at the same
position with the same live values and the same side effects on every object and
array.  A failure prints the generated loop, the optimised trace, and both
completions.
"""
from __future__ import annotations

import copy

import pytest
from hypothesis import given

from metajit.tracer.opt.pipeline import PASSES, UNROLL, optimize
from metajit.tracer.text import format_trace
from tracegen import (CELL_A, CELL_B, Completion, aliased, clone_trace, run_to_completion,
                      traces_with_inputs)

PIPELINES = sorted(PASSES) + [UNROLL, "all"]


def check_equivalent(case, enable_opts: str) -> None:
    """The loop optimised by ``enable_opts`` completes as the original does, from
    the generated inputs and from the same inputs with every object aliased."""
    trace, inputs = case
    optimized = clone_trace(trace)
    optimize(optimized, enable_opts)
    for start in (inputs, aliased(inputs)):
        expected = run_to_completion(trace, trace, copy.deepcopy(start))
        try:
            got = run_to_completion(trace, optimized, copy.deepcopy(start))
        except Exception as exc:
            raise AssertionError(f"the trace optimised by {enable_opts!r} fails to run from "
                                 f"{start!r}: {type(exc).__name__}: {exc}\n--- optimised:\n"
                                 f"{format_trace(optimized)}") from exc
        assert got == expected, (
            f"{enable_opts!r} changes the meaning of the loop from {start!r}\n"
            f"--- optimised:\n{format_trace(optimized)}--- original completes as\n"
            f"{expected}\n--- optimised completes as\n{got}")


@pytest.mark.parametrize("enable_opts", PIPELINES)
@given(case=traces_with_inputs())
def test_optimising_keeps_the_meaning_of_random_loops(enable_opts, case):
    check_equivalent(case, enable_opts)


# --- the check itself: it runs the loops it claims to, and it sees a wrong trace ---------

@given(case=traces_with_inputs())
def test_a_loop_completes_the_same_from_a_copy_and_from_itself(case):
    trace, inputs = case
    first = run_to_completion(trace, trace, copy.deepcopy(inputs))
    again = run_to_completion(trace, clone_trace(trace), copy.deepcopy(inputs))
    assert isinstance(first, Completion) and first == again
    assert trace.ops[first.pc].is_guard() or trace.ops[first.pc + 1].name == "guard_no_overflow"


def test_generated_loops_cover_the_op_families():
    seen: set[str] = set()
    ends: set[str] = set()

    @given(case=traces_with_inputs())
    def collect(case):
        trace, inputs = case
        seen.update(op.name for op in trace.ops)
        end = run_to_completion(trace, trace, copy.deepcopy(inputs))
        ends.add(trace.ops[end.pc].name)

    collect()
    families = {"int_add_ovf", "int_floordiv_ovf", "getfield", "setfield",
                "new_with_vtable", "arraylen", "guard_class", "guard_value", "guard_false",
                "call_pure_i", "call_n", "guard_no_exception", "unbox_int_ovf"}
    assert families <= seen, sorted(families - seen)
    assert {"float_truediv", "float_floordiv", "float_mod"} & seen
    assert {"getarrayitem_i", "getarrayitem_r"} & seen and \
        {"setarrayitem_i", "setarrayitem_r"} & seen
    assert len(ends) >= 3, ends       # loops end at different guards, not only the countdown


def test_a_miscompiled_loop_is_caught():
    """A "pass" that stores each field's value into the other field is caught."""
    from hypothesis import Phase, assume, settings

    @settings(max_examples=200, phases=[Phase.generate])   # found is enough: no shrinking
    @given(case=traces_with_inputs())
    def find_a_store(case):
        trace, inputs = case
        assume(any(op.name == "setfield" for op in trace.ops))
        expected = run_to_completion(trace, trace, copy.deepcopy(inputs))
        broken = clone_trace(trace)
        for op in broken.ops:
            if op.name == "setfield":
                op.descr = CELL_B if op.descr is CELL_A else CELL_A
        got = run_to_completion(trace, broken, copy.deepcopy(inputs))
        assume(got != expected)
        raise _Caught

    with pytest.raises(_Caught):
        find_a_store()


class _Caught(Exception):
    pass

