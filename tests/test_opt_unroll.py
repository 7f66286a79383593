"""Loop peeling: preamble and body, invariant label arguments, and what the heap
cache may keep across the body's label.  Text in, text out."""
import pytest

from metajit.tracer.ir import ArrayDescr, CallDescr, Const, FieldDescr, SizeDescr, failargs
from metajit.tracer.opt.base import OptContext, resolve
from metajit.tracer.opt.pipeline import optimize
from metajit.tracer.opt.unroll import drop_invariant_label_args, peel
from metajit.tracer.text import format_trace, parse_trace

BYTES = ArrayDescr("bytearray", "i")


def ops_after_body_label(trace) -> list[str]:
    text = format_trace(trace).splitlines()
    start = next(i for i, line in enumerate(text) if line.startswith("label(")
                 and i > 1)
    return [line.split(" [")[0] for line in text[start:]
            if not line.startswith("debug_merge_point")]


def test_peel_copies_the_loop_behind_a_body_label():
    trace = parse_trace("""\
[i0, p1]
label(i0, p1, descr=loop)
i2 = int_add(i0, 1)
i3 = int_lt(i2, 100)
guard_true(i3) [@code#0: i2, p1]
jump(i2, p1, descr=loop)
""")
    assert peel(trace)
    text = format_trace(trace)
    # p1 is carried unchanged: it stays the preamble's box; i0 gets a body label argument
    assert "jump(i2, descr=loop.body)" in text
    assert "label(i4, descr=loop.body)" in text
    assert text.rstrip().endswith("jump(i5, descr=loop.body)")
    assert "guard_true(i6) [@code#0: i5, p1]" in text
    assert not peel(trace)          # a peeled loop is not peeled again


def test_a_label_argument_passed_back_unchanged_is_the_preamble_value():
    trace = parse_trace("""\
[i0, i1]
label(i0, i1, descr=loop)
i2 = int_add(i0, i1)
jump(i1, i2, descr=body)
label(i3, i4, descr=body)
i5 = int_add(i4, i3)
jump(i3, i5, descr=body)
""")
    assert drop_invariant_label_args(trace)
    text = format_trace(trace)
    assert "label(i3, descr=body)" in text
    assert "i4 = int_add(i3, i1)" in text
    assert text.rstrip().endswith("jump(i4, descr=body)")


def test_a_carried_value_that_changes_stays_a_label_argument():
    text = """\
[i0]
label(i0, descr=loop)
jump(i0, descr=body)
label(i1, descr=body)
i2 = int_add(i1, 1)
jump(i2, descr=body)
"""
    trace = parse_trace(text)
    assert not drop_invariant_label_args(trace)
    assert format_trace(trace) == text


LOOP = """\
[p0, i1]
label(p0, i1, descr=loop)
i2 = arraylen(p0, descr=bytes)
i3 = int_ge(i1, 0)
guard_true(i3) [@code#0: p0, i1]
i4 = int_lt(i1, i2)
guard_true(i4) [@code#0: p0, i1]
i5 = getarrayitem_i(p0, i1, descr=bytes)
i6 = int_sub(i5, 1)
i7 = int_and(i6, 255)
setarrayitem_i(p0, i1, i7, descr=bytes)
{call}i8 = int_ne(i7, 0)
guard_true(i8) [@code#1: p0, i1]
jump(p0, i1, descr=loop)
"""


def test_bounds_guards_of_an_invariant_index_stay_in_the_preamble():
    trace = parse_trace(LOOP.format(call=""), {"bytes": BYTES})
    optimize(trace, "all", OptContext())
    body = ops_after_body_label(trace)
    assert not any("arraylen" in op or "int_lt" in op or "int_ge" in op for op in body), body
    # the cell's value comes from the previous iteration's store, through the label
    assert not any("getarrayitem" in op for op in body), body
    assert body[-1] == "jump(i7, descr=loop.body)" or body[-1].startswith("jump(i"), body
    assert len(body[-1].split(",")) == 2, body


def test_a_call_that_may_grow_the_array_keeps_the_length_check_in_the_body():
    call = "p9 = call_r(ConstPtr(grow), p0, descr=grow)\nguard_no_exception() [@code#2: p0, i1]\n"
    trace = parse_trace(LOOP.format(call=call),
                        {"bytes": BYTES, "grow": CallDescr("grow")})
    optimize(trace, "all", OptContext())
    body = ops_after_body_label(trace)
    assert any("arraylen" in op for op in body), body
    assert any("int_lt" in op for op in body), body


# --- loads carried across the body's label (export_loads) ------------------------------

class Obj:
    pass


def grow(seq):
    seq.append(0)


FIELDS = {"Obj.a": FieldDescr(Obj, "a"), "Obj.b": FieldDescr(Obj, "b"), "bytes": BYTES,
          "grow": CallDescr("grow", "v", reads=frozenset({"[]"}), writes=frozenset({"[]"})),
          "set_a": CallDescr("set_a", "v", reads=frozenset(), writes=frozenset({"a"})),
          "grow_fn": grow}

WALK = """\
[p0, i1]
label(p0, i1, descr=loop)
p2 = getfield(p0, descr=Obj.a)
p3 = getfield(p2, descr=Obj.b)
guard_nonnull(p3) [@code#0: p0, i1]
setfield(p0, p3, descr=Obj.a)
{between}i4 = int_sub(i1, 1)
guard_true(i4) [@code#1: p0, i4]
jump(p0, i4, descr=loop)
"""
SET_A = "call_n(ConstPtr(set_a), p0, descr=set_a)\nguard_no_exception() [@code#2: p0, i1]\n"


def optimized_body(text: str) -> list[str]:
    trace = parse_trace(text, FIELDS)
    optimize(trace, "all", OptContext())
    return ops_after_body_label(trace)


def label_args(body: list[str]) -> list[str]:
    return body[0][len("label("):].split(", ")[:-1]


def test_a_field_the_body_updates_travels_in_a_register():
    # p0.a walks a chain: the value stored in one iteration is the next one's load
    trace = parse_trace(WALK.format(between=""), FIELDS)
    ctx = OptContext()
    optimize(trace, "all", ctx)
    body = ops_after_body_label(trace)
    assert [op for op in body if "getfield" in op] == [body[1]], body   # only .b
    assert len(label_args(body)) == 2, body
    # and the store waits across the label: memory is written only when a guard fails
    assert not any(op.startswith("setfield") for op in body), body
    assert ctx.rule_counts["heap_store_carried"] >= 1, ctx.rule_counts
    text = format_trace(trace).splitlines()
    walked = body[-1].split("(")[1].split(", ")[1]
    assert text[-2].endswith(f"store(p0, Obj.a={walked})"), text


def test_a_call_that_writes_the_field_first_keeps_the_load():
    body = optimized_body(WALK.format(between="").replace("p2 = getfield", SET_A + "p2 = getfield"))
    assert sum("getfield(p0" in op for op in body) == 1, body
    # the store of the end of the iteration travels across the label (a label
    # argument) and is done just before the call, which may read the field
    stores = [n for n, op in enumerate(body) if op.startswith("setfield(p0")]
    calls = [n for n, op in enumerate(body) if op.startswith("call_n")]
    assert len(stores) == 1 and stores[0] < calls[0], body
    assert len(label_args(body)) == 2, body


def test_a_call_after_the_load_is_answered_by_a_load_before_the_jump():
    # the call may write a after the body's load: the next iteration's value is read
    # again just before the jump
    body = optimized_body(WALK.format(between=SET_A))
    loads = [i for i, op in enumerate(body) if "getfield(p0" in op]
    call = next(i for i, op in enumerate(body) if op.startswith("call_n"))
    assert len(loads) == 1 and loads[0] > call, body
    assert len(label_args(body)) == 2, body


def test_an_item_at_a_varying_index_is_not_carried():
    body = optimized_body("""\
[p0, i1]
label(p0, i1, descr=loop)
i2 = getarrayitem_i(p0, i1, descr=bytes)
guard_true(i2) [@code#0: p0, i1]
i3 = int_add(i1, 1)
i4 = int_lt(i3, 100)
guard_true(i4) [@code#0: p0, i3]
jump(p0, i3, descr=loop)
""")
    assert any("getarrayitem" in op for op in body), body
    assert len(label_args(body)) == 1, body       # only the index is carried


def test_an_item_after_a_store_to_an_unknown_index_is_not_carried():
    body = optimized_body("""\
[p0, i1, i5]
label(p0, i1, i5, descr=loop)
setarrayitem_i(p0, i5, 7, descr=bytes)
i2 = getarrayitem_i(p0, i1, descr=bytes)
i3 = int_is_true(i2)
guard_true(i3) [@code#0: p0, i1, i5]
jump(p0, i1, i5, descr=loop)
""")
    assert any("getarrayitem" in op for op in body), body


def test_items_are_not_carried_when_a_call_may_change_lengths():
    call = "call_n(ConstPtr(grow), p0, descr=grow)\nguard_no_exception() [@code#2: p0, i1]\n"
    trace = parse_trace(LOOP.format(call=call), FIELDS)
    optimize(trace, "all", OptContext())
    body = ops_after_body_label(trace)
    assert any("getarrayitem" in op for op in body), body


# --- virtual objects and boxed numbers across the body's label -------------------------

OBJECTS = dict(FIELDS, Obj=SizeDescr(Obj))

CARRIED = """\
[p0, i1]
label(p0, i1, descr=loop)
p2 = getfield(p0, descr=Obj.a)
guard_nonnull(p2) [@code#0: p0, i1]
p3 = new_with_vtable(descr=Obj)
setfield(p3, p2, descr=Obj.a)
i4 = int_sub(i1, 1)
guard_true(i4) [@code#1: p3, i4]
jump(p3, i4, descr=loop)
"""


def test_an_object_made_for_the_next_iteration_travels_as_its_fields():
    trace = parse_trace(CARRIED, OBJECTS)
    ctx = OptContext()
    optimize(trace, "all", ctx)
    body = ops_after_body_label(trace)
    assert not any("new_with_vtable" in op or "getfield" in op for op in body), body
    assert ctx.rule_counts["virtualize.label_fields"] >= 2, ctx.rule_counts
    text = format_trace(trace)
    # the guard in the body resumes with the object made from the label's field
    assert "new(Obj, a=p" in text.split("descr=loop.body)\n", 1)[1], text


PEELED = """\
[p0]
label(p0, descr=loop)
p1 = new_with_vtable(descr=Obj)
setfield(p1, p0, descr=Obj.a)
jump(p1, descr=body)
label(p2, descr=body)
p3 = getfield(p2, descr=Obj.a)
p4 = new_with_vtable(descr=Obj)
setfield(p4, p3, descr=Obj.b)
jump(p4, descr=body)
"""


def test_a_body_jump_of_another_shape_has_the_round_redone():
    from metajit.tracer.opt.pipeline import _run_body_round
    from metajit.tracer.opt.unroll import VIRTUAL_LABEL_ARGS, LabelShapeMismatch
    from metajit.tracer.opt.virtualize import VirtualizePass
    trace = parse_trace(PEELED, OBJECTS)
    ctx = OptContext()
    ctx.loop_state[VIRTUAL_LABEL_ARGS] = set()
    with pytest.raises(LabelShapeMismatch):
        VirtualizePass().run(trace, ctx)
    trace = parse_trace(PEELED, OBJECTS)
    ctx = OptContext()
    _run_body_round(trace, ["virtualize"], ctx)
    assert ctx.rule_counts["unroll.label_shape_mismatch"] == 1
    text = format_trace(trace)
    assert "label(p2, descr=body)" in text and text.count("new_with_vtable") == 2, text
    assert VIRTUAL_LABEL_ARGS not in ctx.loop_state


def test_a_number_boxed_for_the_next_iteration_travels_unboxed():
    trace = parse_trace("""\
[p0, i1]
label(p0, i1, descr=loop)
guard_class(p0, ConstPtr(int)) [@code#0: p0, i1]
i2 = unbox_int_ovf(p0)
guard_no_overflow() [@code#0: p0, i1]
i3 = int_add_ovf(i2, i1)
guard_no_overflow() [@code#1: p0, i1]
p4 = box_int(i3)
i5 = int_sub(i1, 1)
guard_true(i5) [@code#2: p4, i5]
jump(p4, i5, descr=loop)
""", {"int": int})
    ctx = OptContext()
    optimize(trace, "all", ctx)
    body = ops_after_body_label(trace)
    assert not any(name in op for op in body
                   for name in ("box_int", "unbox_int", "guard_class")), body
    assert all(arg.startswith("i") for arg in label_args(body)), body


# --- registers in a list: a frame's slots carried across the label ---------------------

REGISTERS = """\
[p0, p1, i1]
label(p0, p1, i1, descr=loop)
p2 = getarrayitem_r(p0, 0, descr=list)
p3 = getfield(p2, descr=Obj.b)
guard_nonnull(p3) [@code#0: p0, i1]
setarrayitem_r(p0, 0, p3, descr=list)
setarrayitem_r(p0, 1, p2, descr=list)
setfield(p1, ConstPtr(seven), descr=Obj.a)
i4 = int_sub(i1, 1)
guard_true(i4) [@code#1: p0, i4]
jump(p0, p1, i4, descr=loop)
"""


def test_list_items_and_a_constant_field_store_leave_the_body():
    # like an interpreter's registers in a list and its frame's pc: the item read
    # and written, the one only written and the constant store are all gone from
    # the body; memory gets them from a failing guard's snapshot
    trace = parse_trace(REGISTERS, {**FIELDS, "list": ArrayDescr("list", "r"), "seven": 7})
    ctx = OptContext()
    optimize(trace, "all", ctx)
    body = ops_after_body_label(trace)
    assert not any(op.startswith(("setarrayitem", "getarrayitem", "setfield")) for op in body), body
    assert [op for op in body if "getfield" in op] == [body[1]], body     # only .b
    assert len(label_args(body)) == 3, body
    assert ctx.rule_counts["heap_store_carried"] >= 2, ctx.rule_counts
    assert ctx.rule_counts["heap_store_unchanged"] >= 1, ctx.rule_counts
    guard = format_trace(trace).splitlines()[-2]
    assert "store(p0, list[0]=" in guard and "store(p0, list[1]=" in guard, guard


def test_the_loop_with_registers_in_a_list_computes_the_same():
    from metajit.backend.reference import compile_unit

    class Node:
        def __init__(self, b):
            self.b = b
    namespace = {**FIELDS, "Obj.b": FieldDescr(Node, "b"), "list": ArrayDescr("list", "r"),
                 "seven": 7}
    results = []
    for passes in ("", "all"):
        trace = parse_trace(REGISTERS, namespace)
        if passes:
            optimize(trace, passes, OptContext())
        chain = Node(None)
        for _ in range(6):
            chain = Node(chain)
        regs, frame = [chain, None], Obj()
        res = compile_unit(trace).run([regs, frame, 10])
        env = dict(zip(failargs(res.guard), res.values))

        def value_of(entry):
            entry = resolve(entry)
            return entry.value if isinstance(entry, Const) else env[entry]
        for store in res.guard.snapshot.stores:
            store.perform(value_of)
        depth = 0
        node = regs[0]
        while node is not None:
            node, depth = node.b, depth + 1
        results.append((res.guard.snapshot.frames[0].pc, depth, regs[1] is not None,
                        getattr(frame, "a", None)))
    assert results[0] == results[1], results


def test_a_cell_decremented_in_place_lives_in_a_register_with_its_bound():
    # Brainfuck's [-]: the cell is carried across the label (its store waits in the
    # guard's snapshot) and, being an int_and with 255 at the body's jump and a
    # bytearray item at the preamble's, the label argument is known to lie in
    # [0, 255]: the subtraction cannot overflow
    trace = parse_trace("""\
[p0, i1]
label(p0, i1, descr=loop)
i2 = getarrayitem_i(p0, i1, descr=bytes)
i3 = int_sub_ovf(i2, 1)
guard_no_overflow() [@code#0: p0, i1]
i4 = int_and(i3, 255)
setarrayitem_i(p0, i1, i4, descr=bytes)
guard_true(i4) [@code#1: p0, i1]
jump(p0, i1, descr=loop)
""", FIELDS)
    ctx = OptContext()
    optimize(trace, "all", ctx)
    body = ops_after_body_label(trace)
    names = [op.split("(")[0].split(" = ")[-1] for op in body[1:]]
    assert names == ["int_sub", "int_and", "guard_true", "jump"], body
    assert ctx.rule_counts["intbounds.label_arg_bound"] >= 1, ctx.rule_counts
    assert "store(p0, bytes[i1]=" in format_trace(trace).splitlines()[-2]


def test_a_constant_store_stays_when_a_call_in_the_body_may_change_the_field():
    # set_a may write Obj.a: memory no longer holds the constant the preamble
    # stored, so the body stores it again before its jump
    text = REGISTERS.replace(
        "setfield(p1, ConstPtr(seven), descr=Obj.a)\n",
        "call_n(ConstPtr(set_a_fn), p1, descr=set_a)\nguard_no_exception() [@code#2: p0, i1]\n"
        "setfield(p1, ConstPtr(seven), descr=Obj.a)\n")
    assert_stored_again_after_the_call(text, "setfield(p1")


def assert_stored_again_after_the_call(text: str, store: str) -> None:
    """The body of the loop ``text`` does the store that starts with ``store``
    once, after its call."""
    trace = parse_trace(text, {**FIELDS, "list": ArrayDescr("list", "r"), "seven": 7,
                               "set_a_fn": lambda obj: None})
    ctx = OptContext()
    optimize(trace, "all", ctx)
    body = ops_after_body_label(trace)
    stores = [op for op in body if op.startswith(store)]
    calls = [n for n, op in enumerate(body) if op.startswith("call_n")]
    assert len(stores) == 1 and body.index(stores[0]) > calls[0], body
    assert not ctx.rule_counts["heap_store_unchanged"], ctx.rule_counts


# a register that every iteration sets to the same constant (an interpreter's
# LOADBOOL, or a table read that the trace knows gives True)
CONSTANT_REGISTER = """\
[p0, i1]
label(p0, i1, descr=loop)
p2 = getarrayitem_r(p0, 0, descr=list)
guard_nonnull(p2) [@code#0: p0, i1]
setarrayitem_r(p0, 1, ConstPtr(seven), descr=list)
i4 = int_sub(i1, 1)
guard_true(i4) [@code#1: p0, i4]
jump(p0, i4, descr=loop)
"""


def test_a_constant_item_store_leaves_the_body():
    # the preamble's jump stored the constant; the body stores the same and
    # nothing in between writes that item: memory holds it already
    trace = parse_trace(CONSTANT_REGISTER, {"list": ArrayDescr("list", "r"), "seven": 7})
    ctx = OptContext()
    optimize(trace, "all", ctx)
    body = ops_after_body_label(trace)
    assert not any(op.startswith("setarrayitem") for op in body), body
    assert ctx.rule_counts["heap_store_unchanged"] >= 1, ctx.rule_counts


def test_a_constant_item_store_stays_when_a_call_in_the_body_may_write_items():
    text = CONSTANT_REGISTER.replace(
        "setarrayitem_r(p0, 1,",
        "call_n(ConstPtr(grow_fn), p0, descr=grow)\nguard_no_exception() [@code#2: p0, i1]\n"
        "setarrayitem_r(p0, 1,")
    assert_stored_again_after_the_call(text, "setarrayitem_r(p0, 1")


PLAIN_THEN_BOXED = """\
[p0, i1]
label(p0, i1, descr=loop)
guard_class(p0, ConstPtr({cls})) [@code#0: p0, i1]
{unbox}
i3 = int_sub(i1, 1)
guard_true(i3) [@code#1: p0, i3]
jump(p0, i3, descr=body)
label(p4, i5, descr=body)
guard_class(p4, ConstPtr({cls})) [@code#0: p4, i5]
f6 = unbox_float(p4)
f7 = float_add(f6, 1.5)
p8 = box_float(f7)
i9 = int_sub(i5, 1)
guard_true(i9) [@code#1: p8, i9]
jump(p8, i9, descr=body)
"""


def test_an_object_the_preamble_unboxed_enters_a_label_that_takes_the_number():
    """The preamble's jump passes the object it was given (guarded a float and
    unboxed), the body's jump a new box: the label takes the float."""
    from metajit.backend.reference import compile_unit
    from metajit.tracer.opt.unroll import unbox_label_args
    text = PLAIN_THEN_BOXED.format(cls="float", unbox="f2 = unbox_float(p0)")
    results = []
    for rewrite in (False, True):
        trace = parse_trace(text, {"float": float})
        if rewrite:
            assert unbox_label_args(trace)
            out = format_trace(trace)
            lines = out.splitlines()
            at = next(n for n, line in enumerate(lines) if line.startswith("label(f"))
            assert lines[at - 1] == "jump(f2, i3, descr=body)", out
            assert "= box_float(" in lines[at + 1] and lines[-1].startswith("jump(f"), out
        res = compile_unit(trace).run([0.25, 4])
        results.append((res.guard.snapshot.frames[0].pc, res.values))
    assert results[0] == results[1] == ((1, [4.75, 0]))


@pytest.mark.parametrize("cls, unbox", [
    ("int", "f2 = unbox_float(p0)"),          # not guarded to be a float
    ("float", ""),                             # never unboxed in the preamble
])
def test_an_object_the_preamble_did_not_prove_a_float_stays_an_object(cls, unbox):
    from metajit.tracer.opt.unroll import unbox_label_args
    trace = parse_trace(PLAIN_THEN_BOXED.format(cls=cls, unbox=unbox),
                        {"float": float, "int": int})
    assert not unbox_label_args(trace)


LISTS = {"make_list": CallDescr("make_list", "r", can_raise=False, builds="list"),
         "list": ArrayDescr("list", "r"), "mk": list}
PEELED_LIST = """\
[p0, p1]
label(p0, p1, descr=loop)
p2 = call_r(ConstPtr(mk), p1, p0, descr=make_list)
jump(p2, descr=body)
label(p3, descr=body)
p4 = getarrayitem_r(p3, 0, descr=list)
p5 = call_r(ConstPtr(mk), p4, {more}descr=make_list)
jump(p5, descr=body)
"""


def test_a_virtual_list_crosses_the_label_as_its_items():
    from metajit.tracer.opt.pipeline import _run_body_round
    trace = parse_trace(PEELED_LIST.format(more="p4, "), LISTS)
    ctx = OptContext()
    _run_body_round(trace, ["virtualize"], ctx)
    text = format_trace(trace)
    assert "call_r" not in text and "getarrayitem" not in text, text
    assert "jump(p1, p0, descr=body)" in text and "jump(p2, p2, descr=body)" in text, text
    assert ctx.rule_counts["virtualize.label_fields"] == 2


def test_a_list_of_another_length_at_the_body_jump_has_the_round_redone():
    from metajit.tracer.opt.pipeline import _run_body_round
    trace = parse_trace(PEELED_LIST.format(more=""), LISTS)
    ctx = OptContext()
    _run_body_round(trace, ["virtualize"], ctx)
    assert ctx.rule_counts["unroll.label_shape_mismatch"] == 1
    text = format_trace(trace)
    assert "label(p3, descr=body)" in text and text.count("call_r") == 2, text
