"""Common-subexpression elimination, as traces in text: before and after."""
import textwrap

from metajit.tracer.ir import ArrayDescr, FieldDescr
from metajit.tracer.opt.base import OptContext
from metajit.tracer.opt.pipeline import optimize
from metajit.tracer.opt.unroll import peel
from metajit.tracer.text import format_trace, parse_trace


class Frame:
    pass


def digits(n):
    return len(str(n))


NAMESPACE = {
    "Frame.code": FieldDescr(Frame, "code", immutable=True),
    "Frame.name": FieldDescr(Frame, "name", immutable=True),
    "Frame.pc": FieldDescr(Frame, "pc"),
    "tuple": ArrayDescr("tuple", "r", immutable=True),
    "bytearray": ArrayDescr("bytearray", "i"),
    "digits": digits,
}


def check(source: str, expected: str, merged: int | None = None) -> None:
    trace = parse_trace(textwrap.dedent(source), NAMESPACE)
    ctx = OptContext()
    optimize(trace, "cse", ctx)
    want = parse_trace(textwrap.dedent(expected), trace.objects)
    assert format_trace(trace) == format_trace(want)
    if merged is not None:
        assert ctx.rule_counts["cse"] == merged


def test_a_pure_op_computed_twice_is_computed_once_snapshots_included():
    check("""
        [i0, i1]
        i2 = int_add(i0, i1)
        i3 = int_add(i0, i1)
        i4 = int_lt(i3, 10)
        guard_true(i4) [@code#1: i3, i2]
        finish(i2, i3, descr=done)
    """, """
        [i0, i1]
        i2 = int_add(i0, i1)
        i4 = int_lt(i2, 10)
        guard_true(i4) [@code#1: i2, i2]
        finish(i2, i2, descr=done)
    """, merged=1)


def test_commutative_ops_match_in_either_order_others_do_not():
    check("""
        [i0, i1]
        i2 = int_mul(i0, i1)
        i3 = int_mul(i1, i0)
        i4 = int_sub(i0, i1)
        i5 = int_sub(i1, i0)
        i6 = int_lt(i0, i1)
        i7 = int_gt(i1, i0)
        finish(i2, i3, i4, i5, i6, i7, descr=done)
    """, """
        [i0, i1]
        i2 = int_mul(i0, i1)
        i4 = int_sub(i0, i1)
        i5 = int_sub(i1, i0)
        i6 = int_lt(i0, i1)
        i7 = int_gt(i1, i0)
        finish(i2, i2, i4, i5, i6, i7, descr=done)
    """, merged=1)


def test_merging_one_op_lets_the_ops_that_use_it_merge_too():
    check("""
        [i0]
        i1 = int_add(i0, 1)
        i2 = int_mul(i1, 3)
        i3 = int_add(i0, 1)
        i4 = int_mul(i3, 3)
        finish(i2, i4, descr=done)
    """, """
        [i0]
        i1 = int_add(i0, 1)
        i2 = int_mul(i1, 3)
        finish(i2, i2, descr=done)
    """, merged=2)


def test_a_repeated_checked_op_goes_with_its_overflow_guard():
    check("""
        [i0]
        i1 = int_add_ovf(i0, 1)
        guard_no_overflow() [@code#1: i0]
        i2 = int_add_ovf(i0, 1)
        guard_no_overflow() [@code#2: i0]
        finish(i1, i2, descr=done)
    """, """
        [i0]
        i1 = int_add_ovf(i0, 1)
        guard_no_overflow() [@code#1: i0]
        finish(i1, i1, descr=done)
    """, merged=1)


def test_a_checked_op_before_guard_overflow_is_not_reused():
    source = """
        [i0]
        i1 = int_add_ovf(i0, 1)
        guard_overflow() [@code#1: i0]
        i2 = int_add_ovf(i0, 1)
        guard_no_overflow() [@code#2: i0]
        finish(i2, descr=done)
    """
    check(source, source, merged=0)


def test_elidable_calls_merge_with_their_exception_guard_residual_calls_do_not():
    check("""
        [i0, i1]
        i2 = call_pure_i(ConstPtr(digits), i0, descr=digits_a)
        guard_no_exception() [@code#1: i0]
        i3 = call_pure_i(ConstPtr(digits), i0, descr=digits_b)
        guard_no_exception() [@code#2: i0]
        i4 = call_pure_i(ConstPtr(digits), i1, descr=digits_a)
        guard_no_exception() [@code#3: i0]
        i5 = call_i(ConstPtr(digits), i0, descr=digits_c)
        guard_no_exception() [@code#4: i0]
        i6 = call_i(ConstPtr(digits), i0, descr=digits_c)
        guard_no_exception() [@code#5: i0]
        finish(i2, i3, i4, i5, i6, descr=done)
    """, """
        [i0, i1]
        i2 = call_pure_i(ConstPtr(digits), i0, descr=digits_a)
        guard_no_exception() [@code#1: i0]
        i4 = call_pure_i(ConstPtr(digits), i1, descr=digits_a)
        guard_no_exception() [@code#3: i0]
        i5 = call_i(ConstPtr(digits), i0, descr=digits_c)
        guard_no_exception() [@code#4: i0]
        i6 = call_i(ConstPtr(digits), i0, descr=digits_c)
        guard_no_exception() [@code#5: i0]
        finish(i2, i2, i4, i5, i6, descr=done)
    """, merged=1)


def test_residual_calls_returning_objects_are_never_merged():
    source = """
        [p0]
        p1 = call_r(ConstPtr(digits), p0, descr=digits_c)
        guard_no_exception() [@code#1: p0]
        p2 = call_r(ConstPtr(digits), p0, descr=digits_c)
        guard_no_exception() [@code#2: p0]
        finish(p1, p2, descr=done)
    """
    check(source, source, merged=0)


def test_immutable_loads_merge_mutable_loads_are_left_to_the_heap_pass():
    check("""
        [p0, p1]
        p2 = getfield(p0, descr=Frame.code)
        p3 = getfield(p0, descr=Frame.pc)
        p4 = getfield(p0, descr=Frame.code)
        p5 = getfield(p0, descr=Frame.pc)
        i6 = arraylen(p1, descr=bytearray)
        i7 = arraylen(p1, descr=bytearray)
        i8 = getarrayitem_i(p1, 0, descr=bytearray)
        i9 = getarrayitem_i(p1, 0, descr=bytearray)
        finish(p2, p3, p4, p5, i6, i7, i8, i9, descr=done)
    """, """
        [p0, p1]
        p2 = getfield(p0, descr=Frame.code)
        p3 = getfield(p0, descr=Frame.pc)
        p5 = getfield(p0, descr=Frame.pc)
        i6 = arraylen(p1, descr=bytearray)
        i7 = arraylen(p1, descr=bytearray)
        i8 = getarrayitem_i(p1, 0, descr=bytearray)
        i9 = getarrayitem_i(p1, 0, descr=bytearray)
        finish(p2, p3, p2, p5, i6, i7, i8, i9, descr=done)
    """, merged=1)


def test_tuple_items_and_length_merge_even_across_a_store():
    check("""
        [p0, p1, i2]
        i3 = arraylen(p0, descr=tuple)
        p4 = getarrayitem_r(p0, i2, descr=tuple)
        setfield(p1, p4, descr=Frame.pc)
        i5 = arraylen(p0, descr=tuple)
        p6 = getarrayitem_r(p0, i2, descr=tuple)
        finish(i3, p4, i5, p6, descr=done)
    """, """
        [p0, p1, i2]
        i3 = arraylen(p0, descr=tuple)
        p4 = getarrayitem_r(p0, i2, descr=tuple)
        setfield(p1, p4, descr=Frame.pc)
        finish(i3, p4, i3, p4, descr=done)
    """, merged=2)


def test_different_descrs_or_constants_of_another_class_are_not_merged():
    source = """
        [p0, i1, f2]
        p3 = getfield(p0, descr=Frame.code)
        p4 = getfield(p0, descr=Frame.name)
        i5 = int_add(i1, 1)
        i6 = int_add(i1, True)
        f7 = float_add(f2, 0.0)
        f8 = float_add(f2, -0.0)
        finish(p3, p4, i5, i6, f7, f8, descr=done)
    """
    check(source, source, merged=0)


def test_guards_and_side_effects_are_never_merged():
    source = """
        [p0, i1]
        guard_true(i1) [@code#1: i1]
        guard_true(i1) [@code#2: i1]
        p2 = new_with_vtable(descr=Frame)
        p3 = new_with_vtable(descr=Frame)
        setfield(p0, p2, descr=Frame.pc)
        setfield(p0, p2, descr=Frame.pc)
        finish(p2, p3, descr=done)
    """
    check(source, source, merged=0)


def test_the_peeled_body_reuses_what_the_preamble_computed():
    trace = parse_trace(textwrap.dedent("""
        [i0, i1]
        label(i0, i1, descr=loop)
        i2 = int_mul(i1, 8)
        i3 = int_add(i0, i2)
        jump(i3, i1, descr=loop)
    """))
    assert peel(trace)
    optimize(trace, "cse")
    names = [op.name for op in trace.ops]
    assert names == ["label", "int_mul", "int_add", "jump", "label", "int_add", "jump"]
    preamble_mul, body_add = trace.ops[1], trace.ops[5]
    assert body_add.args[1] is preamble_mul.result


def test_a_label_that_rebinds_a_box_forgets_what_was_computed_on_it():
    source = """
        [i0, i1]
        label(i0, i1, descr=loop)
        i2 = int_mul(i1, 8)
        i3 = int_add(i0, i2)
        jump(i3, descr=body)
        label(i3, descr=body)
        i4 = int_mul(i1, 8)
        i5 = int_add(i3, i4)
        jump(i5, descr=body)
    """
    check(source, source, merged=0)
