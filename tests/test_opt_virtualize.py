"""Allocation removal: text in, text out; the random loops of test_opt_equivalence run
every pass, this one included, on the reference interpreter."""
import textwrap

from metajit.tracer.ir import ArrayDescr, CallDescr, FieldDescr, SizeDescr
from metajit.tracer.opt.base import OptContext
from metajit.tracer.opt.virtualize import VirtualizePass
from metajit.tracer.text import format_trace, parse_trace


class Obj:
    pass


class Other:
    pass


NAMESPACE = {"Obj": SizeDescr(Obj), "Obj.a": FieldDescr(Obj, "a"), "Obj.b": FieldDescr(Obj, "b"),
             "ObjClass": Obj, "OtherClass": Other, "show": CallDescr("show", "v")}


def check(before: str, after: str, namespace: dict = NAMESPACE) -> dict:
    trace = parse_trace(textwrap.dedent(before), namespace)
    ctx = OptContext()
    VirtualizePass().run(trace, ctx)
    expected = parse_trace(textwrap.dedent(after), trace.objects)
    assert format_trace(trace) == format_trace(expected)
    return ctx.rule_counts


def unchanged(text: str) -> None:
    check(text, text)


def test_registered_before_the_heap_cache():
    from metajit.tracer.opt.pipeline import DEFAULT_ORDER
    assert DEFAULT_ORDER.index("virtualize") < DEFAULT_ORDER.index("heap")


def test_an_object_nobody_sees_is_never_created():
    counts = check("""
        [p0, p1]
        p2 = new_with_vtable(descr=Obj)
        setfield(p2, p0, descr=Obj.a)
        setfield(p2, p1, descr=Obj.a)
        p3 = getfield(p2, descr=Obj.a)
        finish(p3, descr=done)
    """, """
        [p0, p1]
        finish(p1, descr=done)
    """)
    assert counts["virtualize.allocation"] == 1 and counts["virtualize.getfield"] == 1
    assert "virtualize.forced" not in counts


def test_a_call_forces_the_object_with_its_fields_as_they_are():
    check("""
        [p0, p1]
        p2 = new_with_vtable(descr=Obj)
        setfield(p2, p0, descr=Obj.a)
        setfield(p2, p1, descr=Obj.b)
        setfield(p2, p1, descr=Obj.a)
        call_n(ConstPtr(print), p2, descr=show)
        p3 = getfield(p2, descr=Obj.a)
        finish(p3, descr=done)
    """, """
        [p0, p1]
        p2 = new_with_vtable(descr=Obj)
        setfield(p2, p1, descr=Obj.b)
        setfield(p2, p1, descr=Obj.a)
        call_n(ConstPtr(print), p2, descr=show)
        p3 = getfield(p2, descr=Obj.a)
        finish(p3, descr=done)
    """)


def test_a_guard_sees_the_fields_as_they_are_at_that_guard():
    check("""
        [i0, p0, p1]
        p2 = new_with_vtable(descr=Obj)
        setfield(p2, p0, descr=Obj.a)
        guard_true(i0) [@f#0: p2, i0]
        setfield(p2, p1, descr=Obj.a)
        guard_true(i0) [@f#1: p2]
        finish(i0, descr=done)
    """, """
        [i0, p0, p1]
        guard_true(i0) [@f#0: v0, i0] {v0 = new(Obj, a=p0)}
        guard_true(i0) [@f#1: v0] {v0 = new(Obj, a=p1)}
        finish(i0, descr=done)
    """)


def test_a_jump_forces_and_so_does_a_finish():
    check("""
        [p0]
        label(p0, descr=loop)
        p1 = new_with_vtable(descr=Obj)
        setfield(p1, p0, descr=Obj.a)
        jump(p1, descr=loop)
    """, """
        [p0]
        label(p0, descr=loop)
        p1 = new_with_vtable(descr=Obj)
        setfield(p1, p0, descr=Obj.a)
        jump(p1, descr=loop)
    """)


def test_an_object_made_before_a_label_exists_before_it():
    # the body reads the preamble's object directly: one object for all iterations
    check("""
        [p0, i0]
        label(p0, i0, descr=loop)
        p1 = new_with_vtable(descr=Obj)
        setfield(p1, p0, descr=Obj.a)
        jump(i0, descr=body)
        label(i1, descr=body)
        p2 = getfield(p1, descr=Obj.a)
        guard_true(i1) [@f#0: p2]
        jump(i1, descr=body)
    """, """
        [p0, i0]
        label(p0, i0, descr=loop)
        p1 = new_with_vtable(descr=Obj)
        setfield(p1, p0, descr=Obj.a)
        jump(i0, descr=body)
        label(i1, descr=body)
        p2 = getfield(p1, descr=Obj.a)
        guard_true(i1) [@f#0: p2]
        jump(i1, descr=body)
    """)


def test_class_and_null_checks_of_a_virtual_are_known():
    counts = check("""
        [i0]
        p1 = new_with_vtable(descr=Obj)
        guard_class(p1, ConstPtr(ObjClass)) [@f#0: i0]
        guard_nonnull(p1) [@f#1: i0]
        finish(i0, descr=done)
    """, """
        [i0]
        finish(i0, descr=done)
    """)
    assert counts["virtualize.guard_class"] == 1 and counts["virtualize.guard_nonnull"] == 1


def test_a_class_check_against_another_class_stays_and_forces():
    check("""
        [i0]
        p1 = new_with_vtable(descr=Obj)
        guard_class(p1, ConstPtr(OtherClass)) [@f#0: i0]
        finish(i0, descr=done)
    """, """
        [i0]
        p1 = new_with_vtable(descr=Obj)
        guard_class(p1, ConstPtr(OtherClass)) [@f#0: i0]
        finish(i0, descr=done)
    """)


def test_identity_of_a_virtual():
    counts = check("""
        [p0]
        p1 = new_with_vtable(descr=Obj)
        i2 = ptr_eq(p1, p0)
        i3 = ptr_ne(p1, p0)
        i4 = ptr_eq(p1, p1)
        finish(i2, i3, i4, descr=done)
    """, """
        [p0]
        finish(False, True, True, descr=done)
    """)
    assert counts["virtualize.identity"] == 3


def test_nested_virtuals_are_forced_inner_first():
    check("""
        [p0]
        p1 = new_with_vtable(descr=Obj)
        p2 = new_with_vtable(descr=Obj)
        setfield(p2, p0, descr=Obj.a)
        setfield(p1, p2, descr=Obj.b)
        guard_nonnull(p0) [@f#0: p1]
        setfield(p0, p1, descr=Obj.b)
        finish(descr=done)
    """, """
        [p0]
        guard_nonnull(p0) [@f#0: v0] {v0 = new(Obj, b=v1), v1 = new(Obj, a=p0)}
        p1 = new_with_vtable(descr=Obj)
        p2 = new_with_vtable(descr=Obj)
        setfield(p2, p0, descr=Obj.a)
        setfield(p1, p2, descr=Obj.b)
        setfield(p0, p1, descr=Obj.b)
        finish(descr=done)
    """)


def test_a_cycle_of_virtuals_in_a_snapshot_and_forced():
    check("""
        [i0]
        p1 = new_with_vtable(descr=Obj)
        p2 = new_with_vtable(descr=Obj)
        setfield(p1, p2, descr=Obj.b)
        setfield(p2, p1, descr=Obj.b)
        guard_true(i0) [@f#0: p2]
        call_n(ConstPtr(print), p1, descr=show)
        finish(descr=done)
    """, """
        [i0]
        guard_true(i0) [@f#0: v0] {v0 = new(Obj, b=v1), v1 = new(Obj, b=v0)}
        p1 = new_with_vtable(descr=Obj)
        p2 = new_with_vtable(descr=Obj)
        setfield(p2, p1, descr=Obj.b)
        setfield(p1, p2, descr=Obj.b)
        call_n(ConstPtr(print), p1, descr=show)
        finish(descr=done)
    """)


def test_stored_into_an_array_it_escapes():
    check("""
        [p0, i0]
        p1 = new_with_vtable(descr=Obj)
        setarrayitem_r(p0, i0, p1, descr=list)
        finish(descr=done)
    """, """
        [p0, i0]
        p1 = new_with_vtable(descr=Obj)
        setarrayitem_r(p0, i0, p1, descr=list)
        finish(descr=done)
    """)


def test_a_field_never_set_is_read_from_the_real_object():
    # Python raises AttributeError there: the object must exist for that to happen
    check("""
        [p0]
        p1 = new_with_vtable(descr=Obj)
        setfield(p1, p0, descr=Obj.a)
        p2 = getfield(p1, descr=Obj.b)
        finish(p2, descr=done)
    """, """
        [p0]
        p1 = new_with_vtable(descr=Obj)
        setfield(p1, p0, descr=Obj.a)
        p2 = getfield(p1, descr=Obj.b)
        finish(p2, descr=done)
    """)


def test_real_objects_are_left_alone():
    unchanged("""
        [p0, p1]
        setfield(p0, p1, descr=Obj.a)
        p2 = getfield(p0, descr=Obj.a)
        guard_class(p2, ConstPtr(ObjClass)) [@f#0: p0]
        i3 = ptr_eq(p0, p1)
        finish(i3, descr=done)
    """)


def test_the_recorders_virtuals_may_hold_a_virtual_object():
    check("""
        [i0, p0]
        p1 = new_with_vtable(descr=Obj)
        setfield(p1, p0, descr=Obj.a)
        guard_true(i0) [@f#0: v0] {v0 = array(tuple, p1, i0)}
        finish(descr=done)
    """, """
        [i0, p0]
        guard_true(i0) [@f#0: v0] {v0 = array(tuple, v1, i0), v1 = new(Obj, a=p0)}
        finish(descr=done)
    """)


def test_a_boxed_number_in_a_snapshot_is_the_number():
    counts = check("""
        [i0, f1]
        p2 = box_int(i0)
        p3 = box_bool(i0)
        p4 = box_float(f1)
        guard_true(i0) [@f#0: p2, p3, p4]
        finish(p2, descr=done)
    """, """
        [i0, f1]
        p2 = box_int(i0)
        p3 = box_bool(i0)
        p4 = box_float(f1)
        guard_true(i0) [@f#0: i0, bool(i0), f1]
        finish(p2, descr=done)
    """)
    assert counts["virtualize.snapshot_unboxed"] == 3


# --- lists built by the tracer's list displays ------------------------------------------

LIST_NS = dict(NAMESPACE, make_list=CallDescr("make_list", "r", can_raise=False,
                                              reads=frozenset(), writes=frozenset(),
                                              builds="list"),
               list=ArrayDescr("list", "r"))


def check_lists(before: str, after: str) -> dict:
    return check(before, after, LIST_NS)


def test_a_list_read_at_constant_indices_is_never_built():
    counts = check_lists("""
        [p0, p1, i2]
        p3 = call_r(ConstPtr(mk), p0, p1, descr=make_list)
        i4 = arraylen(p3, descr=list)
        setarrayitem_r(p3, 1, p0, descr=list)
        p5 = getarrayitem_r(p3, 1, descr=list)
        guard_true(i2) [@f#0: p3]
        finish(i4, p5, descr=done)
    """, """
        [p0, p1, i2]
        guard_true(i2) [@f#0: v0] {v0 = array(list_2, p0, p0)}
        finish(2, p0, descr=done)
    """)
    assert counts["virtualize.list"] == 1 and counts["virtualize.arraylen"] == 1


def test_a_list_that_escapes_is_built_with_its_items_as_they_are():
    check_lists("""
        [p0, p1, i2]
        p3 = call_r(ConstPtr(mk), p0, p1, descr=make_list)
        setarrayitem_r(p3, 0, p1, descr=list)
        p4 = getarrayitem_r(p3, i2, descr=list)
        finish(p4, descr=done)
    """, """
        [p0, p1, i2]
        p3 = call_r(ConstPtr(mk), p1, p1, descr=make_list)
        p4 = getarrayitem_r(p3, i2, descr=list)
        finish(p4, descr=done)
    """)


def test_a_list_holding_a_virtual_object_and_itself():
    check_lists("""
        [p0]
        p1 = new_with_vtable(descr=Obj)
        p3 = call_r(ConstPtr(mk), p1, p0, descr=make_list)
        setfield(p1, p3, descr=Obj.a)
        setarrayitem_r(p3, 1, p3, descr=list)
        call_n(ConstPtr(print), p3, descr=show)
        finish(descr=done)
    """, """
        [p0]
        p3 = call_r(ConstPtr(mk), null, null, descr=make_list)
        p1 = new_with_vtable(descr=Obj)
        setfield(p1, p3, descr=Obj.a)
        setarrayitem_r(p3, 0, p1, descr=list_2)
        setarrayitem_r(p3, 1, p3, descr=list_2)
        call_n(ConstPtr(print), p3, descr=show)
        finish(descr=done)
    """)
