"""Dead code elimination, as traces in text: before and after."""
import textwrap

from metajit.tracer.ir import FieldDescr
from metajit.tracer.opt.base import OptContext
from metajit.tracer.opt.pipeline import optimize
from metajit.tracer.text import format_trace, parse_trace


class Frame:
    pass


def digits(n):
    return len(str(n))


NAMESPACE = {"Frame.code": FieldDescr(Frame, "code", immutable=True), "digits": digits}


def check(source: str, expected: str, removed: int | None = None) -> None:
    trace = parse_trace(textwrap.dedent(source), NAMESPACE)
    ctx = OptContext()
    optimize(trace, "dce", ctx)
    want = parse_trace(textwrap.dedent(expected), trace.objects)
    assert format_trace(trace) == format_trace(want)
    if removed is not None:
        assert ctx.rule_counts["dce"] == removed


def test_an_unused_pure_op_goes():
    check("""
        [i0]
        i1 = int_add(i0, 1)
        i2 = int_mul(i0, 2)
        finish(i1, descr=done)
    """, """
        [i0]
        i1 = int_add(i0, 1)
        finish(i1, descr=done)
    """, removed=1)


def test_a_chain_of_dead_ops_goes_in_one_walk():
    check("""
        [i0, f1]
        i2 = int_add(i0, 1)
        i3 = int_mul(i2, 2)
        i4 = int_lt(i3, 10)
        f5 = cast_int_to_float(i3)
        f6 = float_add(f5, f1)
        finish(i0, descr=done)
    """, """
        [i0, f1]
        finish(i0, descr=done)
    """, removed=5)


def test_a_value_a_guard_resumes_with_stays():
    source = """
        [i0, i1]
        i2 = int_add(i0, i1)
        i3 = int_lt(i0, i1)
        guard_true(i3) [@code#1: i2, bool(i3)]
        finish(i0, descr=done)
    """
    check(source, source, removed=0)


def test_a_value_in_a_virtual_of_a_snapshot_stays():
    source = """
        [i0]
        i1 = int_mul(i0, 3)
        i2 = int_is_true(i0)
        guard_true(i2) [@code#1: v0] {v0 = new(Point, x=i1, y=7)}
        finish(i0, descr=done)
    """
    check(source, source, removed=0)


def test_what_jump_and_label_carry_stays():
    check("""
        [i0, i1]
        label(i0, i1, descr=loop)
        i2 = int_add(i0, 1)
        i3 = int_sub(i1, 1)
        i4 = int_mul(i0, i1)
        jump(i2, i3, descr=loop)
    """, """
        [i0, i1]
        label(i0, i1, descr=loop)
        i2 = int_add(i0, 1)
        i3 = int_sub(i1, 1)
        jump(i2, i3, descr=loop)
    """, removed=1)


def test_an_unused_checked_op_stays_for_its_overflow_guard():
    source = """
        [i0]
        i1 = int_add_ovf(i0, 1)
        guard_no_overflow() [@code#1: i0]
        i2 = int_floordiv_ovf(i0, 7)
        guard_no_overflow() [@code#2: i0]
        finish(i0, descr=done)
    """
    check(source, source, removed=0)


def test_unused_calls_stay_pure_or_not():
    source = """
        [i0]
        i1 = call_i(ConstPtr(digits), i0, descr=digits_c)
        guard_no_exception() [@code#1: i0]
        i2 = call_pure_i(ConstPtr(digits), i0, descr=digits_e)
        guard_no_exception() [@code#2: i0]
        call_n(ConstPtr(digits), i0, descr=digits_n)
        finish(i0, descr=done)
    """
    check(source, source, removed=0)


def test_unused_loads_go_stores_and_allocations_stay():
    check("""
        [p0, p1]
        p2 = getfield(p0, descr=Frame.code)
        i3 = arraylen(p1, descr=bytearray)
        i4 = getarrayitem_i(p1, 0, descr=bytearray)
        p5 = new_with_vtable(descr=Frame)
        setfield(p0, p1, descr=Frame.code)
        setarrayitem_i(p1, 0, 7, descr=bytearray)
        finish(p0, descr=done)
    """, """
        [p0, p1]
        p5 = new_with_vtable(descr=Frame)
        setfield(p0, p1, descr=Frame.code)
        setarrayitem_i(p1, 0, 7, descr=bytearray)
        finish(p0, descr=done)
    """, removed=3)


def test_guards_and_markers_stay_and_keep_what_they_read():
    source = """
        [p0, i1]
        debug_merge_point(descr=here)
        i2 = int_eq(i1, 0)
        guard_false(i2) [@code#1: i1]
        p3 = guard_exception(ConstPtr(Frame)) [@code#2: i1]
        guard_nonnull(p0) [@code#3: i1]
        guard_not_invalidated() [@code#4: i1]
        finish(i1, descr=done)
    """
    check(source, source, removed=0)


def test_a_dead_op_between_live_ones_goes_and_the_order_is_kept():
    check("""
        [i0]
        i1 = int_add(i0, 1)
        i2 = int_add(i1, 1)
        i3 = int_lt(i2, 100)
        guard_true(i3) [@code#1: i1]
        i4 = int_rshift(i1, 2)
        i5 = uint_rshift(i4, 1)
        i6 = int_add(i1, i1)
        finish(i6, descr=done)
    """, """
        [i0]
        i1 = int_add(i0, 1)
        i2 = int_add(i1, 1)
        i3 = int_lt(i2, 100)
        guard_true(i3) [@code#1: i1]
        i6 = int_add(i1, i1)
        finish(i6, descr=done)
    """, removed=2)


def test_a_replaced_result_is_dead_even_when_what_replaces_it_lives():
    trace = parse_trace(textwrap.dedent("""
        [i0]
        i1 = int_add(i0, 0)
        finish(i1, descr=done)
    """))
    add = trace.ops[0]
    add.result.forwarded = trace.inputargs[0]    # what fold does for add_zero
    optimize(trace, "dce")
    assert [op.name for op in trace.ops] == ["finish"]
    assert format_trace(trace) == "[i0]\nfinish(i0, descr=done)\n"


def test_fold_cse_dce_together():
    trace = parse_trace(textwrap.dedent("""
        [i0, i1]
        label(i0, i1, descr=loop)
        i2 = int_add(i0, 0)
        i3 = int_lt(i2, i1)
        i4 = int_lt(i0, i1)
        i5 = int_is_zero(i4)
        guard_false(i5) [@code#1: i0]
        i6 = int_mul(i3, 1)
        i7 = int_add_ovf(i0, 1)
        guard_no_overflow() [@code#2: i0]
        jump(i7, i1, descr=loop)
    """))
    optimize(trace, "fold:cse:dce")
    assert format_trace(trace) == textwrap.dedent("""\
        [i0, i1]
        label(i0, i1, descr=loop)
        i2 = int_ge(i0, i1)
        guard_false(i2) [@code#1: i0]
        i3 = int_add_ovf(i0, 1)
        guard_no_overflow() [@code#2: i0]
        jump(i3, i1, descr=loop)
    """)
