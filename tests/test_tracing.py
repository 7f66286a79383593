"""Tracing semantics: each interpreter runs with the JIT off and on (python and
reference backends) with identical results, the stats show that compiled code ran,
and where the point is what the trace holds, the trace text says so."""
import math
import os
import re

import pytest

from metajit.interp.params import configure
from metajit.tracer.text import format_trace

from jitprogs import arith, objects, recursive

BACKENDS = ["python", "reference"]
M = arith.INT64_MIN
X = arith.INT64_MAX


def differential(jit, backend, func, make_args, threshold=3, bridge_threshold=2,
                 **params):
    """Run ``func(*make_args())`` with the JIT off and on; results compare by repr
    (so ``True`` is not ``1``, ``-0.0`` is not ``0.0``, and NaN equals NaN)."""
    jit(enabled=False)
    expected = func(*make_args())
    stats = jit(backend=backend, threshold=threshold, bridge_threshold=bridge_threshold,
                **params)
    got = func(*make_args())
    assert repr(got) == repr(expected)
    return got, stats


def assert_compiled_ran(stats, iterations=1):
    assert stats.loops >= 1, stats.summary()
    assert stats.compiled_entries >= 1, stats.summary()
    assert stats.compiled_iterations >= iterations, stats.summary()


def traces(portal) -> list[str]:
    """The text of every loop and bridge compiled for ``portal``'s driver."""
    out = []
    for cell in portal._jit_portal_.cells.values():
        for loop in (cell.loops or {}).values():
            out.append(format_trace(loop.unit.trace))
            out.extend(format_trace(b) for b in loop.unit.bridges.values())
    return out


def op_names(text: str) -> list[str]:
    """The operation names of a trace's text, in order."""
    names = []
    for line in text.splitlines()[1:]:
        line = line.split(" = ", 1)[-1] if " = " in line.split("(")[0] else line
        names.append(line.split("(", 1)[0].strip())
    return names


# --- integer and float arithmetic --------------------------------------------------------

INTS = [7, -7, 3, -3, 0, 1, -1, 2, M, X, M + 1, X - 1, 2 ** 64, -(2 ** 70), 63, 64, True,
        False]
FLOATS = [1.0, 0.1, -2.5, 0.0, -0.0, 1e300, -1e-300, math.inf, -math.inf, math.nan, 3.75]
SHIFTS = [0, 1, 2, 62, 63, 64, 65, 200, -1]

BINOPS = {
    "add": (INTS, INTS),
    "sub": (INTS, INTS),
    "mul": (INTS, INTS),
    "floordiv": (INTS, INTS),
    "mod": (INTS, INTS),
    "divmod": (INTS, [7, -7, 1, -1, 0, M, X]),
    "truediv": (INTS, [3, -3, 0, 1.5, 2 ** 70]),
    "lshift": ([1, -1, 3, 0, M, X, 2 ** 64], SHIFTS),
    "rshift": ([1, -1, 3, 0, M, X, 2 ** 70, -(2 ** 70)], SHIFTS),
    "and": (INTS, INTS),
    "or": (INTS, INTS),
    "xor": (INTS, INTS),
    "invert": (INTS, [0]),
    "neg": (INTS, [0, 1]),
    "abs": (INTS + FLOATS, [0, 1]),
    "lt": (INTS + FLOATS, INTS + FLOATS),
    "eq": (INTS + FLOATS, INTS + FLOATS),
    "min": (INTS, [0, -1, M]),
    "int": (FLOATS + [2.0 ** 63, -(2.0 ** 63), 2.0 ** 62, -0.5, 1e19], [0, 1]),
    "float": (INTS, [0, 0.5]),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("op", sorted(BINOPS))
def test_int_operations_match_python(jit, backend, op):
    xs, ys = BINOPS[op]
    _, stats = differential(jit, backend, arith.binop, lambda: (op, list(xs), list(ys)))
    assert_compiled_ran(stats, iterations=5)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("op", ["floordiv", "mod", "divmod", "truediv", "add", "mul", "lt"])
def test_float_operations_match_python(jit, backend, op):
    values = FLOATS + [7, -7, 0]
    got, stats = differential(jit, backend, arith.binop, lambda: (op, list(values),
                                                                  list(values)))
    assert_compiled_ran(stats, iterations=5)
    if op == "floordiv":
        assert arith.binop(op, [1.0], [0.1]) == [9.0]     # not floor(1.0 / 0.1) == 10


@pytest.mark.parametrize("backend", BACKENDS)
def test_int64_min_floordiv_minus_one(jit, backend):
    """In native code INT64_MIN // -1 traps; here it must give 2**63."""
    got, stats = differential(jit, backend, arith.binop,
                              lambda: ("floordiv", [M, M + 1, -8, M, 9, M], [-1, 1, 2]))
    assert got[0] == 2 ** 63 and got[5] == 2 ** 63
    assert_compiled_ran(stats, iterations=5)
    got, stats = differential(jit, backend, arith.binop,
                              lambda: ("mod", [M, M + 1, -8, M, 9, M], [-1, 1, 2]))
    assert got[0] == 0
    assert_compiled_ran(stats, iterations=5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_floordiv_and_mod_of_negatives(jit, backend):
    xs = [-7, 7, -1, 1, -9, 9, -10, 10, -3, 3]
    ys = [2, -2, 3, -3, 10, -10]
    got, _ = differential(jit, backend, arith.binop, lambda: ("floordiv", xs, ys))
    assert got[:4] == [-4, 3, -1, 0]
    got, stats = differential(jit, backend, arith.binop, lambda: ("mod", xs, ys))
    assert got[:4] == [1, 1, 1, 1]
    assert_compiled_ran(stats, iterations=30)


@pytest.mark.parametrize("backend", BACKENDS)
def test_shifts_by_63_and_64(jit, backend):
    got, stats = differential(jit, backend, arith.binop,
                              lambda: ("lshift", [1, 1, 1, -1, 3], [62, 63, 64, 65]))
    assert got[5] == 2 ** 63 and got[10] == 2 ** 64 and got[13] == -(2 ** 64)
    got, stats = differential(jit, backend, arith.binop,
                              lambda: ("rshift", [M, X, -1, 1, 5], [62, 63, 64, 65]))
    assert got[5:10] == [-1, 0, -1, 0, 0] and got[10:15] == [-1, 0, -1, 0, 0]
    assert_compiled_ran(stats, iterations=5)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("op,start,step", [
    ("add", X - 20 * 3 ** 25, 3 ** 25),
    ("sub", M + 20 * 3 ** 25, 3 ** 25),
    ("mul", 1, 3),
    ("mul", -1, 3),
    ("shift", 1, 1),
    ("neg", 3, 1),
    ("other", 3, 5),
])
def test_overflow_mid_loop_is_exact(jit, backend, op, start, step):
    got, stats = differential(jit, backend, arith.accumulate, lambda: (op, 70, start, step))
    assert any(not M <= v <= X for v in got), "the values cross 64 bits"
    assert_compiled_ran(stats, iterations=10)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("m", [2, 4, 7, -4])
def test_branch_on_the_largest_remainder(jit, backend, m):
    got, stats = differential(jit, backend, arith.mod_branch, lambda: (m, 60))
    assert got == sum(100 if i % m == (m - 1 if m > 0 else m + 1) else
                      10 if i % m == 0 else 1 for i in range(-60, 60))
    assert_compiled_ran(stats, iterations=60)


@pytest.mark.parametrize("backend", BACKENDS)
def test_int_and_float_mixed(jit, backend):
    got, stats = differential(jit, backend, arith.int_float_mix, lambda: (0, 60, 1, 0.25))
    assert isinstance(got[-1][0], int) and isinstance(got[-1][1], float)
    assert_compiled_ran(stats, iterations=50)


@pytest.mark.parametrize("backend", BACKENDS)
def test_bool_red_stays_bool_across_guard_failures(jit, backend):
    got, stats = differential(jit, backend, arith.bool_flag, lambda: (0, 60))
    assert got[-1] in ("True", "False") and "five True" in got and "five False" in got
    assert stats.guard_failures >= 1 and stats.bridges >= 1, stats.summary()
    assert_compiled_ran(stats, iterations=30)


# --- objects, hints ----------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("period", [3, 50])
def test_methods_inheritance_and_guard_class(jit, backend, period):
    got, stats = differential(jit, backend, objects.shapes,
                              lambda: (0, objects.make_shapes(120, period)))
    assert_compiled_ran(stats, iterations=50)
    text = "\n".join(traces(objects.shapes))
    assert "guard_class" in text
    assert stats.bridges >= 1        # the other classes get bridges


@pytest.mark.parametrize("backend", BACKENDS)
def test_objects_made_in_the_loop_are_not_allocated(jit, backend):
    got, stats = differential(jit, backend, objects.vectors, lambda: (0, 80))
    assert_compiled_ran(stats, iterations=20)
    assert stats.rule_counts["virtualize.allocation"] >= 3, stats.rule_counts
    assert stats.bridges >= 1 and stats.guard_failures >= 1, stats.summary()
    loop = traces(objects.vectors)[0]
    body = loop[loop.index("descr=loop0.body"):]
    # the temporaries are gone from the peeled body; the one kept in a list is made
    # where it escapes, behind the branch that keeps it
    assert body.count("new_with_vtable") <= 1, body


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("make", [lambda: objects.Config(3, "c"), lambda: objects.SlotConfig(3)],
                         ids=["dict", "slots"])
def test_a_quasi_immutable_field_is_a_constant_until_written(jit, backend, make):
    got, stats = differential(jit, backend, objects.scaled_sum,
                              lambda: (make(), 300, 40))
    assert_compiled_ran(stats, iterations=100)
    assert stats.invalidations >= 2, stats.summary()
    assert stats.loops >= 2, stats.summary()        # traced again after invalidation
    text = traces(objects.scaled_sum)[0]
    assert "guard_not_invalidated" in text
    assert "descr=Config.scale" not in text.split("jump(")[0].replace("setfield", "")
    # the class still behaves as before for code that never runs under the JIT
    obj = make()
    obj.scale = 7
    assert obj.scale == 7 and type(obj).__dict__.get("scale") is not None


def test_a_write_outside_the_jit_invalidates_the_loop(jit):
    cfg = objects.Config(2, "c")
    jit(enabled=False)
    expected = [objects.scaled_sum(objects.Config(2 + k, "c"), 60, 1000) for k in range(2)]
    stats = jit(threshold=3)
    first = objects.scaled_sum(cfg, 60, 1000)
    cfg.scale = 3                      # between two runs, from plain Python
    second = objects.scaled_sum(cfg, 60, 1000)
    assert [first, second] == expected
    assert stats.invalidations == 1 and stats.loops == 2, stats.summary()
    assert_compiled_ran(stats, iterations=40)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("bridge_threshold", [2, 1000])
def test_stores_delayed_past_guards_are_done_on_every_exit(jit, backend, bridge_threshold):
    got, stats = differential(jit, backend, objects.tallied, lambda: (0, 200),
                              bridge_threshold=bridge_threshold)
    assert_compiled_ran(stats, iterations=50)
    assert stats.rule_counts["heap_store_past_guard"] >= 1, stats.rule_counts
    if bridge_threshold == 2:
        assert stats.bridges >= 2, stats.summary()       # bridges do the stores
    else:
        assert stats.guard_failures >= 10, stats.summary()   # resume does them


@pytest.mark.parametrize("backend", BACKENDS)
def test_virtualizable_fields_stay_in_registers_across_calls_not_given_the_frame(jit, backend):
    got, stats = differential(jit, backend, objects.frame_loop, lambda: (0, 200),
                              bridge_threshold=3)
    assert_compiled_ran(stats, iterations=50)
    loop = traces(objects.frame_loop)[0]
    body = loop[loop.index("descr=loop0.body)\nlabel"):]
    assert "call_r(ConstPtr(note)" in body and "setfield" not in body, body
    assert "getfield" not in body, body


@pytest.mark.parametrize("backend", BACKENDS)
def test_lists_made_in_the_loop_are_not_built(jit, backend):
    got, stats = differential(jit, backend, objects.pairs, lambda: (0, 150))
    assert_compiled_ran(stats, iterations=50)
    assert stats.rule_counts["virtualize.list"] >= 1, stats.rule_counts
    loop = traces(objects.pairs)[0]
    body = loop[loop.index("descr=loop0.body)\nlabel"):]
    assert "_make_list" not in body and "getarrayitem" not in body, body


@pytest.mark.parametrize("backend", BACKENDS)
def test_type_of_a_value_is_a_class_guard(jit, backend):
    got, stats = differential(jit, backend, objects.typed_sum,
                              lambda: (0, [3, 1.5, "abc", 7, 7, 7, 2.25, 9], 120))
    assert_compiled_ran(stats, iterations=5)
    text = "\n".join(traces(objects.typed_sum))
    assert "call_r(ConstPtr(type)" not in text, text    # no residual call of type()
    assert "guard_class" in text


@pytest.mark.parametrize("backend", BACKENDS)
def test_immutable_fields_of_a_constant_are_folded(jit, backend, tmp_path):
    got, stats = differential(jit, backend, objects.run_code,
                              lambda: (objects.Code(3, "c", (5, 6, 7)), 30))
    assert_compiled_ran(stats, iterations=20)
    (text,) = traces(objects.run_code)
    ops = op_names(text)
    assert "getfield" not in ops and "getarrayitem_r" not in ops, text
    # the same through the dump files (--dump)
    stats = jit(backend=backend, threshold=3)
    configure(dump_dir=str(tmp_path))
    objects.run_code(objects.Code(3, "c", (5, 6, 7)), 30)
    files = sorted(os.listdir(tmp_path))
    assert "0000-loop0.recorded.txt" in files and "0000-loop0.optimized.txt" in files
    for name in ["0000-loop0.recorded.txt", "0000-loop0.optimized.txt"]:
        text = (tmp_path / name).read_text()
        assert re.search(r"int_mul(_ovf)?\((3, i\d+|i\d+, 3)\)", text), text
        assert "getfield" not in op_names(text), text


@pytest.mark.parametrize("backend", BACKENDS)
def test_mutable_field_is_read_every_time(jit, backend):
    def run():
        code = objects.Code(3, "c", (5, 6, 7))
        code.hits = 11
        return code, 30
    _, stats = differential(jit, backend, objects.run_code_mutable, run)
    assert_compiled_ran(stats, iterations=20)
    (text,) = traces(objects.run_code_mutable)
    assert "getfield" in text and "descr=Code.hits" in text


@pytest.mark.xfail(strict=True, reason="'items[*]' makes the field immutable, but items "
                   "of a list read from a constant object are still getarrayitem: "
                   "the tracer has no notion of an immutable array value")
def test_immutable_list_items_of_a_constant_are_folded(jit):
    _, stats = differential(jit, "python", objects.run_code,
                            lambda: (objects.Code(3, "c", [5, 6, 7]), 30))
    (text,) = traces(objects.run_code)
    assert "getarrayitem_r" not in op_names(text), text


@pytest.mark.parametrize("backend", BACKENDS)
def test_promote_makes_a_red_constant(jit, backend):
    got, stats = differential(jit, backend, objects.promoted, lambda: (0, 60, 7))
    assert_compiled_ran(stats, iterations=40)
    text = traces(objects.promoted)[0]
    assert re.search(r"guard_value\(i\d+, 7\)", text), text
    assert re.search(r"int_mul(_ovf)?\(i\d+, 7\)", text), text   # times the constant


@pytest.mark.parametrize("backend", BACKENDS)
def test_elidable_call_on_constants_is_folded(jit, backend):
    objects.CALLS.clear()
    got, stats = differential(jit, backend, objects.elidable_constant,
                              lambda: ((1, 5, 9, 13), 9, 40))
    assert_compiled_ran(stats, iterations=30)
    (text,) = traces(objects.elidable_constant)
    assert not [op for op in op_names(text) if op.startswith("call")], text
    # called only while tracing and by the interpreter, never from compiled code
    assert len(objects.CALLS) < 2 * 40 - 30


@pytest.mark.parametrize("backend", BACKENDS)
def test_elidable_call_on_variables_is_a_pure_call(jit, backend):
    _, stats = differential(jit, backend, objects.elidable_variable,
                            lambda: ((1, 5, 9, 13), 40))
    assert_compiled_ran(stats, iterations=30)
    (text,) = traces(objects.elidable_variable)
    assert "call_pure_r(ConstPtr(table_lookup)" in text, text


# --- exceptions --------------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_exceptions_raised_and_caught_inside_the_loop(jit, backend):
    got, stats = differential(jit, backend, objects.catching, lambda: (0, 100))
    assert got[1] == 25 + 20 - 5     # caught from both helpers (i % 20 == 19: once)
    assert_compiled_ran(stats, iterations=50)
    assert stats.bridges >= 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_try_except_else_finally_and_reraise(jit, backend):
    got, stats = differential(jit, backend, objects.exception_flow, lambda: (0, 200))
    assert got[0] == 20026 and len(got[1]) == 267
    assert_compiled_ran(stats, iterations=100)
    assert stats.bridges >= 2


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("pc,exc_type,message", [
    (0, objects.GuestError, "guest error 1275"),             # raised by the portal
    (1, ValueError, "residual failure at 50 with 1275"),     # inside a residual call
    (2, objects.GuestError, "guest error -50"),              # inside an inlined helper
])
def test_exception_from_compiled_code_leaves_the_portal(jit, backend, pc, exc_type,
                                                        message):
    jit(enabled=False)
    with pytest.raises(exc_type) as off:
        objects.escaping(pc, 100, 50)
    assert str(off.value) == message
    stats = jit(backend=backend, threshold=3)
    with pytest.raises(exc_type) as on:
        objects.escaping(pc, 100, 50)
    assert type(on.value) is type(off.value) and str(on.value) == message
    assert getattr(on.value, "value", None) == getattr(off.value, "value", None)
    assert_compiled_ran(stats, iterations=40)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("pc", [0, 1, 2])
def test_exception_leaving_the_portal_while_tracing(jit, backend, pc):
    """Raised in the iteration being traced: the trace aborts, the blackhole finishes
    the iteration and the exception leaves the portal as without the JIT."""
    jit(enabled=False)
    with pytest.raises(Exception) as off:
        objects.escaping(pc, 100, 2)
    stats = jit(backend=backend, threshold=3)
    with pytest.raises(Exception) as on:
        objects.escaping(pc, 100, 2)
    assert type(on.value) is type(off.value) and str(on.value) == str(off.value)
    (reason,) = stats.aborts
    assert type(off.value).__name__ in reason, reason
    assert stats.loops == 0


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("pc,expected", [(3, -1275), (4, 1001275)])
def test_return_and_break_from_compiled_code(jit, backend, pc, expected):
    got, stats = differential(jit, backend, objects.escaping, lambda: (pc, 100, 50))
    assert got == expected
    assert_compiled_ran(stats, iterations=40)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("strict_mode", [0, 1])
def test_recursive_portal_call_is_residual(jit, backend, strict_mode):
    """A guest call that calls the portal again is a residual call (the callee runs
    its own compiled loops), never an attempt to trace inside the portal."""
    got, stats = differential(jit, backend, recursive.run, lambda: (2, 100),
                              strict=strict_mode)
    assert got == 6380
    assert stats.loops >= 2, stats.summary()
    assert all("returned while tracing" in reason for reason in stats.aborts), stats.aborts
    text = "\n".join(traces(recursive.run))
    assert "call_r(ConstPtr(run" in text, text


# --- loops in helpers, tuples, containers, globals ---------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_for_loops_in_unroll_safe_helpers(jit, backend, tmp_path):
    got, stats = differential(jit, backend, objects.unrolled, lambda: (4, 60, [1, 2, 3]),
                              )
    assert_compiled_ran(stats, iterations=40)
    text = "\n".join(traces(objects.unrolled))
    assert not [op for op in op_names(text) if op.startswith("call")], text  # inlined
    # the snapshots hold virtual iterators; the dump prints them
    jit(backend=backend, threshold=3, bridge_threshold=2)
    configure(dump_dir=str(tmp_path))
    objects.unrolled(4, 60, [1, 2, 3])
    dumped = "".join((tmp_path / name).read_text() for name in os.listdir(tmp_path))
    assert "new(ListIterator, lst=" in dumped


@pytest.mark.parametrize("backend", BACKENDS)
def test_tuple_packing_and_unpacking(jit, backend):
    got, stats = differential(jit, backend, objects.tuples, lambda: (0, 80))
    assert_compiled_ran(stats, iterations=60)
    (text,) = traces(objects.tuples)
    # the swap and split()'s result stay virtual: only the red ``pair`` is built
    assert "_unpack" not in text and "ConstPtr(split)" not in text, text


@pytest.mark.parametrize("backend", BACKENDS)
def test_dict_and_list_residual_operations(jit, backend):
    got, stats = differential(jit, backend, objects.containers, lambda: (0, 80))
    assert_compiled_ran(stats, iterations=40)


@pytest.mark.parametrize("backend", BACKENDS)
def test_global_int_constant(jit, backend):
    got, stats = differential(jit, backend, objects.read_global, lambda: (0, 80))
    assert_compiled_ran(stats, iterations=60)
    text = traces(objects.read_global)[0]
    assert re.search(r"guard_value\(i\d+, 7\)", text), text
    # the global changes: the guard catches it, the result follows
    try:
        objects.LIMIT = 5
        assert objects.read_global(0, 80) == sum(i % 5 for i in range(80))
        assert objects.containers(0, 30) == _containers_plain(30)
    finally:
        objects.LIMIT = 7


def _containers_plain(n):
    saved = configure().enabled
    configure(enabled=False)
    try:
        return objects.containers(0, n)
    finally:
        configure(enabled=saved)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_list_made_every_iteration_is_never_built_in_the_loop(jit, backend):
    got, stats = differential(jit, backend, objects.sliding_window, lambda: (0, 300))
    assert_compiled_ran(stats, iterations=250)
    assert stats.rule_counts["virtualize.label_fields"] >= 2, stats.summary()
    text = "\n".join(traces(objects.sliding_window))
    body = text[text.rindex("label("):]
    assert "call_r" not in body, body       # the list display is never called
